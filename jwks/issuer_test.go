package jwks

import (
	"net/http"
	"strings"
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
		_, err = New(t.Context(), Config{URL: "http://127.0.0.1:1/jwks", Issuers: []string{"https://ok.example", iss}})
		assert.ErrorContains(t, err, "Config.Issuers[1]", "%q", iss)
	}
	_, err := New(t.Context(), Config{URL: "http://127.0.0.1:1/jwks", Issuers: []string{""}})
	assert.ErrorContains(t, err, "Config.Issuers[0]", "an empty entry")
	_, err = New(t.Context(), Config{Issuers: []string{"https://a.example"}})
	assert.Error(t, err, "Issuers alone discovers nothing: URL or Issuer is still required")
}

// TestRemoteIssuerBinding: Config.Issuer binds every key of a set
// whose URL is given (no discovery).
func TestRemoteIssuerBinding(t *testing.T) {
	a := testkit.NewSigner(t, "a")
	srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, a.JWK(t)))
	rs := newFaultRemote(t, srv.URL, func(c *Config) { c.Issuer = "https://idp.example" })
	vk, ok := rs.KnownKey("a")
	require.True(t, ok)
	assert.Equal(t, []string{"https://idp.example"}, vk.Issuers())
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

// TestIssuersSharedSet: one JWK Set that two issuer names share (Config.URL
// and Config.Issuers). Its keys accept a token naming either issuer exactly,
// whichever key signed it, and refuse the near misses of each, no iss and a
// third issuer. Changing the caller's slice after New changes nothing.
func TestIssuersSharedSet(t *testing.T) {
	const canonical, custom = "https://tenant.idp.example/", "https://login.shop.example"
	a, b := testkit.NewSigner(t, "a"), testkit.NewSigner(t, "b")
	srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, a.JWK(t), b.JWK(t)))
	issuers := []string{canonical, custom}
	rs := newFaultRemote(t, srv.URL, func(c *Config) { c.Issuers = issuers })
	issuers[1] = "https://evil.example"
	require.NoError(t, rs.Refresh(t.Context())) // keys rebuilt from the Config kept by New
	m := remoteMiddleware(t, rs)
	tests := []struct{ name, extra, reason string }{
		{"canonical", `,"iss":"` + canonical + `"`, ""},
		{"canonical with JSON escapes", `,"iss":"https:\/\/tenant.idp.example\u002f"`, ""},
		{"custom", `,"iss":"` + custom + `"`, ""},
		{"custom with JSON escapes", `,"iss":"https:\/\/login.shop.exampl\u0065"`, ""},
		{"canonical without the trailing slash", `,"iss":"` + strings.TrimSuffix(canonical, "/") + `"`, "issuer_mismatch"},
		{"custom with a trailing slash", `,"iss":"` + custom + `/"`, "issuer_mismatch"},
		{"canonical in another case", `,"iss":"https://Tenant.idp.example/"`, "issuer_mismatch"},
		{"custom with an upper-case scheme", `,"iss":"HTTPS://login.shop.example"`, "issuer_mismatch"},
		{"custom with a trailing space", `,"iss":"` + custom + ` "`, "issuer_mismatch"},
		{"a prefix of custom", `,"iss":"https://login.shop.exam"`, "issuer_mismatch"},
		{"the entry changed after New", `,"iss":"https://evil.example"`, "issuer_mismatch"},
		{"no iss", ``, "issuer_mismatch"},
		{"empty iss", `,"iss":""`, "issuer_mismatch"},
		{"both as an array", `,"iss":["` + canonical + `","` + custom + `"]`, "invalid_claims"},
	}
	for _, signer := range []testkit.Signer{a, b} {
		for _, tc := range tests {
			t.Run(signer.Kid+"/"+tc.name, func(t *testing.T) {
				res := send(m, signer.Token(t, tc.extra))
				if tc.reason == "" {
					assert.Equal(t, http.StatusOK, res.Code, res.Reason)
					return
				}
				assertRefused(t, res, http.StatusUnauthorized, tc.reason)
			})
		}
	}
}

// TestIssuersWithDiscovery: with Config.Issuer (discovery) and
// Config.Issuers, the keys accept the discovered issuer and the listed ones;
// discovery still requires the document to name Config.Issuer.
func TestIssuersWithDiscovery(t *testing.T) {
	const custom = "https://login.shop.example"
	a := testkit.NewSigner(t, "a")
	p := newOIDCProvider(t, false, testkit.JWKSet(t, a.JWK(t)))
	rs := newFaultRemote(t, "", func(c *Config) {
		c.Issuer, c.Issuers, c.Client = p.URL, []string{custom}, p.Client()
	})
	vk, ok := rs.KnownKey("a")
	require.True(t, ok)
	assert.Equal(t, []string{p.URL, custom}, vk.Issuers())
	m := remoteMiddleware(t, rs)
	for extra, want := range map[string]string{
		`,"iss":"` + p.URL + `"`:        "",
		`,"iss":"` + custom + `"`:       "",
		`,"iss":"` + p.URL + `/"`:       "issuer_mismatch",
		`,"iss":"https://evil.example"`: "issuer_mismatch",
		``:                              "issuer_mismatch",
	} {
		code, reason := quickStatus(m, a.Token(t, extra))
		assert.Equal(t, want, reason, extra)
		if want == "" {
			assert.Equal(t, http.StatusOK, code, extra)
		}
	}
}
