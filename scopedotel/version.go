package scopedotel

import (
	"runtime/debug"
	"sync"
)

// ModulePath is the path of this module, as go.mod names it.
const ModulePath = "github.com/scopedtoken/scopedtoken/scopedotel"

// ScopeVersion returns the version of this module that the running program was
// built with, as the Go toolchain recorded it (debug.ReadBuildInfo): the
// instrumentation scope's version of every instrument and span. It is read
// from the build rather than kept in a constant so that it can never lag
// behind a release: it is the version go.mod resolved, "(devel)" when this
// module is the main module under development, and "" for a binary built
// without module information.
func ScopeVersion() string { return scopeVersion() }

var scopeVersion = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	return moduleVersion(bi)
})

// moduleVersion is this module's version in bi: the main module's, or the
// dependency's (the version required, even when a replace directive points
// the build at a directory).
func moduleVersion(bi *debug.BuildInfo) string {
	if bi.Main.Path == ModulePath {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == ModulePath {
			return d.Version
		}
	}
	return ""
}
