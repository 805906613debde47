package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// TestVerifyTokenForms: verify takes the token as inspect does: bare,
// "Bearer TOKEN" (any case) or a link carrying ?jwt=.
func TestVerifyTokenForms(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow), scopedtokentest.WithBusiness("b1"))
	pubPEM := publicPEM(t, iss, t.TempDir())
	token := iss.Mint()
	for _, form := range []string{token, "Bearer " + token, "bearer  " + token, "https://app.example/page?jwt=" + token} {
		r := cli("verify", "--kid", iss.KeyID(), "--key", pubPEM, "--business", "b1", "--now", testNowFlag, "--path", searchPath, form)
		assert.Equal(t, exitOK, r.code, "%.20s...: %s", form, r.stderr)
	}
}

// TestKeyFromEnvironment: the variable that keygen names for a secret is
// read by mint and verify when no key flag is given, and SCOPEDTOKEN_KEY_<K>
// holds a private key for both.
func TestKeyFromEnvironment(t *testing.T) {
	dir, private := t.TempDir(), t.TempDir()
	r := cli("keygen", "--alg", "HS256", "--kid", "env.k", "--out", dir, "--private-out", private)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stderr, "SCOPEDTOKEN_SECRET_env_k")
	secret, err := os.ReadFile(filepath.Join(private, "env.k.secret"))
	require.NoError(t, err)

	r = cli("mint", "--kid", "env.k", "--aud", searchPath)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "SCOPEDTOKEN_SECRET_env_k", "the error names the variable to set")

	t.Setenv("SCOPEDTOKEN_SECRET_env_k", string(secret))
	r = cli("mint", "--kid", "env.k", "--aud", searchPath)
	require.Equal(t, exitOK, r.code, r.stderr)
	r = cli("verify", "--kid", "env.k", "--business", "b1", "--path", searchPath, r.lastLine())
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"alg": "HS256"`)
	assert.NotContains(t, r.stdout+r.stderr, string(secret))

	r = cli("keygen", "--alg", "ES256", "--kid", "ec", "--out", dir, "--private-out", private)
	require.Equal(t, exitOK, r.code, r.stderr)
	pemData, err := os.ReadFile(filepath.Join(private, "ec.pem"))
	require.NoError(t, err)
	t.Setenv("SCOPEDTOKEN_KEY_ec", strings.ReplaceAll(string(pemData), "\n", `\n`))
	r = cli("mint", "--kid", "ec", "--aud", searchPath)
	require.Equal(t, exitOK, r.code, r.stderr)
	r = cli("verify", "--kid", "ec", "--business", "b1", "--path", searchPath, r.lastLine())
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"alg": "ES256"`)
}

// TestExpireInNamesTheUnit: a number without a unit is refused with a hint,
// not flag's bare "parse error".
func TestExpireInNamesTheUnit(t *testing.T) {
	r := cli("mint", "--kid", "k", "--secret", testSecret, "--aud", searchPath, "--expire-in", "300")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "use a duration such as 5m or 300s")
	assert.NotContains(t, r.stderr, "parse error")
	r = cli("mint", "--kid", "k", "--secret", testSecret, "--aud", searchPath, "--expire-in", "300s")
	assert.Equal(t, exitOK, r.code, r.stderr)
}

// TestErrorsSayScopedtokenOnce: a package error printed by the CLI does not
// repeat the "scopedtoken:" prefix after "scopedtoken COMMAND:".
func TestErrorsSayScopedtokenOnce(t *testing.T) {
	for _, args := range [][]string{
		{"mint", "--kid", "k", "--secret", "short-secret-of-16", "--aud", searchPath},
		{"mint", "--kid", "k", "--secret", testSecret, "--alg", "none", "--aud", searchPath},
		{"verify", "--kid", "k", "--key", writeFile(t, t.TempDir(), "k.pem", "not a key", 0o600), "--path", searchPath, "a.b.c"},
	} {
		r := cli(args...)
		assert.Equal(t, exitFailed, r.code, "%v", args)
		assert.Equal(t, 1, strings.Count(r.stderr, "scopedtoken"), "%v: %s", args, r.stderr)
		assert.True(t, strings.HasPrefix(r.stderr, "scopedtoken "+args[0]+": "), r.stderr)
	}
}

// TestInspectEmptyToken says the token is empty rather than counting
// segments of nothing.
func TestInspectEmptyToken(t *testing.T) {
	for _, arg := range []string{"", "  ", "Bearer "} {
		r := cli("inspect", arg)
		assert.Equal(t, exitFailed, r.code)
		assert.Contains(t, r.stderr, "the token is empty", "%q", arg)
		assert.NotContains(t, r.stderr, "segment")
	}
}
