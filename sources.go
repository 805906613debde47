package scopedtoken

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
)

// TokenSource is a place of the request, other than the Authorization header,
// TokenQueryParam and TokenCookie, where a client may put the token: for
// example the WebSocket subprotocol (see WebSocketProtocol), which is the only
// header a browser lets a page set on a WebSocket handshake.
//
// A source reports what it finds; the middleware keeps every other rule: a
// request whose token is found in more than one place is refused (400,
// multiple_tokens) and a found token is verified like any other. FindToken
// runs on every request, concurrently: keep it cheap and safe for concurrent
// use.
//
// A TokenSource is where a request's token is read from; it has nothing to
// do with mint.KeySource, where minting reads its signing keys.
type TokenSource interface {
	// FindToken returns the token that r carries in this source's place, with
	// found false when it carries none there. A credential there that is
	// present but malformed is an error: the request is refused with it when
	// it is an *Error (one of the package's reasons, or one of your own made
	// with NewError, usually in category ErrInvalidRequest: 400), and with
	// 400 bad_credentials otherwise, its text never sent to the client.
	FindToken(r *http.Request) (token string, found bool, err error)
	// WithoutToken returns the request that the next handler sees, without
	// the token that FindToken found, so that the handler does not log it or
	// echo it back. It is called only when FindToken found the token and the
	// token verified and covers the request's path; the query claim is then
	// bound to the query of the request it returns (whose URL and RequestURI
	// the middleware rebuilds when the claim changes the query), and
	// Config.Check sees that request too. A changed path must also be covered
	// by the token. It must not modify r, which is the caller's request:
	// return r itself when nothing needs removing, or a copy (clone r.Header,
	// or copy r.URL, before changing it).
	WithoutToken(r *http.Request) *http.Request
}

// maxTokenSources bounds Config.TokenSources, so that a source's index fits a
// tokenSource.
const maxTokenSources = 16

// checkTokenSources refuses a nil source, too many of them and an invalid
// built-in one, in New.
func checkTokenSources(sources []TokenSource) error {
	if len(sources) > maxTokenSources {
		return fmt.Errorf("scopedtoken: Config.TokenSources holds more than %d sources", maxTokenSources)
	}
	for i, s := range sources {
		if s == nil || isNilPointer(s) {
			return fmt.Errorf("scopedtoken: Config.TokenSources[%d] is nil", i)
		}
		if v, ok := s.(interface{ validate() error }); ok {
			if err := v.validate(); err != nil {
				return fmt.Errorf("scopedtoken: Config.TokenSources[%d]: %w", i, err)
			}
		}
	}
	return nil
}

// customToken asks every Config.TokenSources entry for a token. have says
// whether a built-in place already held one: any token found now is then a
// second one.
func (m *Middleware) customToken(r *http.Request, have bool) (token string, src tokenSource, found bool, e *Error) {
	for i, s := range m.sources {
		t, ok, err := s.FindToken(r)
		if err != nil {
			return "", fromHeader, false, adoptError(err, errBadCredentials)
		}
		if !ok {
			continue
		}
		if have || found {
			return "", fromHeader, false, errMultipleTokens
		}
		token, src, found = t, fromCustom+tokenSource(i), true
	}
	return token, src, found, nil
}

// offeredByPage reports whether s reads a place that only the page's own
// script fills: the built-in WebSocketProtocol, whose subprotocols the page
// passes to new WebSocket(url, protocols) and the browser never adds by
// itself. Its tokens are then no more ambient than an Authorization header,
// and a cross-origin WebSocket handshake that carries one is no forgery.
func offeredByPage(s TokenSource) bool {
	switch s.(type) {
	case WebSocketProtocol, *WebSocketProtocol:
		return true
	}
	return false
}

// withoutToken returns r as the next handler sees it: without the token of
// the custom source that found it. A nil answer means nothing to remove.
func (m *Middleware) withoutToken(r *http.Request, src tokenSource) *http.Request {
	if src < fromCustom {
		return r
	}
	if r2 := m.sources[src-fromCustom].WithoutToken(r); r2 != nil {
		return r2
	}
	return r
}

// DefaultWebSocketMarker is the subprotocol that precedes the token in
// WebSocketProtocol's form: new WebSocket(url, ["access_token", token]).
const DefaultWebSocketMarker = "access_token"

// WebSocketProtocol is a TokenSource for WebSocket handshakes from browsers,
// whose WebSocket API cannot set the Authorization header but can offer
// subprotocols (RFC 6455 §4.1, Sec-WebSocket-Protocol). The client offers the
// Marker subprotocol immediately followed by the token:
//
//	new WebSocket("wss://api.example/v2/accounts/me/stream", ["access_token", token])
//
// which sends "Sec-WebSocket-Protocol: access_token, <token>". A compact JWS
// uses only characters a subprotocol may hold, so the token is sent as is.
// The Marker is matched without regard to case (as WebSocket libraries match
// subprotocols); the token is the list element right after it and must be an
// RFC 6750 b64token. A Marker with no token after it, or a Marker offered
// twice, is a malformed request (400).
//
// The next handler sees the header without the token but with the Marker and
// every other subprotocol, so its WebSocket library can never select the token
// as the connection's subprotocol, nor log it. List the Marker (or your
// application's own subprotocol) among the subprotocols your WebSocket library
// accepts: browsers fail a handshake whose offered subprotocols the server
// answers with none.
type WebSocketProtocol struct {
	// Marker is the subprotocol that precedes the token. Default
	// DefaultWebSocketMarker ("access_token"); "bearer" is another common one.
	// It must be an RFC 9110 token.
	Marker string
}

func (p WebSocketProtocol) marker() string {
	if p.Marker == "" {
		return DefaultWebSocketMarker
	}
	return p.Marker
}

func (p WebSocketProtocol) validate() error {
	if !isToken(p.marker()) {
		return errors.New("WebSocketProtocol.Marker must be an RFC 9110 token")
	}
	return nil
}

// protocolHeader is the canonical key of Sec-WebSocket-Protocol.
const protocolHeader = "Sec-Websocket-Protocol"

// FindToken returns the element after the Marker in the request's offered
// subprotocols.
func (p WebSocketProtocol) FindToken(r *http.Request) (string, bool, error) {
	lines := r.Header[protocolHeader]
	if len(lines) == 0 {
		return "", false, nil
	}
	marker := p.marker()
	token, found, afterMarker := "", false, false
	for _, line := range lines {
		for elem := range strings.SplitSeq(line, ",") {
			elem = strings.TrimSpace(elem)
			switch {
			case afterMarker:
				if !isB64Token(elem) {
					return "", false, errBadCredentials
				}
				token, afterMarker = elem, false
			case strings.EqualFold(elem, marker):
				if found {
					return "", false, errMultipleTokens
				}
				found, afterMarker = true, true
			}
		}
	}
	if afterMarker {
		return "", false, errBadCredentials // the Marker is the last element
	}
	return token, found, nil
}

// WithoutToken returns a copy of r whose Sec-WebSocket-Protocol lists every
// offered subprotocol but the token, in one header line.
func (p WebSocketProtocol) WithoutToken(r *http.Request) *http.Request {
	marker := p.marker()
	var kept []string
	afterMarker := false
	for _, line := range r.Header[protocolHeader] {
		for elem := range strings.SplitSeq(line, ",") {
			elem = strings.TrimSpace(elem)
			switch {
			case afterMarker:
				afterMarker = false // the token
			case elem == "":
			default:
				afterMarker = strings.EqualFold(elem, marker)
				kept = append(kept, elem)
			}
		}
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.Header = maps.Clone(r.Header) // the values are replaced, never written
	r2.Header[protocolHeader] = []string{strings.Join(kept, ", ")}
	return r2
}
