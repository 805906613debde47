package jwks

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDependencyVersions pins the third-party libraries that the module's
// packages use to the versions whose changes were read for them: jwkset
// v0.11.4 parses each JWK of this package (it no longer waits on the rate
// limiter when nothing can be refreshed), and golang-jwt v5.3.1 parses for
// package golangjwt, whose Keyfunc relies on how it verifies (the key types
// of each method, PS* salts of any length unless the method is swapped, the
// method read after the Keyfunc returns; docs/golang-jwt.md). A change of
// either in go.mod fails here, so that its changes are read again before
// this test is updated. (Test binaries carry no module list, so the
// module's go.mod, in the parent directory, is read as text.)
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
		"github.com/MicahParks/jwkset": "v0.11.4",
		"github.com/golang-jwt/jwt/v5": "v5.3.1",
	} {
		t.Run(path, func(t *testing.T) {
			assert.Equal(t, want, required[path], "read the changes of %s before moving to another version", path)
		})
	}
}
