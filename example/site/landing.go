package site

import (
	"io/fs"
	"net/http"
	"net/url"
	"strings"
)

// maxLinkTokenBytes bounds the token a link may carry, as the middleware's
// default MaxTokenBytes does.
const maxLinkTokenBytes = 8192

// landing takes an emailed link's token (?jwt=) out of the URL before the
// page renders: the browser would otherwise keep it in the address bar and
// history, and send the URL in the Referer of what the page loads. The
// answer is 303 See Other to the page without the parameter, setting the
// token as a cookie that only the page's API path gets, that script cannot
// read (HttpOnly) and that no other site's request carries (SameSite=Strict).
// Every site response already says Referrer-Policy: no-referrer, this one
// included. A page that sends its own token in the Authorization header
// gets no cookie (a request carrying both would be refused as ambiguous);
// its link's token is dropped. A token that is not one compact JWS clears
// the cookie, so that an older link's token does not answer for it.
func (s *site) landing(p *Page, next http.Handler) http.Handler {
	cookiePath, _, _ := strings.Cut(p.Call, "?")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vals, rest, ok := cutLinkParam(r.URL.RawQuery)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if p.TokenSpec == "" {
			c := &http.Cookie{
				Name:     s.cfg.LinkCookie,
				Path:     cookiePath,
				HttpOnly: true,
				Secure:   r.TLS != nil || s.cfg.SecureCookies,
				SameSite: http.SameSiteStrictMode,
			}
			if len(vals) == 1 && isCompactJWS(vals[0]) {
				c.Value = vals[0]
			} else {
				c.MaxAge = -1
			}
			http.SetCookie(w, c)
		}
		// p.Path, not the request's path: the mux matched it exactly, and a
		// Location built from the request could point off the site.
		target := p.Path
		if rest != "" {
			target += "?" + rest
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}

// cutLinkParam splits a raw query into the values of LinkParam and the rest,
// which keeps its order and encoding. It reads the query itself because
// url.ParseQuery drops a pair with a semicolon, which would leave such a
// link's token in the address bar. A value that does not unescape is kept
// as sent, to fail the token check.
func cutLinkParam(rawQuery string) (vals []string, rest string, found bool) {
	var kept []string
	for pair := range strings.SplitSeq(rawQuery, "&") {
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		if key, err := url.QueryUnescape(rawKey); err != nil || key != LinkParam {
			if pair != "" {
				kept = append(kept, pair)
			}
			continue
		}
		val, err := url.QueryUnescape(rawVal)
		if err != nil {
			val = rawVal
		}
		vals, found = append(vals, val), true
	}
	return vals, strings.Join(kept, "&"), found
}

// isCompactJWS reports whether s has the shape of a compact JWS: three
// base64url parts, the first two non-empty. Only such a value goes into the
// cookie, whose syntax it fits.
func isCompactJWS(s string) bool {
	if len(s) > maxLinkTokenBytes {
		return false
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return false
	}
	for _, part := range parts {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
