package scopedotel_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	otelprometheus "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/scopedotel"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// errRedisDown stands for a store that cannot reach its shared state.
var errRedisDown = errors.New("dial tcp 10.0.0.7:6379: connect: connection refused")

// fakeStore is a MemoryRevocations seen through the Revocations interface
// only (no RevocationStats), whose Use fails with useErr when it is set.
type fakeStore struct {
	scopedtoken.Revocations
	useErr error
}

func newFakeStore(useErr error) *fakeStore {
	return &fakeStore{Revocations: scopedtoken.NewMemoryRevocations(nil), useErr: useErr}
}

func (f *fakeStore) Use(ctx context.Context, key string, until time.Time) error {
	if f.useErr != nil {
		return f.useErr
	}
	return f.Revocations.Use(ctx, key, until)
}

// reportingStore is a fakeStore that reports the stats a test sets.
type reportingStore struct {
	*fakeStore
	mu    sync.Mutex
	stats scopedtoken.RevocationStats
}

func (r *reportingStore) set(s scopedtoken.RevocationStats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats = s
}

func (r *reportingStore) RevocationStats() scopedtoken.RevocationStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// histogramCounts returns the count of each data point of a histogram.
func histogramCounts(t *testing.T, data metricdata.Aggregation) map[string]uint64 {
	t.Helper()
	hist, ok := data.(metricdata.Histogram[float64])
	require.True(t, ok, "%T", data)
	out := map[string]uint64{}
	for _, p := range hist.DataPoints {
		out[key(p.Attributes)] = p.Count
		assert.Equal(t, scopedotel.DurationBuckets, p.Bounds)
		lowest, ok := p.Min.Value()
		assert.True(t, ok, "durations are measured")
		assert.GreaterOrEqual(t, lowest, 0.0)
	}
	return out
}

// attributesOf returns every attribute of every data point of every metric,
// by metric name.
func attributesOf(t *testing.T, reader *sdkmetric.ManualReader) map[string][]attribute.KeyValue {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string][]attribute.KeyValue{}
	add := func(name string, set attribute.Set) { out[name] = append(out[name], set.ToSlice()...) }
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					add(m.Name, p.Attributes)
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					add(m.Name, p.Attributes)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					add(m.Name, p.Attributes)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					add(m.Name, p.Attributes)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					add(m.Name, p.Attributes)
				}
			default:
				t.Fatalf("%s: unexpected aggregation %T", m.Name, m.Data)
			}
		}
	}
	return out
}

// assertNoSecret checks that no attribute value holds any of secrets, and
// that the revocation instruments use only their own attribute keys.
func assertNoSecret(t *testing.T, reader *sdkmetric.ManualReader, secrets ...string) {
	t.Helper()
	allowed := map[string][]attribute.Key{
		scopedotel.UsesName:                  {scopedotel.UseOutcomeKey},
		scopedotel.UseDurationName:           {scopedotel.UseOutcomeKey},
		scopedotel.RevocationsStateName:      {scopedotel.RevocationsStoreKey, scopedotel.RevocationsStateKey},
		scopedotel.RevocationsSyncAgeName:    {scopedotel.RevocationsStoreKey},
		scopedotel.RevocationsEntriesName:    {scopedotel.RevocationsStoreKey},
		scopedotel.RevocationsPendingName:    {scopedotel.RevocationsStoreKey},
		scopedotel.RevocationsWriteBacksName: {scopedotel.RevocationsStoreKey},
	}
	for name, attrs := range attributesOf(t, reader) {
		for _, kv := range attrs {
			if keys, ok := allowed[name]; ok {
				assert.Contains(t, keys, kv.Key, "%s has an attribute of its own", name)
			}
			for _, s := range secrets {
				assert.NotContains(t, kv.Value.String(), s, "%s: %s", name, kv.Key)
			}
		}
	}
}

// TestInstrumentRevocationsUseOutcomes checks the outcome of each Use call:
// the counter and the histogram agree, and the error is the store's own.
func TestInstrumentRevocationsUseOutcomes(t *testing.T) {
	const useKey = "jti:secret-token-id-4f1c"
	until := time.Now().Add(time.Hour)
	wrapped := fmt.Errorf("redisstore: %w", scopedtoken.ErrTokenUsed)
	for _, tc := range []struct {
		name     string
		store    scopedtoken.Revocations
		calls    int
		wantErrs []error
		want     map[string]int64
	}{
		{name: "memory: used then already_used", store: scopedtoken.NewMemoryRevocations(nil), calls: 3,
			wantErrs: []error{nil, scopedtoken.ErrTokenUsed, scopedtoken.ErrTokenUsed},
			want:     map[string]int64{"scopedtoken.use.outcome=used": 1, "scopedtoken.use.outcome=already_used": 2}},
		{name: "failing store: unavailable", store: newFakeStore(errRedisDown), calls: 2,
			wantErrs: []error{errRedisDown, errRedisDown},
			want:     map[string]int64{"scopedtoken.use.outcome=unavailable": 2}},
		{name: "timeout: unavailable", store: newFakeStore(context.DeadlineExceeded), calls: 1,
			wantErrs: []error{context.DeadlineExceeded},
			want:     map[string]int64{"scopedtoken.use.outcome=unavailable": 1}},
		{name: "wrapped ErrTokenUsed: already_used", store: newFakeStore(wrapped), calls: 1,
			wantErrs: []error{wrapped},
			want:     map[string]int64{"scopedtoken.use.outcome=already_used": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reader, m := newReader(t)
			rev := m.InstrumentRevocations(tc.store)
			for i := range tc.calls {
				err := rev.Use(t.Context(), useKey, until)
				if tc.wantErrs[i] == nil {
					require.NoError(t, err, "call %d", i)
				} else {
					require.ErrorIs(t, err, tc.wantErrs[i], "call %d", i)
				}
			}
			got := collect(t, reader)
			assert.Equal(t, tc.want, sums[int64](t, got[scopedotel.UsesName]))
			counts := histogramCounts(t, got[scopedotel.UseDurationName])
			for k, n := range tc.want {
				assert.Equal(t, uint64(n), counts[k], k)
			}
			assert.Len(t, counts, len(tc.want))
			assertNoSecret(t, reader, useKey, "secret-token-id")
		})
	}
}

// TestInstrumentRevocationsThroughMiddleware runs two instances, each with a
// middleware over one shared, instrumented store: a single-use token is used
// on the first and replayed on the second. No part of the token shows in any
// attribute.
func TestInstrumentRevocationsThroughMiddleware(t *testing.T) {
	reader, m := newReader(t)
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	rev := m.InstrumentRevocations(scopedtoken.NewMemoryRevocations(iss.Now))
	require.NoError(t, m.ObserveRevocations("memory", rev))
	var handlers []http.Handler
	for range 2 {
		cfg := iss.Config()
		cfg.Revocations, cfg.OnDecision = rev, m.OnDecision
		mw, err := scopedtoken.New(cfg)
		require.NoError(t, err)
		handlers = append(handlers, mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	}
	const jti = "single-use-jti-9d2e"
	token := iss.Mint(scopedtokentest.Once(), scopedtokentest.JWTID(jti))
	for i, want := range []int{http.StatusOK, http.StatusUnauthorized} {
		req := httptest.NewRequest(http.MethodGet, searchPath, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		handlers[i].ServeHTTP(rec, req)
		require.Equal(t, want, rec.Code, rec.Body.String())
	}

	got := collect(t, reader)
	assert.Equal(t, map[string]int64{"scopedtoken.use.outcome=used": 1, "scopedtoken.use.outcome=already_used": 1},
		sums[int64](t, got[scopedotel.UsesName]))
	assert.Equal(t, int64(1), sums[int64](t, got[scopedotel.RevocationsStateName])["scopedtoken.revocations.state=local,scopedtoken.revocations.store=memory"])
	segments := strings.Split(token, ".")
	assertNoSecret(t, reader, append(segments, jti, scopedtoken.TokenHash(token))...)
}

// TestInstrumentRevocationsConformance runs the conformance suite of
// Revocations stores on the wrapper: it changes nothing the middleware sees.
func TestInstrumentRevocationsConformance(t *testing.T) {
	scopedtokentest.RevocationsConformance(t, func(t *testing.T) (scopedtoken.RevocationStore, scopedtoken.RevocationStore) {
		_, m := newReader(t)
		mem := scopedtoken.NewMemoryRevocations(nil)
		s := revokeThrough{Revocations: m.InstrumentRevocations(mem), store: mem}
		return s, s
	})
}

// revokeThrough is a wrapped store with the Revoke of the store it wraps, as
// a program revokes through the store while the middleware reads the
// wrapper.
type revokeThrough struct {
	scopedtoken.Revocations
	store scopedtoken.RevocationStore
}

func (r revokeThrough) Revoke(ctx context.Context, rv scopedtoken.Revocation) error {
	return r.store.Revoke(ctx, rv)
}

// TestInstrumentRevocationsForwards checks what the wrapper passes on
// untouched: Revoked, Version, and RevocationStats exactly when the store has
// it; never Revoke, which the middleware does not call.
func TestInstrumentRevocationsForwards(t *testing.T) {
	_, m := newReader(t)
	mem := scopedtoken.NewMemoryRevocations(nil)
	rev := m.InstrumentRevocations(mem)
	check := &scopedtoken.RevocationCheck{ID: "j-1", Hash: "h"}
	before := rev.Version()
	require.False(t, rev.Revoked(check))
	require.NoError(t, mem.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "j-1"}))
	assert.True(t, rev.Revoked(check), "Revoked asks the store")
	assert.Equal(t, mem.Version(), rev.Version())
	assert.NotEqual(t, before, rev.Version())
	_, ok := rev.(scopedtoken.RevocationStore)
	assert.False(t, ok, "the wrapper has only what the middleware calls: revoke through the store")

	reporter, ok := rev.(scopedtoken.RevocationStatsReporter)
	require.True(t, ok, "a MemoryRevocations reports stats, and so does its wrapper")
	assert.Equal(t, scopedtoken.RevocationStats{State: "local", Entries: 1}, reporter.RevocationStats())
	_, ok = m.InstrumentRevocations(newFakeStore(nil)).(scopedtoken.RevocationStatsReporter)
	assert.False(t, ok, "a store without stats gains none")

	assert.Nil(t, m.InstrumentRevocations(nil))
	var nilStore *scopedtoken.MemoryRevocations
	assert.Same(t, nilStore, m.InstrumentRevocations(nilStore), "a nil pointer is left for scopedtoken.New to refuse")
	_, err := scopedtoken.New(scopedtoken.Config{Keys: scopedtokentest.NewIssuer(t).KeySet(), Revocations: m.InstrumentRevocations(nilStore)})
	assert.Error(t, err)
}

// nopWriter is a ResponseWriter that allocates nothing.
type nopWriter struct {
	h      http.Header
	status int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(status int)      { w.status = status }

// TestInstrumentRevocationsHitAllocatesNothing: Revoked and Version run on
// every request; through the wrapper they allocate nothing, and a cache hit
// allocates as much as with the bare store.
func TestInstrumentRevocationsHitAllocatesNothing(t *testing.T) {
	_, m := newReader(t)
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	mem := scopedtoken.NewMemoryRevocations(iss.Now)
	require.NoError(t, mem.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.CutoffBusiness, Value: "other"}))
	rev := m.InstrumentRevocations(mem)
	check := &scopedtoken.RevocationCheck{ID: "j", Hash: "h", KeyID: "k", Subject: "s", Businesses: []string{"b"}}
	assert.Zero(t, testing.AllocsPerRun(100, func() { rev.Revoked(check) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { rev.Version() }))

	token := iss.Mint()
	allocs := func(store scopedtoken.Revocations) float64 {
		cfg := iss.Config()
		cfg.Revocations = store
		mw, err := scopedtoken.New(cfg)
		require.NoError(t, err)
		h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
		req := httptest.NewRequest(http.MethodGet, searchPath, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		w := &nopWriter{h: http.Header{}}
		h.ServeHTTP(w, req) // fills the cache
		require.Equal(t, http.StatusOK, w.status)
		return testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) })
	}
	bare, wrapped := allocs(mem), allocs(rev)
	assert.Equal(t, bare, wrapped, "a cache hit allocates %v times through the wrapper, %v with the bare store", wrapped, bare)
}

// allStates is the state gauge with every state at 0 but current, for store.
func allStates(store, current string) map[string]int64 {
	out := map[string]int64{}
	for _, s := range []string{"starting", "synced", "replicas_behind", "writes_refused", "unreachable", "local", "other"} {
		v := int64(0)
		if s == current {
			v = 1
		}
		out["scopedtoken.revocations.state="+s+",scopedtoken.revocations.store="+store] = v
	}
	return out
}

// TestObserveRevocationsStates checks that the state gauge follows the
// store's state, and that a state it does not know is reported as "other".
func TestObserveRevocationsStates(t *testing.T) {
	reader, m := newReader(t)
	store := &reportingStore{fakeStore: newFakeStore(nil)}
	require.NoError(t, m.ObserveRevocations("redis", store))
	for _, tc := range []struct{ state, want string }{
		{"starting", "starting"},
		{"synced", "synced"},
		{"replicas_behind", "replicas_behind"},
		{"writes_refused", "writes_refused"},
		{"unreachable", "unreachable"},
		{"local", "local"},
		{"split_brain", "other"},
		{"", "other"},
		{"Synced", "other"},
		{"eyJhbGciOiJIUzI1NiJ9", "other"}, // whatever a store puts there never becomes a value
	} {
		t.Run(tc.want+"/"+tc.state, func(t *testing.T) {
			store.set(scopedtoken.RevocationStats{State: tc.state})
			assert.Equal(t, allStates("redis", tc.want), sums[int64](t, collect(t, reader)[scopedotel.RevocationsStateName]))
			if tc.state != "" {
				assertNoSecret(t, reader, tc.state+"x", "eyJ")
			}
		})
	}
}

// TestObserveRevocationsOutage follows a Redis store through an outage as
// its RevocationStats tells it: what an operator sees, then the recovery.
func TestObserveRevocationsOutage(t *testing.T) {
	reader, m := newReader(t)
	store := &reportingStore{fakeStore: newFakeStore(nil)}
	rev := m.InstrumentRevocations(store)
	require.NoError(t, m.ObserveRevocations("redis", rev))
	const named = "scopedtoken.revocations.store=redis"
	for _, tc := range []struct {
		name       string
		stats      scopedtoken.RevocationStats
		minAge     float64 // -1: no age
		maxAge     float64
		pending    int64
		writeBacks int64
	}{
		{name: "starting unsynced", stats: scopedtoken.RevocationStats{State: "starting"}, minAge: -1},
		{name: "synced", stats: scopedtoken.RevocationStats{State: "synced", LastSync: time.Now(), Entries: 12},
			minAge: 0, maxAge: 60},
		{name: "unreachable, revoked meanwhile", stats: scopedtoken.RevocationStats{State: "unreachable",
			LastSync: time.Now().Add(-5 * time.Minute), Entries: 13, Pending: 1},
			minAge: 300, maxAge: 360, pending: 1},
		{name: "writes refused", stats: scopedtoken.RevocationStats{State: "writes_refused",
			LastSync: time.Now().Add(-time.Second), Entries: 14, Pending: 2},
			minAge: 1, maxAge: 60, pending: 2},
		{name: "replicas behind", stats: scopedtoken.RevocationStats{State: "replicas_behind",
			LastSync: time.Now().Add(-time.Second), Entries: 14, Pending: 2, WriteBacks: 3},
			minAge: 1, maxAge: 60, pending: 2, writeBacks: 3},
		{name: "recovered", stats: scopedtoken.RevocationStats{State: "synced", LastSync: time.Now(), Entries: 14, WriteBacks: 5},
			minAge: 0, maxAge: 60, writeBacks: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store.set(tc.stats)
			got := collect(t, reader)
			assert.Equal(t, allStates("redis", tc.stats.State), sums[int64](t, got[scopedotel.RevocationsStateName]))
			assert.Equal(t, map[string]int64{named: int64(tc.stats.Entries)}, sums[int64](t, got[scopedotel.RevocationsEntriesName]))
			assert.Equal(t, map[string]int64{named: tc.pending}, sums[int64](t, got[scopedotel.RevocationsPendingName]))
			assert.Equal(t, map[string]int64{named: tc.writeBacks}, sums[int64](t, got[scopedotel.RevocationsWriteBacksName]))
			wb, ok := got[scopedotel.RevocationsWriteBacksName].(metricdata.Sum[int64])
			require.True(t, ok)
			assert.True(t, wb.IsMonotonic, "write-backs are a counter")
			if tc.minAge < 0 {
				assert.Nil(t, got[scopedotel.RevocationsSyncAgeName], "no age before the first sync")
				return
			}
			age := sums[float64](t, got[scopedotel.RevocationsSyncAgeName])
			require.Len(t, age, 1)
			assert.GreaterOrEqual(t, age[named], tc.minAge)
			assert.Less(t, age[named], tc.maxAge)
		})
	}
}

func TestObserveRevocationsRefusals(t *testing.T) {
	_, m := newReader(t)
	mem := scopedtoken.NewMemoryRevocations(nil)
	require.NoError(t, m.ObserveRevocations("a", mem))
	require.NoError(t, m.ObserveRevocations("b", m.InstrumentRevocations(mem)))
	assert.Error(t, m.ObserveRevocations("a", mem), "a name is observed once")
	assert.Error(t, m.ObserveRevocations("", mem))
	assert.Error(t, m.ObserveRevocations("c", nil))
	var nilStore *scopedtoken.MemoryRevocations
	assert.Error(t, m.ObserveRevocations("c", nilStore))
	for _, rev := range []scopedtoken.Revocations{newFakeStore(nil), m.InstrumentRevocations(newFakeStore(nil))} {
		err := m.ObserveRevocations("c", rev)
		assert.ErrorIs(t, err, scopedotel.ErrNoRevocationStats, "%T", rev)
	}
}

// TestRevocationsPrometheusNames checks the Prometheus names and a few
// samples that docs/metrics.md shows.
func TestRevocationsPrometheusNames(t *testing.T) {
	registry := prometheus.NewRegistry()
	exporter, err := otelprometheus.New(otelprometheus.WithRegisterer(registry))
	require.NoError(t, err)
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	m, err := scopedotel.New(provider)
	require.NoError(t, err)
	store := &reportingStore{fakeStore: newFakeStore(nil)}
	store.set(scopedtoken.RevocationStats{State: "unreachable", LastSync: time.Now().Add(-time.Minute), Entries: 3, Pending: 1, WriteBacks: 2})
	rev := m.InstrumentRevocations(store)
	require.NoError(t, m.ObserveRevocations("redis", rev))
	require.NoError(t, rev.Use(t.Context(), "jti:x", time.Now().Add(time.Hour)))

	srv := httptest.NewServer(promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	scope := `otel_scope_name="github.com/scopedtoken/scopedtoken/scopedotel",otel_scope_schema_url="",otel_scope_version="` +
		scopedotel.ScopeVersion() + `"`
	for _, want := range []string{
		`scopedtoken_revocations_state{` + scope + `,scopedtoken_revocations_state="unreachable",scopedtoken_revocations_store="redis"} 1`,
		`scopedtoken_revocations_state{` + scope + `,scopedtoken_revocations_state="synced",scopedtoken_revocations_store="redis"} 0`,
		`scopedtoken_revocations_sync_age_seconds{` + scope + `,scopedtoken_revocations_store="redis"} 60.`,
		`scopedtoken_revocations_entries{` + scope + `,scopedtoken_revocations_store="redis"} 3`,
		`scopedtoken_revocations_pending{` + scope + `,scopedtoken_revocations_store="redis"} 1`,
		`scopedtoken_revocations_write_backs_total{` + scope + `,scopedtoken_revocations_store="redis"} 2`,
		`scopedtoken_revocations_uses_total{` + scope + `,scopedtoken_use_outcome="used"} 1`,
		`scopedtoken_revocations_use_duration_seconds_count{` + scope + `,scopedtoken_use_outcome="used"} 1`,
	} {
		assert.Contains(t, string(body), want)
	}
}
