package jwks

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

func TestFreshness(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	date := now.Format(http.TimeFormat)
	tests := []struct {
		name    string
		headers map[string][]string
		want    time.Duration
		ok      bool
	}{
		{name: "nothing"},
		{name: "max-age", headers: map[string][]string{"Cache-Control": {"public, max-age=300"}}, want: 300 * time.Second, ok: true},
		{name: "names in any case, spaces", headers: map[string][]string{"Cache-Control": {"Public , MAX-AGE = 300 "}}, want: 300 * time.Second, ok: true},
		{name: "max-age=0", headers: map[string][]string{"Cache-Control": {"max-age=0"}}, ok: true},
		{name: "no-store wins", headers: map[string][]string{"Cache-Control": {"max-age=300, no-store"}}, ok: true},
		{name: "no-cache wins, on another line", headers: map[string][]string{"Cache-Control": {"max-age=300", "no-cache"}}, ok: true},
		{name: "the smallest of two max-age", headers: map[string][]string{"Cache-Control": {"max-age=300, max-age=60"}}, want: 60 * time.Second, ok: true},
		{name: "malformed max-age ignored", headers: map[string][]string{"Cache-Control": {"max-age=abc"}}},
		{name: "quoted max-age ignored", headers: map[string][]string{"Cache-Control": {`max-age="60"`}}},
		{name: "negative max-age ignored", headers: map[string][]string{"Cache-Control": {"max-age=-1"}}},
		{name: "fractional max-age ignored", headers: map[string][]string{"Cache-Control": {"max-age=1.5"}}},
		{name: "max-age without value ignored", headers: map[string][]string{"Cache-Control": {"max-age"}}},
		{name: "a malformed directive beside a good one", headers: map[string][]string{"Cache-Control": {"max-age=x, max-age=60"}}, want: 60 * time.Second, ok: true},
		{name: "s-maxage ignored", headers: map[string][]string{"Cache-Control": {"s-maxage=60"}}},
		{name: "huge max-age capped", headers: map[string][]string{"Cache-Control": {"max-age=99999999999999999999999"}}, want: maxDeltaSeconds * time.Second, ok: true},
		{name: "max-age less Age", headers: map[string][]string{"Cache-Control": {"max-age=300"}, "Age": {"100"}}, want: 200 * time.Second, ok: true},
		{name: "Age beyond max-age", headers: map[string][]string{"Cache-Control": {"max-age=300"}, "Age": {"400"}}, ok: true},
		{name: "malformed Age ignored", headers: map[string][]string{"Cache-Control": {"max-age=300"}, "Age": {"soon"}}, want: 300 * time.Second, ok: true},
		{name: "Expires minus Date", headers: map[string][]string{"Date": {date}, "Expires": {now.Add(time.Hour).Format(http.TimeFormat)}}, want: time.Hour, ok: true},
		{name: "Expires without Date", headers: map[string][]string{"Expires": {now.Add(time.Hour).Format(http.TimeFormat)}}, want: time.Hour, ok: true},
		{name: "Expires in the past", headers: map[string][]string{"Expires": {now.Add(-time.Hour).Format(http.TimeFormat)}}, ok: true},
		{name: "Expires 0 is already expired", headers: map[string][]string{"Expires": {"0"}}, ok: true},
		{name: "max-age beats Expires", headers: map[string][]string{"Cache-Control": {"max-age=60"}, "Expires": {"0"}}, want: time.Minute, ok: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, vs := range tc.headers {
				for _, v := range vs {
					h.Add(k, v)
				}
			}
			got, ok := freshness(h, now)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

// cacheControlServer serves a JWK Set from testkit's JWKS server with the
// Cache-Control it is given.
type cacheControlServer struct {
	*testkit.JWKSServer
	body []byte
}

func newCacheControlServer(t *testing.T, cacheControl string) *cacheControlServer {
	body := testkit.JWKSet(t, testkit.NewSigner(t, "a").JWK(t))
	s := &cacheControlServer{JWKSServer: testkit.NewJWKSServer(t, body), body: body}
	s.set(cacheControl)
	return s
}

// set changes the Cache-Control header ("": none).
func (s *cacheControlServer) set(cacheControl string) {
	r := testkit.Reply{Body: s.body}
	if cacheControl != "" {
		r.Header = http.Header{"Cache-Control": {cacheControl}}
	}
	s.Reply("", r)
}

// TestRefreshFollowsCacheControl: background fetches follow the JWK Set's
// Cache-Control within MinRefreshInterval and RefreshInterval. The bounds are
// generous: "at least" counts are awaited for seconds, "at most" counts allow
// double the expected number.
func TestRefreshFollowsCacheControl(t *testing.T) {
	tests := []struct {
		name         string
		cacheControl string
		min, max     time.Duration
		// atLeast fetches happen within 10 seconds; over the first window,
		// at most atMost happen (counting the one at start).
		atLeast int64
		window  time.Duration
		atMost  int64
	}{
		{name: "no-store: as often as MinRefreshInterval allows", cacheControl: "no-store", min: 50 * time.Millisecond, max: time.Hour, atLeast: 5, window: 500 * time.Millisecond, atMost: 1 + 2*10},
		{name: "max-age=0 never more often than MinRefreshInterval", cacheControl: "max-age=0", min: 400 * time.Millisecond, max: time.Hour, atLeast: 3, window: 1200 * time.Millisecond, atMost: 1 + 2*3},
		{name: "max-age=1", cacheControl: "max-age=1", min: 10 * time.Millisecond, max: time.Hour, atLeast: 3, window: 600 * time.Millisecond, atMost: 1},
		{name: "max-age longer than RefreshInterval", cacheControl: "max-age=3600", min: 10 * time.Millisecond, max: 200 * time.Millisecond, atLeast: 4, window: 100 * time.Millisecond, atMost: 1},
		{name: "no header: RefreshInterval", min: 10 * time.Millisecond, max: time.Hour, window: 500 * time.Millisecond, atMost: 1},
		{name: "malformed header: RefreshInterval", cacheControl: "max-age=soon", min: 10 * time.Millisecond, max: time.Hour, window: 500 * time.Millisecond, atMost: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newCacheControlServer(t, tc.cacheControl)
			newFaultRemote(t, srv.URL, func(c *Config) { c.MinRefreshInterval, c.RefreshInterval = tc.min, tc.max })
			time.Sleep(tc.window)
			assert.LessOrEqual(t, srv.Hits.Load(), tc.atMost, "fetches within %v", tc.window)
			if tc.atLeast > 0 {
				assert.Eventually(t, func() bool { return srv.Hits.Load() >= tc.atLeast }, 10*time.Second, 10*time.Millisecond,
					"at least %d fetches", tc.atLeast)
			}
		})
	}
}

// TestRefreshRescheduledByAnyFetch: a fetch made outside the background
// loop (Refresh, an unknown kid) whose response asks for a shorter interval
// moves the next background fetch forward.
func TestRefreshRescheduledByAnyFetch(t *testing.T) {
	srv := newCacheControlServer(t, "")
	rs := newFaultRemote(t, srv.URL, func(c *Config) { c.MinRefreshInterval, c.RefreshInterval = 20*time.Millisecond, time.Hour })
	srv.set("no-cache")
	require.NoError(t, rs.Refresh(t.Context()))
	assert.Eventually(t, func() bool { return srv.Hits.Load() >= 6 }, 10*time.Second, 10*time.Millisecond,
		"the loop, which waited an hour, follows the new interval")
	srv.set("max-age=3600")
	require.NoError(t, rs.Refresh(t.Context()))
	time.Sleep(50 * time.Millisecond) // a fetch under way when the header changed may still end
	settled := srv.Hits.Load()
	time.Sleep(300 * time.Millisecond)
	assert.LessOrEqual(t, srv.Hits.Load(), settled+1, "max-age=3600 under RefreshInterval 1h: no more background fetches")
}
