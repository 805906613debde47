//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeygenModes: the folder to publish is created 0755 and its files are
// 0644, so that a web server running as another user can serve jwks.json;
// the private folder is created 0700 and its files are 0600. The modes hold
// under a strict umask too, and a folder that exists keeps its mode.
func TestKeygenModes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		umask int
		alg   string
		modes map[string]os.FileMode // relative to the temp root
	}{
		{name: "ES256", umask: 0o022, alg: "ES256", modes: map[string]os.FileMode{
			"pub": 0o755, "pub/keys": 0o755, "pub/keys/jwks.json": 0o644, "pub/keys/k.pub.pem": 0o644,
			"priv": 0o700, "priv/keys": 0o700, "priv/keys/k.pem": 0o600,
		}},
		{name: "ES256 under umask 077", umask: 0o077, alg: "ES256", modes: map[string]os.FileMode{
			"pub": 0o755, "pub/keys": 0o755, "pub/keys/jwks.json": 0o644, "pub/keys/k.pub.pem": 0o644,
			"priv": 0o700, "priv/keys": 0o700, "priv/keys/k.pem": 0o600,
		}},
		{name: "HS256 under umask 000", umask: 0, alg: "HS256", modes: map[string]os.FileMode{
			"priv": 0o700, "priv/keys": 0o700, "priv/keys/k.secret": 0o600,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := syscall.Umask(tc.umask)
			t.Cleanup(func() { syscall.Umask(old) })
			root := t.TempDir()
			r := cli("keygen", "--alg", tc.alg, "--kid", "k",
				"--out", filepath.Join(root, "pub", "keys"), "--private-out", filepath.Join(root, "priv", "keys"))
			require.Equal(t, exitOK, r.code, r.stderr)
			for name, want := range tc.modes {
				info, err := os.Stat(filepath.Join(root, name))
				require.NoError(t, err)
				assert.Equal(t, want, info.Mode().Perm(), name)
			}
		})
	}

	t.Run("an existing folder keeps its mode", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		require.NoError(t, os.Mkdir(out, 0o750))
		r := cli("keygen", "--alg", "ES256", "--kid", "k", "--out", out, "--private-out", t.TempDir())
		require.Equal(t, exitOK, r.code, r.stderr)
		info, err := os.Stat(out)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o750), info.Mode().Perm())
	})
}
