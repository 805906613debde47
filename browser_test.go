package scopedtoken

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWebSocketHandshakeCrossOrigin: a WebSocket handshake is a GET whose
// answer the other origin can read (CORS does not apply to WebSockets, RFC
// 6455 §10.2), so one carrying a token the browser may have added by itself
// (a cookie, or a custom source's) gets the cross-origin check of an unsafe
// method. Header and query tokens, and WebSocketProtocol tokens, which the
// page itself must offer, are not ambient and pass as before.
func TestWebSocketHandshakeCrossOrigin(t *testing.T) {
	good := hsToken(t, validClaims())
	trusted := http.NewCrossOriginProtection()
	require.NoError(t, trusted.AddTrustedOrigin("https://app.test"))
	bypass := http.NewCrossOriginProtection()
	bypass.AddInsecureBypassPattern("/v2/accounts/me/")

	const (
		cookie    = "cookie"
		header    = "header"
		query     = "query"
		custom    = "custom"    // headerSource on X-Token
		subproto  = "subproto"  // WebSocketProtocol{}
		subprotoP = "subprotoP" // &WebSocketProtocol{}
	)
	handshake := []string{"Upgrade", "websocket", "Connection", "Upgrade"}
	plus := func(a []string, b ...string) []string { return append(append([]string(nil), a...), b...) }
	tests := []struct {
		name    string
		place   string
		method  string   // default GET
		headers []string // name, value pairs, added
		config  func(*Config)
		code    int
		reason  string
	}{
		// Refused: a handshake from another origin with an ambient token.
		{name: "cookie, cross-site by Sec-Fetch-Site", place: cookie,
			headers: plus(handshake, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "websocket", "Origin", "https://evil.test"),
			code:    http.StatusForbidden, reason: "cross_origin"},
		{name: "cookie, same-site but another origin", place: cookie,
			headers: plus(handshake, "Sec-Fetch-Site", "same-site", "Origin", "https://www.api.test"),
			code:    http.StatusForbidden, reason: "cross_origin"},
		{name: "cookie, Origin only (old browser)", place: cookie,
			headers: plus(handshake, "Origin", "https://evil.test"),
			code:    http.StatusForbidden, reason: "cross_origin"},
		{name: "cookie, Upgrade: WebSocket in mixed case", place: cookie,
			headers: []string{"Upgrade", "WebSocket", "Connection", "Upgrade", "Sec-Fetch-Site", "cross-site"},
			code:    http.StatusForbidden, reason: "cross_origin"},
		{name: "cookie, Upgrade: WEBSOCKET, Connection: keep-alive, Upgrade", place: cookie,
			headers: []string{"Upgrade", "WEBSOCKET", "Connection", "keep-alive, Upgrade", "Sec-Fetch-Site", "cross-site"},
			code:    http.StatusForbidden, reason: "cross_origin"},
		{name: "cookie, Upgrade: websocket without Connection", place: cookie,
			headers: []string{"Upgrade", "websocket", "Sec-Fetch-Site", "cross-site"},
			code:    http.StatusForbidden, reason: "cross_origin"},
		{name: "cookie, websocket in an Upgrade list", place: cookie,
			headers: []string{"Upgrade", "h2c ,  websocket", "Connection", "Upgrade, HTTP2-Settings", "Sec-Fetch-Site", "cross-site"},
			code:    http.StatusForbidden, reason: "cross_origin"},
		{name: "cookie, websocket on a second Upgrade line", place: cookie,
			headers: []string{"Upgrade", "h2c", "Upgrade", "websocket", "Connection", "upgrade", "Sec-Fetch-Site", "cross-site"},
			code:    http.StatusForbidden, reason: "cross_origin"},
		{name: "cookie, websocket with a protocol version", place: cookie,
			headers: []string{"Upgrade", "websocket/13", "Connection", "Upgrade", "Origin", "https://evil.test"},
			code:    http.StatusForbidden, reason: "cross_origin"},
		{name: "cookie, Sec-Fetch-Mode: websocket without Upgrade", place: cookie,
			headers: []string{"Sec-Fetch-Mode", "websocket", "Sec-Fetch-Site", "cross-site"},
			code:    http.StatusForbidden, reason: "cross_origin"},
		{name: "cookie, Sec-Fetch-Mode: WebSocket, Origin only", place: cookie,
			headers: []string{"Sec-Fetch-Mode", "WebSocket", "Origin", "https://evil.test"},
			code:    http.StatusForbidden, reason: "cross_origin"},
		{name: "cookie, HEAD handshake", place: cookie, method: http.MethodHead,
			headers: plus(handshake, "Sec-Fetch-Site", "cross-site"),
			code:    http.StatusForbidden, reason: "cross_origin"},
		{name: "custom source, cross-site", place: custom,
			headers: plus(handshake, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "websocket"),
			code:    http.StatusForbidden, reason: "cross_origin"},
		{name: "cookie, untrusted origin with a custom protection", place: cookie, config: func(c *Config) { c.CrossOriginProtection = trusted },
			headers: plus(handshake, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.test"),
			code:    http.StatusForbidden, reason: "cross_origin"},

		// Allowed: same origin, not a browser, not a handshake, a token the
		// browser never adds by itself, or an origin the API trusts.
		{name: "cookie, same-origin by Sec-Fetch-Site", place: cookie,
			headers: plus(handshake, "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "websocket", "Origin", "http://api.test"),
			code:    http.StatusOK},
		{name: "cookie, Origin matching Host", place: cookie,
			headers: plus(handshake, "Origin", "http://api.test"), code: http.StatusOK},
		{name: "cookie, Sec-Fetch-Mode: websocket, same-origin", place: cookie,
			headers: []string{"Sec-Fetch-Mode", "websocket", "Sec-Fetch-Site", "same-origin"}, code: http.StatusOK},
		{name: "cookie, no browser headers (not a browser)", place: cookie, headers: handshake, code: http.StatusOK},
		{name: "cookie, plain GET cross-site", place: cookie,
			headers: []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "cors", "Origin", "https://evil.test"}, code: http.StatusOK},
		{name: "cookie, navigation GET cross-site", place: cookie,
			headers: []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"}, code: http.StatusOK},
		{name: "cookie, an Upgrade to another protocol cross-site", place: cookie,
			headers: []string{"Upgrade", "h2c", "Connection", "Upgrade", "Sec-Fetch-Site", "cross-site"}, code: http.StatusOK},
		{name: "cookie, a protocol name that only contains websocket", place: cookie,
			headers: []string{"Upgrade", "websocketx, xwebsocket", "Connection", "Upgrade", "Sec-Fetch-Site", "cross-site"}, code: http.StatusOK},
		{name: "cookie, trusted origin", place: cookie, config: func(c *Config) { c.CrossOriginProtection = trusted },
			headers: plus(handshake, "Sec-Fetch-Site", "cross-site", "Origin", "https://app.test"), code: http.StatusOK},
		{name: "cookie, trusted origin, Origin only", place: cookie, config: func(c *Config) { c.CrossOriginProtection = trusted },
			headers: plus(handshake, "Origin", "https://app.test"), code: http.StatusOK},
		{name: "cookie, bypass pattern", place: cookie, config: func(c *Config) { c.CrossOriginProtection = bypass },
			headers: plus(handshake, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.test"), code: http.StatusOK},
		{name: "cookie, protection turned off", place: cookie, config: func(c *Config) { c.AllowCrossOriginCookie = true },
			headers: plus(handshake, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.test"), code: http.StatusOK},
		{name: "header token, cross-site", place: header,
			headers: plus(handshake, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "websocket", "Origin", "https://evil.test"),
			code:    http.StatusOK},
		{name: "query token, cross-site", place: query,
			headers: plus(handshake, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "websocket", "Origin", "https://evil.test"),
			code:    http.StatusOK},
		{name: "WebSocketProtocol token, cross-site", place: subproto,
			headers: plus(handshake, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "websocket", "Origin", "https://app.test"),
			code:    http.StatusOK},
		{name: "*WebSocketProtocol token, cross-site", place: subprotoP,
			headers: plus(handshake, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "websocket", "Origin", "https://app.test"),
			code:    http.StatusOK},

		// Unsafe methods: as before, whatever the upgrade.
		{name: "cookie, POST with Upgrade, cross-site", place: cookie, method: http.MethodPost,
			headers: plus(handshake, "Sec-Fetch-Site", "cross-site"), code: http.StatusForbidden, reason: "cross_origin"},
		{name: "cookie, POST with Upgrade, same-origin", place: cookie, method: http.MethodPost,
			headers: plus(handshake, "Sec-Fetch-Site", "same-origin"), code: http.StatusOK},
		{name: "WebSocketProtocol token, POST cross-site", place: subproto, method: http.MethodPost,
			headers: []string{"Sec-Fetch-Site", "cross-site"}, code: http.StatusForbidden, reason: "cross_origin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestMiddleware(t, func(c *Config) {
				c.TokenCookie = "st"
				c.TokenQueryParam = "jwt"
				c.TokenSources = []TokenSource{headerSource{name: "X-Token"}}
				switch tc.place {
				case subproto:
					c.TokenSources = []TokenSource{WebSocketProtocol{}}
				case subprotoP:
					c.TokenSources = []TokenSource{&WebSocketProtocol{}}
				}
				if tc.config != nil {
					tc.config(c)
				}
			})
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			target := "http://api.test/v2/accounts/me/search"
			if tc.place == query {
				target += "?jwt=" + good
			}
			req := httptest.NewRequest(method, target, nil)
			require.Equal(t, "api.test", req.Host)
			switch tc.place {
			case cookie:
				req.AddCookie(&http.Cookie{Name: "st", Value: good})
			case header:
				req.Header.Set("Authorization", "Bearer "+good)
			case custom:
				req.Header.Set("X-Token", good)
			case subproto, subprotoP:
				req.Header.Set("Sec-WebSocket-Protocol", "access_token, "+good)
			}
			for i := 0; i+1 < len(tc.headers); i += 2 {
				req.Header.Add(tc.headers[i], tc.headers[i+1])
			}
			before := req.Header.Clone()

			res := serve(t, m, req)
			assert.Equal(t, tc.code, res.code, res.body)
			assert.Equal(t, tc.reason, res.reason)
			assert.Equal(t, method, req.Method, "the caller's request is never changed")
			assert.Equal(t, before, req.Header, "the caller's request is never changed")
			if tc.code != http.StatusOK {
				assertRefused(t, res, tc.code, tc.reason)
				assert.NotContains(t, res.body, good)
				return
			}
			require.True(t, res.ran)
			assert.Equal(t, method, res.req.Method, "the handler sees the request's own method")
			assert.NotNil(t, res.token)
		})
	}
}

// TestWebSocketHandshakeOnTheWire runs the cross-site and same-origin
// handshakes with a cookie token through a real server, whose parsing of
// Upgrade, Connection and Host is what the middleware reads.
func TestWebSocketHandshakeOnTheWire(t *testing.T) {
	good := hsToken(t, validClaims())
	m := newTestMiddleware(t, func(c *Config) { c.TokenCookie = "st" })
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot) // stands for 101: the client here is no WebSocket client
	})))
	t.Cleanup(srv.Close)
	tests := []struct {
		name   string
		origin string // "" for the server's own
		site   string
		code   int
	}{
		{name: "cross-site", origin: "https://evil.test", site: "cross-site", code: http.StatusForbidden},
		{name: "old browser from another origin", origin: "https://evil.test", code: http.StatusForbidden},
		{name: "same origin", site: "same-origin", code: http.StatusTeapot},
		{name: "same origin by Origin", code: http.StatusTeapot},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/v2/accounts/me/search", nil)
			require.NoError(t, err)
			origin := tc.origin
			if origin == "" {
				origin = srv.URL
			}
			req.Header.Set("Origin", origin)
			if tc.site != "" {
				req.Header.Set("Sec-Fetch-Site", tc.site)
			}
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			req.AddCookie(&http.Cookie{Name: "st", Value: good})
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			t.Cleanup(func() { _ = resp.Body.Close() })
			assert.Equal(t, tc.code, resp.StatusCode)
		})
	}
}

// TestIsWebSocketHandshake: the header forms that ask for a WebSocket.
func TestIsWebSocketHandshake(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
		want bool
	}{
		{name: "none", h: http.Header{}},
		{name: "Upgrade: websocket", h: http.Header{"Upgrade": {"websocket"}}, want: true},
		{name: "Upgrade: WebSocket", h: http.Header{"Upgrade": {"WebSocket"}}, want: true},
		{name: "padded", h: http.Header{"Upgrade": {" \twebsocket\t "}}, want: true},
		{name: "in a list", h: http.Header{"Upgrade": {"h2c, websocket"}}, want: true},
		{name: "in a list with empty elements", h: http.Header{"Upgrade": {",,websocket,"}}, want: true},
		{name: "second line", h: http.Header{"Upgrade": {"h2c", "websocket"}}, want: true},
		{name: "with a version", h: http.Header{"Upgrade": {"websocket/13"}}, want: true},
		{name: "another protocol", h: http.Header{"Upgrade": {"h2c"}}},
		{name: "a longer name", h: http.Header{"Upgrade": {"websockets"}}},
		{name: "a name inside another", h: http.Header{"Upgrade": {"x-websocket"}}},
		{name: "empty Upgrade", h: http.Header{"Upgrade": {""}}},
		{name: "Sec-Fetch-Mode: websocket", h: http.Header{"Sec-Fetch-Mode": {"websocket"}}, want: true},
		{name: "Sec-Fetch-Mode: WEBSOCKET", h: http.Header{"Sec-Fetch-Mode": {"WEBSOCKET"}}, want: true},
		{name: "Sec-Fetch-Mode: cors", h: http.Header{"Sec-Fetch-Mode": {"cors"}}},
		{name: "Sec-Fetch-Mode: navigate", h: http.Header{"Sec-Fetch-Mode": {"navigate"}}},
		{name: "Connection: Upgrade alone", h: http.Header{"Connection": {"Upgrade"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, isWebSocketHandshake(tc.h))
		})
	}
}

// BenchmarkCookieGetCached is a cached cookie token on a cross-site GET that
// is no WebSocket handshake: the origin check adds two header lookups.
func BenchmarkCookieGetCached(b *testing.B) {
	good := hsToken(b, validClaims())
	h := newTestMiddleware(b, func(c *Config) { c.TokenCookie = "st" }).Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	req := httptest.NewRequest(http.MethodGet, "http://api.test/v2/accounts/me/search", nil)
	req.AddCookie(&http.Cookie{Name: "st", Value: good})
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	benchServe(b, h, req)
}

// BenchmarkWebSocketCookieCached is a cached cookie token on a same-origin
// WebSocket handshake: the full origin check.
func BenchmarkWebSocketCookieCached(b *testing.B) {
	good := hsToken(b, validClaims())
	h := newTestMiddleware(b, func(c *Config) { c.TokenCookie = "st" }).Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	req := httptest.NewRequest(http.MethodGet, "http://api.test/v2/accounts/me/search", nil)
	req.AddCookie(&http.Cookie{Name: "st", Value: good})
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Sec-Fetch-Mode", "websocket")
	req.Header.Set("Origin", "http://api.test")
	benchServe(b, h, req)
}

// benchServe serves req through h b.N times after checking once that it is
// allowed.
func benchServe(b *testing.B, h http.Handler, req *http.Request) {
	b.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d, want 200: %s", rec.Code, rec.Body)
	}
	w := &discardWriter{h: make(http.Header)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

// discardWriter keeps nothing: what the benchmarks measure is the middleware.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// TestHTTP2WebSocketHandshake: over HTTP/2 a WebSocket handshake is an
// extended CONNECT (RFC 8441). A cookie token on a cross-site one is refused,
// as over HTTP/1.1; a WebSocketProtocol token, which the page offers itself,
// is not, as over HTTP/1.1 (found in review: CONNECT took the unsafe-method
// path for every source).
func TestHTTP2WebSocketHandshake(t *testing.T) {
	good := hsToken(t, validClaims())
	m := newTestMiddleware(t, func(c *Config) {
		c.TokenCookie = "st"
		c.TokenSources = []TokenSource{WebSocketProtocol{}}
	})
	cases := []struct {
		name   string
		cookie bool
		code   int
	}{
		{"cookie_cross_site", true, http.StatusForbidden},
		{"subprotocol_cross_site", false, http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// As net/http's HTTP/2 server builds an extended CONNECT: the
			// :path in URL.Path, the :authority in Host.
			req := httptest.NewRequest(http.MethodGet, "https://api.example/v2/accounts/me/search", nil)
			req.Method, req.RequestURI = http.MethodConnect, "/v2/accounts/me/search"
			req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/2.0", 2, 0
			req.Header.Set("Origin", "https://evil.test")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			req.Header.Set("Sec-Fetch-Mode", "websocket")
			if c.cookie {
				req.AddCookie(&http.Cookie{Name: "st", Value: good})
			} else {
				req.Header.Set("Sec-WebSocket-Protocol", "access_token, "+good)
			}
			res := serve(t, m, req)
			assert.Equal(t, c.code, res.code, res.body)
		})
	}
}
