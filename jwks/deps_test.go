package jwks

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDependencyVersions pins the JWKS libraries to the versions whose
// changes were read for this package, the only one of the module that uses
// them (keyfunc v3.9.2 filters keys by alg and use for tokens without kid,
// which the package never asks it for; jwkset v0.11.4 no longer waits on the
// rate limiter when nothing can be refreshed). A change of either in go.mod
// fails here, so that its changes are read again before this test is
// updated. (Test binaries carry no module list, so the module's go.mod, in
// the parent directory, is read as text.)
func TestDependencyVersions(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	require.NoError(t, err)
	required := map[string]string{}
	for line := range strings.Lines(string(mod)) {
		if f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require ")); len(f) >= 2 {
			required[f[0]] = f[1]
		}
	}
	for path, want := range map[string]string{
		"github.com/MicahParks/keyfunc/v3": "v3.9.2",
		"github.com/MicahParks/jwkset":     "v0.11.4",
	} {
		t.Run(path, func(t *testing.T) {
			assert.Equal(t, want, required[path], "read the changes of %s before moving to another version", path)
		})
	}
}
