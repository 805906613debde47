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

// checkOrigin refuses a token that the browser may have sent by itself on a
// cross-site request forgery (docs/routers.md, "Tokens in cookies and
// cross-site requests"): a browser attaches a cookie to a form post or fetch
// from any site, so such a token proves nothing about who made the request.
// Tokens from the Authorization header or the query are never sent by the
// browser on its own and are not checked: they return at once, inlined into
// the request path. A custom TokenSource may read a place the browser fills
// by itself (a cookie of its own), which the middleware cannot tell: its
// tokens are checked like cookie tokens (fail closed).
func (m *Middleware) checkOrigin(r *http.Request, src tokenSource) *Error {
	if src < fromCookie || m.crossOrigin == nil {
		return nil
	}
	return m.checkOriginSlow(r, src)
}

// checkOriginSlow is checkOrigin for a token the browser may have sent by
// itself: an unsafe method from another origin is refused, and so is one
// more unsafe request, a WebSocket handshake. It is a GET, which
// http.CrossOriginProtection always lets through, but another origin's page
// that opens the socket reads and writes on it at will (CORS does not apply
// to WebSockets; RFC 6455 §10.2 leaves the Origin check to the server). So a
// handshake whose token the browser may have added by itself (a cookie, or a
// custom source's, which the middleware cannot tell apart) is checked as a
// POST would be: by Sec-Fetch-Site, else Origin against Host, with the
// protection's trusted origins and bypass patterns (a pattern that names a
// method must name POST, or none, to match it). A WebSocketProtocol token is
// not ambient: the page puts it in Sec-WebSocket-Protocol itself, as it would
// in an Authorization header, so its handshakes pass as before.
//
// A cookie request with a safe method costs two header lookups; only a
// handshake pays for a copy of the request.
func (m *Middleware) checkOriginSlow(r *http.Request, src tokenSource) *Error {
	offered := src >= fromCustom && m.pageOffered>>(src-fromCustom)&1 != 0
	check := r
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		if offered || !isWebSocketHandshake(r.Header) {
			return nil
		}
		post := *r // shallow: Check reads the headers, Host and URL, and changes nothing
		post.Method = http.MethodPost
		check = &post
	case http.MethodConnect:
		// An HTTP/2 WebSocket handshake (RFC 8441): as over HTTP/1.1, a
		// token the page offered itself is not ambient.
		if offered {
			return nil
		}
	}
	// Otherwise an unsafe method.
	if m.crossOrigin.Check(check) != nil {
		return errCrossOrigin
	}
	return nil
}

// isWebSocketHandshake reports whether h asks for a WebSocket: an Upgrade
// header listing the "websocket" protocol (RFC 6455 §4.1; Upgrade is a
// comma-separated list of protocol names, with an optional "/version", matched
// without regard to case, RFC 9110 §7.8), or Sec-Fetch-Mode: websocket, which
// browsers send on the handshake (Fetch Metadata). Connection: Upgrade is not
// required: whatever the client asks for, a request that names the protocol
// is checked as one.
func isWebSocketHandshake(h http.Header) bool {
	for _, v := range h["Sec-Fetch-Mode"] {
		if strings.EqualFold(strings.TrimSpace(v), "websocket") {
			return true
		}
	}
	for _, line := range h["Upgrade"] {
		for elem := range strings.SplitSeq(line, ",") {
			name, _, _ := strings.Cut(elem, "/")
			if strings.EqualFold(strings.TrimSpace(name), "websocket") {
				return true
			}
		}
	}
	return false
}
