package scopedtoken

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTokenRevocationStrict: TokenRevocation names only what is a token the
// middleware could accept. What an operator copies from a request log
// ("Bearer ...", the whole header line, a jwt= parameter) is refused, never
// turned into the hash of a signing input that no token has; and the error
// never quotes the input.
func TestTokenRevocationStrict(t *testing.T) {
	tok := hsToken(t, revClaims(nil))
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	header, payload, sig := parts[0], parts[1], parts[2]
	cases := []struct {
		name, input, want string
	}{
		{"bearer_prefix", "Bearer " + tok, "strip"},
		{"lower_case_bearer", "bearer " + tok, "strip"},
		{"header_line", "Authorization: Bearer " + tok, "strip"},
		{"query_parameter", "jwt=" + tok, "strip"},
		{"trailing_newline", tok + "\n", "strip"},
		{"two_parts", header + "." + payload, "three"},
		{"four_parts", tok + ".x", "three"},
		{"empty_signature", header + "." + payload + ".", "base64url"},
		{"empty_payload", header + ".." + sig, "base64url"},
		{"padded_header", header + "=." + payload + "." + sig, "strip"},
		{"standard_base64_header", strings.ReplaceAll(b64(`{"alg":"HS256","kid":"a?>"}`), "_", "/") + "." + payload + "." + sig, "base64url"},
		{"header_not_json", b64("alg=HS256") + "." + payload + "." + sig, "header"},
		{"header_array", b64(`[{"alg":"HS256","kid":"hs"}]`) + "." + payload + "." + sig, "header"},
		{"header_without_kid", b64(`{"alg":"HS256"}`) + "." + payload + "." + sig, "header"},
		{"header_without_alg", b64(`{"kid":"hs"}`) + "." + payload + "." + sig, "header"},
		{"alg_none", b64(`{"alg":"none","kid":"hs"}`) + "." + payload + "." + sig, "header"},
		{"payload_not_json", header + "." + b64("hello") + "." + sig, "payload"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := TokenRevocation(c.input)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), sig, "the error never quotes the token")
			assert.NotContains(t, err.Error(), payload)
		})
	}

	t.Run("what_it_accepts_the_middleware_revokes", func(t *testing.T) {
		store := NewMemoryRevocations(fixedClock)
		m := newTestMiddleware(t, func(c *Config) { c.Revocations = store })
		r, err := TokenRevocation(tok)
		require.NoError(t, err)
		require.Equal(t, RevokeHash, r.Kind)
		require.NoError(t, store.Revoke(t.Context(), r))
		assert.Equal(t, "revoked", serve(t, m, bearer(revPath, tok)).reason)
	})
}

// TestEveryAcceptedTokenIsRevocable: a token that the middleware accepts can
// be revoked by itself, whatever bytes its jti or sub hold, and a revocation
// by hash takes effect for a token that has a jti as well.
func TestEveryAcceptedTokenIsRevocable(t *testing.T) {
	cases := []struct {
		name   string
		claims map[string]any
		revoke func(tok string) Revocation
	}{
		{"jti_with_line_feed_by_token", map[string]any{"jti": "a\n1"}, func(tok string) Revocation {
			r, err := TokenRevocation(tok)
			require.NoError(t, err)
			require.Equal(t, Revocation{Kind: RevokeID, Value: "a\n1", Until: r.Until}, r)
			return r
		}},
		{"jti_with_line_feed_by_id", map[string]any{"jti": "a\n1"}, func(string) Revocation { return Revocation{Kind: RevokeID, Value: "a\n1"} }},
		{"jti_with_nul_and_escape", map[string]any{"jti": "j\x00\x1b[2J"}, func(string) Revocation { return Revocation{Kind: RevokeID, Value: "j\x00\x1b[2J"} }},
		{"sub_with_carriage_return", map[string]any{"sub": "alice\r"}, func(string) Revocation {
			return Revocation{Kind: CutoffSubject, Value: "alice\r", IssuedBefore: testNow}
		}},
		{"hash_of_token_with_jti", map[string]any{"jti": "has-an-id"}, func(tok string) Revocation { return Revocation{Kind: RevokeHash, Value: TokenHash(tok)} }},
		{"hash_of_single_use_token_with_jti", map[string]any{"jti": "once-id", "once": true}, func(tok string) Revocation {
			return Revocation{Kind: RevokeHash, Value: TokenHash(tok)}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := NewMemoryRevocations(fixedClock)
			m := newTestMiddleware(t, func(c *Config) { c.Revocations = store })
			claims := revClaims(c.claims)
			claims["iat"] = testNow.Add(-DefaultLeeway).Unix()
			tok := hsToken(t, claims)
			other := hsToken(t, revClaims(map[string]any{"jti": "other", "sub": "bob"}))
			if c.claims["once"] == nil {
				require.Equal(t, http.StatusOK, serve(t, m, bearer(revPath, tok)).code, "accepted, and now cached")
			}
			require.NoError(t, store.Revoke(t.Context(), c.revoke(tok)))
			res := serve(t, m, bearer(revPath, tok))
			assert.Equal(t, http.StatusUnauthorized, res.code)
			assert.Equal(t, "revoked", res.reason)
			assert.Equal(t, http.StatusOK, serve(t, m, bearer(revPath, other)).code, "nothing else is refused")
		})
	}
}

// TestCheckSkippedForKnownReplays: Config.Check runs once for a single-use
// token that this instance used or found used; a replay reaching the same
// instance is refused before the hook, without asking the store again.
func TestCheckSkippedForKnownReplays(t *testing.T) {
	var checks atomic.Int64
	var refuse atomic.Bool
	store := &countingUseStore{MemoryRevocations: NewMemoryRevocations(fixedClock)}
	m := newTestMiddleware(t, func(c *Config) {
		c.Revocations = store
		c.Check = func(*http.Request, *Token) error {
			checks.Add(1)
			if refuse.Load() {
				return errors.New("not now")
			}
			return nil
		}
	})
	tok := hsToken(t, revClaims(map[string]any{"once": true, "jti": "link"}))

	refuse.Store(true)
	assert.Equal(t, "check_failed", serve(t, m, bearer(revPath, tok)).reason)
	refuse.Store(false)
	assert.Equal(t, http.StatusOK, serve(t, m, bearer(revPath, tok)).code, "a refusal by Check did not burn the link")
	assert.Equal(t, int64(2), checks.Load())
	for range 3 {
		assert.Equal(t, "token_used", serve(t, m, bearer(revPath, tok)).reason)
	}
	assert.Equal(t, int64(2), checks.Load(), "replays on this instance never reach Check")
	assert.Equal(t, int64(1), store.uses.Load(), "nor the store")

	// A second instance (a second middleware on the same store) learns from
	// its first replay: Check runs that once, never again.
	m2 := newTestMiddleware(t, func(c *Config) { c.Revocations = store; c.Check = m.check })
	for range 3 {
		assert.Equal(t, "token_used", serve(t, m2, bearer(revPath, tok)).reason)
	}
	assert.Equal(t, int64(3), checks.Load(), "one Check on the instance that had not seen the token used")
	assert.Equal(t, int64(2), store.uses.Load())
}

// countingUseStore counts the calls to Use.
type countingUseStore struct {
	*MemoryRevocations
	uses atomic.Int64
}

func (s *countingUseStore) Use(ctx context.Context, key string, until time.Time) error {
	s.uses.Add(1)
	return s.MemoryRevocations.Use(ctx, key, until)
}
