package scopedotel

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestModuleVersion checks where the scope's version is read from: the main
// module when this module is it, else the dependency's required version
// (a replace directive does not change it), else nothing.
func TestModuleVersion(t *testing.T) {
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{name: "main module", bi: debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: "(devel)"}}, want: "(devel)"},
		{name: "dependency", bi: debug.BuildInfo{Main: debug.Module{Path: "example.com/app"},
			Deps: []*debug.Module{{Path: "example.com/other", Version: "v1.0.0"}, {Path: ModulePath, Version: "v0.1.0"}}}, want: "v0.1.0"},
		{name: "replaced dependency", bi: debug.BuildInfo{Main: debug.Module{Path: "example.com/app"},
			Deps: []*debug.Module{{Path: ModulePath, Version: "v0.1.0", Replace: &debug.Module{Path: "../scopedotel"}}}}, want: "v0.1.0"},
		{name: "absent", bi: debug.BuildInfo{Main: debug.Module{Path: "example.com/app"}}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, moduleVersion(&tt.bi))
		})
	}
}
