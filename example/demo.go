package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/example/site"
	"github.com/scopedtoken/scopedtoken/mint"
)

const (
	demoKeyID      = "demo"
	demoBusinessID = "1234567"
	demoExperience = "demo-experience"
	demoLifetime   = time.Hour
)

// demoRequest is one request the demo prints as a curl command: the target
// (path and query), the token it sends ("" for none) and the status it gets.
type demoRequest struct {
	note   string
	target string
	token  string
	want   int
}

// demo is the wired-up API and the requests to try against it.
type demo struct {
	handler   http.Handler
	origin    string // the public origin, as -origin gives it
	requests  []demoRequest
	link      string // the target of the emailed link, token included
	expiresAt time.Time
	search    string      // the search token, which the revocation hint names
	redis     redisTarget // zero without shared revocation state
}

// newDemo guards the API with the middleware and mints the tokens of the demo
// requests, with the HS256 secret of o or, without one, a fresh one.
func newDemo(now func() time.Time, o options) (*demo, error) {
	secret := o.secret
	if secret == nil {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, err
		}
	}
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: demoKeyID, Algorithm: "HS256", Secret: secret, BusinessID: demoBusinessID})
	if err != nil {
		return nil, err
	}
	// The API also reads the cookie that the site moves an emailed link's
	// token into (site.go, docs/browser.md). DPoP is allowed: bearer tokens
	// pass, bound ones need a proof whose jti is recorded in the Redis store,
	// shared by every instance, or else in memory (docs/dpop.md).
	cfg := scopedtoken.Config{Keys: keys, Now: now, TokenCookie: site.DefaultLinkCookie,
		OnDecision: o.onDecision, DPoPAllowed: true, DPoPOrigin: o.origin, Revocations: scopedtoken.NewMemoryRevocations(now)}
	if o.revocations != nil {
		cfg.Revocations = o.revocations
	}
	mw, err := scopedtoken.New(cfg)
	if err != nil {
		return nil, err
	}
	minter, err := mint.New(mint.Config{
		Key:      mint.Key{ID: demoKeyID, Algorithm: "HS256", Secret: secret},
		Lifetime: demoLifetime,
		Now:      now,
		Verify:   mw,
	})
	if err != nil {
		return nil, err
	}
	search, err := minter.Mint(mint.Claims{
		Audience: []string{"/v2/accounts/me/search"},
		Query:    url.Values{"experienceKey": {demoExperience}},
	})
	if err != nil {
		return nil, err
	}
	// An expired token fails the minter's own verification, so it comes from
	// a minter without it.
	expiredMinter, err := mint.New(mint.Config{
		Key: mint.Key{ID: demoKeyID, Algorithm: "HS256", Secret: secret},
		Now: now,
	})
	if err != nil {
		return nil, err
	}
	expired, err := expiredMinter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}, ExpiresIn: -time.Hour})
	if err != nil {
		return nil, err
	}

	link, err := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/answers"}})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/accounts/{businessId}/search", endpoint("search"))
	mux.HandleFunc("GET /v2/accounts/{businessId}/answers", endpoint("answers"))
	handler, err := newSite(secret, now, mw, mw.Handler(mux))
	if err != nil {
		return nil, err
	}
	d := &demo{
		handler:   handler,
		origin:    o.origin,
		link:      "/answers?" + site.LinkParam + "=" + link,
		expiresAt: now().Add(demoLifetime).Truncate(time.Second),
		requests: []demoRequest{
			{
				note:   "allowed; the token binds experienceKey=" + demoExperience + ", so it replaces the request's own value",
				target: "/v2/accounts/me/search?experienceKey=my-own-choice&input=pizza", token: search, want: http.StatusOK,
			},
			{note: "the token's aud covers search only, not answers", target: "/v2/accounts/me/answers?input=pizza", token: search, want: http.StatusForbidden},
			{note: "the token expired an hour ago", target: "/v2/accounts/me/search?input=pizza", token: expired, want: http.StatusUnauthorized},
			{note: "no token", target: "/v2/accounts/me/search?input=pizza", want: http.StatusUnauthorized},
			{note: "an encoded dot segment in the path", target: "/v2/accounts/me/search/%2e%2e/answers", token: search, want: http.StatusBadRequest},
		},
		search: search,
	}
	if o.revocations != nil {
		if err := d.addRevocation(minter, o); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// printCommands writes each demo request as a curl command against base,
// with the status it gets.
func (d *demo) printCommands(w io.Writer, base string) {
	for i, q := range d.requests {
		fmt.Fprintf(w, "# %d. expect %d: %s\n", i+1, q.want, q.note)
		auth := ""
		if q.token != "" {
			auth = " -H 'Authorization: Bearer " + q.token + "'"
		}
		fmt.Fprintf(w, "curl -sS -i%s '%s%s'\n\n", auth, base, q.target)
	}
	d.printRevokeHint(w, base)
	origin := d.origin
	if origin == "" {
		origin = base
	}
	fmt.Fprintf(w, "# In a browser: %s/ gets a token for itself from the site, bound to a key it keeps (DPoP), and calls the API with it;\n", origin)
	fmt.Fprintf(w, "# an emailed link, which lands on the site and leaves its token in a cookie: %s%s\n\n", origin, d.link)
	d.printDPoPHint(w, base, origin)
}

// printDPoPHint shows what the page's DPoP calls look like (docs/dpop.md):
// they need a proof signed by the client's key for each request, which curl
// cannot make, so they are comments.
func (d *demo) printDPoPHint(w io.Writer, base, origin string) {
	fmt.Fprintf(w, "# DPoP (docs/dpop.md, docs/browser.md): a client with its own key gets bound tokens, the same JSON as GET /site/tokens,\n")
	fmt.Fprintf(w, "# with a proof for the token endpoint (htm POST, htu %s/site/tokens), then sends a fresh proof with\n", origin)
	fmt.Fprintf(w, "# each call (htm GET, htu %s/v2/accounts/me/search, ath the token's SHA-256):\n", origin)
	fmt.Fprintf(w, "#   curl -sS -X POST -H 'DPoP: PROOF' '%s/site/tokens?page=/'\n", base)
	fmt.Fprintf(w, "#   curl -sS -i -H 'Authorization: DPoP TOKEN' -H 'DPoP: PROOF' '%s/v2/accounts/me/search?input=pizza'\n", base)
	fmt.Fprintf(w, "# A bound token sent as Bearer, without its proof or with a used one gets 401 with a DPoP challenge.\n\n")
}

// reply is what the demo endpoints answer.
type reply struct {
	Endpoint         string     `json:"endpoint"`
	Business         string     `json:"business"`         // Token.BusinessID(): the business the request acts for
	BusinessIDInPath string     `json:"businessIdInPath"` // as written in the URL ("me" or an ID)
	Query            url.Values `json:"query"`            // r.URL.Query(), after the middleware bound the token's
	TokenQuery       url.Values `json:"tokenQuery"`       // Token.Query()
	ExpiresAt        time.Time  `json:"expiresAt"`
	KeyThumbprint    string     `json:"keyThumbprint,omitempty"` // Token.KeyThumbprint(): the DPoP key of a bound token
}

func endpoint(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := scopedtoken.FromContext(r.Context())
		if !ok {
			// Only reachable if the middleware were not mounted: fail closed.
			http.Error(w, "no verified token", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(reply{ //nolint:errcheck // the client went away
			Endpoint:         name,
			Business:         tok.BusinessID(),
			BusinessIDInPath: r.PathValue("businessId"),
			Query:            r.URL.Query(),
			TokenQuery:       tok.Query().URLValues(),
			ExpiresAt:        tok.ExpiresAt(),
			KeyThumbprint:    tok.KeyThumbprint(),
		})
	}
}
