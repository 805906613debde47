package scopedtoken

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCredentialsOptional: a request with no token at all passes without one;
// a request that carries one, valid or not, is checked as always.
func TestCredentialsOptional(t *testing.T) {
	good := hsToken(t, validClaims())
	expired := hsToken(t, with(func(c map[string]any) { c["exp"] = testNow.Add(-time.Hour).Unix() }))
	optional := func(c *Config) { c.CredentialsOptional = true }
	tests := []struct {
		name    string
		config  func(*Config)
		target  string
		headers []string // Authorization header lines
		cookie  string
		keys    KeySet
		code    int
		reason  string
		token   bool // the next handler finds a token
	}{
		{name: "off by default", code: http.StatusUnauthorized, reason: "missing_token"},
		{name: "no token", config: optional, code: http.StatusOK},
		{name: "another scheme counts as no token", config: optional, headers: []string{"Basic dXNlcjpwYXNz"}, code: http.StatusOK},
		{name: "an empty Authorization header counts as no token", config: optional, headers: []string{""}, code: http.StatusOK},
		{name: "valid token", config: optional, headers: []string{"Bearer " + good}, code: http.StatusOK, token: true},
		{name: "expired token", config: optional, headers: []string{"Bearer " + expired}, code: http.StatusUnauthorized, reason: "expired"},
		{name: "bad signature", config: optional, headers: []string{"Bearer " + good[:len(good)-2] + "AA"}, code: http.StatusUnauthorized, reason: "bad_signature"},
		{name: "outside the audience", config: optional, target: "/v2/accounts/me/answers", headers: []string{"Bearer " + good},
			code: http.StatusForbidden, reason: "audience_mismatch"},
		{name: "Bearer without a token is malformed", config: optional, headers: []string{"Bearer "}, code: http.StatusBadRequest, reason: "bad_credentials"},
		{name: "two Authorization headers", config: optional, headers: []string{"Basic eDp5", "Basic eDp5"}, code: http.StatusBadRequest, reason: "multiple_tokens"},
		{name: "empty query token is a token", config: func(c *Config) { c.CredentialsOptional, c.TokenQueryParam = true, "jwt" },
			target: "/v2/accounts/me/search?jwt=", code: http.StatusUnauthorized, reason: "malformed_token"},
		{name: "bad cookie token", config: func(c *Config) { c.CredentialsOptional, c.TokenCookie = true, "st" },
			cookie: "st=x", code: http.StatusUnauthorized, reason: "malformed_token"},
		{name: "keys unavailable with a token", config: optional, keys: unavailableKeys{}, headers: []string{"Bearer " + good},
			code: http.StatusServiceUnavailable, reason: "keys_unavailable"},
		{name: "keys unavailable without a token", config: optional, keys: unavailableKeys{}, code: http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var decisions []Decision
			m := newTestMiddleware(t, func(c *Config) {
				if tc.config != nil {
					tc.config(c)
				}
				if tc.keys != nil {
					c.Keys = tc.keys
				}
				c.OnDecision = func(_ context.Context, d Decision) { decisions = append(decisions, d) }
			})
			target := tc.target
			if target == "" {
				target = "/v2/accounts/me/search"
			}
			req := bearer(target, "")
			if tc.headers != nil {
				req.Header["Authorization"] = tc.headers
			}
			if tc.cookie != "" {
				req.Header.Set("Cookie", tc.cookie)
			}
			res := serve(t, m, req)
			assert.Equal(t, tc.code, res.code, res.body)
			assert.Equal(t, tc.reason, res.reason)
			assert.Equal(t, tc.code == http.StatusOK, res.ran)
			assert.Equal(t, tc.token, res.token != nil)
			require.Len(t, decisions, 1)
			d := decisions[0]
			assert.Equal(t, tc.code == http.StatusOK, d.Allowed)
			assert.Equal(t, tc.code == http.StatusOK && !tc.token, d.Anonymous, "Anonymous marks exactly the requests let through without a token")
			if d.Anonymous {
				assert.Equal(t, Decision{Allowed: true, Anonymous: true, Path: "/v2/accounts/me/search", Duration: d.Duration}, d)
				assert.Equal(t, tc.headers, res.req.Header["Authorization"], "another scheme's credentials reach the handler as sent")
			}
		})
	}
}

// TestCredentialsOptionalHidesOuterToken: a request that this middleware let
// through without a token has none in its context, even when an outer
// middleware put one there.
func TestCredentialsOptionalHidesOuterToken(t *testing.T) {
	outer, err := newTestMiddleware(t, nil).Verify(t.Context(), hsToken(t, validClaims()), "/v2/accounts/me/search")
	require.NoError(t, err)
	m := newTestMiddleware(t, func(c *Config) { c.CredentialsOptional = true })
	req := bearer("/v2/accounts/me/search", "")
	req = req.WithContext(context.WithValue(req.Context(), contextKey{}, outer))
	res := serve(t, m, req)
	assert.Equal(t, http.StatusOK, res.code)
	assert.Nil(t, res.token, "FromContext returns false for an anonymous request")
}
