package scopedtoken

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testIssuer = "https://issuer.example/"

// issuerKeys holds "bound" (HS256, Issuer testIssuer) and "free" (HS256, no
// issuer).
func issuerKeys(t testing.TB) KeySet {
	t.Helper()
	ks, err := StaticKeys(
		Key{ID: "bound", Algorithm: "HS256", Secret: testSecret, Issuer: testIssuer},
		Key{ID: "free", Algorithm: "HS256", Secret: testSecret},
	)
	require.NoError(t, err)
	return ks
}

// hsIssToken signs claimsWith(extra) under kid with the HS256 test secret.
func hsIssToken(t testing.TB, kid, extra string) string {
	return signRaw(t, "HS256", testSecret, `{"alg":"HS256","kid":"`+kid+`"}`, claimsWith(extra))
}

// TestIssuerBinding: a key with an Issuer accepts only tokens whose iss is
// exactly that string; a key without one accepts any iss.
func TestIssuerBinding(t *testing.T) {
	m, err := New(Config{AllowMeWithoutBusiness: true, Keys: issuerKeys(t), Now: fixedClock})
	require.NoError(t, err)
	tests := []struct {
		name, kid, extra string
		reason           string // "" when accepted
	}{
		{name: "exact iss", kid: "bound", extra: `,"iss":"https://issuer.example/"`},
		{name: "exact iss written with JSON escapes", kid: "bound", extra: `,"iss":"https:\/\/issuer.example\u002f"`},
		{name: "no iss", kid: "bound", reason: "issuer_mismatch"},
		{name: "empty iss", kid: "bound", extra: `,"iss":""`, reason: "issuer_mismatch"},
		{name: "without the trailing slash", kid: "bound", extra: `,"iss":"https://issuer.example"`, reason: "issuer_mismatch"},
		{name: "another case", kid: "bound", extra: `,"iss":"https://Issuer.example/"`, reason: "issuer_mismatch"},
		{name: "upper-case scheme", kid: "bound", extra: `,"iss":"HTTPS://issuer.example/"`, reason: "issuer_mismatch"},
		{name: "a trailing space", kid: "bound", extra: `,"iss":"https://issuer.example/ "`, reason: "issuer_mismatch"},
		{name: "a prefix of it", kid: "bound", extra: `,"iss":"https://issuer.example/x"`, reason: "issuer_mismatch"},
		{name: "another issuer", kid: "bound", extra: `,"iss":"https://evil.example/"`, reason: "issuer_mismatch"},
		{name: "iss not a string", kid: "bound", extra: `,"iss":["https://issuer.example/"]`, reason: "invalid_claims"},
		{name: "unbound key, any iss", kid: "free", extra: `,"iss":"https://evil.example/"`},
		{name: "unbound key, no iss", kid: "free"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := serve(t, m, bearer(attackPath, hsIssToken(t, tc.kid, tc.extra)))
			if tc.reason == "" {
				require.Equal(t, http.StatusOK, res.code, res.body)
				return
			}
			assertRefused(t, res, http.StatusUnauthorized, tc.reason)
		})
	}
	t.Run("errors.Is and the token's Issuer", func(t *testing.T) {
		_, err := m.Verify(t.Context(), hsIssToken(t, "bound", `,"iss":"other"`), attackPath)
		assert.ErrorIs(t, err, ErrIssuerMismatch)
		assert.ErrorIs(t, err, ErrInvalidToken)
		tok, err := m.Verify(t.Context(), hsIssToken(t, "bound", `,"iss":"https://issuer.example/"`), attackPath)
		require.NoError(t, err)
		assert.Equal(t, testIssuer, tok.Issuer())
	})
}

// TestIssuerNameValidation: Key.Issuer refuses strings no token could match
// by mistake (jwks.Config.Issuer too: see that package's test of this name).
func TestIssuerNameValidation(t *testing.T) {
	for _, iss := range []string{"a\x00b", "a\x7fb", "https://x/\n", "a\u0085b", "\xff", " https://x", "https://x ", "https://x\t"} {
		_, err := NewVerificationKey(Key{ID: "k", Algorithm: "HS256", Secret: testSecret, Issuer: iss})
		assert.ErrorIs(t, err, ErrBadKey, "%q", iss)
	}
	for _, iss := range []string{"", "https://x", "https://x/", "urn:example:issuer", "accounts.google.com", "émetteur un"} {
		vk, err := NewVerificationKey(Key{ID: "k", Algorithm: "HS256", Secret: testSecret, Issuer: iss})
		require.NoError(t, err, "%q", iss)
		if iss == "" {
			assert.Nil(t, vk.Issuers())
		} else {
			assert.Equal(t, []string{iss}, vk.Issuers())
		}
	}
	t.Run("every entry of Issuers", func(t *testing.T) {
		for _, iss := range []string{"", "a\x00b", "\xff", " https://x", "https://x\t"} {
			_, err := NewVerificationKey(Key{ID: "k", Algorithm: "HS256", Secret: testSecret, Issuers: []string{"https://ok.example", iss}})
			require.ErrorIs(t, err, ErrBadKey, "%q", iss)
			assert.Contains(t, err.Error(), "Issuers[1]", "%q", iss)
		}
	})
}

// swapKeys is a KeySet with one key that the test replaces.
type swapKeys struct {
	key atomic.Pointer[VerificationKey]
}

func (s *swapKeys) LookupKey(_ context.Context, kid string) (*VerificationKey, error) {
	if k := s.key.Load(); k.ID() == kid {
		return k, nil
	}
	return nil, ErrUnknownKID
}

// TestIssuerCacheCannotBypass: the issuer is checked before a verification
// is cached, so a refused token never becomes a hit, and a hit of a key that
// is replaced by one bound to an issuer is verified afresh.
func TestIssuerCacheCannotBypass(t *testing.T) {
	t.Run("a refused token is refused again, never from the cache", func(t *testing.T) {
		ch := newCTHarness(t, Config{Keys: issuerKeys(t), Now: fixedClock})
		tok := hsIssToken(t, "bound", `,"iss":"https://evil.example/"`)
		for i := range 3 {
			out := ch.serve(t, attackPath, tok)
			assert.Equal(t, http.StatusUnauthorized, out.status, "request %d", i)
			assert.Equal(t, "issuer_mismatch", out.reason, "request %d", i)
			assert.False(t, out.decision.Cached, "request %d", i)
		}
	})
	t.Run("the key gains an issuer after the token was cached", func(t *testing.T) {
		free, err := NewVerificationKey(Key{ID: "k", Algorithm: "HS256", Secret: testSecret})
		require.NoError(t, err)
		bound, err := NewVerificationKey(Key{ID: "k", Algorithm: "HS256", Secret: testSecret, Issuer: testIssuer})
		require.NoError(t, err)
		ks := &swapKeys{}
		ks.key.Store(free)
		ch := newCTHarness(t, Config{Keys: ks, Now: fixedClock})
		tok := hsIssToken(t, "k", `,"iss":"https://evil.example/"`)
		ch.warm(t, attackPath, tok)
		ks.key.Store(bound)
		out := ch.serve(t, attackPath, tok)
		assert.Equal(t, http.StatusUnauthorized, out.status)
		assert.Equal(t, "issuer_mismatch", out.reason)
		assert.False(t, out.decision.Cached)
	})
}

const otherIssuer = "https://login.custom.example/"

// hostileIssCases are the spellings that a key bound to iss must refuse:
// near misses of iss (slash, case, scheme case, space, prefix) and no iss.
// The exact iss, also written with JSON escapes, is accepted.
func hostileIssCases(name, iss, escaped string) []struct{ name, extra, reason string } {
	return []struct{ name, extra, reason string }{
		{name + ", exact", `,"iss":"` + iss + `"`, ""},
		{name + ", written with JSON escapes", `,"iss":"` + escaped + `"`, ""},
		{name + ", without the trailing slash", `,"iss":"` + strings.TrimSuffix(iss, "/") + `"`, "issuer_mismatch"},
		{name + ", another case", `,"iss":"` + strings.ToUpper(iss[:9]) + iss[9:] + `"`, "issuer_mismatch"},
		{name + ", a trailing space", `,"iss":"` + iss + ` "`, "issuer_mismatch"},
		{name + ", a prefix of it", `,"iss":"` + iss + `x"`, "issuer_mismatch"},
	}
}

// TestIssuersBinding: a key with Issuers (and Issuer) accepts a token whose
// iss is exactly one of them, each with the spellings TestIssuerBinding
// refuses for one issuer refused, and no iss, an empty one or a third issuer
// refused; a token cannot name two issuers.
func TestIssuersBinding(t *testing.T) {
	ks, err := StaticKeys(
		Key{ID: "list", Algorithm: "HS256", Secret: testSecret, Issuers: []string{testIssuer, otherIssuer}},
		Key{ID: "both", Algorithm: "HS256", Secret: testSecret, Issuer: testIssuer, Issuers: []string{otherIssuer}},
		Key{ID: "one", Algorithm: "HS256", Secret: testSecret, Issuer: testIssuer},
	)
	require.NoError(t, err)
	m, err := New(Config{AllowMeWithoutBusiness: true, Keys: ks, Now: fixedClock})
	require.NoError(t, err)
	cases := append(hostileIssCases("first issuer", testIssuer, `https:\/\/issuer.example\u002f`),
		hostileIssCases("second issuer", otherIssuer, `https:\/\/login.custom.example\u002F`)...)
	cases = append(cases, []struct{ name, extra, reason string }{
		{"no iss", "", "issuer_mismatch"},
		{"empty iss", `,"iss":""`, "issuer_mismatch"},
		{"a third issuer", `,"iss":"https://evil.example/"`, "issuer_mismatch"},
		{"both issuers in one string", `,"iss":"` + testIssuer + " " + otherIssuer + `"`, "issuer_mismatch"},
		{"both issuers as an array", `,"iss":["` + testIssuer + `","` + otherIssuer + `"]`, "invalid_claims"},
	}...)
	for _, kid := range []string{"list", "both"} {
		for _, tc := range cases {
			t.Run(kid+"/"+tc.name, func(t *testing.T) {
				res := serve(t, m, bearer(attackPath, hsIssToken(t, kid, tc.extra)))
				if tc.reason == "" {
					require.Equal(t, http.StatusOK, res.code, res.body)
					return
				}
				assertRefused(t, res, http.StatusUnauthorized, tc.reason)
			})
		}
	}
	t.Run("a key with Issuer only still refuses the other issuer", func(t *testing.T) {
		res := serve(t, m, bearer(attackPath, hsIssToken(t, "one", `,"iss":"`+otherIssuer+`"`)))
		assertRefused(t, res, http.StatusUnauthorized, "issuer_mismatch")
	})
}

// TestIssuersAccessors: Issuers lists Issuer first, then Issuers, each once,
// as a copy; AcceptsIssuer("") is false exactly for a bound key (golangjwt's
// Keyfunc relies on it); changing the caller's slice afterwards changes
// nothing.
func TestIssuersAccessors(t *testing.T) {
	more := []string{otherIssuer, testIssuer, otherIssuer}
	vk, err := NewVerificationKey(Key{ID: "k", Algorithm: "HS256", Secret: testSecret, Issuer: testIssuer, Issuers: more})
	require.NoError(t, err)
	assert.Equal(t, []string{testIssuer, otherIssuer}, vk.Issuers())
	more[0] = "https://evil.example/"
	vk.Issuers()[1] = "https://evil.example/"
	assert.True(t, vk.AcceptsIssuer(otherIssuer))
	assert.False(t, vk.AcceptsIssuer("https://evil.example/"))
	assert.False(t, vk.AcceptsIssuer(""))

	listOnly, err := NewVerificationKey(Key{ID: "k", Algorithm: "HS256", Secret: testSecret, Issuers: []string{otherIssuer}})
	require.NoError(t, err)
	assert.Equal(t, []string{otherIssuer}, listOnly.Issuers())
	assert.False(t, listOnly.AcceptsIssuer(""))
	assert.False(t, listOnly.AcceptsIssuer(testIssuer))

	free, err := NewVerificationKey(Key{ID: "k", Algorithm: "HS256", Secret: testSecret, Issuers: []string{}})
	require.NoError(t, err)
	assert.Nil(t, free.Issuers())
	assert.True(t, free.AcceptsIssuer(""))
	assert.True(t, free.AcceptsIssuer("anything"))
}
