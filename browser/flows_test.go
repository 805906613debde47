package browser_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/rs/cors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/example/site"
	"github.com/scopedtoken/scopedtoken/mint"
)

// TestPageCallsAPIWithItsToken: the page gets its token from the site's
// token specs and sends it in the Authorization header, same origin.
func TestPageCallsAPIWithItsToken(t *testing.T) {
	k := newKit(t)
	h, err := site.New(site.Config{Specs: k.specs, Pages: testPages, API: k.api})
	require.NoError(t, err)
	srv, rec := serve(t, h)
	ctx := newBrowser(t)

	res := openPage(t, ctx, srv.URL+"/")
	assert.Equal(t, "200", res.status, res.text)
	assert.Contains(t, res.text, `"endpoint": "search"`)
	assert.Contains(t, res.text, `"business": "`+businessID+`"`)
	assert.Contains(t, res.text, `"browser"`, "the token's experienceKey reached the handler")

	require.Len(t, rec.find(http.MethodGet, "/site/tokens?page=%2F"), 1, "the page asked the site for its token")
	calls := rec.find(http.MethodGet, "/v2/accounts/me/search?input=pizza")
	require.Len(t, calls, 1)
	tok := bearer(calls[0].header)
	require.NotEmpty(t, tok, "the call carried the page token in Authorization")
	verified, err := k.mw.Verify(context.Background(), tok, "/v2/accounts/me/search")
	require.NoError(t, err)
	assert.Equal(t, []string{"browser"}, verified.Query().Values("experienceKey"), "a token of the page's spec")
	assert.Empty(t, calls[0].header.Get("Cookie"))

	t.Run("a call outside the token's aud shows the refusal", func(t *testing.T) {
		res := openPage(t, ctx, srv.URL+"/wrong")
		assert.Equal(t, "403", res.status, res.text)
		assert.Contains(t, res.text, "WWW-Authenticate: Bearer")
		assert.Contains(t, res.text, "insufficient_scope")
	})
}

// TestCrossOriginPage: the site and the API on two loopback origins, rs/cors
// in front of the middleware; the browser preflights the call that carries
// Authorization.
func TestCrossOriginPage(t *testing.T) {
	k := newKit(t)
	apiRec := &recorder{}
	apiSrv := httptest.NewUnstartedServer(apiRec)
	t.Cleanup(apiSrv.Close)
	apiOrigin := "http://" + apiSrv.Listener.Addr().String()

	siteHandler, err := site.New(site.Config{Specs: k.specs, Pages: testPages, APIOrigin: apiOrigin})
	require.NoError(t, err)
	siteSrv, _ := serve(t, siteHandler)
	otherSrv, _ := serve(t, siteHandler) // the same pages from an origin the API does not allow

	apiRec.next = cors.New(cors.Options{
		AllowedOrigins: []string{siteSrv.URL},
		AllowedMethods: []string{http.MethodGet},
		AllowedHeaders: []string{"Authorization"},
		ExposedHeaders: []string{"WWW-Authenticate"},
	}).Handler(k.api)
	apiSrv.Start()
	ctx := newBrowser(t)

	res := openPage(t, ctx, siteSrv.URL+"/")
	assert.Equal(t, "200", res.status, res.text)
	assert.Contains(t, res.text, `"endpoint": "search"`)

	reqs := apiRec.requests()
	require.Len(t, reqs, 2, "a preflight, then the call")
	pre, call := reqs[0], reqs[1]
	assert.Equal(t, http.MethodOptions, pre.method)
	assert.Equal(t, siteSrv.URL, pre.header.Get("Origin"))
	assert.Equal(t, http.MethodGet, pre.header.Get("Access-Control-Request-Method"))
	assert.Equal(t, "authorization", pre.header.Get("Access-Control-Request-Headers"))
	assert.Empty(t, pre.header.Get("Authorization"), "a preflight carries no credentials")
	assert.Equal(t, http.MethodGet, call.method)
	assert.Equal(t, "/v2/accounts/me/search?input=pizza", call.target)
	assert.Equal(t, siteSrv.URL, call.header.Get("Origin"))
	assert.NotEmpty(t, bearer(call.header))
	assert.Empty(t, call.header.Get("Cookie"), "the page sends no credentials but its token")

	t.Run("a refusal is readable across origins", func(t *testing.T) {
		res := openPage(t, ctx, siteSrv.URL+"/wrong")
		assert.Equal(t, "403", res.status, res.text)
		assert.Contains(t, res.text, "WWW-Authenticate: Bearer", "exposed by CORS")
	})
	t.Run("an origin the API does not allow gets no answer", func(t *testing.T) {
		before := len(apiRec.requests())
		res := openPage(t, ctx, otherSrv.URL+"/")
		assert.Equal(t, "0", res.status, res.text)
		assert.Contains(t, res.text, "CORS")
		after := apiRec.requests()[before:]
		require.NotEmpty(t, after)
		for _, s := range after {
			assert.Equal(t, http.MethodOptions, s.method, "only the preflight reached the API: %s %s", s.method, s.target)
			assert.Empty(t, s.header.Get("Authorization"))
		}
	})
}

// TestEmailedLink: a link with ?jwt= lands on the site, which moves the token
// into a cookie and redirects; the address bar and every later Referer are
// free of the token.
func TestEmailedLink(t *testing.T) {
	k := newKit(t)
	h, err := site.New(site.Config{Specs: k.specs, Pages: testPages, API: k.api})
	require.NoError(t, err)
	srv, rec := serve(t, h)
	elsewhere, elsewhereRec := serve(t, http.NotFoundHandler())
	link, err := k.minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/answers"}})
	require.NoError(t, err)
	ctx := newBrowser(t)

	res := openPage(t, ctx, srv.URL+"/answers?utm_source=mail&"+site.LinkParam+"="+link)
	assert.Equal(t, "200", res.status, res.text)
	assert.Contains(t, res.text, `"endpoint": "answers"`)
	assert.Equal(t, srv.URL+"/answers?utm_source=mail", res.href, "the token left the address bar, the rest of the query stayed")

	landing := rec.find(http.MethodGet, "/answers?")
	require.Len(t, landing, 2, "the link, then the redirect")
	assert.Contains(t, landing[0].target, link)
	assert.NotContains(t, landing[1].target, link)
	calls := rec.find(http.MethodGet, "/v2/accounts/me/answers")
	require.Len(t, calls, 1)
	assert.Empty(t, calls[0].header.Get("Authorization"))
	cookie, err := http.ParseCookie(calls[0].header.Get("Cookie"))
	require.NoError(t, err)
	require.Len(t, cookie, 1)
	assert.Equal(t, site.DefaultLinkCookie, cookie[0].Name)
	assert.Equal(t, link, cookie[0].Value, "the API got the link's token from the cookie")

	scriptSees, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.cookie"))
	require.NoError(t, err)
	jar, err := chromedp.Run(ctx, func(ctx context.Context, tgt *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, tgt, network.GetCookies, network.GetCookiesParams{URLs: []string{srv.URL + "/v2/accounts/me/answers"}})
	})
	require.NoError(t, err)
	cookies := jar.Cookies
	assert.Empty(t, scriptSees, "the page's script cannot read the token")
	require.Len(t, cookies, 1)
	c := cookies[0]
	assert.Equal(t, site.DefaultLinkCookie, c.Name)
	assert.Equal(t, "/v2/accounts/me/answers", c.Path, "only the API path the page calls gets it")
	assert.True(t, c.HTTPOnly)
	assert.Equal(t, network.CookieSameSiteStrict, c.SameSite)
	assert.False(t, c.Secure, "plain http on loopback")
	assert.True(t, c.Session)

	// What the page loads next: its script and style, the API call, a
	// navigation to another page of the site and one to another origin.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/"]`)),
		chromedp.WaitVisible(chromedp.CSS("#result[data-status]")),
		chromedp.Navigate(elsewhere.URL+"/next"),
	))
	require.Len(t, elsewhereRec.requests(), 1)
	after := append(rec.requests()[1:], elsewhereRec.requests()...)
	require.GreaterOrEqual(t, len(after), 8, "page, script, style and call twice, and the other origin")
	for _, s := range after {
		assert.Empty(t, s.header.Get("Referer"), "%s %s: Referrer-Policy no-referrer", s.method, s.target)
		apiCall := strings.HasPrefix(s.target, "/v2/accounts/me/answers")
		for name, vals := range s.header {
			if apiCall && name == "Cookie" {
				continue // where the token belongs
			}
			for _, v := range vals {
				assert.NotContains(t, v, link, "%s %s: header %s carries the link's token", s.method, s.target, name)
			}
		}
		if !apiCall {
			assert.NotContains(t, s.target, link)
			assert.Empty(t, s.header.Get("Cookie"), "%s: the cookie stays on the API path", s.target)
		}
	}
}

// TestEmailedLinkFromAnotherSite clicks the link on a page of another site,
// as in a webmail: the navigation is cross-site, yet the SameSite=Strict
// cookie it sets goes with the page's own call to the API.
func TestEmailedLinkFromAnotherSite(t *testing.T) {
	k := newKit(t)
	h, err := site.New(site.Config{Specs: k.specs, Pages: testPages, API: k.api})
	require.NoError(t, err)
	srv, rec := serve(t, h)
	link, err := k.minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/answers"}})
	require.NoError(t, err)
	mail, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><a id="open" href="%s/answers?%s=%s">Open your answers</a>
<img src="%s/v2/accounts/me/answers?input=img"> <a id="api" href="%[4]s/v2/accounts/me/answers?input=nav">API</a>`,
			srv.URL, site.LinkParam, link, srv.URL)
	}))
	// localhost and 127.0.0.1 are two sites to the browser.
	mailURL := strings.Replace(mail.URL, "127.0.0.1", "localhost", 1)
	ctx := newBrowser(t)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(mailURL),
		chromedp.Click(chromedp.CSS("#open")),
		chromedp.WaitVisible(chromedp.CSS("#result[data-status]")),
	))
	status, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#result"), "data-status"))
	require.NoError(t, err)
	assert.Equal(t, "200", status.Value)
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string]("location.href"))
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/answers", href)

	landing := rec.find(http.MethodGet, "/answers?"+site.LinkParam+"=")
	require.Len(t, landing, 1)
	assert.Equal(t, "cross-site", landing[0].header.Get("Sec-Fetch-Site"), "the click came from another site")
	calls := rec.find(http.MethodGet, "/v2/accounts/me/answers?input=pizza")
	require.Len(t, calls, 1)
	assert.Contains(t, calls[0].header.Get("Cookie"), site.DefaultLinkCookie+"="+link)
	assert.Equal(t, "same-origin", calls[0].header.Get("Sec-Fetch-Site"))

	// Back on the other site, with the cookie set: neither an image nor a
	// link (a top-level GET, which SameSite=Lax would let through) from
	// there carries it.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(mailURL),
		chromedp.Click(chromedp.CSS("#api")),
		chromedp.WaitVisible(chromedp.CSS("body")),
	))
	require.Eventually(t, func() bool { return len(rec.find(http.MethodGet, "/v2/accounts/me/answers?input=nav")) == 1 }, 5*time.Second, 20*time.Millisecond)
	crossSite := append(rec.find(http.MethodGet, "/v2/accounts/me/answers?input=img"), rec.find(http.MethodGet, "/v2/accounts/me/answers?input=nav")...)
	require.Len(t, crossSite, 3, "the image twice (first visit and back), the link once")
	for _, s := range crossSite {
		assert.Equal(t, "cross-site", s.header.Get("Sec-Fetch-Site"), s.target)
		assert.Empty(t, s.header.Get("Cookie"), "%s: a cross-site request carries no link cookie", s.target)
	}
}
