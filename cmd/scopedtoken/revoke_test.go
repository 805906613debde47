package main

import (
	"encoding/base64"
	"log/slog"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/redisstore"
	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

func TestRevokeUsage(t *testing.T) {
	url := "redis://127.0.0.1:1"
	b64 := base64.RawURLEncoding.EncodeToString
	hourToken := b64([]byte(`{"alg":"HS256","kid":"k"}`)) + "." +
		b64([]byte(`{"aud":"/v2/accounts/me/search","exp":`+strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)+`}`)) + ".c2ln"
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"nothing", []string{"--redis", url}, "exactly one of"},
		{"two", []string{"--redis", url, "--jti", "a", "--kid", "k"}, "exactly one of"},
		{"no_redis", []string{"--jti", "a"}, "--redis"},
		{"bad_url", []string{"--redis", "http://u:secret-pw@h", "--jti", "a"}, "not a valid Redis URL"},
		{"before_on_token", []string{"--redis", url, "--jti", "a", "--before", "2026-01-02T03:04:05Z"}, "--before goes with"},
		{"bad_before", []string{"--redis", url, "--business", "b", "--before", "yesterday"}, "RFC 3339"},
		{"negative_keep", []string{"--redis", url, "--jti", "a", "--keep", "-1h"}, "--keep"},
		// A revocation that ends while its token is still accepted.
		{"keep_shorter_than_token", []string{"--redis", url, "--token", hourToken, "--keep", "10m"}, "--keep ends before the token expires"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("SCOPEDTOKEN_REDIS_URL", "")
			r := cli(append([]string{"revoke"}, c.args...)...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, c.msg)
			assert.NotContains(t, r.stderr, "secret-pw")
		})
	}
}

// TestRevokeAndMintOnce revokes through the CLI against a real Redis and
// checks that a Store following it refuses the tokens; and mints a
// single-use token that such a service accepts once.
func TestRevokeAndMintOnce(t *testing.T) {
	srv := redistest.Start(t)
	url := "redis://" + srv.Addr()
	store, err := redisstore.New(t.Context(), redistest.NewClient(t, srv.Addr()), redisstore.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })

	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithBusiness("b42"))
	withJTI := iss.Mint(scopedtokentest.JWTID("cli-1"))
	withoutJTI := iss.Mint()
	old := iss.Mint(scopedtokentest.IssuedAt(time.Now().Add(-time.Minute)), scopedtokentest.Subject("cli-user"))
	cfg := iss.Config()
	cfg.Revocations = store
	mw, err := scopedtoken.New(cfg)
	require.NoError(t, err)
	ok := func(tok string) bool {
		_, err := mw.Verify(t.Context(), tok, searchPath)
		return err == nil
	}
	require.True(t, ok(withJTI))
	require.True(t, ok(withoutJTI))
	require.True(t, ok(old))

	r := cli("revoke", "--redis", url, "--token", withJTI)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "revoked jti:cli-1, kept until")
	assert.NotContains(t, r.stdout+r.stderr, withJTI, "the token is never printed")

	t.Setenv("SCOPEDTOKEN_REDIS_URL", url)
	r = cli("revoke", "--hash", scopedtoken.TokenHash(withoutJTI))
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "kept for ever")
	r = cli("revoke", "--business", "b42", "--before", time.Now().Add(-10*time.Second).UTC().Format(time.RFC3339), "--keep", "2h")
	require.Equal(t, exitOK, r.code, r.stderr)
	r = cli("revoke", "--subject", "cli-user")
	require.Equal(t, exitOK, r.code, r.stderr)

	for name, tok := range map[string]string{"jti": withJTI, "hash": withoutJTI, "cutoff": old} {
		assert.Eventually(t, func() bool { return !ok(tok) }, time.Second, 5*time.Millisecond, name)
	}
	// With a jti of its own: a token with the same claims as withoutJTI (same
	// second, no jti) would be the same token to a revocation by hash.
	assert.True(t, ok(iss.Mint(scopedtokentest.JWTID("cli-2"))), "the business cutoff lies before tokens issued now")

	dir := t.TempDir()
	secretFile := writeFile(t, dir, "k.secret", string(iss.Secret())+"\n", 0o600)
	r = cli("mint", "--kid", iss.HMACKeyID(), "--secret-file", secretFile, "--aud", searchPath, "--once", "--verify")
	require.Equal(t, exitOK, r.code, r.stderr)
	once := r.lastLine()
	r = cli("verify", "--kid", iss.HMACKeyID(), "--secret-file", secretFile, "--allow-me-without-business", "--path", searchPath, once)
	require.Equal(t, exitOK, r.code, "verify checks a single-use token without using it up in the fleet: %s", r.stderr)
	assert.Contains(t, r.stdout, `"once": true`)
	_, err = mw.Verify(t.Context(), once, searchPath)
	require.NoError(t, err)
	_, err = mw.Verify(t.Context(), once, searchPath)
	assert.ErrorIs(t, err, scopedtoken.ErrTokenUsed)

	srv.Stop(syscall.SIGKILL)
	r = cli("revoke", "--redis", "redis://:pw-in-url@"+srv.Addr(), "--jti", "x")
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "cannot record the revocation")
	assert.False(t, strings.Contains(r.stderr, "pw-in-url"), r.stderr)
}
