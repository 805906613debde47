package scopedtoken

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requestMark is a context key that marks the context a test request
// carries, so that OnDecision can be shown to receive that very context.
type requestMark struct{}

// TestOnDecisionContext checks that OnDecision receives the request's own
// context for every kind of decision, so that traces and exemplars can point
// at the request (docs/metrics.md, "Traces"), and that a preflight let
// through by AllowPreflight is reported as one.
func TestOnDecisionContext(t *testing.T) {
	token := hsToken(t, validClaims())
	preflight := func() *http.Request {
		r := bearer("/v2/accounts/me/search", "")
		r.Method = http.MethodOptions
		r.Header.Set("Origin", "https://site.test")
		r.Header.Set("Access-Control-Request-Method", "GET")
		return r
	}
	tests := []struct {
		name string
		req  *http.Request
		want Decision // Duration and Err are not compared
	}{
		{"allowed", bearer("/v2/accounts/me/search", token),
			Decision{Allowed: true, KeyID: "hs", Path: "/v2/accounts/me/search"}},
		{"refused", bearer("/v2/accounts/me/answers", token),
			Decision{Status: http.StatusForbidden, Reason: "audience_mismatch", KeyID: "hs", Path: "/v2/accounts/me/answers", Cached: true}},
		{"anonymous", bearer("/v2/accounts/me/search", ""),
			Decision{Allowed: true, Anonymous: true, Path: "/v2/accounts/me/search"}},
		{"preflight", preflight(),
			Decision{Allowed: true, Preflight: true, Path: "/v2/accounts/me/search"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Decision
			var marks []any
			m := newTestMiddleware(t, func(c *Config) {
				c.AllowPreflight = true
				c.CredentialsOptional = true
				c.OnDecision = func(ctx context.Context, d Decision) {
					marks = append(marks, ctx.Value(requestMark{}))
					got = append(got, d)
				}
			})
			if tt.want.Cached { // make the token's verification cached first
				serve(t, m, bearer("/v2/accounts/me/search", token))
				got, marks = nil, nil
			}
			req := tt.req.WithContext(context.WithValue(tt.req.Context(), requestMark{}, tt.name))
			serve(t, m, req)
			require.Len(t, got, 1)
			assert.Equal(t, tt.name, marks[0], "OnDecision gets the request's context")
			got[0].Duration, got[0].Err = 0, nil
			assert.Equal(t, tt.want, got[0])
		})
	}
}

// TestPreflightNotReportedWhenOff checks that a preflight is not reported
// without AllowPreflight: it is then an ordinary request, refused for its
// missing token.
func TestPreflightNotReportedWhenOff(t *testing.T) {
	var got []Decision
	m := newTestMiddleware(t, func(c *Config) {
		c.OnDecision = func(_ context.Context, d Decision) { got = append(got, d) }
	})
	r := bearer("/v2/accounts/me/search", "")
	r.Method = http.MethodOptions
	r.Header.Set("Origin", "https://site.test")
	r.Header.Set("Access-Control-Request-Method", "GET")
	serve(t, m, r)
	require.Len(t, got, 1)
	assert.False(t, got[0].Preflight)
	assert.Equal(t, "missing_token", got[0].Reason)
}
