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

// TestReviewTokenEndpointDPoP attacks POST /site/tokens (docs/dpop.md, "The
// token endpoint"): a spec that requires binding never comes out of the GET;
// a token-endpoint proof is used once, whatever page it asks for, and is
// worth nothing at the API; a bound token it returns is refused as Bearer
// and with another key's proof.
func TestReviewTokenEndpointDPoP(t *testing.T) {
	now := func() time.Time { return fixedNow }
	secret := []byte("a-32-byte-secret-for-site-tests!")
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
	require.NoError(t, err)
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys, Now: now, DPoPAllowed: true, Revocations: scopedtoken.NewMemoryRevocations(now)})
	require.NoError(t, err)
	const boundSpecs = `[{"name": "search", "keyId": "k1", "claims": {"aud": "/v2/accounts/me/search"}, "dpop": true},
		{"name": "answers", "keyId": "k1", "claims": {"aud": "/v2/accounts/me/answers"}, "scope": "^/answers$"}]`
	sp, err := mint.LoadSpecs(strings.NewReader(boundSpecs), mint.SpecsConfig{Keys: site.SecretKey{ID: "k1", Secret: secret}, Now: now, Verify: mw})
	require.NoError(t, err)
	api := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	h, err := site.New(site.Config{Specs: sp, Pages: pages, DPoP: mw, API: api})
	require.NoError(t, err)
	send := func(method, target string, header ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "http://site.example"+target, nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	toks := func(rec *httptest.ResponseRecorder) map[string]string {
		var m map[string]string
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
		return m
	}
	key := scopedtokentest.NewDPoPKey(t, "ES256", now)
	other := scopedtokentest.NewDPoPKey(t, "ES256", now)
	const endpoint = "http://site.example/site/tokens"

	for _, page := range []string{"/", "/answers"} {
		assert.NotContains(t, toks(send(http.MethodGet, "/site/tokens?page="+page)), "search", "GET handed out a spec that requires DPoP")
	}

	proof := key.Proof(http.MethodPost, endpoint, "")
	rec := send(http.MethodPost, "/site/tokens?page=/", "DPoP", proof)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	bound := toks(rec)["search"]
	require.NotEmpty(t, bound)

	t.Run("endpoint proof replayed for another page", func(t *testing.T) {
		assert.Equal(t, http.StatusUnauthorized, send(http.MethodPost, "/site/tokens?page=/answers", "DPoP", proof).Code)
	})
	t.Run("page named twice", func(t *testing.T) {
		assert.Equal(t, http.StatusNotFound, send(http.MethodPost, "/site/tokens?page=/&page=/answers", "DPoP", key.Proof(http.MethodPost, endpoint, "")).Code)
	})
	t.Run("proof with ath of another token", func(t *testing.T) {
		// ath means nothing here; the key still binds.
		rec := send(http.MethodPost, "/site/tokens?page=/", "DPoP", key.Proof(http.MethodPost, endpoint, "some-token"))
		assert.Equal(t, http.StatusOK, rec.Code)
	})
	const call = "/v2/accounts/me/search"
	for name, header := range map[string][]string{
		"bound token as Bearer":           {"Authorization", "Bearer " + bound},
		"bound token without proof":       {"Authorization", "DPoP " + bound},
		"the endpoint's proof at the API": {"Authorization", "DPoP " + bound, "DPoP", key.Proof(http.MethodPost, endpoint, "")},
		"another key's proof":             {"Authorization", "DPoP " + bound, "DPoP", other.Proof(http.MethodGet, "http://site.example"+call, bound)},
		"proof for POST":                  {"Authorization", "DPoP " + bound, "DPoP", key.Proof(http.MethodPost, "http://site.example"+call, bound)},
	} {
		t.Run(name, func(t *testing.T) {
			rec := send(http.MethodGet, call, header...)
			assert.Equal(t, http.StatusUnauthorized, rec.Code, rec.Body.String())
			assert.True(t, strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "DPoP "), rec.Header().Values("WWW-Authenticate"))
		})
	}
	t.Run("the right proof passes once", func(t *testing.T) {
		p := key.Proof(http.MethodGet, "http://site.example"+call, bound)
		assert.Equal(t, http.StatusNoContent, send(http.MethodGet, call, "Authorization", "DPoP "+bound, "DPoP", p).Code)
		assert.Equal(t, http.StatusUnauthorized, send(http.MethodGet, call, "Authorization", "DPoP "+bound, "DPoP", p).Code)
	})
}
