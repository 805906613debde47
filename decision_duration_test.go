package scopedtoken

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowKeys delays every lookup, standing in for a key set that waits for a
// fetch.
type slowKeys struct {
	KeySet
	delay time.Duration
}

func (s slowKeys) LookupKey(ctx context.Context, kid string) (*VerificationKey, error) {
	time.Sleep(s.delay)
	return s.KeySet.LookupKey(ctx, kid)
}

// TestDecisionDuration checks what Decision.Duration covers: the key lookup
// (here slowed down), whether the request is allowed, refused after the
// lookup or by Check, or served from the cache, and that the decision is
// reported before the next handler or the error handler runs, so neither is
// counted.
func TestDecisionDuration(t *testing.T) {
	const delay = 20 * time.Millisecond
	var events []string
	var got []Decision
	m := newTestMiddleware(t, func(c *Config) {
		c.Keys = slowKeys{KeySet: c.Keys, delay: delay}
		c.OnDecision = func(_ context.Context, d Decision) { events = append(events, "decision"); got = append(got, d) }
		c.Check = func(r *http.Request, _ *Token) error {
			if r.URL.Query().Has("deny") {
				return errors.New("denied")
			}
			return nil
		}
		c.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) {
			events = append(events, "error handler")
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { events = append(events, "next") }))
	token := hsToken(t, validClaims())
	badSig := token[:len(token)-2] + "AA"
	tests := []struct {
		name, token, query string
		allowed            bool
		cached             bool
		event              string
	}{
		{name: "allowed", token: token, allowed: true, event: "next"},
		{name: "allowed from the cache (which still looks the key up)", token: token, allowed: true, cached: true, event: "next"},
		{name: "refused after the lookup", token: badSig, event: "error handler"},
		{name: "refused by Check", token: token, query: "?deny", cached: true, event: "error handler"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events, got = nil, nil
			h.ServeHTTP(httptest.NewRecorder(), bearer("/v2/accounts/me/search"+tc.query, tc.token))
			require.Len(t, got, 1)
			assert.Equal(t, tc.allowed, got[0].Allowed)
			assert.Equal(t, tc.cached, got[0].Cached)
			assert.GreaterOrEqual(t, got[0].Duration, delay, "the key lookup is part of the decision")
			assert.Equal(t, []string{"decision", tc.event}, events, "the decision comes before the handler")
		})
	}
}

// TestDecisionDurationAnonymous checks that a request let through without a
// token (CredentialsOptional) has its decision timed too.
func TestDecisionDurationAnonymous(t *testing.T) {
	var got []Decision
	m := newTestMiddleware(t, func(c *Config) {
		c.CredentialsOptional = true
		c.OnDecision = func(_ context.Context, d Decision) { got = append(got, d) }
	})
	res := serve(t, m, bearer("/v2/accounts/me/search", ""))
	require.Equal(t, http.StatusOK, res.code)
	require.Len(t, got, 1)
	assert.True(t, got[0].Anonymous)
	assert.Positive(t, got[0].Duration)
}
