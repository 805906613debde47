package jwks

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// oidcProvider is an OpenID provider on testkit's JWKS server: a JWK Set at
// /jwks and, on every other path, its configuration (by default naming its
// own URL as issuer and /jwks as jwks_uri), both changeable.
type oidcProvider struct {
	*testkit.JWKSServer
}

func newOIDCProvider(t testing.TB, tls bool, jwks []byte) *oidcProvider {
	t.Helper()
	p := &oidcProvider{testkit.NewJWKSServer(t, nil)}
	if tls {
		p.JWKSServer = testkit.NewTLSJWKSServer(t, nil)
	}
	p.Reply("/jwks", testkit.Reply{Body: jwks})
	p.serveDoc(nil, http.StatusOK)
	return p
}

// serveDoc changes the configuration document (nil: the default one) and
// its status.
func (p *oidcProvider) serveDoc(doc map[string]any, status int) {
	if doc == nil {
		doc = map[string]any{"issuer": p.URL, "jwks_uri": p.URL + "/jwks"}
	}
	body, _ := json.Marshal(doc)
	p.Serve(body, status, 0)
}

// docPaths are the paths at which the configuration was asked for.
func (p *oidcProvider) docPaths() []string {
	var paths []string
	for _, path := range p.Paths() {
		if path != "/jwks" {
			paths = append(paths, path)
		}
	}
	return paths
}

// docHits and jwksHits count the requests for the configuration and for
// the JWK Set.
func (p *oidcProvider) docHits() int  { return len(p.docPaths()) }
func (p *oidcProvider) jwksHits() int { return p.HitsOf("/jwks") }

// discoveryRemote builds a Set that discovers its keys from issuer
// through p's client, logging into logs.
func discoveryRemote(t testing.TB, p *oidcProvider, issuer string, logs *logRecorder) *Set {
	t.Helper()
	return newFaultRemote(t, "", func(c *Config) {
		c.Issuer, c.Client = issuer, p.Client()
		if logs != nil {
			c.Logger = logs.logger()
		}
	})
}

// TestDiscovery: the JWK Set is found through the issuer's configuration
// document, and every key of it is bound to the issuer.
func TestDiscovery(t *testing.T) {
	a := testkit.NewSigner(t, "a")
	t.Run("a good document", func(t *testing.T) {
		p := newOIDCProvider(t, true, testkit.JWKSet(t, a.JWK(t)))
		rs := discoveryRemote(t, p, p.URL, nil)
		m := remoteMiddleware(t, rs)
		code, _ := quickStatus(m, a.Token(t, `,"iss":"`+p.URL+`"`))
		assert.Equal(t, http.StatusOK, code)
		for _, extra := range []string{``, `,"iss":"` + p.URL + `/"`, `,"iss":"https://evil.example"`} {
			code, reason := quickStatus(m, a.Token(t, extra))
			assert.Equal(t, http.StatusUnauthorized, code, extra)
			assert.Equal(t, "issuer_mismatch", reason, extra)
		}
		assert.Equal(t, []string{discoveryPath}, p.docPaths())
	})
	t.Run("an issuer with a trailing slash loses only that slash", func(t *testing.T) {
		p := newOIDCProvider(t, true, testkit.JWKSet(t, a.JWK(t)))
		p.serveDoc(map[string]any{"issuer": p.URL + "/tenant/", "jwks_uri": p.URL + "/jwks"}, http.StatusOK)
		rs := discoveryRemote(t, p, p.URL+"/tenant/", nil)
		code, _ := quickStatus(remoteMiddleware(t, rs), a.Token(t, `,"iss":"`+p.URL+`/tenant/"`))
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, []string{"/tenant" + discoveryPath}, p.docPaths())
	})
	t.Run("jwks_uri on another host", func(t *testing.T) {
		keys := newOIDCProvider(t, true, testkit.JWKSet(t, a.JWK(t)))
		p := newOIDCProvider(t, true, nil)
		p.serveDoc(map[string]any{"issuer": p.URL, "jwks_uri": keys.URL + "/jwks"}, http.StatusOK)
		rs := discoveryRemote(t, p, p.URL, nil)
		code, _ := quickStatus(remoteMiddleware(t, rs), a.Token(t, `,"iss":"`+p.URL+`"`))
		assert.Equal(t, http.StatusOK, code)
		assert.EqualValues(t, 1, keys.jwksHits())
	})
	t.Run("http issuer, http jwks_uri", func(t *testing.T) {
		p := newOIDCProvider(t, false, testkit.JWKSet(t, a.JWK(t)))
		rs := discoveryRemote(t, p, p.URL, nil)
		code, _ := quickStatus(remoteMiddleware(t, rs), a.Token(t, `,"iss":"`+p.URL+`"`))
		assert.Equal(t, http.StatusOK, code)
	})
}

// TestDiscoveryRefused: a document that names another issuer, has no usable
// jwks_uri or cannot be fetched leaves the set unavailable (503, logged), and
// no key it points to is ever fetched.
func TestDiscoveryRefused(t *testing.T) {
	a := testkit.NewSigner(t, "a")
	plain := newOIDCProvider(t, false, testkit.JWKSet(t, a.JWK(t))) // an http JWKS endpoint
	tests := []struct {
		name   string
		issuer func(p *oidcProvider) string
		doc    func(p *oidcProvider) map[string]any
		raw    string
		status int
		log    string
	}{
		{name: "document issuer with a trailing slash", doc: func(p *oidcProvider) map[string]any {
			return map[string]any{"issuer": p.URL + "/", "jwks_uri": p.URL + "/jwks"}
		}, log: "another issuer"},
		{name: "configured issuer with a trailing slash", issuer: func(p *oidcProvider) string { return p.URL + "/" }, log: "another issuer"},
		{name: "document issuer in upper case", doc: func(p *oidcProvider) map[string]any {
			return map[string]any{"issuer": strings.ToUpper(p.URL), "jwks_uri": p.URL + "/jwks"}
		}, log: "another issuer"},
		{name: "another issuer", doc: func(p *oidcProvider) map[string]any {
			return map[string]any{"issuer": "https://evil.example", "jwks_uri": p.URL + "/jwks"}
		}, log: "another issuer"},
		{name: "no issuer", doc: func(p *oidcProvider) map[string]any { return map[string]any{"jwks_uri": p.URL + "/jwks"} }, log: "not a JSON object"},
		{name: "issuer not a string", doc: func(p *oidcProvider) map[string]any {
			return map[string]any{"issuer": []string{p.URL}, "jwks_uri": p.URL + "/jwks"}
		}, log: "not a JSON object"},
		{name: "no jwks_uri", doc: func(p *oidcProvider) map[string]any { return map[string]any{"issuer": p.URL} }, log: "not a JSON object"},
		{name: "jwks_uri null", doc: func(p *oidcProvider) map[string]any { return map[string]any{"issuer": p.URL, "jwks_uri": nil} }, log: "jwks_uri"},
		{name: "relative jwks_uri", doc: func(p *oidcProvider) map[string]any { return map[string]any{"issuer": p.URL, "jwks_uri": "/jwks"} }, log: "jwks_uri"},
		{name: "http jwks_uri under an https issuer", doc: func(p *oidcProvider) map[string]any {
			return map[string]any{"issuer": p.URL, "jwks_uri": plain.URL + "/jwks"}
		}, log: "jwks_uri"},
		{name: "not JSON", raw: "<html>", log: "not a JSON object"},
		{name: "not an object", raw: "[]", log: "not a JSON object"},
		{name: "404", status: http.StatusNotFound, log: "not 2xx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newOIDCProvider(t, true, testkit.JWKSet(t, a.JWK(t)))
			if tc.doc != nil {
				p.serveDoc(tc.doc(p), http.StatusOK)
			}
			if tc.raw != "" {
				p.Serve([]byte(tc.raw), http.StatusOK, 0)
			}
			if tc.status != 0 {
				p.serveDoc(nil, tc.status)
			}
			issuer := p.URL
			if tc.issuer != nil {
				issuer = tc.issuer(p)
			}
			before := plain.jwksHits()
			var logs logRecorder
			rs := discoveryRemote(t, p, issuer, &logs)
			m := remoteMiddleware(t, rs)
			for _, iss := range []string{issuer, p.URL, p.URL + "/", "https://evil.example"} {
				code, reason := quickStatus(m, a.Token(t, `,"iss":"`+iss+`"`))
				assert.Equal(t, http.StatusServiceUnavailable, code, iss)
				assert.Equal(t, "keys_unavailable", reason, iss)
			}
			assert.Zero(t, p.jwksHits(), "no key of the document is fetched")
			assert.Equal(t, before, plain.jwksHits(), "no key of the document is fetched")
			failures := logs.records(t, logFirstFetchFailed)
			require.NotEmpty(t, failures, "the failure is logged")
			assert.Contains(t, failures[0]["error"], tc.log)
			assert.Equal(t, p.URL+discoveryPath, failures[0]["url"], "the log names the configuration URL")
		})
	}
}

// TestDiscoveryDownAtStart: an issuer unreachable at start gives 503 until
// its configuration can be fetched; then its keys work.
func TestDiscoveryDownAtStart(t *testing.T) {
	a := testkit.NewSigner(t, "a")
	p := newOIDCProvider(t, true, testkit.JWKSet(t, a.JWK(t)))
	p.serveDoc(nil, http.StatusInternalServerError)
	rs := discoveryRemote(t, p, p.URL, nil)
	m := remoteMiddleware(t, rs)
	tok := a.Token(t, `,"iss":"`+p.URL+`"`)
	res := send(m, tok)
	assertRefused(t, res, http.StatusServiceUnavailable, "keys_unavailable")

	p.serveDoc(nil, http.StatusOK)
	require.Eventually(t, func() bool {
		code, _ := quickStatus(m, tok)
		return code == http.StatusOK
	}, 5*time.Second, 10*time.Millisecond, "the set must recover once the issuer does")
	code, reason := quickStatus(m, a.Token(t, `,"iss":"https://evil.example"`))
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Equal(t, "issuer_mismatch", reason)
}

// TestDiscoveryKeepsJWKSURI: once a fetch succeeded, refreshes reuse the
// jwks_uri; after a failed fetch the next one discovers it again, so a
// provider that moves its keys is followed.
func TestDiscoveryKeepsJWKSURI(t *testing.T) {
	a := testkit.NewSigner(t, "a")
	p := newOIDCProvider(t, true, testkit.JWKSet(t, a.JWK(t)))
	moved := newOIDCProvider(t, true, testkit.JWKSet(t, a.JWK(t)))
	rs := discoveryRemote(t, p, p.URL, nil)
	for range 3 {
		require.NoError(t, rs.Refresh(t.Context()))
	}
	assert.EqualValues(t, 1, p.docHits(), "discovered once")
	assert.EqualValues(t, 4, p.jwksHits())

	p.serveDoc(map[string]any{"issuer": p.URL, "jwks_uri": moved.URL + "/jwks"}, http.StatusOK)
	p.Reply("/jwks", testkit.Reply{Body: []byte("gone")})
	assert.Error(t, rs.Refresh(t.Context()), "the old jwks_uri fails")
	require.NoError(t, rs.Refresh(t.Context()), "discovered again")
	assert.EqualValues(t, 2, p.docHits())
	assert.EqualValues(t, 1, moved.jwksHits())
	code, _ := quickStatus(remoteMiddleware(t, rs), a.Token(t, `,"iss":"`+p.URL+`"`))
	assert.Equal(t, http.StatusOK, code)
}

// TestDiscoveryFetchRules: the configuration is fetched like the JWK Set:
// body cap, redirects only within its own origin, credentials of the
// discovered jwks_uri redacted.
func TestDiscoveryFetchRules(t *testing.T) {
	a := testkit.NewSigner(t, "a")
	t.Run("body cap", func(t *testing.T) {
		p := newOIDCProvider(t, true, testkit.JWKSet(t, a.JWK(t)))
		p.serveDoc(map[string]any{"issuer": p.URL, "jwks_uri": p.URL + "/jwks", "pad": strings.Repeat("x", 8192)}, http.StatusOK)
		rs := newFaultRemote(t, "", func(c *Config) { c.Issuer, c.Client, c.MaxBodyBytes = p.URL, p.Client(), 4096 })
		assert.ErrorIs(t, rs.Refresh(t.Context()), errBodyTooLarge)
	})
	t.Run("redirect to another origin", func(t *testing.T) {
		evil := newOIDCProvider(t, true, testkit.JWKSet(t, a.JWK(t)))
		srv := testkit.NewTLSJWKSServer(t, nil)
		srv.Reply("", testkit.Redirect(evil.URL+discoveryPath))
		rs := newFaultRemote(t, "", func(c *Config) { c.Issuer, c.Client = srv.URL, srv.Client() })
		assert.ErrorIs(t, rs.Refresh(t.Context()), errRedirectOrigin)
		assert.Zero(t, evil.docHits())
	})
	t.Run("jwks_uri credentials redacted", func(t *testing.T) {
		p := newOIDCProvider(t, true, nil)
		p.serveDoc(map[string]any{"issuer": p.URL, "jwks_uri": withCredentials(t, p.URL, "/missing")}, http.StatusOK)
		p.Reply("/missing", testkit.Reply{Status: http.StatusNotFound})
		var logs logRecorder
		rs := discoveryRemote(t, p, p.URL, &logs)
		err := rs.Refresh(t.Context())
		require.Error(t, err)
		assertNoSecrets(t, "the error", err.Error())
		assertNoSecrets(t, "the log", logs.String())
		failures := logs.records(t, logFirstFetchFailed)
		require.NotEmpty(t, failures)
		assert.Contains(t, failures[0]["url"], "/missing?api_key=REDACTED")
	})
}

// TestDiscoveryConfigValidation: discovery needs an issuer URL without
// userinfo, query or fragment; a set needs a URL or an Issuer.
func TestDiscoveryConfigValidation(t *testing.T) {
	for _, iss := range []string{"accounts.example", "/relative", "ftp://x", "https://", "https://u:p@x", "https://x?tenant=1", "https://x?", "https://x#f", "https://x#"} {
		_, err := New(t.Context(), Config{Issuer: iss})
		assert.Error(t, err, iss)
	}
	_, err := New(t.Context(), Config{})
	assert.ErrorContains(t, err, "URL or an Issuer")
	rs, err := New(t.Context(), Config{URL: "http://127.0.0.1:1/jwks", Issuer: "accounts.example", Logger: testkit.DiscardLogger()})
	require.NoError(t, err, "with a URL, Issuer only binds and may be any string")
	rs.Close()
}
