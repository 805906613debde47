// Package site is the browser side of the demo: a site that serves pages
// whose script calls a scopedtoken-guarded API. Each page gets its tokens
// from the site (GET /site/tokens?page=PATH, minted by the token specs whose
// scope matches the page) and sends them in the Authorization header; with
// Config.DPoP, it instead gets them bound to a key of its own (POST
// /site/tokens?page=PATH with a DPoP proof, see tokens.go) and sends a
// fresh proof with each call (docs/browser.md, docs/dpop.md); a page
// opened from an emailed link (?jwt=) instead lands on the site, which moves
// the token into a cookie the browser sends to the API path only (see
// landing.go and docs/browser.md).
package site

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
)

// DefaultLinkCookie is the cookie an emailed link's token is moved into; the
// API reads it with scopedtoken.Config.TokenCookie.
const DefaultLinkCookie = "scopedtoken_link"

// LinkParam is the query parameter emailed links carry their token in, as
// scopedtoken.Config.TokenQueryParam names it.
const LinkParam = "jwt"

// Page is one page of the site.
type Page struct {
	Path  string // the page's path, such as "/"
	Title string
	Intro string
	// Call is what the page's script requests from the API: a path and
	// query, such as "/v2/accounts/me/search?input=pizza".
	Call string
	// TokenSpec names the token spec whose token the page sends in the
	// Authorization header. "" makes the page one that emailed links open:
	// it sends the link's cookie instead, which the site scopes to the path
	// of Call.
	TokenSpec string
}

// Config configures New. Specs and Pages are required.
type Config struct {
	Specs *mint.Specs
	Pages []Page
	// API, when set, is served on this origin for every path under
	// APIPrefix. Nil when the API has an origin of its own (APIOrigin).
	API http.Handler
	// APIPrefix is where API requests start. Default
	// scopedtoken.DefaultPrefix.
	APIPrefix string
	// APIOrigin is the API's origin ("https://api.example") when it is not
	// the site's: the pages call it cross-origin, which the API must allow
	// with CORS. Default "": the same origin.
	APIOrigin string
	// LinkCookie is the cookie an emailed link's token moves into. Default
	// DefaultLinkCookie.
	LinkCookie string
	// SecureCookies marks the link cookie Secure on every response, for a
	// site behind a TLS-terminating proxy; requests that arrive over TLS get
	// a Secure cookie anyway.
	SecureCookies bool
	// DPoP, when set, is the middleware (with Config.DPoPAllowed or
	// DPoPRequired, Config.Revocations and, behind a proxy, DPoPOrigin) whose
	// VerifyDPoPProof checks the proofs of POST /site/tokens: the pages then
	// make a non-extractable key, get their tokens bound to it and call the
	// API with the DPoP scheme. Nil: the pages send bearer tokens. Proofs
	// for the token endpoint name the site's URL: with an API on another
	// origin (APIOrigin), give the site a middleware of its own whose
	// DPoPOrigin is the site's origin, with the API's Revocations, so that
	// one record refuses every replay.
	DPoP *scopedtoken.Middleware
}

//go:embed assets
var assets embed.FS

var pageTemplate = template.Must(template.ParseFS(assets, "assets/page.html"))

type site struct {
	cfg   Config
	pages map[string]*Page
	csp   string
}

// New returns the site's handler: its pages, /site/tokens, the page script
// and style, and, with cfg.API, the API under cfg.APIPrefix.
func New(cfg Config) (http.Handler, error) {
	if cfg.Specs == nil || len(cfg.Pages) == 0 {
		return nil, errors.New("site: Specs and Pages are required")
	}
	if cfg.APIPrefix == "" {
		cfg.APIPrefix = scopedtoken.DefaultPrefix
	}
	if cfg.LinkCookie == "" {
		cfg.LinkCookie = DefaultLinkCookie
	}
	connect := "'self'"
	if cfg.APIOrigin != "" {
		u, err := url.Parse(cfg.APIOrigin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("site: APIOrigin %q must be an origin, scheme://host[:port]", cfg.APIOrigin)
		}
		connect += " " + cfg.APIOrigin
	}
	s := &site{
		cfg:   cfg,
		pages: make(map[string]*Page, len(cfg.Pages)),
		// No inline script or style, nothing from other origins but the
		// API's, and no framing.
		csp: "default-src 'none'; script-src 'self'; style-src 'self'; connect-src " + connect +
			"; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	}
	mux := http.NewServeMux()
	for i := range cfg.Pages {
		p := &cfg.Pages[i]
		if !strings.HasPrefix(p.Path, "/") || !strings.HasPrefix(p.Call, cfg.APIPrefix) {
			return nil, fmt.Errorf("site: page %q: Path must start with '/' and Call with %q", p.Path, cfg.APIPrefix)
		}
		s.pages[p.Path] = p
		pattern := "GET " + p.Path
		if strings.HasSuffix(p.Path, "/") {
			pattern += "{$}" // the page itself, not the tree below it
		}
		mux.Handle(pattern, s.landing(p, s.page(p)))
	}
	mux.HandleFunc("GET /site/tokens", s.tokens)
	if cfg.DPoP != nil {
		mux.HandleFunc("POST /site/tokens", s.boundTokens)
	}
	static := mustSub(assets, "assets")
	for _, name := range []string{"app.js", "style.css"} {
		mux.HandleFunc("GET /site/"+name, func(w http.ResponseWriter, r *http.Request) { http.ServeFileFS(w, r, static, name) })
	}
	return s.dispatch(mux), nil
}

// dispatch sends API paths to the API as they came, before any ServeMux
// cleans them (the middleware refuses dot segments itself), and everything
// else to the site, with the headers every site response carries.
func (s *site) dispatch(siteMux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.API != nil && strings.HasPrefix(r.URL.Path, s.cfg.APIPrefix) {
			s.cfg.API.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		// Nothing the site serves passes its URL on: an emailed link's
		// token must not leave in a Referer.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		siteMux.ServeHTTP(w, r)
	})
}

type pageData struct {
	*Page
	APIBase string
	DPoP    bool
	Nav     []Page
}

func (s *site) page(p *Page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", s.csp)
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		pageTemplate.Execute(w, pageData{Page: p, APIBase: s.cfg.APIOrigin, DPoP: s.cfg.DPoP != nil, Nav: s.cfg.Pages}) //nolint:errcheck // the client went away
	})
}
