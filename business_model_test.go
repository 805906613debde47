package scopedtoken

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// businessModel is the path and business rules of docs/security.md, written
// without the package's code: an aud entry covers a path when its segments
// (one trailing '/' of either ignored) are a prefix of the path's, business
// segments aside; a key with business B makes "me" and B one business and
// covers no other; without one a business segment covers only itself. The
// request acts for the key's business, else the business its path names,
// and for none when the path says "me" (refused unless allowMe). Unlike the
// package, it does not pick a covering entry: the business depends on the
// path alone.
func businessModel(keyBusiness string, aud []string, path string, allowMe bool) (reason, business string) {
	segments := func(p string) []string {
		return strings.Split(strings.TrimSuffix(strings.TrimPrefix(p, DefaultPrefix), "/"), "/")
	}
	sameBusiness := func(entry, req string) bool {
		if keyBusiness == "" {
			return entry == req
		}
		return (entry == meSegment || entry == keyBusiness) && (req == meSegment || req == keyBusiness)
	}
	req := segments(path)
	covered := false
	for _, a := range aud {
		e := segments(a)
		if len(e) > len(req) || !sameBusiness(e[0], req[0]) {
			continue
		}
		if strings.Join(e[1:], "/") == strings.Join(req[1:len(e)], "/") {
			covered = true
		}
	}
	switch {
	case !covered:
		return "audience_mismatch", ""
	case keyBusiness != "":
		return "", keyBusiness
	case req[0] == meSegment && !allowMe:
		return "me_without_business", ""
	case req[0] == meSegment:
		return "", ""
	}
	return "", req[0]
}

// TestBusinessIDModel: for keys with and without a business, one or two aud
// entries (an earlier one covering a path under another business segment
// than a later one, trailing slashes on entries and paths) and
// AllowMeWithoutBusiness off and on, the middleware (on a cache miss, then a
// hit) and Verify allow exactly what businessModel allows, with its reason
// and its Token.BusinessID(). Tokens kept from earlier requests still give
// their own business after later requests hit the same cache entry through
// other entries.
func TestBusinessIDModel(t *testing.T) {
	entries := []string{
		"/v2/accounts/me/search",
		"/v2/accounts/42/search/",
		"/v2/accounts/43/search",
		"/v2/accounts/43/search/x/",
		"/v2/accounts/me/answers/x",
		"/v2/accounts/42/answers",
	}
	auds := [][]string{}
	for _, a := range entries {
		auds = append(auds, []string{a})
		for _, b := range entries {
			if a != b {
				auds = append(auds, []string{a, b})
			}
		}
	}
	var paths []string
	for _, b := range []string{"me", "42", "43", "420"} {
		for _, tail := range []string{"search", "search/", "search/x", "search/x/", "search/y", "answers", "answers/x/", "answers/y"} {
			paths = append(paths, DefaultPrefix+b+"/"+tail)
		}
	}
	for _, allowMe := range []bool{false, true} {
		var cached []bool
		m := newTestMiddleware(t, func(c *Config) {
			c.AllowMeWithoutBusiness = allowMe
			c.OnDecision = func(_ context.Context, d Decision) { cached = append(cached, d.Cached) }
		})
		for _, kid := range []string{"hs", "biz"} {
			keyBusiness := map[string]string{"hs": "", "biz": "42"}[kid]
			for _, aud := range auds {
				claims := with(func(c map[string]any) { c["aud"] = aud })
				if len(aud) == 1 {
					claims["aud"] = aud[0] // the single-string form
				}
				token := signRaw(t, "HS256", testSecret, `{"alg":"HS256","kid":"`+kid+`"}`, claimsJSON(t, claims))
				type kept struct {
					tok      *Token
					business string
				}
				var seen []kept
				for _, path := range paths {
					name := fmt.Sprintf("allowMe=%v kid=%s aud=%v path=%s", allowMe, kid, aud, path)
					reason, business := businessModel(keyBusiness, aud, path, allowMe)
					tok, err := m.Verify(t.Context(), token, path)
					if reason != "" {
						var e *Error
						require.ErrorAs(t, err, &e, name)
						assert.Equal(t, reason, e.Reason(), name)
					} else if assert.NoError(t, err, name) {
						assert.Equal(t, business, tok.BusinessID(), name)
						seen = append(seen, kept{tok, business})
					}
					for round := range 2 { // Verify cached the token: both are hits
						cached = cached[:0]
						res := serve(t, m, bearer(path, token))
						require.Equal(t, []bool{true}, cached, "%s round %d: a cache hit", name, round)
						if reason != "" {
							assert.Equal(t, http.StatusForbidden, res.code, name)
							assert.Equal(t, reason, res.reason, name)
							assert.False(t, res.ran, name)
							continue
						}
						require.Equal(t, http.StatusOK, res.code, "%s: %s", name, res.body)
						assert.Equal(t, business, res.token.BusinessID(), name)
						seen = append(seen, kept{res.token, business})
					}
				}
				for _, k := range seen {
					assert.Equal(t, k.business, k.tok.BusinessID(), "kid=%s aud=%v: a kept Token", kid, aud)
				}
			}
		}
	}
	// A cache miss goes through the same authorize: one request without a
	// cache, with the entry that covers a path under another business first.
	m := newTestMiddleware(t, func(c *Config) { c.CacheSize = -1 })
	token := signRaw(t, "HS256", testSecret, `{"alg":"HS256","kid":"hs"}`,
		claimsJSON(t, with(func(c map[string]any) { c["aud"] = []string{"/v2/accounts/42/search", "/v2/accounts/me/search"} })))
	for path, business := range map[string]string{"/v2/accounts/me/search/": "", "/v2/accounts/42/search/x": "42"} {
		res := serve(t, m, bearer(path, token))
		require.Equal(t, http.StatusOK, res.code, res.body)
		assert.Equal(t, business, res.token.BusinessID(), path)
	}
}
