package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// Strings a hostile token carries to act on the operator's terminal.
const (
	setTitle  = "\x1b]0;pwned\x07"                                            // OSC: window title, ended by BEL
	fakeLines = "\r\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2KVERIFIED: signature OK" // CR, erase line, cursor up
	c1        = "\u009b31m\u0085\u009d0;x\u009c"                              // CSI, NEL, OSC, ST as C1 controls
	bidi      = "\u202eTWJ\u202c \u2066x\u2069 \u200f\u061c"                  // override, pop, isolate, marks
	del       = "a\x7fb"
	tag       = "\U000E0041\U000E0042" // invisible tag characters
)

var hostile = setTitle + fakeLines + c1 + bidi + del + tag

// hostileLine is hostile without line breaks, for values a revocation keeps.
var hostileLine = setTitle + c1 + bidi + del + tag

// unsafeRuneAt returns a description of the first thing in out that a
// terminal could act on, or "".
func unsafeRuneAt(out string) string {
	for i := 0; i < len(out); {
		r, size := utf8.DecodeRuneInString(out[i:])
		bad := ""
		switch {
		case r == utf8.RuneError && size == 1:
			bad = "invalid UTF-8"
		case r < 0x20 && r != '\n' && r != '\t':
			bad = "a C0 control"
		case r == 0x7f:
			bad = "DEL"
		case r >= 0x80 && r <= 0x9f:
			bad = "a C1 control"
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			bad = "a bidi control"
		case r >= 0xe0000 && r <= 0xe007f:
			bad = "a tag character"
		}
		if bad != "" {
			return fmt.Sprintf("%s at byte %d, in %q", bad, i, out[max(0, i-30):min(len(out), i+30)])
		}
		i += size
	}
	return ""
}

func assertTerminalSafe(t *testing.T, what, out string) {
	t.Helper()
	if bad := unsafeRuneAt(out); bad != "" {
		t.Errorf("%s writes %s", what, bad)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestTerminalSafeOutput (review finding 5): nothing inspect, verify or
// revoke prints from a token reaches the terminal raw: no C0 control but
// newline and tab, no DEL, no C1 control, no bidi control, no invalid UTF-8,
// in the text output, the --json output, verify's output and refusals, and
// revoke's line; and strings from the token are shown quoted with Go escapes.
func TestTerminalSafeOutput(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	exp := testNow.Add(5 * time.Minute).Unix()
	rawClaims := fmt.Sprintf("{\"aud\":\"/v2/accounts/me/search\",\"exp\":%d,\"sub\":\"\u202e\u009b2J\x7f\",\"x\x7f\u009b\":1,\"n\":\"\xff\x9b[2J\xc2\"}", exp)

	tokens := []struct {
		name  string
		token string
		shown []string // what the text output must show, escaped
	}{
		{
			name: "header values",
			token: iss.Mint(scopedtokentest.Alg(setTitle), scopedtokentest.Header("typ", fakeLines),
				scopedtokentest.KeyID(c1+bidi), scopedtokentest.Header("x5u", hostile)),
			shown: []string{`alg "\x1b]0;pwned\a" is not a supported algorithm`, `typ is "\r\x1b[2K`},
		},
		{
			name: "alg and typ of other types",
			token: iss.Mint(scopedtokentest.Header("alg", map[string]any{hostile: []any{hostile, 1}}),
				scopedtokentest.Header("typ", []string{setTitle})),
			shown: []string{`typ is ["\u001b]0;pwned\u0007"]`},
		},
		{
			name: "claims",
			token: iss.Mint(scopedtokentest.Subject(hostile), scopedtokentest.JWTID(setTitle), scopedtokentest.IssuerClaim(bidi),
				scopedtokentest.Claim("note", fakeLines), scopedtokentest.Claim(hostile, hostile),
				scopedtokentest.Audience(searchPath, "/v2/accounts/me/"+hostile, hostile),
				scopedtokentest.Claim("query", map[string]any{hostile: []any{hostile, map[string]any{hostile: hostile}}, "k": nil}),
				scopedtokentest.Claim("nbf", hostile), scopedtokentest.Claim("EXP", hostile)),
			shown: []string{`nbf must be a number of seconds since 1970 (up to year 9999), not "\u001b]0;pwned\u0007`},
		},
		{
			name:  "raw bytes in the header: DEL, C1, bidi, invalid UTF-8",
			token: iss.Mint(scopedtokentest.RawHeader([]byte("{\"alg\":\"\u202eHS256\",\"kid\":\"\x7f\u009b2J\",\"typ\":\"JWT\xff\xfe\",\"typ\":\"\u2066\"}\r\t\r"))),
			shown: []string{`alg "\u202eHS256" is not a supported algorithm`, "the header is not valid UTF-8"},
		},
		{
			name:  "raw bytes in the claims",
			token: iss.Mint(scopedtokentest.RawClaims([]byte(rawClaims))),
			shown: []string{"the claims is not valid UTF-8"},
		},
		{
			name:  "raw C0 controls in the claims (not JSON)",
			token: iss.Mint(scopedtokentest.RawClaims([]byte(`{"sub":"` + setTitle + fakeLines + `"}`))),
			shown: []string{"the claims is not a JSON object"},
		},
		{
			name:  "hand-made, unsigned",
			token: b64(mustJSON(t, map[string]string{"alg": setTitle, "kid": bidi, "typ": fakeLines})) + "." + b64(rawClaims) + ".",
		},
	}
	for _, tt := range tokens {
		t.Run("inspect: "+tt.name, func(t *testing.T) {
			r := cli("inspect", "--now", testNowFlag, tt.token)
			require.Equal(t, exitOK, r.code, r.stderr)
			assertTerminalSafe(t, "inspect", r.stdout+r.stderr)
			assert.True(t, strings.HasPrefix(r.stdout, notVerified+"\n"), "the first line stands")
			assert.True(t, strings.HasSuffix(r.stdout, "\nNothing was verified. Use 'scopedtoken verify' with the key to check the token.\n"))
			for _, s := range tt.shown {
				assert.Contains(t, r.stdout, s)
			}

			r = cli("inspect", "--json", "--now", testNowFlag, tt.token)
			require.Equal(t, exitOK, r.code, r.stderr)
			assertTerminalSafe(t, "inspect --json", r.stdout+r.stderr)
			var in inspection
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &in), "still JSON")
		})
	}

	t.Run("inspect --json keeps the values", func(t *testing.T) {
		r := cli("inspect", "--json", "--now", testNowFlag, tokens[0].token)
		require.Equal(t, exitOK, r.code, r.stderr)
		var in struct {
			Header map[string]any `json:"header"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &in))
		assert.Equal(t, setTitle, in.Header["alg"], "escaped, not changed")
		assert.Equal(t, fakeLines, in.Header["typ"])
		assert.Equal(t, c1+bidi, in.Header["kid"])
	})

	pubPEM := publicPEM(t, iss, t.TempDir())
	verify := func(tok string) result {
		return cli("verify", "--kid", iss.KeyID(), "--key", pubPEM, "--allow-me-without-business", "--now", testNowFlag, "--path", searchPath, tok)
	}
	t.Run("verify: accepted token", func(t *testing.T) {
		tok := iss.Mint(scopedtokentest.Subject(hostile), scopedtokentest.JWTID(setTitle+c1), scopedtokentest.IssuerClaim(bidi),
			scopedtokentest.Claim("note", fakeLines+del), scopedtokentest.Query("q", hostile), scopedtokentest.Claim(bidi, tag))
		r := verify(tok)
		require.Equal(t, exitOK, r.code, r.stderr)
		assertTerminalSafe(t, "verify", r.stdout+r.stderr)
		var out struct {
			Sub    string              `json:"sub"`
			JTI    string              `json:"jti"`
			Query  map[string][]string `json:"query"`
			Claims map[string]any      `json:"claims"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), "still JSON")
		assert.Equal(t, hostile, out.Sub, "escaped, not changed")
		assert.Equal(t, setTitle+c1, out.JTI)
		assert.Equal(t, []string{hostile}, out.Query["q"])
		assert.Equal(t, fakeLines+del, out.Claims["note"])
		assert.Equal(t, tag, out.Claims[bidi])
	})
	for _, tt := range tokens {
		t.Run("verify: refused, "+tt.name, func(t *testing.T) {
			r := verify(tt.token)
			assert.Equal(t, exitFailed, r.code)
			assertTerminalSafe(t, "verify", r.stdout+r.stderr)
		})
	}
}

// TestRevokeOutputIsTerminalSafe: revoke's "revoked jti:..." line shows a
// token's jti quoted with its controls escaped, and a plain one as it is.
func TestRevokeOutputIsTerminalSafe(t *testing.T) {
	srv := redistest.Start(t)
	url := "redis://" + srv.Addr()
	iss := scopedtokentest.NewIssuer(t)
	for _, tt := range []struct{ jti, shown string }{
		{jti: hostileLine, shown: `revoked jti:"\x1b]0;pwned\a\u009b31m\u0085`},
		{jti: "x, kept for ever", shown: `revoked jti:"x, kept for ever", kept until `},
		{jti: "plain-1", shown: "revoked jti:plain-1, kept until "},
	} {
		t.Run(tt.jti, func(t *testing.T) {
			r := cli("revoke", "--redis", url, "--prefix", redistest.UniquePrefix(), "--token", iss.Mint(scopedtokentest.JWTID(tt.jti)))
			require.Equal(t, exitOK, r.code, r.stderr)
			assertTerminalSafe(t, "revoke", r.stdout+r.stderr)
			assert.True(t, strings.HasPrefix(r.stdout, tt.shown), r.stdout)
		})
	}
	r := cli("revoke", "--redis", url, "--prefix", redistest.UniquePrefix(), "--subject", hostileLine)
	require.Equal(t, exitOK, r.code, r.stderr)
	assertTerminalSafe(t, "revoke --subject", r.stdout+r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, `revoked subject:"\x1b]0;pwned\a`), r.stdout)

	// Values are opaque (Revocation.Validate takes any non-empty one, line
	// breaks included): the line shows them quoted.
	r = cli("revoke", "--redis", url, "--prefix", redistest.UniquePrefix(), "--jti", "a\nb\r")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, `revoked jti:"a\nb\r", kept for ever`), r.stdout)
	assert.Equal(t, 1, strings.Count(r.stdout, "\n"))
}
