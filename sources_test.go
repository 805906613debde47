package scopedtoken

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// headerSource is a custom source reading the token from header name; a value
// "malformed" is a credential it cannot read.
type headerSource struct {
	name string
	err  error // returned for "malformed"
}

func (s headerSource) FindToken(r *http.Request) (string, bool, error) {
	v := r.Header.Get(s.name)
	if v == "malformed" {
		return "", false, s.err
	}
	return v, v != "", nil
}

// WithoutToken removes the header from a copy of r.
func (s headerSource) WithoutToken(r *http.Request) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Header.Del(s.name)
	return r2
}

var errUnreadable = errors.New("secret detail: unreadable credential")

func TestCustomTokenSources(t *testing.T) {
	good := hsToken(t, validClaims())
	xToken := headerSource{name: "X-Token", err: errUnreadable}
	tests := []struct {
		name    string
		config  func(*Config)
		headers []string // name, value pairs
		target  string
		code    int
		reason  string
		is      error
	}{
		{name: "found", headers: []string{"X-Token", good}, code: http.StatusOK},
		{name: "not found", code: http.StatusUnauthorized, reason: "missing_token"},
		{name: "not found, credentials optional", config: func(c *Config) { c.CredentialsOptional = true }, code: http.StatusOK},
		{name: "invalid token", headers: []string{"X-Token", good + "x"}, code: http.StatusUnauthorized, reason: "bad_signature"},
		{name: "invalid token, credentials optional", config: func(c *Config) { c.CredentialsOptional = true },
			headers: []string{"X-Token", good + "x"}, code: http.StatusUnauthorized, reason: "bad_signature"},
		{name: "and the Authorization header", headers: []string{"X-Token", good, "Authorization", "Bearer " + good},
			code: http.StatusBadRequest, reason: "multiple_tokens"},
		{name: "and the query parameter", config: func(c *Config) { c.TokenQueryParam = "jwt" }, target: "/v2/accounts/me/search?jwt=" + good,
			headers: []string{"X-Token", good}, code: http.StatusBadRequest, reason: "multiple_tokens"},
		{name: "and the cookie", config: func(c *Config) { c.TokenCookie = "st" }, headers: []string{"X-Token", good, "Cookie", "st=" + good},
			code: http.StatusBadRequest, reason: "multiple_tokens"},
		{name: "two sources", config: func(c *Config) { c.TokenSources = append(c.TokenSources, headerSource{name: "X-Other"}) },
			headers: []string{"X-Token", good, "X-Other", good}, code: http.StatusBadRequest, reason: "multiple_tokens"},
		{name: "the second source", config: func(c *Config) { c.TokenSources = append(c.TokenSources, headerSource{name: "X-Other"}) },
			headers: []string{"X-Other", good}, code: http.StatusOK},
		{name: "malformed: a plain error", headers: []string{"X-Token", "malformed"}, code: http.StatusBadRequest, reason: "bad_credentials",
			is: errUnreadable},
		{name: "malformed: a plain error, credentials optional", config: func(c *Config) { c.CredentialsOptional = true },
			headers: []string{"X-Token", "malformed"}, code: http.StatusBadRequest, reason: "bad_credentials"},
		{name: "malformed: a package reason", config: func(c *Config) { c.TokenSources = []TokenSource{headerSource{name: "X-Token", err: ErrMultipleTokens}} },
			headers: []string{"X-Token", "malformed"}, code: http.StatusBadRequest, reason: "multiple_tokens"},
		{name: "malformed: an error of the user's own", config: func(c *Config) {
			c.TokenSources = []TokenSource{headerSource{name: "X-Token", err: NewError(ErrInvalidRequest, "bad_x_token", "X-Token is not a token.")}}
		}, headers: []string{"X-Token", "malformed"}, code: http.StatusBadRequest, reason: "bad_x_token"},
		{name: "malformed: a zero Error", config: func(c *Config) {
			c.TokenSources = []TokenSource{headerSource{name: "X-Token", err: &Error{}}}
		}, headers: []string{"X-Token", "malformed"}, code: http.StatusBadRequest, reason: "bad_credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var handled error
			m := newTestMiddleware(t, func(c *Config) {
				c.TokenSources = []TokenSource{xToken}
				c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
					handled = err
					mustMiddleware(t).WriteError(w, r, err)
				}
				if tc.config != nil {
					tc.config(c)
				}
			})
			target := tc.target
			if target == "" {
				target = "/v2/accounts/me/search"
			}
			req := bearer(target, "")
			for i := 0; i+1 < len(tc.headers); i += 2 {
				req.Header.Add(tc.headers[i], tc.headers[i+1])
			}
			before := req.Header.Clone()
			res := serve(t, m, req)
			assert.Equal(t, tc.code, res.code, res.body)
			assert.Equal(t, tc.reason, res.reason)
			assert.Equal(t, before, req.Header, "the caller's request is never changed")
			if tc.code != http.StatusOK {
				assertRefused(t, res, tc.code, tc.reason)
				assert.NotContains(t, res.body, "secret detail")
				assert.NotContains(t, res.body, good)
				if tc.is != nil {
					assert.ErrorIs(t, handled, tc.is, "the cause is reachable for logs")
				}
				return
			}
			assert.Empty(t, res.req.Header.Get("X-Token"), "the handler sees the request without the token")
			if len(tc.headers) > 0 {
				assert.NotNil(t, res.token)
			}
		})
	}
}

// TestCustomTokenSourceCrossOrigin: a custom source's token is checked like a
// cookie token, since a browser may send it by itself.
func TestCustomTokenSourceCrossOrigin(t *testing.T) {
	good := hsToken(t, validClaims())
	request := func(method string) *http.Request {
		req, err := http.NewRequest(method, "http://api.test/v2/accounts/me/search", nil)
		require.NoError(t, err)
		req.Header.Set("X-Token", good)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		return req
	}
	sources := func(c *Config) { c.TokenSources = []TokenSource{headerSource{name: "X-Token"}} }
	tests := []struct {
		name   string
		config func(*Config)
		method string
		code   int
	}{
		{name: "POST cross-site", config: sources, method: http.MethodPost, code: http.StatusForbidden},
		{name: "GET cross-site", config: sources, method: http.MethodGet, code: http.StatusOK},
		{name: "check turned off", config: func(c *Config) { sources(c); c.AllowCrossOriginCookie = true }, method: http.MethodPost, code: http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := serve(t, newTestMiddleware(t, tc.config), request(tc.method))
			assert.Equal(t, tc.code, res.code, res.body)
			if tc.code == http.StatusForbidden {
				assert.Equal(t, "cross_origin", res.reason)
			}
		})
	}
}

// TestTokenSourceKeepingTheRequest: a source whose WithoutToken returns the
// request unchanged, or nil (which means the same), lets it through as sent.
func TestTokenSourceKeepingTheRequest(t *testing.T) {
	good := hsToken(t, validClaims())
	for _, src := range []TokenSource{sameRequest{headerSource{name: "X-Token"}}, nilWithout{headerSource{name: "X-Token"}}} {
		m := newTestMiddleware(t, func(c *Config) { c.TokenSources = []TokenSource{src} })
		req := bearer("/v2/accounts/me/search", "")
		req.Header.Set("X-Token", good)
		res := serve(t, m, req)
		require.Equal(t, http.StatusOK, res.code, res.body)
		assert.Equal(t, good, res.req.Header.Get("X-Token"))
		require.NotNil(t, res.token)
		assert.Equal(t, "hs", res.token.KeyID())
	}
}

// sameRequest answers WithoutToken with the request itself.
type sameRequest struct{ headerSource }

func (sameRequest) WithoutToken(r *http.Request) *http.Request { return r }

// nilWithout answers WithoutToken with nil.
type nilWithout struct{ headerSource }

func (nilWithout) WithoutToken(*http.Request) *http.Request { return nil }

func TestTokenSourcesConfig(t *testing.T) {
	keys := testKeySet(t)
	tests := []struct {
		name    string
		sources []TokenSource
		want    string
	}{
		{name: "nil source", sources: []TokenSource{nil}, want: "TokenSources[0] is nil"},
		{name: "marker with a space", sources: []TokenSource{WebSocketProtocol{Marker: "access token"}}, want: "Marker"},
		{name: "marker with a comma", sources: []TokenSource{WebSocketProtocol{}, WebSocketProtocol{Marker: "a,b"}}, want: "TokenSources[1]"},
		{name: "too many", sources: make([]TokenSource, maxTokenSources+1), want: "more than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(Config{Keys: keys, TokenSources: tc.sources})
			assert.Nil(t, m)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	sources := []TokenSource{WebSocketProtocol{}}
	m, err := New(Config{Keys: keys, TokenSources: sources})
	require.NoError(t, err)
	sources[0] = nil
	assert.NotNil(t, m.sources[0], "New keeps its own copy of the list")
}

// TestWebSocketProtocol: the token is the element after the marker in the
// offered subprotocols, and the next handler sees them without it.
func TestWebSocketProtocol(t *testing.T) {
	good := hsToken(t, validClaims())
	expired := hsToken(t, with(func(c map[string]any) { c["exp"] = testNow.Unix() - 3600 }))
	tests := []struct {
		name     string
		marker   string
		lines    []string // Sec-WebSocket-Protocol lines
		auth     string
		code     int
		reason   string
		handlers string // the handler's Sec-WebSocket-Protocol
	}{
		{name: "marker and token", lines: []string{"access_token, " + good}, code: http.StatusOK, handlers: "access_token"},
		{name: "without spaces", lines: []string{"access_token," + good}, code: http.StatusOK, handlers: "access_token"},
		{name: "among other subprotocols", lines: []string{"chat.v2, access_token, " + good + ", chat.v1"}, code: http.StatusOK,
			handlers: "chat.v2, access_token, chat.v1"},
		{name: "on two header lines", lines: []string{"chat.v2", "access_token, " + good}, code: http.StatusOK, handlers: "chat.v2, access_token"},
		{name: "marker and token on two lines", lines: []string{"access_token", good}, code: http.StatusOK, handlers: "access_token"},
		{name: "marker in another case", lines: []string{"Access_Token, " + good}, code: http.StatusOK, handlers: "Access_Token"},
		{name: "another marker", marker: "bearer", lines: []string{"bearer, " + good}, code: http.StatusOK, handlers: "bearer"},
		{name: "the default marker is not another's", marker: "bearer", lines: []string{"access_token, " + good},
			code: http.StatusUnauthorized, reason: "missing_token"},
		{name: "no marker", lines: []string{"chat.v1"}, code: http.StatusUnauthorized, reason: "missing_token"},
		{name: "the token alone", lines: []string{good}, code: http.StatusUnauthorized, reason: "missing_token"},
		{name: "marker as the last element", lines: []string{good + ", access_token"}, code: http.StatusBadRequest, reason: "bad_credentials"},
		{name: "marker with an empty element after it", lines: []string{"access_token, , " + good}, code: http.StatusBadRequest, reason: "bad_credentials"},
		{name: "a token outside b64token", lines: []string{"access_token, " + good + "!"}, code: http.StatusBadRequest, reason: "bad_credentials"},
		{name: "marker twice", lines: []string{"access_token, " + good + ", access_token, " + good}, code: http.StatusBadRequest, reason: "multiple_tokens"},
		{name: "marker twice on two lines", lines: []string{"access_token, " + good, "access_token, " + good}, code: http.StatusBadRequest, reason: "multiple_tokens"},
		{name: "and the Authorization header", lines: []string{"access_token, " + good}, auth: "Bearer " + good,
			code: http.StatusBadRequest, reason: "multiple_tokens"},
		{name: "an expired token", lines: []string{"access_token, " + expired}, code: http.StatusUnauthorized, reason: "expired"},
		{name: "a forged token", lines: []string{"access_token, " + good[:len(good)-2] + "AA"}, code: http.StatusUnauthorized, reason: "bad_signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestMiddleware(t, func(c *Config) { c.TokenSources = []TokenSource{WebSocketProtocol{Marker: tc.marker}} })
			req := bearer("/v2/accounts/me/search", "")
			req.Header["Sec-Websocket-Protocol"] = tc.lines
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			before := req.Header.Clone()
			res := serve(t, m, req)
			assert.Equal(t, tc.code, res.code, res.body)
			assert.Equal(t, tc.reason, res.reason)
			assert.Equal(t, before, req.Header, "the caller's request is never changed")
			assert.NotContains(t, res.body, good)
			if tc.code != http.StatusOK {
				assertRefused(t, res, tc.code, tc.reason)
				return
			}
			require.NotNil(t, res.token)
			assert.Equal(t, []string{tc.handlers}, res.req.Header["Sec-Websocket-Protocol"])
			for name, values := range res.req.Header {
				assert.NotContains(t, strings.Join(values, ","), good, "the handler never sees the token, in %s", name)
			}
		})
	}
}

// FuzzWebSocketProtocol: on any Sec-WebSocket-Protocol lines, FindToken never
// panics, and when it finds a token the handler's view keeps every offered
// subprotocol but exactly that one element.
func FuzzWebSocketProtocol(f *testing.F) {
	f.Add("access_token, a.b.c", "chat")
	f.Add("chat,access_token", "a.b.c, x")
	f.Add("ACCESS_TOKEN,,a", "")
	f.Add(" , access_token ,\ta.b.c\t,", "access_token")
	src := WebSocketProtocol{}
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header["Sec-Websocket-Protocol"] = []string{line1, line2}
		before := req.Header.Clone()
		token, found, err := src.FindToken(req)
		if err != nil || !found {
			assert.Empty(t, token)
			return
		}
		require.True(t, isB64Token(token))
		all := offered(req.Header)
		kept := offered(src.WithoutToken(req).Header)
		assert.Equal(t, before, req.Header, "the caller's request is never changed")
		require.Len(t, kept, len(all)-1)
		rest := slices.Clone(all)
		rest = slices.Delete(rest, slices.Index(rest, token), slices.Index(rest, token)+1)
		slices.Sort(rest)
		slices.Sort(kept)
		assert.Equal(t, rest, kept)
	})
}

// offered lists the non-empty subprotocols of h, as a WebSocket library reads
// them.
func offered(h http.Header) []string {
	var out []string
	for _, line := range h["Sec-Websocket-Protocol"] {
		for p := range strings.SplitSeq(line, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// bearerHeaders are Authorization values of every shape around the scheme:
// case, tabs, several spaces, short values, the scheme alone, an empty token.
var bearerHeaders = []string{
	"Bearer abc", "bearer abc", "BEARER abc", "BeArEr a.b.c", "Bearer a", "Bearer  abc", "Bearer   ", "Bearer\tabc",
	"Bearer \tabc", "Bearer", "Bearer ", "Bearer  ", "Bearerx abc", "Bearer= abc", "Beare abc", "Bear", "", " ",
	" Bearer abc", "Basic abc", "Basic  abc", "Bea rer abc", "a b c d e", "abcdef g", "Bearer a b", "Bearer abc==",
	"Bearer ==", "Bearer\x00abc", "Bearer\u00a0abc", "B\u00e9arer abc", "Bearer abc ",
}

// FuzzParseBearer: parseBearer reads the scheme as the first space splits it
// (strings.Cut), whichever way it finds the space.
func FuzzParseBearer(f *testing.F) {
	for _, h := range bearerHeaders {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, v string) {
		token, hit, isBearer, e := parseBearer(v, nil)
		scheme, rest, hasSpace := strings.Cut(v, " ")
		var want struct {
			token    string
			isBearer bool
			e        *Error
		}
		switch {
		case !strings.EqualFold(scheme, "Bearer"):
		case !hasSpace || !isB64Token(rest):
			want.e = ErrBadCredentials
		default:
			want.token, want.isBearer = rest, true
		}
		if hit != nil || token != want.token || isBearer != want.isBearer || e != want.e {
			t.Fatalf("parseBearer(%q) = %q, %v, %v; want %q, %v, %v", v, token, isBearer, e, want.token, want.isBearer, want.e)
		}
	})
}

// TestIsB64Token: isB64Token agrees with the RFC 6750 b64token grammar read
// byte by byte, for every byte at every position of short credentials, with
// and without trailing '='.
func TestIsB64Token(t *testing.T) {
	model := func(s string) bool {
		body := strings.TrimRight(s, "=")
		if body == "" {
			return false
		}
		for i := 0; i < len(body); i++ {
			c := body[i]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~+/", c) >= 0) {
				return false
			}
		}
		return true
	}
	for c := range 256 {
		for n := 1; n < 10; n++ {
			for at := range n {
				b := []byte(strings.Repeat("a", n))
				b[at] = byte(c)
				for _, s := range []string{string(b), string(b) + "==", "=" + string(b)} {
					if got, want := isB64Token(s), model(s); got != want {
						t.Fatalf("isB64Token(%q) = %v, want %v", s, got, want)
					}
				}
			}
		}
	}
	assert.False(t, isB64Token(""))
	assert.False(t, isB64Token("=="))
}
