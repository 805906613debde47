package jwks

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// The tests of this package build their tokens, keys and JWK Sets with
// internal/testkit, as the root package's tests do, and send them through a
// real middleware: what a set holds matters only through what it lets
// through.

// fixedClock is the middlewares' clock: testkit's tokens are valid at it.
func fixedClock() time.Time { return testkit.Now }

// newFaultRemote builds a Set over url with millisecond intervals; edit may
// change the config first.
func newFaultRemote(t testing.TB, url string, edit func(*Config)) *Set {
	t.Helper()
	cfg := Config{
		URL:                url,
		Logger:             testkit.DiscardLogger(),
		HTTPTimeout:        2 * time.Second,
		MinRefreshInterval: 20 * time.Millisecond,
		RefreshWait:        500 * time.Millisecond,
	}
	if edit != nil {
		edit(&cfg)
	}
	rs, err := New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(rs.Close)
	return rs
}

// remoteMiddleware is a middleware over ks with the fixed clock. testkit's
// tokens say "me" and the keys of most sets here name no business, so
// AllowMeWithoutBusiness is on.
func remoteMiddleware(t testing.TB, ks scopedtoken.KeySet) *scopedtoken.Middleware {
	t.Helper()
	m, err := scopedtoken.New(scopedtoken.Config{Keys: ks, Now: fixedClock, AllowMeWithoutBusiness: true})
	require.NoError(t, err)
	return m
}

// send sends one request with token to testkit.Path through m.
func send(m *scopedtoken.Middleware, token string) testkit.Response {
	return testkit.Send(m.Handler, token)
}

// quickStatus is send's status and reason; like send, it is safe to call from
// any goroutine.
func quickStatus(m *scopedtoken.Middleware, token string) (int, string) {
	res := send(m, token)
	return res.Code, res.Reason
}

// assertRefused checks a refusal: its status and reason, the next handler not
// run, and a Retry-After on a 503. The rest of a refusal (its challenge and
// body) is the middleware's, tested by the root package.
func assertRefused(t *testing.T, res testkit.Response, status int, reason string) {
	t.Helper()
	assert.False(t, res.Ran, "the next handler must not run")
	assert.Equal(t, status, res.Code, "status")
	assert.Equal(t, reason, res.Reason, "reason")
	if status == http.StatusServiceUnavailable {
		assert.NotEmpty(t, res.Header.Get("Retry-After"))
	}
}
