package site_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/example/site"
	"github.com/scopedtoken/scopedtoken/mint"
)

// A page's script asks the site for its tokens, then calls the API with
// one in the Authorization header: here the same two requests, made from Go.
func ExampleNew() {
	secret := []byte("a-32-byte-secret-for-the-example")
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
	if err != nil {
		log.Fatal(err)
	}
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	specs, err := mint.LoadSpecs(strings.NewReader(
		`[{"name": "search", "keyId": "k1", "claims": {"aud": "/v2/accounts/me/search"}, "scope": "^/$"}]`),
		mint.SpecsConfig{Keys: site.SecretKey{ID: "k1", Secret: secret}, Verify: mw})
	if err != nil {
		log.Fatal(err)
	}
	api := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := scopedtoken.FromContext(r.Context())
		fmt.Fprintf(w, "business %s searches %s", tok.BusinessID(), r.URL.Query().Get("input"))
	}))
	h, err := site.New(site.Config{Specs: specs, API: api, Pages: []site.Page{
		{Path: "/", Title: "Search", TokenSpec: "search", Call: "/v2/accounts/me/search?input=pizza"},
	}})
	if err != nil {
		log.Fatal(err)
	}
	get := func(target, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	var tokens map[string]string
	if err := json.Unmarshal(get("/site/tokens?page=/", "").Body.Bytes(), &tokens); err != nil {
		log.Fatal(err)
	}
	res := get("/v2/accounts/me/search?input=pizza", tokens["search"])
	fmt.Println(res.Code, res.Body.String())
	// Output:
	// 200 business 42 searches pizza
}
