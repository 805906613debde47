package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jwksKIDs returns the kids of dir/jwks.json, in order.
func jwksKIDs(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "jwks.json"))
	require.NoError(t, err)
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(data, &set))
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}

// TestKeygenRemove: --remove takes one key out of the published set and
// deletes its files, refuses an unknown kid and the last key, and changes
// nothing when it refuses.
func TestKeygenRemove(t *testing.T) {
	for _, tc := range []struct {
		name        string
		keys        []string // generated before, ES256
		args        []string // after "keygen"; OUT and PRIVATE are replaced
		code        int
		stderr      string
		kids        []string // the set afterwards
		gone, stays []string // files relative to the temp root
	}{
		{
			name: "the old key of a rotation, with its private key",
			keys: []string{"old", "new"},
			args: []string{"--remove", "old", "--out", "OUT", "--private-out", "PRIVATE"},
			code: exitOK, stderr: "revoke --kid old",
			kids:  []string{"new"},
			gone:  []string{"out/old.pub.pem", "private/old.pem"},
			stays: []string{"out/new.pub.pem", "private/new.pem"},
		},
		{
			name:  "without --private-out the private key stays",
			keys:  []string{"old", "new"},
			args:  []string{"--remove", "old", "--out", "OUT"},
			code:  exitOK,
			kids:  []string{"new"},
			gone:  []string{"out/old.pub.pem"},
			stays: []string{"private/old.pem", "out/new.pub.pem", "private/new.pem"},
		},
		{
			name: "the middle of three",
			keys: []string{"a", "b", "c"},
			args: []string{"--remove", "b", "--out", "OUT", "--private-out", "PRIVATE"},
			code: exitOK,
			kids: []string{"a", "c"},
			gone: []string{"out/b.pub.pem", "private/b.pem"},
		},
		{
			name: "an unknown kid",
			keys: []string{"old", "new"},
			args: []string{"--remove", "other", "--out", "OUT", "--private-out", "PRIVATE"},
			code: exitFailed, stderr: `no key with kid "other"`,
			kids:  []string{"old", "new"},
			stays: []string{"out/old.pub.pem", "private/old.pem", "out/new.pub.pem", "private/new.pem"},
		},
		{
			name: "the last key",
			keys: []string{"only"},
			args: []string{"--remove", "only", "--out", "OUT", "--private-out", "PRIVATE"},
			code: exitFailed, stderr: "last key",
			kids:  []string{"only"},
			stays: []string{"out/only.pub.pem", "private/only.pem"},
		},
		{
			name: "no jwks.json",
			args: []string{"--remove", "old", "--out", "OUT"},
			code: exitFailed, stderr: "does not exist",
		},
		{
			name: "with --alg",
			keys: []string{"old", "new"},
			args: []string{"--remove", "old", "--alg", "ES256", "--out", "OUT"},
			code: exitUsage, stderr: "--remove takes no --alg",
			kids: []string{"old", "new"},
		},
		{
			name: "with --kid",
			keys: []string{"old", "new"},
			args: []string{"--remove", "old", "--kid", "new", "--out", "OUT"},
			code: exitUsage, stderr: "--remove takes no --alg or --kid",
			kids: []string{"old", "new"},
		},
		{
			name: "a kid that is not a file name",
			keys: []string{"old", "new"},
			args: []string{"--remove", "../old", "--out", "OUT"},
			code: exitUsage, stderr: "plain file name",
			kids: []string{"old", "new"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			out, private := filepath.Join(root, "out"), filepath.Join(root, "private")
			require.NoError(t, os.Mkdir(out, 0o755))
			for _, kid := range tc.keys {
				r := cli("keygen", "--alg", "ES256", "--kid", kid, "--out", out, "--private-out", private)
				require.Equal(t, exitOK, r.code, r.stderr)
			}
			args := []string{"keygen"}
			for _, a := range tc.args {
				switch a {
				case "OUT":
					a = out
				case "PRIVATE":
					a = private
				}
				args = append(args, a)
			}
			r := cli(args...)
			assert.Equal(t, tc.code, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.stderr)
			if tc.kids != nil {
				assert.Equal(t, tc.kids, jwksKIDs(t, out))
			}
			for _, f := range tc.gone {
				assert.NoFileExists(t, filepath.Join(root, f))
			}
			for _, f := range tc.stays {
				assert.FileExists(t, filepath.Join(root, f))
			}
			if tc.code == exitOK {
				info, err := os.Stat(filepath.Join(out, "jwks.json"))
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o644), info.Mode().Perm(), "the rewritten set stays readable to the web server")
				assert.NotContains(t, r.stdout+r.stderr, "PRIVATE KEY")
			}
		})
	}
}
