package main

import (
	"net/http"
	"strings"
	"time"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/example/site"
	"github.com/scopedtoken/scopedtoken/mint"
)

// demoSpecs are the site's named token specs: the home page gets a search
// token bound to the demo experience.
const demoSpecs = `[{"name": "search", "keyId": "` + demoKeyID + `",
  "claims": {"aud": "/v2/accounts/me/search", "query": {"experienceKey": "` + demoExperience + `"}},
  "scope": "^/$"}]`

// demoPages are the site's pages: the home page calls search with its page
// token; /answers is where the emailed link opens, calling answers with the
// link's token.
var demoPages = []site.Page{
	{
		Path: "/", Title: "Search", TokenSpec: "search",
		Intro: "This page made a non-extractable ECDSA key with WebCrypto, got a token bound to it from the site (POST /site/tokens?page=/ with a DPoP proof) and calls the API with it (Authorization: DPoP) and a fresh proof.",
		Call:  "/v2/accounts/me/search?input=pizza",
	},
	{
		Path: "/answers", Title: "Answers (emailed link)",
		Intro: "Opened from an emailed link: the site moved the link's token into an HttpOnly cookie for the API path and dropped it from the address bar.",
		Call:  "/v2/accounts/me/answers?input=pizza",
	},
}

// newSite serves the demo's pages beside the API, minting page tokens with
// secret through the token specs (each checked by mw before it is handed out);
// mw also checks the DPoP proofs of POST /site/tokens.
func newSite(secret []byte, now func() time.Time, mw *scopedtoken.Middleware, api http.Handler) (http.Handler, error) {
	specs, err := mint.LoadSpecs(strings.NewReader(demoSpecs), mint.SpecsConfig{
		Keys: site.SecretKey{ID: demoKeyID, Secret: secret}, Now: now, Verify: mw,
	})
	if err != nil {
		return nil, err
	}
	return site.New(site.Config{Specs: specs, Pages: demoPages, API: api, DPoP: mw})
}
