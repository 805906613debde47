package deppin

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRead checks that only require directives count as requires: a replace
// of a pinned module is reported as one, never read as its version.
func TestRead(t *testing.T) {
	for _, tc := range []struct {
		name         string
		goMod        string
		wantRequired map[string]string
		wantReplaced map[string]bool
	}{
		{
			name:         "single require",
			goMod:        "module m\n\ngo 1.25.0\n\nrequire example.com/a v1.2.3\n",
			wantRequired: map[string]string{"example.com/a": "v1.2.3"},
			wantReplaced: map[string]bool{},
		},
		{
			name:         "require block with an indirect",
			goMod:        "module m\n\ngo 1.25.0\n\nrequire (\n\texample.com/a v1.2.3\n\texample.com/b v0.1.0 // indirect\n)\n",
			wantRequired: map[string]string{"example.com/a": "v1.2.3", "example.com/b": "v0.1.0"},
			wantReplaced: map[string]bool{},
		},
		{
			name: "replace with the pinned version on both sides",
			goMod: "module m\n\ngo 1.25.0\n\nrequire example.com/a v1.2.3\n\n" +
				"replace (\n\texample.com/a v1.2.3 => example.com/fork v1.2.3\n\texample.com/c => ../c\n)\n",
			wantRequired: map[string]string{"example.com/a": "v1.2.3"},
			wantReplaced: map[string]bool{"example.com/a": true, "example.com/c": true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "go.mod")
			require.NoError(t, os.WriteFile(path, []byte(tc.goMod), 0o600))
			required, replaced, err := Read(path)
			require.NoError(t, err)
			assert.Equal(t, tc.wantRequired, required)
			assert.Equal(t, tc.wantReplaced, replaced)
		})
	}
}

// TestReadMissingFile checks that a go.mod that cannot be read is an error,
// never an empty set of requires.
func TestReadMissingFile(t *testing.T) {
	_, _, err := Read(filepath.Join(t.TempDir(), "go.mod"))
	assert.Error(t, err)
}
