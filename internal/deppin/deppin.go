// Package deppin holds the check behind each module's
// TestDependencyVersions: a third-party library whose behaviour a security
// decision of this repository relies on is pinned in the module's go.mod to
// the version whose changes were read (docs/keys.md, "Third-party
// libraries"). Only tests import it.
package deppin

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Check asserts that the go.mod file at goMod requires each module path of
// want at exactly the version given, and does not replace it (a replace would
// build other code under the pinned version). A version that moved fails
// here, so that the library's changes are read before the test is updated.
func Check(t *testing.T, goMod string, want map[string]string) {
	t.Helper()
	required, replaced, err := Read(goMod)
	require.NoError(t, err)
	for path, version := range want {
		t.Run(path, func(t *testing.T) {
			assert.Equal(t, version, required[path], "read the changes of %s before moving to another version", path)
			assert.False(t, replaced[path], "%s is pinned and must not be replaced", path)
		})
	}
}

// Read returns the version that the go.mod file at goMod requires of each
// module, and the modules it replaces. The go command parses it (`go mod
// edit -json`), because test binaries carry no module list
// (runtime/debug.ReadBuildInfo has no Deps in them) and a parser of our own
// could mistake a replace or a comment for a require.
func Read(goMod string) (required map[string]string, replaced map[string]bool, err error) {
	out, err := exec.Command("go", "mod", "edit", "-json", goMod).Output()
	if err != nil {
		return nil, nil, fmt.Errorf("go mod edit -json %s: %w", goMod, err)
	}
	var mod struct {
		Require []struct{ Path, Version string }
		Replace []struct{ Old struct{ Path string } }
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", goMod, err)
	}
	required, replaced = map[string]string{}, map[string]bool{}
	for _, r := range mod.Require {
		required[r.Path] = r.Version
	}
	for _, r := range mod.Replace {
		replaced[r.Old.Path] = true
	}
	return required, replaced, nil
}
