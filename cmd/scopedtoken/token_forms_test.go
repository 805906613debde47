package main

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/redisstore"
	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// tokenForm is one way an operator may paste a token. stdin, when set, is
// what "-" reads, and arg is then "-".
type tokenForm struct {
	name  string
	arg   func(tok string) string
	stdin func(tok string) string
}

// acceptedForms are the forms of tokenForms, each of which must give the
// token itself to inspect, verify and revoke --token.
var acceptedForms = []tokenForm{
	{name: "bare", arg: func(t string) string { return t }},
	{name: "bare with the newline of a copied line", arg: func(t string) string { return " " + t + "\n" }},
	{name: "Bearer", arg: func(t string) string { return "Bearer " + t }},
	{name: "bearer in lower case with extra spaces", arg: func(t string) string { return "bearer   " + t + "  " }},
	{name: "BEARER and a tab", arg: func(t string) string { return "BEARER\t" + t }},
	{name: "Authorization header line", arg: func(t string) string { return "Authorization: Bearer " + t }},
	{name: "authorization line in lower case, spaces", arg: func(t string) string { return "  authorization :  bearer  " + t + "\r\n" }},
	{name: "jwt= parameter", arg: func(t string) string { return "jwt=" + t }},
	{name: "link", arg: func(t string) string { return "https://app.example/page?jwt=" + t }},
	{name: "link with other parameters and a fragment", arg: func(t string) string { return "https://app.example/page?a=1&jwt=" + t + "&b=x%20y#top" }},
	{name: "request target from an access log", arg: func(t string) string { return "/landing?jwt=" + t }},
	{name: "stdin, bare", stdin: func(t string) string { return t + "\n" }},
	{name: "stdin, Authorization header line", stdin: func(t string) string { return "Authorization: Bearer " + t + "\r\nUser-Agent: x\n" }},
	{name: "stdin, link without a newline", stdin: func(t string) string { return "https://app.example/?jwt=" + t }},
}

// refusedForms are not a token in any accepted form: refused, without
// printing the input back.
var refusedForms = []tokenForm{
	{name: "empty", arg: func(string) string { return "" }},
	{name: "Bearer alone", arg: func(string) string { return "Bearer " }},
	{name: "another scheme", arg: func(t string) string { return "Token " + t }},
	{name: "Bearer with a colon", arg: func(t string) string { return "Bearer: " + t }},
	{name: "Bearer twice", arg: func(t string) string { return "Bearer Bearer " + t }},
	{name: "quoted", arg: func(t string) string { return `"Bearer ` + t + `"` }},
	{name: "Authorization with Basic", arg: func(t string) string { return "Authorization: Basic " + t }},
	{name: "Authorization without a scheme", arg: func(t string) string { return "Authorization: " + t }},
	{name: "Authorization without a value", arg: func(string) string { return "Authorization:" }},
	{name: "header line with more after it", arg: func(t string) string { return "Authorization: Bearer " + t + " via=proxy" }},
	{name: "link without jwt", arg: func(t string) string { return "https://app.example/page?token=" + t }},
	{name: "link without a query", arg: func(string) string { return "https://app.example/page" }},
	{name: "link with two jwt parameters", arg: func(t string) string { return "https://app.example/?jwt=" + t + "&jwt=" + t }},
	{name: "link with a semicolon", arg: func(t string) string { return "https://app.example/?jwt=" + t + ";x=1" }},
	{name: "empty jwt=", arg: func(string) string { return "jwt=" }},
	{name: "two segments", arg: func(t string) string { return t[:strings.LastIndexByte(t, '.')] }},
	{name: "four segments", arg: func(t string) string { return t + ".e30" }},
	{name: "empty payload", arg: func(t string) string { return strings.Split(t, ".")[0] + "..x" }},
	{name: "space inside", arg: func(t string) string { return strings.Replace(t, ".", ". ", 1) }},
	{name: "control character inside", arg: func(t string) string { return strings.Replace(t, ".", ".\x1b", 1) }},
	{name: "non-ASCII inside", arg: func(t string) string { return strings.Replace(t, ".", ".é", 1) }},
	{name: "stdin, another scheme", stdin: func(t string) string { return "Token " + t + "\n" }},
}

// args returns the argument and sets stdin for the form.
func (f tokenForm) args(t *testing.T, tok string) string {
	t.Helper()
	if f.stdin == nil {
		return f.arg(tok)
	}
	old := stdin
	stdin = strings.NewReader(f.stdin(tok))
	t.Cleanup(func() { stdin = old })
	return "-"
}

// assertNotEchoed checks that no part of the token is in out.
func assertNotEchoed(t *testing.T, out, tok string) {
	t.Helper()
	for _, part := range strings.Split(tok, ".") {
		if len(part) > 8 {
			assert.NotContains(t, out, part, "the token is never printed")
		}
	}
}

// TestRevokeTokenForms (review finding 1): revoke --token records the
// revocation of the token itself whatever form it is pasted in: the jti, or
// the TokenHash of the token's own signing input, never a hash of "Bearer
// TOKEN" or of a link, which would revoke nothing while saying "revoked".
func TestRevokeTokenForms(t *testing.T) {
	srv := redistest.Start(t)
	url := "redis://" + srv.Addr()
	client := redistest.NewClient(t, srv.Addr())
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithBusiness("b42"))

	for _, f := range acceptedForms {
		for _, withJTI := range []bool{false, true} {
			name := f.name + ", no jti"
			if withJTI {
				name = f.name + ", jti"
			}
			t.Run(name, func(t *testing.T) {
				prefix := redistest.UniquePrefix()
				opts := []scopedtokentest.MintOption{scopedtokentest.Subject("user-" + prefix)}
				if withJTI {
					opts = append(opts, scopedtokentest.JWTID("jti-"+prefix))
				}
				tok := iss.Mint(opts...)
				want := scopedtoken.RevokeHash.String() + ":" + scopedtoken.TokenHash(tok)
				if withJTI {
					want = scopedtoken.RevokeID.String() + ":jti-" + prefix
				}

				r := cli("revoke", "--redis", url, "--prefix", prefix, "--token", f.args(t, tok))
				require.Equal(t, exitOK, r.code, r.stderr)
				assert.True(t, strings.HasPrefix(r.stdout, "revoked "+want+", kept until "), r.stdout)
				assertNotEchoed(t, r.stdout+r.stderr, tok)
				assert.Equal(t, []string{want}, recorded(t, client, prefix), "exactly the token's own revocation is recorded")

				store, err := redisstore.New(t.Context(), client, redisstore.Options{Prefix: prefix, Logger: slog.New(slog.DiscardHandler)})
				require.NoError(t, err)
				t.Cleanup(func() { store.Close() })
				cfg := iss.Config()
				cfg.Revocations = store
				mw, err := scopedtoken.New(cfg)
				require.NoError(t, err)
				assert.Eventually(t, func() bool {
					_, err := mw.Verify(t.Context(), tok, searchPath)
					return err != nil
				}, 2*time.Second, 5*time.Millisecond)
				_, err = mw.Verify(t.Context(), tok, searchPath)
				assert.ErrorIs(t, err, scopedtoken.ErrRevoked)
			})
		}
	}

	for _, f := range refusedForms {
		t.Run("refused: "+f.name, func(t *testing.T) {
			prefix := redistest.UniquePrefix()
			tok := iss.Mint(scopedtokentest.Subject("user-" + prefix))
			r := cli("revoke", "--redis", url, "--prefix", prefix, "--token", f.args(t, tok))
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Empty(t, r.stdout)
			assert.Contains(t, r.stderr, "scopedtoken revoke: --token: ")
			assertNotEchoed(t, r.stderr, tok)
			assert.Empty(t, recorded(t, client, prefix), "nothing is recorded")
		})
	}

	t.Run("refused: an unquoted Bearer TOKEN", func(t *testing.T) {
		tok := iss.Mint()
		r := cli("revoke", "--redis", url, "--token", "Bearer", tok)
		assert.Equal(t, exitUsage, r.code, r.stderr)
		assert.Contains(t, r.stderr, `--token "Bearer TOKEN"`)
		assertNotEchoed(t, r.stderr, tok)
	})
}

// recorded lists the entries of every sorted set under prefix, whatever the
// store names its keys.
func recorded(t *testing.T, client *redis.Client, prefix string) []string {
	t.Helper()
	keys, err := client.Keys(t.Context(), "*"+prefix+"*").Result()
	require.NoError(t, err)
	var entries []string
	for _, k := range keys {
		if client.Type(t.Context(), k).Val() != "zset" {
			continue
		}
		members, err := client.ZRange(t.Context(), k, 0, -1).Result()
		require.NoError(t, err)
		entries = append(entries, members...)
	}
	return entries
}

// TestInspectAndVerifyTokenForms: inspect and verify read every accepted
// form as the same token (their output is the bare token's), and refuse the
// rest without printing it.
func TestInspectAndVerifyTokenForms(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow), scopedtokentest.WithBusiness("b1"))
	pubPEM := publicPEM(t, iss, t.TempDir())
	tok := iss.Mint(scopedtokentest.Subject("forms"))
	inspect := func(arg string) result { return cli("inspect", "--json", "--now", testNowFlag, arg) }
	verify := func(arg string) result {
		return cli("verify", "--kid", iss.KeyID(), "--key", pubPEM, "--business", "b1", "--now", testNowFlag, "--path", searchPath, arg)
	}
	wantInspect, wantVerify := inspect(tok), verify(tok)
	require.Equal(t, exitOK, wantInspect.code, wantInspect.stderr)
	require.Equal(t, exitOK, wantVerify.code, wantVerify.stderr)
	require.Contains(t, wantVerify.stdout, `"sub": "forms"`)

	for _, f := range acceptedForms {
		t.Run(f.name, func(t *testing.T) {
			r := inspect(f.args(t, tok))
			assert.Equal(t, wantInspect, r, "inspect")
			r = verify(f.args(t, tok))
			assert.Equal(t, wantVerify, r, "verify")
		})
	}
	for _, f := range refusedForms {
		t.Run("refused: "+f.name, func(t *testing.T) {
			r := inspect(f.args(t, tok))
			assert.Equal(t, exitFailed, r.code)
			assert.Empty(t, r.stdout)
			assertNotEchoed(t, r.stderr, tok)

			r = verify(f.args(t, tok))
			assert.Equal(t, exitFailed, r.code)
			var out struct {
				Reason string `json:"reason"`
				Status int    `json:"status"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), "a refusal as the middleware gives it: %s", r.stdout)
			assert.Equal(t, "malformed_token", out.Reason)
			assert.Equal(t, 401, out.Status)
			assert.Contains(t, r.stderr, "refused (malformed_token)")
			assertNotEchoed(t, r.stdout+r.stderr, tok)
		})
	}
}
