package jwks

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// TestRemoteStats follows Stats through a good fetch, a failed one that keeps
// the last good keys, and a recovery.
func TestRemoteStats(t *testing.T) {
	a, b := testkit.NewSigner(t, "a"), testkit.NewSigner(t, "b")
	// A symmetric key is never used, so never counted.
	skipped := json.RawMessage(`{"kty":"oct","kid":"oct","alg":"HS256","k":"` + testkit.B64(string(testkit.Secret)) + `"}`)
	good := testkit.JWKSet(t, a.JWK(t), b.JWK(t), skipped)
	srv := testkit.NewJWKSServer(t, good)
	before := time.Now()
	rs := newFaultRemote(t, srv.URL, func(c *Config) { c.MinRefreshInterval = time.Hour })

	st := rs.Stats()
	assert.Equal(t, Stats{Fetches: 1, Healthy: true, Keys: 2, LastSuccess: st.LastSuccess}, st)
	assert.False(t, st.LastSuccess.Before(before), "LastSuccess is the time of the fetch")

	srv.Serve([]byte("oops"), http.StatusInternalServerError, 0)
	require.Error(t, rs.Refresh(t.Context()))
	st = rs.Stats()
	assert.Equal(t, Stats{Fetches: 2, Failures: 1, Keys: 2, LastSuccess: st.LastSuccess, LastFailure: st.LastFailure}, st,
		"unhealthy, and the last good keys stay in use")
	assert.False(t, st.LastFailure.Before(st.LastSuccess))

	srv.Serve(testkit.JWKSet(t, a.JWK(t)), http.StatusOK, 0)
	require.NoError(t, rs.Refresh(t.Context()))
	st = rs.Stats()
	assert.Equal(t, Stats{Fetches: 3, Failures: 1, Healthy: true, Keys: 1, LastSuccess: st.LastSuccess, LastFailure: st.LastFailure}, st,
		"a key removed from the set is no longer counted")
	assert.True(t, st.LastSuccess.After(st.LastFailure))
}

// TestRemoteStatsDownAtStart checks the stats of a set that never fetched.
func TestRemoteStatsDownAtStart(t *testing.T) {
	srv := testkit.NewJWKSServer(t, nil)
	srv.Serve([]byte("down"), http.StatusServiceUnavailable, 0)
	rs := newFaultRemote(t, srv.URL, nil)
	st := rs.Stats()
	assert.Equal(t, Stats{Fetches: 1, Failures: 1, LastFailure: st.LastFailure}, st)
	assert.False(t, st.LastFailure.IsZero())
}

// TestRemoteFetchFailureLog: a failed fetch says "no keys yet" while the set
// never had a successful one, and "keeping the last good keys" after one.
func TestRemoteFetchFailureLog(t *testing.T) {
	srv := testkit.NewJWKSServer(t, nil)
	srv.Serve([]byte("down"), http.StatusServiceUnavailable, 0)
	var logs logRecorder
	rs := newFaultRemote(t, srv.URL, func(c *Config) { c.Logger, c.MinRefreshInterval = logs.logger(), time.Hour })
	require.Error(t, rs.Refresh(t.Context()))
	assert.NotEmpty(t, logs.records(t, logFirstFetchFailed))
	assert.Empty(t, logs.records(t, logRefreshFailed), "there never were good keys to keep")

	srv.Serve(testkit.JWKSet(t, testkit.NewSigner(t, "a").JWK(t)), http.StatusOK, 0)
	require.NoError(t, rs.Refresh(t.Context()))
	srv.Serve([]byte("down"), http.StatusServiceUnavailable, 0)
	require.Error(t, rs.Refresh(t.Context()))
	assert.Len(t, logs.records(t, logRefreshFailed), 1)
}

// TestRemoteStatsConcurrent reads Stats while fetches fail and succeed, for
// the race detector, and checks that a reader never sees more failures than
// fetches.
func TestRemoteStatsConcurrent(t *testing.T) {
	a := testkit.NewSigner(t, "a")
	good := testkit.JWKSet(t, a.JWK(t))
	srv := testkit.NewJWKSServer(t, good)
	rs := newFaultRemote(t, srv.URL, nil)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			st := rs.Stats()
			if st.Failures > st.Fetches {
				t.Errorf("failures %d > fetches %d", st.Failures, st.Fetches)
				return
			}
		}
	}()
	for i := range 20 {
		if i%2 == 0 {
			srv.Serve([]byte("x"), http.StatusInternalServerError, 0)
		} else {
			srv.Serve(good, http.StatusOK, 0)
		}
		_ = rs.Refresh(t.Context())
	}
	cancel()
	wg.Wait()
	st := rs.Stats()
	assert.Equal(t, uint64(21), st.Fetches)
	assert.Equal(t, uint64(10), st.Failures)
	assert.True(t, st.Healthy)
}
