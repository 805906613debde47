package jwks

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// callerMark marks a caller's context, hookMark the context a hook returns.
type (
	callerMark struct{}
	hookMark   struct{}
)

// hookCall is what one call of a recording FetchHook saw.
type hookCall struct {
	fetch     Fetch
	caller    any  // callerMark's value in the hook's ctx
	cancels   bool // the hook's ctx had a Done channel
	err       error
	ended     bool
	transport any // hookMark's value in the fetch's HTTP request
}

// fetchRecorder is a FetchHook and a transport that record what they see.
type fetchRecorder struct {
	mu    sync.Mutex
	calls []*hookCall
}

func (f *fetchRecorder) hook(ctx context.Context, fe Fetch) (context.Context, func(error)) {
	c := &hookCall{fetch: fe, caller: ctx.Value(callerMark{}), cancels: ctx.Done() != nil}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	return context.WithValue(ctx, hookMark{}, c), func(err error) {
		f.mu.Lock()
		c.err, c.ended = err, true
		f.mu.Unlock()
	}
}

func (f *fetchRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if c, ok := r.Context().Value(hookMark{}).(*hookCall); ok {
		f.mu.Lock()
		c.transport = c
		f.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// snapshot returns copies of the calls so far.
func (f *fetchRecorder) snapshot() []hookCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]hookCall, len(f.calls))
	for i, c := range f.calls {
		out[i] = *c
	}
	return out
}

// TestOnFetch checks Config.OnFetch: it is called once per fetch with the
// cause and the context of the caller that started it, never with that
// caller's cancellation; the context it returns reaches the fetch's HTTP
// request; and it learns the fetch's result (docs/metrics.md, "Traces").
func TestOnFetch(t *testing.T) {
	signer := testkit.NewSigner(t, "k1")
	set := testkit.JWKSet(t, signer.JWK(t))
	tests := []struct {
		name    string
		run     func(t *testing.T, rs *Set, srv *testkit.JWKSServer)
		cause   FetchCause
		caller  any
		failing bool
	}{
		{name: "initial", cause: FetchInitial, caller: "new",
			run: func(*testing.T, *Set, *testkit.JWKSServer) {}},
		{name: "unknown kid", cause: FetchUnknownKID, caller: "lookup",
			run: func(t *testing.T, rs *Set, _ *testkit.JWKSServer) {
				ctx, cancel := context.WithCancel(context.WithValue(t.Context(), callerMark{}, "lookup"))
				defer cancel()
				_, err := rs.LookupKey(ctx, "unknown")
				require.Error(t, err)
			}},
		{name: "refresh", cause: FetchRefresh, caller: "refresh",
			run: func(t *testing.T, rs *Set, _ *testkit.JWKSServer) {
				require.NoError(t, rs.Refresh(context.WithValue(t.Context(), callerMark{}, "refresh")))
			}},
		{name: "failed refresh", cause: FetchRefresh, caller: "refresh", failing: true,
			run: func(t *testing.T, rs *Set, srv *testkit.JWKSServer) {
				srv.Serve(nil, http.StatusInternalServerError, 0)
				require.Error(t, rs.Refresh(context.WithValue(t.Context(), callerMark{}, "refresh")))
			}},
		{name: "scheduled", cause: FetchScheduled, caller: nil,
			run: func(t *testing.T, rs *Set, _ *testkit.JWKSServer) {
				// RefreshInterval is 50ms: wait for the loop's fetch.
				time.Sleep(120 * time.Millisecond)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testkit.NewJWKSServer(t, set)
			rec := &fetchRecorder{}
			interval := time.Hour
			if tt.cause == FetchScheduled {
				interval = 50 * time.Millisecond
			}
			ctx, cancel := context.WithCancel(context.WithValue(context.Background(), callerMark{}, "new"))
			rs, err := New(ctx, Config{URL: srv.URL, OnFetch: rec.hook, Client: &http.Client{Transport: rec},
				Logger: testkit.DiscardLogger(), RefreshInterval: interval, MinRefreshInterval: time.Millisecond})
			require.NoError(t, err)
			t.Cleanup(func() { cancel(); rs.Close() })
			tt.run(t, rs, srv)
			rs.Close()
			calls := rec.snapshot()
			require.GreaterOrEqual(t, len(calls), 1)
			first := calls[0]
			assert.Equal(t, FetchInitial, first.fetch.Cause)
			assert.Equal(t, "new", first.caller)
			var got *hookCall
			for i := range calls {
				if calls[i].fetch.Cause == tt.cause {
					got = &calls[i]
					break
				}
			}
			require.NotNil(t, got, "no %s fetch among %v", tt.cause, calls)
			assert.Equal(t, tt.caller, got.caller, "the caller's context")
			assert.False(t, got.cancels, "the hook's context carries no caller's cancellation")
			assert.Equal(t, srv.URL, got.fetch.URL)
			assert.True(t, got.ended, "the hook learns the end of the fetch")
			assert.NotNil(t, got.transport, "the hook's context reaches the HTTP request")
			if tt.failing {
				assert.Error(t, got.err)
			} else {
				assert.NoError(t, got.err)
			}
		})
	}
}

// TestOnFetchCancelledCaller checks that a request that started a fetch and
// then gave up does not abort it under OnFetch: others may wait for it.
func TestOnFetchCancelledCaller(t *testing.T) {
	signer := testkit.NewSigner(t, "k1")
	srv := testkit.NewJWKSServer(t, testkit.JWKSet(t))
	rec := &fetchRecorder{}
	rs := newFaultRemote(t, srv.URL, func(c *Config) { c.OnFetch = rec.hook })
	srv.Serve(testkit.JWKSet(t, signer.JWK(t)), http.StatusOK, 200*time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := rs.LookupKey(ctx, "k1")
	require.Error(t, err, "the caller gave up before the fetch ended")
	require.Eventually(t, func() bool { _, ok := rs.KnownKey("k1"); return ok }, 2*time.Second, 10*time.Millisecond,
		"the fetch went on without its caller")
	calls := rec.snapshot()
	require.Len(t, calls, 2)
	assert.Equal(t, FetchUnknownKID, calls[1].fetch.Cause)
	assert.NoError(t, calls[1].err)
}

// TestOnFetchClose checks that Close still ends a fetch that runs under a
// hook's context, which carries no cancellation of its own.
func TestOnFetchClose(t *testing.T) {
	srv := testkit.NewJWKSServer(t, testkit.JWKSet(t))
	rec := &fetchRecorder{}
	rs := newFaultRemote(t, srv.URL, func(c *Config) { c.OnFetch = rec.hook; c.HTTPTimeout = time.Minute })
	srv.Serve(nil, http.StatusOK, time.Minute) // answers only when the fetch is cancelled
	go func() { _ = rs.Refresh(context.Background()) }()
	require.Eventually(t, func() bool { return len(rec.snapshot()) == 2 }, 2*time.Second, 5*time.Millisecond)
	start := time.Now()
	rs.Close()
	assert.Less(t, time.Since(start), 10*time.Second, "Close ends the fetch")
	calls := rec.snapshot()
	assert.True(t, calls[1].ended)
	assert.Error(t, calls[1].err, "the fetch was cut short")
}

// TestOnFetchRedactsURL checks that the URL Config.OnFetch sees (and a
// tracer puts on its span) has its credentials redacted, as in log lines.
func TestOnFetchRedactsURL(t *testing.T) {
	srv := testkit.NewJWKSServer(t, testkit.JWKSet(t))
	rec := &fetchRecorder{}
	u := strings.Replace(srv.URL, "http://", "http://user:pa55word@", 1) + "/jwks?token=s3cret#frag"
	newFaultRemote(t, u, func(c *Config) { c.OnFetch = rec.hook })
	calls := rec.snapshot()
	require.Len(t, calls, 1)
	for _, secret := range []string{"pa55word", "s3cret", "user", "frag"} {
		assert.NotContains(t, calls[0].fetch.URL, secret)
	}
	assert.Contains(t, calls[0].fetch.URL, "REDACTED")
}
