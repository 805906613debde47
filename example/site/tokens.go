package site

import (
	"encoding/json"
	"net/http"
)

// This file is the site's token endpoint: GET /site/tokens?page=PATH hands
// out a page's unbound tokens, and POST /site/tokens?page=PATH with a DPoP
// proof hands out the same tokens bound to the proof's key (RFC 9449 §5,
// docs/dpop.md "The token endpoint").

// tokens answers GET /site/tokens?page=PATH with the tokens of every spec
// whose scope matches that page, by spec name, for the site's own pages
// only. A spec that requires DPoP is left out (mint.Specs.MintForPage).
func (s *site) tokens(w http.ResponseWriter, r *http.Request) {
	page, ok := s.tokenPage(w, r)
	if !ok {
		return
	}
	toks, err := s.cfg.Specs.MintForPage(page)
	writeTokens(w, toks, err)
}

// boundTokens answers POST /site/tokens?page=PATH as tokens answers GET,
// every token bound to the key of the request's DPoP proof: htm POST, htu
// the endpoint's URL without the query. The page is checked first, so that
// a request for no page records no proof; a bad proof gets the
// middleware's 401 with a DPoP challenge.
func (s *site) boundTokens(w http.ResponseWriter, r *http.Request) {
	page, ok := s.tokenPage(w, r)
	if !ok {
		return
	}
	jkt, err := s.cfg.DPoP.VerifyDPoPProof(r)
	if err != nil {
		s.cfg.DPoP.WriteError(w, r, err)
		return
	}
	toks, err := s.cfg.Specs.MintForPageBound(page, jkt)
	writeTokens(w, toks, err)
}

// tokenPage returns the page that r's one page parameter names, or answers
// 404 when it names none of the site's pages.
func (s *site) tokenPage(w http.ResponseWriter, r *http.Request) (string, bool) {
	w.Header().Set("Cache-Control", "no-store")
	page := r.URL.Query()["page"]
	if len(page) != 1 || s.pages[page[0]] == nil {
		http.Error(w, "page must name one page of this site", http.StatusNotFound)
		return "", false
	}
	return page[0], true
}

// writeTokens writes the tokens by spec name as JSON, or 500 when they
// could not be minted (the error, which may name a key, is not sent).
func writeTokens(w http.ResponseWriter, toks map[string]string, err error) {
	if err != nil {
		http.Error(w, "could not mint the page's tokens", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(toks) //nolint:errcheck // the client went away
}
