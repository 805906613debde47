package scopedtoken

import (
	"net/http"
	"strings"
)

// Two rules for browser callers, who send requests the page's script did not
// write: CORS preflights, which carry no credentials, and cookies, which the
// browser attaches to cross-site requests too.

// isPreflight reports whether r is a real CORS preflight (Fetch standard,
// "CORS-preflight request"): OPTIONS with exactly one non-empty Origin and
// exactly one Access-Control-Request-Method that is a method token (RFC 9110
// §9.1). Anything less is an ordinary OPTIONS request and needs a token: a
// bare or empty Access-Control-Request-Method would otherwise reach a handler
// registered without a method, and CORS handlers such as rs/cors pass such
// requests on instead of answering them.
func isPreflight(r *http.Request) bool {
	if r.Method != http.MethodOptions {
		return false
	}
	origin, method := r.Header["Origin"], r.Header["Access-Control-Request-Method"]
	return len(origin) == 1 && origin[0] != "" && len(method) == 1 && isToken(method[0])
}

// isToken reports whether s is an RFC 9110 token: 1*tchar.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// checkCrossOrigin refuses a cookie-carried token on a cross-origin request
// with an unsafe method: a browser attaches the cookie to a form post or fetch
// from any site, so the token proves nothing about who made the request
// (cross-site request forgery). Tokens from the Authorization header or the
// query are never sent by the browser on its own and are not checked. A custom
// TokenSource may read a place the browser fills by itself (a cookie of its
// own), which the middleware cannot tell: its tokens are checked like cookie
// tokens (fail closed).
func (m *Middleware) checkCrossOrigin(r *http.Request, src tokenSource) *Error {
	if src < fromCookie || m.crossOrigin == nil {
		return nil
	}
	if m.crossOrigin.Check(r) != nil {
		return ErrCrossOrigin
	}
	return nil
}
