package browser_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/cors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/example/site"
)

// TestCrossOriginPageWithDPoP: the site and the API on two loopback
// origins, DPoP on both (docs/browser.md). The site's token endpoint checks
// proofs for the site's origin, the API for its own, and both record them
// in one store; CORS lets the page send the DPoP header. The page gets a
// bound token and calls the API with a fresh proof.
func TestCrossOriginPageWithDPoP(t *testing.T) {
	apiRec := &recorder{}
	apiSrv := httptest.NewUnstartedServer(apiRec)
	t.Cleanup(apiSrv.Close)
	siteSrv := httptest.NewUnstartedServer(nil)
	t.Cleanup(siteSrv.Close)
	apiOrigin, siteOrigin := "http://"+apiSrv.Listener.Addr().String(), "http://"+siteSrv.Listener.Addr().String()

	proofs := scopedtoken.NewMemoryRevocations(nil) // shared, as a fleet shares Redis
	k := newKit(t, func(c *scopedtoken.Config) {
		c.DPoPAllowed, c.DPoPOrigin, c.Revocations = true, apiOrigin, proofs
	})
	siteMW, err := scopedtoken.New(scopedtoken.Config{Keys: k.keys, DPoPAllowed: true, DPoPOrigin: siteOrigin, Revocations: proofs})
	require.NoError(t, err)
	siteHandler, err := site.New(site.Config{Specs: k.specs, Pages: testPages, APIOrigin: apiOrigin, DPoP: siteMW})
	require.NoError(t, err)
	siteRec := &recorder{next: siteHandler}
	siteSrv.Config.Handler = siteRec
	apiRec.next = cors.New(cors.Options{
		AllowedOrigins: []string{siteOrigin},
		AllowedMethods: []string{http.MethodGet},
		AllowedHeaders: []string{"Authorization", "DPoP"},
		ExposedHeaders: []string{"WWW-Authenticate"},
	}).Handler(k.api)
	apiSrv.Start()
	siteSrv.Start()
	ctx := newBrowser(t)

	res := openPage(t, ctx, siteOrigin+"/")
	assert.Equal(t, "200", res.status, res.text)
	assert.Contains(t, res.text, `"endpoint": "search"`)
	assert.Contains(t, res.text, "(extractable: false)")

	posts := siteRec.find(http.MethodPost, "/site/tokens?page=%2F")
	require.Len(t, posts, 1, "the page asked the site for a bound token")
	assert.NotEmpty(t, posts[0].header.Get("DPoP"))
	assert.Empty(t, siteRec.find(http.MethodGet, "/site/tokens"), "and never for an unbound one")
	reqs := apiRec.requests()
	require.Len(t, reqs, 2, "a preflight, then the call")
	assert.Equal(t, "authorization,dpop", reqs[0].header.Get("Access-Control-Request-Headers"))
	call := reqs[1]
	assert.True(t, strings.HasPrefix(call.header.Get("Authorization"), "DPoP "), call.header.Get("Authorization"))
	assert.NotEqual(t, posts[0].header.Get("DPoP"), call.header.Get("DPoP"), "a proof per request")
}
