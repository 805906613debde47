package site_test

import (
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
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// TestBoundTokens: with Config.DPoP the site's pages say so (data-dpop) and
// POST /site/tokens binds the page's tokens to the proof's key; without it
// there is no POST, and the pages send bearer tokens.
func TestBoundTokens(t *testing.T) {
	t.Run("without Config.DPoP", func(t *testing.T) {
		f := newFixture(t, site.Config{})
		assert.NotContains(t, f.get("/").Body.String(), "data-dpop")
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/site/tokens?page=/", nil))
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	})

	now := func() time.Time { return fixedNow }
	secret := []byte("a-32-byte-secret-for-site-tests!")
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
	require.NoError(t, err)
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys, Now: now, DPoPAllowed: true, Revocations: scopedtoken.NewMemoryRevocations(now)})
	require.NoError(t, err)
	specs, err := mint.LoadSpecs(strings.NewReader(specs), mint.SpecsConfig{
		Keys: site.SecretKey{ID: "k1", Secret: secret}, Now: now, Verify: mw,
	})
	require.NoError(t, err)
	h, err := site.New(site.Config{Specs: specs, Pages: pages, DPoP: mw})
	require.NoError(t, err)
	post := func(target, proof string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "http://site.example"+target, nil)
		if proof != "" {
			r.Header.Set("DPoP", proof)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	page := httptest.NewRecorder()
	h.ServeHTTP(page, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Contains(t, page.Body.String(), `data-dpop="on"`)

	key := scopedtokentest.NewDPoPKey(t, "ES256", now)
	const htu = "http://site.example/site/tokens"
	rec := post("/site/tokens?page=/", key.Proof(http.MethodPost, htu, ""))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	var toks map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &toks))
	tok, err := mw.VerifyUnused(t.Context(), toks["search"], "/v2/accounts/me/search")
	require.NoError(t, err)
	assert.Equal(t, key.Thumbprint(), tok.KeyThumbprint())

	for name, tc := range map[string]struct {
		target, proof string
		want          int
	}{
		"no proof":              {"/site/tokens?page=/", "", http.StatusUnauthorized},
		"a proof for GET":       {"/site/tokens?page=/", key.Proof(http.MethodGet, htu, ""), http.StatusUnauthorized},
		"a proof for elsewhere": {"/site/tokens?page=/", key.Proof(http.MethodPost, "http://other.example/site/tokens", ""), http.StatusUnauthorized},
		"no page of the site":   {"/site/tokens?page=/admin", key.Proof(http.MethodPost, htu, ""), http.StatusNotFound},
	} {
		t.Run(name, func(t *testing.T) {
			rec := post(tc.target, tc.proof)
			assert.Equal(t, tc.want, rec.Code, rec.Body.String())
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			if tc.want == http.StatusUnauthorized {
				assert.True(t, strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "DPoP "), rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}
