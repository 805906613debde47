package jwks

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// TestIssuerNameValidation: Config.Issuer refuses strings no token could
// match by mistake, as scopedtoken.Key.Issuer does (the root package's test
// of this name).
func TestIssuerNameValidation(t *testing.T) {
	for _, iss := range []string{"a\x00b", "a\x7fb", "https://x/\n", "a\u0085b", "\xff", " https://x", "https://x ", "https://x\t"} {
		_, err := New(t.Context(), Config{URL: "http://127.0.0.1:1/jwks", Issuer: iss})
		assert.Error(t, err, "%q", iss)
	}
}

// TestRemoteIssuerBinding: Config.Issuer binds every key of a set
// whose URL is given (no discovery).
func TestRemoteIssuerBinding(t *testing.T) {
	a := testkit.NewSigner(t, "a")
	srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, a.JWK(t)))
	rs := newFaultRemote(t, srv.URL, func(c *Config) { c.Issuer = "https://idp.example" })
	vk, ok := rs.KnownKey("a")
	require.True(t, ok)
	assert.Equal(t, "https://idp.example", vk.Issuer())
	m := remoteMiddleware(t, rs)
	for extra, want := range map[string]int{
		`,"iss":"https://idp.example"`:  http.StatusOK,
		`,"iss":"https://idp.example/"`: http.StatusUnauthorized,
		``:                              http.StatusUnauthorized,
	} {
		code, reason := quickStatus(m, a.Token(t, extra))
		assert.Equal(t, want, code, extra)
		if want != http.StatusOK {
			assert.Equal(t, "issuer_mismatch", reason, extra)
		}
	}
}

// TestIssuerCombinedSets: two issuers are served by combining their sets;
// each key accepts only its own issuer's tokens. When both publish the same
// kid, the first set that holds it wins and the second issuer's token with
// that kid is refused.
func TestIssuerCombinedSets(t *testing.T) {
	a, b, bSame := testkit.NewSigner(t, "a"), testkit.NewSigner(t, "b"), testkit.NewSigner(t, "a")
	srvA := testkit.NewJWKSServer(t, testkit.JWKSet(t, a.JWK(t)))
	srvB := testkit.NewJWKSServer(t, testkit.JWKSet(t, b.JWK(t), bSame.JWK(t)))
	setA := newFaultRemote(t, srvA.URL, func(c *Config) { c.Issuer = "https://a.example" })
	setB := newFaultRemote(t, srvB.URL, func(c *Config) { c.Issuer = "https://b.example" })
	require.NoError(t, setB.Refresh(t.Context()))
	m := remoteMiddleware(t, scopedtoken.CombineKeys(setA, setB))
	tests := []struct {
		name   string
		token  string
		code   int
		reason string
	}{
		{name: "issuer A's key and iss", token: a.Token(t, `,"iss":"https://a.example"`), code: http.StatusOK},
		{name: "issuer B's key and iss", token: b.Token(t, `,"iss":"https://b.example"`), code: http.StatusOK},
		{name: "issuer A's key with B's iss", token: a.Token(t, `,"iss":"https://b.example"`), code: http.StatusUnauthorized, reason: "issuer_mismatch"},
		{name: "issuer B's key with A's iss", token: b.Token(t, `,"iss":"https://a.example"`), code: http.StatusUnauthorized, reason: "issuer_mismatch"},
		{name: "B's key under a kid that A also publishes", token: bSame.Token(t, `,"iss":"https://b.example"`), code: http.StatusUnauthorized, reason: "bad_signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, reason := quickStatus(m, tc.token)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, tc.reason, reason)
		})
	}
}
