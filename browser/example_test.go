package browser_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/example/site"
	"github.com/scopedtoken/scopedtoken/mint"
)

// The emailed-link flow that TestEmailedLink drives in Chromium, as the
// browser sees it on the wire: the link lands on the site, which answers 303
// to the page without the token and moves the token into a cookie that only
// the page's API path gets (Path), that script cannot read (HttpOnly) and
// that no other site's request carries (SameSite=Strict); the page's call to
// the API then sends the cookie, and the middleware reads the token from it.
func Example() {
	secret := []byte("a-32-byte-secret-for-the-example")
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
	if err != nil {
		log.Fatal(err)
	}
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys, TokenCookie: site.DefaultLinkCookie})
	if err != nil {
		log.Fatal(err)
	}
	specs, err := mint.LoadSpecs(strings.NewReader(`[]`), mint.SpecsConfig{Keys: site.SecretKey{ID: "k1", Secret: secret}})
	if err != nil {
		log.Fatal(err)
	}
	h, err := site.New(site.Config{
		Specs: specs,
		API: mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, _ := scopedtoken.FromContext(r.Context())
			fmt.Fprintf(w, "answers for business %s", tok.BusinessID())
		})),
		Pages: []site.Page{{Path: "/answers", Title: "Answers", Call: "/v2/accounts/me/answers"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	minter, err := mint.New(mint.Config{Key: mint.Key{ID: "k1", Secret: secret}})
	if err != nil {
		log.Fatal(err)
	}
	link, err := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/answers"}})
	if err != nil {
		log.Fatal(err)
	}

	landing := httptest.NewRecorder()
	h.ServeHTTP(landing, httptest.NewRequest(http.MethodGet, "/answers?jwt="+link, nil))
	cookie := landing.Result().Cookies()[0]
	fmt.Println(landing.Code, landing.Header().Get("Location"), landing.Header().Get("Referrer-Policy"))
	fmt.Println(cookie.Name, cookie.Path, cookie.HttpOnly, cookie.SameSite == http.SameSiteStrictMode, cookie.Value == link)

	call := httptest.NewRequest(http.MethodGet, "/v2/accounts/me/answers", nil)
	call.AddCookie(cookie)
	res := httptest.NewRecorder()
	h.ServeHTTP(res, call)
	fmt.Println(res.Code, res.Body.String())
	// Output:
	// 303 /answers no-referrer
	// scopedtoken_link /v2/accounts/me/answers true true true
	// 200 answers for business 42
}
