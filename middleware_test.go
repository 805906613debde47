package scopedtoken

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResponses checks the responses table of docs/configuration.md: status, WWW-Authenticate and the JSON
// body for each category.
func TestResponses(t *testing.T) {
	good := hsToken(t, validClaims())
	tests := []struct {
		name      string
		req       func() *http.Request
		keys      KeySet
		code      int
		challenge string
		body      map[string]string
	}{
		{name: "no token", req: func() *http.Request { return bearer("/v2/accounts/me/search", "") },
			code: http.StatusUnauthorized, challenge: `Bearer realm="api"`,
			body: map[string]string{"error": "invalid_token", "reason": "missing_token"}},
		{name: "invalid token", req: func() *http.Request { return bearer("/v2/accounts/me/search", good+"xx") },
			code: http.StatusUnauthorized, challenge: `Bearer realm="api", error="invalid_token", error_description="The token is not a well-formed compact JWS."`,
			body: map[string]string{"error": "invalid_token", "reason": "malformed_token"}},
		{name: "outside the audience", req: func() *http.Request { return bearer("/v2/accounts/me/answers", good) },
			code: http.StatusForbidden, challenge: `Bearer realm="api", error="insufficient_scope", error_description="The request path is outside every audience of the token."`,
			body: map[string]string{"error": "insufficient_scope", "reason": "audience_mismatch"}},
		{name: "malformed request", req: func() *http.Request { return bearer("/v2/accounts/me/search/%2e%2e", good) },
			code: http.StatusBadRequest, challenge: `Bearer realm="api", error="invalid_request", error_description="The request path is ambiguous (empty, dot or encoded separator segments)."`,
			body: map[string]string{"error": "invalid_request", "reason": "bad_path"}},
		{name: "keys unavailable", req: func() *http.Request { return bearer("/v2/accounts/me/search", good) },
			keys: unavailableKeys{}, code: http.StatusServiceUnavailable,
			challenge: `Bearer realm="api", error="temporarily_unavailable", error_description="The verification keys cannot be fetched right now."`,
			body:      map[string]string{"error": "temporarily_unavailable", "reason": "keys_unavailable"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestMiddleware(t, func(c *Config) {
				if tc.keys != nil {
					c.Keys = tc.keys
				}
			})
			res := serve(t, m, tc.req())
			assert.Equal(t, tc.code, res.code)
			assert.False(t, res.ran)
			assert.Equal(t, tc.challenge, res.header.Get("WWW-Authenticate"))
			assert.Equal(t, "application/json", res.header.Get("Content-Type"))
			assert.Equal(t, "no-store", res.header.Get("Cache-Control"))
			var body map[string]string
			require.NoError(t, json.Unmarshal([]byte(res.body), &body))
			assert.Equal(t, tc.body["error"], body["error"])
			assert.Equal(t, tc.body["reason"], body["reason"])
			assert.NotEmpty(t, body["message"])
			assert.NotContains(t, res.body, good, "the token never appears in a response")
			if tc.code == http.StatusServiceUnavailable {
				assert.Equal(t, "10", res.header.Get("Retry-After"))
			} else {
				assert.Empty(t, res.header.Get("Retry-After"))
			}
		})
	}
}

// unavailableKeys is a KeySet whose source is down.
type unavailableKeys struct{}

func (unavailableKeys) LookupKey(context.Context, string) (*VerificationKey, error) {
	return nil, errors.Join(ErrKeysUnavailable, errors.New("connection refused"))
}

// TestRealmAndRetryAfter: both are configurable.
func TestRealmAndRetryAfter(t *testing.T) {
	m := newTestMiddleware(t, func(c *Config) {
		c.Realm, c.RetryAfter, c.Keys = "search", 90*time.Second, unavailableKeys{}
	})
	res := serve(t, m, bearer("/v2/accounts/me/search", hsToken(t, validClaims())))
	assert.True(t, strings.HasPrefix(res.header.Get("WWW-Authenticate"), `Bearer realm="search", `))
	assert.Equal(t, "90", res.header.Get("Retry-After"))
}

func TestCredentialsSyntax(t *testing.T) {
	good := hsToken(t, validClaims())
	tests := []struct {
		name    string
		headers []string
		code    int
		reason  string
	}{
		{name: "Bearer", headers: []string{"Bearer " + good}, code: http.StatusOK},
		{name: "scheme in lower case", headers: []string{"bearer " + good}, code: http.StatusOK},
		{name: "scheme in mixed case", headers: []string{"bEaReR " + good}, code: http.StatusOK},
		{name: "two spaces", headers: []string{"Bearer  " + good}, code: http.StatusBadRequest, reason: "bad_credentials"},
		{name: "tab instead of space", headers: []string{"Bearer\t" + good}, code: http.StatusUnauthorized, reason: "missing_token"},
		{name: "scheme only", headers: []string{"Bearer"}, code: http.StatusBadRequest, reason: "bad_credentials"},
		{name: "scheme and space only", headers: []string{"Bearer "}, code: http.StatusBadRequest, reason: "bad_credentials"},
		{name: "trailing word", headers: []string{"Bearer " + good + " x"}, code: http.StatusBadRequest, reason: "bad_credentials"},
		{name: "character outside b64token", headers: []string{"Bearer " + good + "!"}, code: http.StatusBadRequest, reason: "bad_credentials"},
		{name: "equals sign in the middle", headers: []string{"Bearer a=b"}, code: http.StatusBadRequest, reason: "bad_credentials"},
		{name: "b64token padding passes syntax, fails the token", headers: []string{"Bearer " + good + "=="}, code: http.StatusUnauthorized, reason: "malformed_token"},
		{name: "b64token standard alphabet fails the token", headers: []string{"Bearer " + strings.Replace(good, "-", "+", 1) + "/"}, code: http.StatusUnauthorized, reason: "malformed_token"},
		{name: "two Authorization headers", headers: []string{"Bearer " + good, "Bearer " + good}, code: http.StatusBadRequest, reason: "multiple_tokens"},
		{name: "another scheme is no token", headers: []string{"Basic dXNlcjpwYXNz"}, code: http.StatusUnauthorized, reason: "missing_token"},
		{name: "empty header is no token", headers: []string{""}, code: http.StatusUnauthorized, reason: "missing_token"},
		{name: "scheme prefix only", headers: []string{"Bearerx " + good}, code: http.StatusUnauthorized, reason: "missing_token"},
	}
	m := newTestMiddleware(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := bearer("/v2/accounts/me/search", "")
			req.Header["Authorization"] = tc.headers
			res := serve(t, m, req)
			assert.Equal(t, tc.code, res.code, res.body)
			assert.Equal(t, tc.reason, res.reason)
			assert.Equal(t, tc.code == http.StatusOK, res.ran)
			if tc.code == http.StatusBadRequest {
				assert.Contains(t, res.header.Get("WWW-Authenticate"), `error="invalid_request"`)
			}
		})
	}
}

func TestTokenSources(t *testing.T) {
	good := hsToken(t, validClaims())
	tests := []struct {
		name      string
		config    func(*Config)
		target    string
		header    string
		cookies   []string
		code      int
		reason    string
		wantQuery string
	}{
		{name: "query parameter off by default", target: "/v2/accounts/me/search?jwt=" + good, code: http.StatusUnauthorized, reason: "missing_token"},
		{name: "query parameter", config: func(c *Config) { c.TokenQueryParam = "jwt" },
			target: "/v2/accounts/me/search?a=1&jwt=" + good + "&b=2", code: http.StatusOK, wantQuery: "a=1&b=2"},
		{name: "query parameter twice", config: func(c *Config) { c.TokenQueryParam = "jwt" },
			target: "/v2/accounts/me/search?jwt=" + good + "&jwt=" + good, code: http.StatusBadRequest, reason: "multiple_tokens"},
		{name: "query parameter and header", config: func(c *Config) { c.TokenQueryParam = "jwt" },
			target: "/v2/accounts/me/search?jwt=" + good, header: "Bearer " + good, code: http.StatusBadRequest, reason: "multiple_tokens"},
		{name: "query parameter and another scheme", config: func(c *Config) { c.TokenQueryParam = "jwt" },
			target: "/v2/accounts/me/search?jwt=" + good, header: "Basic eDp5", code: http.StatusOK, wantQuery: ""},
		{name: "cookie off by default", cookies: []string{"st=" + good}, code: http.StatusUnauthorized, reason: "missing_token"},
		{name: "cookie", config: func(c *Config) { c.TokenCookie = "st" }, cookies: []string{"st=" + good}, code: http.StatusOK},
		{name: "cookie twice", config: func(c *Config) { c.TokenCookie = "st" }, cookies: []string{"st=" + good, "st=" + good},
			code: http.StatusBadRequest, reason: "multiple_tokens"},
		{name: "cookie and header", config: func(c *Config) { c.TokenCookie = "st" }, cookies: []string{"st=" + good},
			header: "Bearer " + good, code: http.StatusBadRequest, reason: "multiple_tokens"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestMiddleware(t, tc.config)
			target := tc.target
			if target == "" {
				target = "/v2/accounts/me/search"
			}
			req := bearer(target, "")
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			for _, c := range tc.cookies {
				req.Header.Add("Cookie", c)
			}
			res := serve(t, m, req)
			assert.Equal(t, tc.code, res.code, res.body)
			assert.Equal(t, tc.reason, res.reason)
			if tc.code == http.StatusOK {
				assert.Equal(t, tc.wantQuery, res.req.URL.RawQuery, "the token parameter is removed")
				assert.NotContains(t, res.req.RequestURI, good, "the token is not left in RequestURI")
			}
		})
	}
}

// TestTokenPerRequest: docs/security.md — each request gets its own *Token, even from
// the cache; a handler that changes it affects no other request.
func TestTokenPerRequest(t *testing.T) {
	m := newTestMiddleware(t, nil)
	claims := with(func(c map[string]any) {
		c["aud"] = []string{"/v2/accounts/me/search", "/v2/accounts/me/answers"}
		c["query"] = map[string]any{"k": []string{"a", "b"}}
	})
	token := hsToken(t, claims)
	var first *Token
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := FromContext(r.Context())
		require.True(t, ok)
		if first == nil {
			first = tok
			aud := tok.Audience()
			aud[0] = "changed"
			_ = append(aud[:1], "appended")
			tok.Query().Values("k")[0] = "changed"
			all := tok.Query().URLValues()
			all["k"][0] = "changed"
			all.Set("new", "x")
			tok.Query().Names()[0] = "changed"
			*tok = Token{} // this request's own view
		}
	}))
	for range 2 {
		h.ServeHTTP(httptest.NewRecorder(), bearer("/v2/accounts/me/search", token))
	}
	second, err := m.Verify(t.Context(), token, "/v2/accounts/me/search")
	require.NoError(t, err)
	assert.Equal(t, []string{"/v2/accounts/me/search", "/v2/accounts/me/answers"}, second.Audience())
	assert.Equal(t, []string{"a", "b"}, second.Query().Values("k"))
	assert.Equal(t, url.Values{"k": {"a", "b"}}, second.Query().URLValues())
	assert.Equal(t, "", second.BusinessID())
	assert.NotSame(t, first, second)
}

func TestTokenFields(t *testing.T) {
	m := newTestMiddleware(t, nil)
	claims := with(func(c map[string]any) {
		c["iss"], c["sub"], c["jti"] = "issuer", "subject", "id-1"
		c["nbf"], c["iat"] = testNow.Add(-time.Minute).Unix(), testNow.Add(-time.Minute).Unix()
		c["tenant"] = map[string]any{"plan": "pro", "seats": 3}
	})
	tok, err := m.Verify(t.Context(), hsToken(t, claims), "/v2/accounts/me/search")
	require.NoError(t, err)
	assert.Equal(t, "hs", tok.KeyID())
	assert.Equal(t, "HS256", tok.Algorithm())
	assert.Equal(t, []string{"/v2/accounts/me/search"}, tok.Audience())
	assert.Equal(t, testNow.Add(time.Minute).Unix(), tok.ExpiresAt().Unix())
	assert.Equal(t, testNow.Add(-time.Minute).Unix(), tok.NotBefore().Unix())
	assert.Equal(t, testNow.Add(-time.Minute).Unix(), tok.IssuedAt().Unix())
	assert.Equal(t, "issuer", tok.Issuer())
	assert.Equal(t, "subject", tok.Subject())
	assert.Equal(t, "id-1", tok.ID())
	assert.Zero(t, tok.Query().Len())
	assert.Nil(t, tok.Query().URLValues())
	var custom struct {
		Tenant struct {
			Plan  string
			Seats int
		}
		Sub string
	}
	require.NoError(t, tok.DecodeClaims(&custom))
	assert.Equal(t, "pro", custom.Tenant.Plan)
	assert.Equal(t, 3, custom.Tenant.Seats)
	assert.Equal(t, "subject", custom.Sub)

	noExp, err := newTestMiddleware(t, func(c *Config) { c.AllowMissingExp = true }).
		Verify(t.Context(), hsToken(t, with(func(c map[string]any) { delete(c, "exp") })), "/v2/accounts/me/search")
	require.NoError(t, err)
	assert.True(t, noExp.ExpiresAt().IsZero(), "zero when the token has no exp")
}

func TestFromContextWithoutMiddleware(t *testing.T) {
	tok, ok := FromContext(context.Background())
	assert.False(t, ok)
	assert.Nil(t, tok)
}

func TestErrorsAreValues(t *testing.T) {
	m := newTestMiddleware(t, nil)
	_, err := m.Verify(t.Context(), hsToken(t, with(func(c map[string]any) { c["exp"] = testNow.Add(-time.Hour).Unix() })), "/v2/accounts/me/search")
	assert.ErrorIs(t, err, ErrExpired)
	assert.ErrorIs(t, err, ErrInvalidToken)
	assert.NotErrorIs(t, err, ErrInsufficientScope)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "expired", e.Reason())
	assert.Equal(t, http.StatusUnauthorized, e.Status())

	_, err = m.Verify(t.Context(), hsToken(t, validClaims()), "/v2/accounts/me/answers")
	assert.ErrorIs(t, err, ErrAudienceMismatch)
	assert.ErrorIs(t, err, ErrInsufficientScope)

	_, err = newTestMiddleware(t, func(c *Config) { c.Keys = unavailableKeys{} }).Verify(t.Context(), hsToken(t, validClaims()), "/v2/accounts/me/search")
	assert.ErrorIs(t, err, ErrKeysUnavailable)
	assert.Contains(t, errors.Unwrap(err).Error(), "connection refused", "the cause stays reachable")

	for _, r := range reasons {
		assert.Regexp(t, `^[a-z_]+$`, r.Reason())
		assert.True(t, validReasonCode(r.Reason()), r.Reason())
		assert.True(t, strings.HasSuffix(r.Message(), "."), "messages are sentences")
	}
}

func TestCustomErrorHandler(t *testing.T) {
	var got error
	m := newTestMiddleware(t, func(c *Config) {
		c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			if errors.Is(err, ErrMissingToken) {
				http.Redirect(w, r, "/login", http.StatusFound)
				return
			}
			// Everything else: the standard response.
			mw := mustMiddleware(t)
			mw.WriteError(w, r, err)
		}
	})
	res := serve(t, m, bearer("/v2/accounts/me/search", ""))
	assert.Equal(t, http.StatusFound, res.code)
	assert.ErrorIs(t, got, ErrMissingToken)
	res = serve(t, m, bearer("/v2/accounts/me/answers", hsToken(t, validClaims())))
	assert.Equal(t, http.StatusForbidden, res.code)
	assert.ErrorIs(t, got, ErrAudienceMismatch)
}

func mustMiddleware(t *testing.T) *Middleware { return newTestMiddleware(t, nil) }

func TestOnDecision(t *testing.T) {
	var got []Decision
	m := newTestMiddleware(t, func(c *Config) { c.OnDecision = func(_ context.Context, d Decision) { got = append(got, d) } })
	token := hsToken(t, validClaims())
	serve(t, m, bearer("/v2/accounts/me/search", token))
	serve(t, m, bearer("/v2/accounts/me/search", token))
	serve(t, m, bearer("/v2/accounts/me/answers", token))
	serve(t, m, bearer("/v2/accounts/me/search", ""))
	require.Len(t, got, 4)
	assert.Equal(t, Decision{Allowed: true, KeyID: "hs", Path: "/v2/accounts/me/search", Duration: got[0].Duration}, got[0])
	assert.Equal(t, Decision{Allowed: true, KeyID: "hs", Path: "/v2/accounts/me/search", Cached: true, Duration: got[1].Duration}, got[1])
	assert.Equal(t, http.StatusForbidden, got[2].Status)
	assert.Equal(t, "audience_mismatch", got[2].Reason)
	assert.ErrorIs(t, got[2].Err, ErrAudienceMismatch)
	assert.Equal(t, "missing_token", got[3].Reason)
	for _, d := range got {
		assert.NotContains(t, strings.Join([]string{d.KeyID, d.Path, d.Reason}, " "), token)
	}
}

func TestPreflight(t *testing.T) {
	preflight := func(headers ...string) *http.Request {
		req := httptest.NewRequest(http.MethodOptions, "/v2/accounts/me/search", nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Add(headers[i], headers[i+1])
		}
		return req
	}
	real := func() *http.Request {
		return preflight("Origin", "https://site.test", "Access-Control-Request-Method", "GET")
	}
	off := serve(t, newTestMiddleware(t, nil), real())
	assert.Equal(t, http.StatusUnauthorized, off.code, "off by default")

	on := newTestMiddleware(t, func(c *Config) { c.AllowPreflight = true })
	res := serve(t, on, real())
	assert.Equal(t, http.StatusOK, res.code)
	assert.Nil(t, res.token, "no token in a preflight's context")

	// Each of these is no real preflight, so it needs a token like any request.
	fakes := []struct {
		name string
		req  *http.Request
	}{
		{"no Access-Control-Request-Method", preflight("Origin", "https://site.test")},
		{"empty Access-Control-Request-Method, no Origin", preflight("Access-Control-Request-Method", "")},
		{"empty Access-Control-Request-Method", preflight("Origin", "https://site.test", "Access-Control-Request-Method", "")},
		{"no Origin", preflight("Access-Control-Request-Method", "GET")},
		{"empty Origin", preflight("Origin", "", "Access-Control-Request-Method", "GET")},
		{"two Origins", preflight("Origin", "https://a.test", "Origin", "https://b.test", "Access-Control-Request-Method", "GET")},
		{"two methods", preflight("Origin", "https://site.test", "Access-Control-Request-Method", "GET", "Access-Control-Request-Method", "POST")},
		{"method with a space", preflight("Origin", "https://site.test", "Access-Control-Request-Method", "GET POST")},
		{"method with a comma", preflight("Origin", "https://site.test", "Access-Control-Request-Method", "GET,POST")},
		{"method with a slash", preflight("Origin", "https://site.test", "Access-Control-Request-Method", "GET/")},
		{"GET with preflight headers", func() *http.Request {
			r := real()
			r.Method = http.MethodGet
			return r
		}()},
	}
	for _, tt := range fakes {
		t.Run(tt.name, func(t *testing.T) {
			res := serve(t, on, tt.req)
			assert.Equal(t, http.StatusUnauthorized, res.code)
			assert.Equal(t, "missing_token", res.reason)
			assert.False(t, res.ran, "the next handler must not run")
		})
	}
}

func TestCrossOriginCookie(t *testing.T) {
	good := hsToken(t, validClaims())
	trusted := http.NewCrossOriginProtection()
	require.NoError(t, trusted.AddTrustedOrigin("https://app.test"))
	withCookie := func(edit func(*Config)) *Middleware {
		return newTestMiddleware(t, func(c *Config) {
			c.TokenCookie = "st"
			if edit != nil {
				edit(c)
			}
		})
	}
	request := func(method string, cookie bool, headers ...string) *http.Request {
		req := httptest.NewRequest(method, "http://api.test/v2/accounts/me/search", nil)
		if cookie {
			req.AddCookie(&http.Cookie{Name: "st", Value: good})
		} else {
			req.Header.Set("Authorization", "Bearer "+good)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return req
	}
	tests := []struct {
		name   string
		m      *Middleware
		req    *http.Request
		code   int
		reason string
	}{
		{"POST cross-site by Sec-Fetch-Site", withCookie(nil), request(http.MethodPost, true, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden, "cross_origin"},
		{"PUT same-site other origin", withCookie(nil), request(http.MethodPut, true, "Sec-Fetch-Site", "same-site"), http.StatusForbidden, "cross_origin"},
		{"DELETE by Origin only", withCookie(nil), request(http.MethodDelete, true, "Origin", "https://evil.test"), http.StatusForbidden, "cross_origin"},
		{"POST same-origin", withCookie(nil), request(http.MethodPost, true, "Sec-Fetch-Site", "same-origin"), http.StatusOK, ""},
		{"POST with matching Origin", withCookie(nil), request(http.MethodPost, true, "Origin", "http://api.test"), http.StatusOK, ""},
		{"POST without browser headers (not a browser)", withCookie(nil), request(http.MethodPost, true), http.StatusOK, ""},
		{"GET cross-site is safe", withCookie(nil), request(http.MethodGet, true, "Sec-Fetch-Site", "cross-site"), http.StatusOK, ""},
		{"POST cross-site with a header token", withCookie(nil), request(http.MethodPost, false, "Sec-Fetch-Site", "cross-site"), http.StatusOK, ""},
		{"trusted origin", withCookie(func(c *Config) { c.CrossOriginProtection = trusted }),
			request(http.MethodPost, true, "Sec-Fetch-Site", "cross-site", "Origin", "https://app.test"), http.StatusOK, ""},
		{"untrusted origin with a custom protection", withCookie(func(c *Config) { c.CrossOriginProtection = trusted }),
			request(http.MethodPost, true, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.test"), http.StatusForbidden, "cross_origin"},
		{"protection turned off", withCookie(func(c *Config) { c.AllowCrossOriginCookie = true }),
			request(http.MethodPost, true, "Sec-Fetch-Site", "cross-site"), http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := serve(t, tt.m, tt.req)
			assert.Equal(t, tt.code, res.code)
			assert.Equal(t, tt.reason, res.reason)
			assert.Equal(t, tt.code == http.StatusOK, res.ran)
			if tt.code == http.StatusForbidden {
				assert.Contains(t, res.header.Get("WWW-Authenticate"), `error="insufficient_scope"`)
				assert.NotContains(t, res.body, good)
			}
		})
	}
	t.Run("a bad cookie token is refused as invalid before the origin check", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "http://api.test/v2/accounts/me/search", nil)
		req.AddCookie(&http.Cookie{Name: "st", Value: good + "x"})
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		assert.Equal(t, http.StatusUnauthorized, serve(t, withCookie(nil), req).code)
	})
}

func TestConfigValidation(t *testing.T) {
	keys := testKeySet(t)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "no keys", cfg: Config{}, want: "Keys is required"},
		{name: "nil key set pointer", cfg: Config{Keys: (*combinedKeys)(nil)}, want: "Keys is required"},
		{name: "nil revocation store pointer", cfg: Config{Keys: keys, Revocations: (*MemoryRevocations)(nil)}, want: "nil pointer"},
		{name: "prefix without slashes", cfg: Config{Keys: keys, Prefix: "v2"}, want: "Prefix"},
		{name: "prefix with empty segment", cfg: Config{Keys: keys, Prefix: "/v2//"}, want: "Prefix"},
		{name: "negative MaxTokenBytes", cfg: Config{Keys: keys, MaxTokenBytes: -1}, want: "MaxTokenBytes"},
		{name: "too many query params", cfg: Config{Keys: keys, MaxQueryParams: 65}, want: "MaxQueryParams"},
		{name: "unknown query mode", cfg: Config{Keys: keys, QueryMode: 7}, want: "QueryMode"},
		{name: "token parameter with separator", cfg: Config{Keys: keys, TokenQueryParam: "a&b"}, want: "TokenQueryParam"},
		{name: "negative lifetime", cfg: Config{Keys: keys, MaxLifetime: -time.Second}, want: "MaxLifetime"},
		{name: "lifetime plus leeway overflows", cfg: Config{Keys: keys, MaxLifetime: math.MaxInt64 - time.Second, Leeway: time.Minute},
			want: "overflows"},
		{name: "realm with a quote-breaking byte", cfg: Config{Keys: keys, Realm: "a\nb"}, want: "Realm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.cfg)
			assert.Nil(t, m)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestNoCacheStillWorks runs the same token twice with the cache off.
func TestNoCacheStillWorks(t *testing.T) {
	var cached []bool
	m := newTestMiddleware(t, func(c *Config) {
		c.CacheSize = -1
		c.OnDecision = func(_ context.Context, d Decision) { cached = append(cached, d.Cached) }
	})
	token := hsToken(t, validClaims())
	for range 2 {
		assert.Equal(t, http.StatusOK, serve(t, m, bearer("/v2/accounts/me/search", token)).code)
	}
	assert.Equal(t, []bool{false, false}, cached)
	assert.Nil(t, m.cache)
}
