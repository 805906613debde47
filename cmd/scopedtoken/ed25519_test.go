package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// TestEd25519AlgorithmCLI runs keygen, mint and verify with the RFC 9864
// algorithm name Ed25519: the JWK Set says alg Ed25519, and a key bound to it
// accepts only tokens that say so, from a file key or from the JWK Set.
func TestEd25519AlgorithmCLI(t *testing.T) {
	dir, private := t.TempDir(), t.TempDir()
	r := cli("keygen", "--alg", "Ed25519", "--kid", "ed", "--out", dir, "--private-out", private)
	require.Equal(t, exitOK, r.code, r.stderr)
	jwks, err := os.ReadFile(filepath.Join(dir, "jwks.json"))
	require.NoError(t, err)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(jwks, &set))
	require.Len(t, set.Keys, 1)
	assert.Equal(t, "Ed25519", set.Keys[0]["alg"])
	assert.Equal(t, "OKP", set.Keys[0]["kty"])
	assert.Equal(t, "Ed25519", set.Keys[0]["crv"])
	assert.NotContains(t, set.Keys[0], "d")

	srv := testkit.NewJWKSServer(t, jwks)

	priv := filepath.Join(private, "ed.pem")
	pub := filepath.Join(dir, "ed.pub.pem")
	mint := func(t *testing.T, extra ...string) string {
		t.Helper()
		args := append([]string{"mint", "--kid", "ed", "--key", priv, "--aud", searchPath, "--verify"}, extra...)
		r := cli(args...)
		require.Equal(t, exitOK, r.code, r.stderr)
		return r.lastLine()
	}
	ed25519Token := mint(t, "--alg", "Ed25519")
	eddsaToken := mint(t) // no --alg: the key's default, EdDSA

	tests := []struct {
		name   string
		args   []string
		token  string
		reason string // "" when the token must verify
	}{
		{name: "JWK Set accepts alg Ed25519", args: []string{"--jwks", srv.URL}, token: ed25519Token},
		{name: "JWK Set refuses alg EdDSA", args: []string{"--jwks", srv.URL}, token: eddsaToken, reason: "alg_mismatch"},
		{name: "key with --alg Ed25519 accepts alg Ed25519", args: []string{"--kid", "ed", "--key", pub, "--alg", "Ed25519"}, token: ed25519Token},
		{name: "key with --alg Ed25519 refuses alg EdDSA", args: []string{"--kid", "ed", "--key", pub, "--alg", "Ed25519"}, token: eddsaToken, reason: "alg_mismatch"},
		{name: "key without --alg is EdDSA and refuses alg Ed25519", args: []string{"--kid", "ed", "--key", pub}, token: ed25519Token, reason: "alg_mismatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(append(append([]string{"verify", "--allow-me-without-business", "--path", searchPath}, tc.args...), tc.token)...)
			if tc.reason == "" {
				require.Equal(t, exitOK, r.code, r.stderr)
				assert.Contains(t, r.stdout, `"alg": "Ed25519"`)
				return
			}
			assert.Equal(t, exitFailed, r.code)
			assert.Contains(t, r.stdout, `"reason":"`+tc.reason+`"`)
		})
	}

	r = cli("inspect", ed25519Token)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"alg": "Ed25519"`)
	assert.NotContains(t, r.stdout, "not a supported algorithm")
}
