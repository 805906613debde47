package site_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/example/site"
	"github.com/scopedtoken/scopedtoken/mint"
)

var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const specs = `[{"name": "search", "keyId": "k1", "claims": {"aud": "/v2/accounts/me/search"}, "scope": "^/$"}]`

var pages = []site.Page{
	{Path: "/", Title: "Search", TokenSpec: "search", Call: "/v2/accounts/me/search?input=pizza"},
	{Path: "/answers", Title: "Answers", Call: "/v2/accounts/me/answers?input=pizza"},
}

// fixture is a site with an API that answers 204 to every request the
// middleware lets through, and a token for answers, as an emailed link
// carries it.
type fixture struct {
	handler http.Handler
	mw      *scopedtoken.Middleware
	link    string
}

func newFixture(t *testing.T, cfg site.Config) fixture {
	t.Helper()
	secret := make([]byte, 32)
	_, err := rand.Read(secret)
	require.NoError(t, err)
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
	require.NoError(t, err)
	now := func() time.Time { return fixedNow }
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys, Now: now, TokenCookie: site.DefaultLinkCookie})
	require.NoError(t, err)
	cfg.Specs, err = mint.LoadSpecs(strings.NewReader(specs), mint.SpecsConfig{
		Keys: site.SecretKey{ID: "k1", Secret: secret}, Now: now, Verify: mw,
	})
	require.NoError(t, err)
	if cfg.Pages == nil {
		cfg.Pages = pages
	}
	if cfg.API == nil && cfg.APIOrigin == "" {
		cfg.API = mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	}
	h, err := site.New(cfg)
	require.NoError(t, err)
	minter, err := mint.New(mint.Config{Key: mint.Key{ID: "k1", Algorithm: "HS256", Secret: secret}, Now: now})
	require.NoError(t, err)
	link, err := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/answers"}})
	require.NoError(t, err)
	return fixture{handler: h, mw: mw, link: link}
}

func (f fixture) get(target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, r)
	return rec
}

func TestPageHeaders(t *testing.T) {
	f := newFixture(t, site.Config{})
	rec := f.get("/")
	require.Equal(t, http.StatusOK, rec.Code)
	h := rec.Header()
	assert.Equal(t, "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		h.Get("Content-Security-Policy"))
	assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	assert.Equal(t, "no-store", h.Get("Cache-Control"))
	body := rec.Body.String()
	assert.Contains(t, body, `<script src="/site/app.js" defer></script>`)
	assert.NotContains(t, body, "<script>", "no inline script: the CSP forbids it")
	assert.Contains(t, body, `id="result"`)

	for _, asset := range []string{"/site/app.js", "/site/style.css"} {
		rec := f.get(asset)
		assert.Equal(t, http.StatusOK, rec.Code, asset)
		assert.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"), asset)
	}
	assert.Equal(t, http.StatusNotFound, f.get("/site/page.html").Code, "only the script and style are served")

	t.Run("another API origin is the only other one the page may connect to", func(t *testing.T) {
		f := newFixture(t, site.Config{APIOrigin: "http://127.0.0.1:9999"})
		rec := f.get("/")
		assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "connect-src 'self' http://127.0.0.1:9999;")
		assert.Contains(t, rec.Body.String(), `data-api-base="http://127.0.0.1:9999"`)
	})
}

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     site.Config
		noSpecs bool
	}{
		{name: "no specs", noSpecs: true},
		{name: "API origin with a path", cfg: site.Config{APIOrigin: "http://api.example/v2"}},
		{name: "API origin without a scheme", cfg: site.Config{APIOrigin: "api.example"}},
		{name: "page call outside the API", cfg: site.Config{Pages: []site.Page{{Path: "/", Call: "/other"}}}},
		{name: "page path without a slash", cfg: site.Config{Pages: []site.Page{{Path: "x", Call: "/v2/accounts/me/search"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.Pages == nil {
				cfg.Pages = pages
			}
			if !tt.noSpecs {
				cfg.Specs = loadSpecs(t)
			}
			_, err := site.New(cfg)
			assert.Error(t, err)
		})
	}
}

func loadSpecs(t *testing.T) *mint.Specs {
	t.Helper()
	s, err := mint.LoadSpecs(strings.NewReader(specs), mint.SpecsConfig{Keys: site.SecretKey{ID: "k1", Secret: make([]byte, 32)}})
	require.NoError(t, err)
	return s
}

func TestTokens(t *testing.T) {
	f := newFixture(t, site.Config{})
	tests := []struct {
		name       string
		target     string
		wantStatus int
		wantNames  []string
	}{
		{name: "the home page gets its search token", target: "/site/tokens?page=/", wantStatus: http.StatusOK, wantNames: []string{"search"}},
		{name: "a page no spec's scope matches gets none", target: "/site/tokens?page=/answers", wantStatus: http.StatusOK, wantNames: []string{}},
		{name: "a path that is no page of the site", target: "/site/tokens?page=/admin", wantStatus: http.StatusNotFound},
		{name: "no page", target: "/site/tokens", wantStatus: http.StatusNotFound},
		{name: "two pages", target: "/site/tokens?page=/&page=/answers", wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.get(tt.target)
			require.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			if tt.wantStatus != http.StatusOK {
				return
			}
			var toks map[string]string
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &toks))
			names := []string{}
			for name, tok := range toks {
				names = append(names, name)
				_, err := f.mw.Verify(t.Context(), tok, "/v2/accounts/me/search")
				assert.NoError(t, err, "the token works for the spec's aud")
			}
			assert.ElementsMatch(t, tt.wantNames, names)
		})
	}
}

// TestAPIPathsReachTheAPIUncleaned: the site's mux would redirect a path
// with dot segments to its clean form; API paths go to the middleware as
// sent, which refuses them.
func TestAPIPathsReachTheAPIUncleaned(t *testing.T) {
	f := newFixture(t, site.Config{})
	rec := f.get("/v2/accounts/me/answers/%2e%2e/search", "Authorization", "Bearer "+f.link)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Empty(t, rec.Header().Get("Location"))
}
