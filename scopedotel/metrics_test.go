package scopedotel_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/jwks"
	"github.com/scopedtoken/scopedtoken/scopedotel"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const searchPath = "/v2/accounts/me/search"

// newReader returns a manual reader of the real SDK and Metrics over it.
func newReader(t *testing.T, opts ...scopedotel.Option) (*sdkmetric.ManualReader, *scopedotel.Metrics) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	m, err := scopedotel.New(provider, opts...)
	require.NoError(t, err)
	return reader, m
}

// newRemote builds a jwks.Set over url that fetches only at start, on
// Refresh and on the first unknown kid.
func newRemote(t *testing.T, url string) *jwks.Set {
	t.Helper()
	rs, err := jwks.New(context.Background(), jwks.Config{
		URL:                url,
		RefreshInterval:    time.Hour,
		MinRefreshInterval: time.Hour,
		RefreshWait:        10 * time.Second,
		Logger:             slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	t.Cleanup(rs.Close)
	return rs
}

// collect reads every metric once, by name.
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		assert.Equal(t, scopedotel.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// key writes an attribute set as sorted k=v pairs.
func key(set attribute.Set) string { return set.Encoded(attribute.DefaultEncoder()) }

func sums[N int64 | float64](t *testing.T, data metricdata.Aggregation) map[string]N {
	t.Helper()
	out := map[string]N{}
	switch d := data.(type) {
	case metricdata.Sum[N]:
		for _, p := range d.DataPoints {
			out[key(p.Attributes)] = p.Value
		}
	case metricdata.Gauge[N]:
		for _, p := range d.DataPoints {
			out[key(p.Attributes)] = p.Value
		}
	default:
		t.Fatalf("unexpected aggregation %T", data)
	}
	return out
}

// TestMetricsEndToEnd sends real requests through the middleware and real
// JWKS fetches to two servers, one failing, then checks every data point.
func TestMetricsEndToEnd(t *testing.T) {
	reader, m := newReader(t)
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	good := newRemote(t, iss.JWKSServer().URL)
	broken := scopedtokentest.NewIssuer(t).JWKSServer()
	broken.FailWith(http.StatusInternalServerError)
	bad := newRemote(t, broken.URL)
	require.NoError(t, m.ObserveKeySet("issuer", good))
	require.NoError(t, m.ObserveKeySet("backup", bad))

	mw, err := scopedtoken.New(scopedtoken.Config{Keys: good, Now: iss.Now, OnDecision: m.OnDecision, AllowMeWithoutBusiness: true})
	require.NoError(t, err)
	api := httptest.NewServer(mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	t.Cleanup(api.Close)
	valid := iss.Mint()
	for _, tc := range []struct {
		token string
		want  int
	}{
		{token: valid, want: http.StatusOK},
		{token: valid, want: http.StatusOK}, // from the cache
		{token: "", want: http.StatusUnauthorized},
		{token: iss.Expired(), want: http.StatusUnauthorized},
		{token: iss.WrongAudience(), want: http.StatusForbidden},
		{token: iss.UnknownKID(), want: http.StatusUnauthorized}, // and one more fetch
	} {
		req, err := http.NewRequest(http.MethodGet, api.URL+searchPath, nil)
		require.NoError(t, err)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := api.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, tc.want, resp.StatusCode)
	}

	got := collect(t, reader)
	assert.Equal(t, map[string]int64{
		"scopedtoken.cache_hit=false,scopedtoken.outcome=allowed":                                                            1,
		"scopedtoken.cache_hit=true,scopedtoken.outcome=allowed":                                                             1,
		"error.type=missing_token,http.response.status_code=401,scopedtoken.cache_hit=false,scopedtoken.outcome=refused":     1,
		"error.type=expired,http.response.status_code=401,scopedtoken.cache_hit=false,scopedtoken.outcome=refused":           1,
		"error.type=audience_mismatch,http.response.status_code=403,scopedtoken.cache_hit=false,scopedtoken.outcome=refused": 1,
		"error.type=unknown_kid,http.response.status_code=401,scopedtoken.cache_hit=false,scopedtoken.outcome=refused":       1,
	}, sums[int64](t, got[scopedotel.RequestsName]), "no path and no kid")

	hist, ok := got[scopedotel.DurationName].(metricdata.Histogram[float64])
	require.True(t, ok, "%T", got[scopedotel.DurationName])
	counts := map[string]uint64{}
	for _, p := range hist.DataPoints {
		counts[key(p.Attributes)] = p.Count
		assert.Equal(t, scopedotel.DurationBuckets, p.Bounds)
		assert.Positive(t, p.Sum, "durations are measured")
	}
	assert.Equal(t, map[string]uint64{
		"scopedtoken.cache_hit=false,scopedtoken.outcome=allowed": 1,
		"scopedtoken.cache_hit=true,scopedtoken.outcome=allowed":  1,
		"scopedtoken.cache_hit=false,scopedtoken.outcome=refused": 4,
	}, counts)

	assert.Equal(t, map[string]int64{
		"scopedtoken.fetch.result=success,scopedtoken.keyset=issuer": 2,
		"scopedtoken.fetch.result=failure,scopedtoken.keyset=issuer": 0,
		"scopedtoken.fetch.result=success,scopedtoken.keyset=backup": 0,
		"scopedtoken.fetch.result=failure,scopedtoken.keyset=backup": 1,
	}, sums[int64](t, got[scopedotel.FetchesName]))
	assert.Equal(t, map[string]int64{"scopedtoken.keyset=issuer": 1, "scopedtoken.keyset=backup": 0},
		sums[int64](t, got[scopedotel.KeysName]), "the issuer serves one public key; its HMAC key is never served")
	assert.Equal(t, map[string]int64{"scopedtoken.keyset=issuer": 1, "scopedtoken.keyset=backup": 0},
		sums[int64](t, got[scopedotel.HealthyName]))
	age := sums[float64](t, got[scopedotel.KeySetAgeName])
	require.Len(t, age, 1, "a set that never fetched has no age")
	assert.GreaterOrEqual(t, age["scopedtoken.keyset=issuer"], 0.0)
	assert.Less(t, age["scopedtoken.keyset=issuer"], time.Hour.Seconds())

	// A recovered endpoint shows at the next collection.
	broken.FailWith(0)
	require.NoError(t, bad.Refresh(context.Background()))
	got = collect(t, reader)
	assert.Equal(t, int64(1), sums[int64](t, got[scopedotel.HealthyName])["scopedtoken.keyset=backup"])
	assert.Equal(t, int64(1), sums[int64](t, got[scopedotel.FetchesName])["scopedtoken.fetch.result=success,scopedtoken.keyset=backup"])
	assert.Len(t, sums[float64](t, got[scopedotel.KeySetAgeName]), 2)
}

// TestWithKeyID checks that the kid is recorded for allowed requests only:
// the kid of a refused request is whatever the client sent.
func TestWithKeyID(t *testing.T) {
	reader, m := newReader(t, scopedotel.WithKeyID())
	m.OnDecision(context.Background(), scopedtoken.Decision{Allowed: true, KeyID: "k1", Path: "/v2/accounts/1/x", Duration: time.Millisecond})
	m.OnDecision(context.Background(), scopedtoken.Decision{Status: 401, Reason: "unknown_kid", KeyID: "attacker-chosen", Path: "/v2/accounts/2/y"})
	assert.Equal(t, map[string]int64{
		"scopedtoken.cache_hit=false,scopedtoken.kid=k1,scopedtoken.outcome=allowed":                                   1,
		"error.type=unknown_kid,http.response.status_code=401,scopedtoken.cache_hit=false,scopedtoken.outcome=refused": 1,
	}, sums[int64](t, collect(t, reader)[scopedotel.RequestsName]))
}

// TestAnonymousOutcome checks that a request let through without a token
// (Config.CredentialsOptional) is counted apart from those with a valid token.
func TestAnonymousOutcome(t *testing.T) {
	reader, m := newReader(t)
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: iss.KeySet(), Now: iss.Now, CredentialsOptional: true, OnDecision: m.OnDecision, AllowMeWithoutBusiness: true})
	require.NoError(t, err)
	h := mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, token := range []string{"", iss.Mint()} {
		req := httptest.NewRequest(http.MethodGet, searchPath, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
	}
	assert.Equal(t, map[string]int64{
		"scopedtoken.cache_hit=false,scopedtoken.outcome=anonymous": 1,
		"scopedtoken.cache_hit=false,scopedtoken.outcome=allowed":   1,
	}, sums[int64](t, collect(t, reader)[scopedotel.RequestsName]))
}

func TestObserveKeySetRefusals(t *testing.T) {
	_, m := newReader(t)
	set := newRemote(t, scopedtokentest.NewIssuer(t).JWKSServer().URL)
	require.NoError(t, m.ObserveKeySet("a", set))
	assert.Error(t, m.ObserveKeySet("a", set), "a name is observed once")
	assert.Error(t, m.ObserveKeySet("", set))
	assert.Error(t, m.ObserveKeySet("b", nil))
}

// BenchmarkOnDecision is the cost OnDecision adds to a request with the real
// SDK: it must allocate nothing once an attribute set has been seen.
func BenchmarkOnDecision(b *testing.B) {
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	m, err := scopedotel.New(provider)
	if err != nil {
		b.Fatal(err)
	}
	d := scopedtoken.Decision{Allowed: true, KeyID: "k", Cached: true, Duration: 2 * time.Microsecond}
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		m.OnDecision(ctx, d)
	}
}
