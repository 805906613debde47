package scopedtokentest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

const dpopOrigin = "https://api.example.com"

// dpopServe sends a GET of searchPath with token under the DPoP scheme and
// proof through a middleware with DPoP allowed.
func dpopServe(t *testing.T, mw *scopedtoken.Middleware, token, proof string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, searchPath, nil)
	req.Header.Set("Authorization", "DPoP "+token)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	rec := httptest.NewRecorder()
	mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})).ServeHTTP(rec, req)
	return rec.Code, rec.Header().Get("WWW-Authenticate")
}

func TestDPoPKeyProofs(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	mw := newMiddleware(t, iss, func(c *scopedtoken.Config) {
		c.DPoPAllowed, c.DPoPOrigin = true, dpopOrigin
		c.DPoPAlgorithms = []string{"ES256", "EdDSA", "RS256"}
		c.Revocations = scopedtoken.NewMemoryRevocations(iss.Now)
	})
	for _, name := range []string{"", "EdDSA", "RS256"} {
		key := scopedtokentest.NewDPoPKey(t, name, iss.Now)
		token := iss.Mint(key.Bind())
		_, claims, _ := segments(t, token)
		assert.Equal(t, map[string]any{"jkt": key.Thumbprint()}, claims["cnf"])
		code, _ := dpopServe(t, mw, token, key.Proof(http.MethodGet, dpopOrigin+searchPath, token))
		assert.Equal(t, http.StatusOK, code, key.Algorithm())
	}

	key := scopedtokentest.NewDPoPKey(t, "", iss.Now)
	other := scopedtokentest.NewDPoPKey(t, "", iss.Now)
	token := iss.Mint(key.Bind())
	url := dpopOrigin + searchPath
	replayed := key.Proof(http.MethodGet, url, token)
	code, _ := dpopServe(t, mw, token, replayed)
	require.Equal(t, http.StatusOK, code)
	for _, tc := range []struct {
		name  string
		proof string
	}{
		{"replayed", replayed},
		{"wrong htm", key.Proof(http.MethodPost, url, token)},
		{"wrong htu", key.Proof(http.MethodGet, dpopOrigin+"/elsewhere", token)},
		{"wrong ath", key.Proof(http.MethodGet, url, iss.Mint())},
		{"no ath", key.Proof(http.MethodGet, url, "")},
		{"wrong key", other.Proof(http.MethodGet, url, token)},
		{"forged signature", key.Proof(http.MethodGet, url, token, scopedtokentest.ProofSignedBy(other))},
		{"too old", key.Proof(http.MethodGet, url, token, scopedtokentest.ProofIssuedAt(testNow.Add(-time.Hour)))},
		{"private jwk", key.Proof(http.MethodGet, url, token, scopedtokentest.ProofPrivateJWK())},
		{"typ JWT", key.Proof(http.MethodGet, url, token, scopedtokentest.ProofHeader("typ", "JWT"))},
		{"alg ES384", key.Proof(http.MethodGet, url, token, scopedtokentest.ProofHeader("alg", "ES384"))},
		{"unsigned", key.Proof(http.MethodGet, url, token, scopedtokentest.ProofUnsigned())},
		{"no jti", key.Proof(http.MethodGet, url, token, scopedtokentest.ProofClaim("jti", scopedtokentest.Omit))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, challenge := dpopServe(t, mw, token, tc.proof)
			assert.Equal(t, http.StatusUnauthorized, code)
			assert.Contains(t, challenge, `DPoP realm="api", algs="ES256 EdDSA RS256", error="invalid_dpop_proof"`)
		})
	}
	// A token bound to another key, and one with a malformed binding.
	code, _ = dpopServe(t, mw, iss.Mint(scopedtokentest.BoundTo(other.Thumbprint())), key.Proof(http.MethodGet, url, token))
	assert.Equal(t, http.StatusUnauthorized, code)
	_, err := mw.Verify(t.Context(), iss.Mint(scopedtokentest.BoundTo("short")), searchPath)
	assert.ErrorIs(t, err, scopedtoken.ErrInvalidClaims)
}
