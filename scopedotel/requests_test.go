package scopedotel_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/scopedotel"
)

var (
	allowedHit = scopedtoken.Decision{Allowed: true, KeyID: "k1", Cached: true}
	expired    = scopedtoken.Decision{Status: 401, Reason: "expired"}
)

const (
	allowedHitSet = "scopedtoken.cache_hit=true,scopedtoken.outcome=allowed"
	expiredSet    = "error.type=expired,http.response.status_code=401,scopedtoken.cache_hit=false,scopedtoken.outcome=refused"
)

// requestSums reads the request counter from reader and checks that it is a
// monotonic sum of temporality want.
func requestSums(t *testing.T, reader *sdkmetric.ManualReader, want metricdata.Temporality) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != scopedotel.RequestsName {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			require.True(t, ok, "%T", m.Data)
			assert.True(t, sum.IsMonotonic, "a counter (Prometheus: _total)")
			assert.Equal(t, want, sum.Temporality)
			out := map[string]int64{}
			for _, p := range sum.DataPoints {
				out[key(p.Attributes)] = p.Value
			}
			return out
		}
	}
	return map[string]int64{}
}

// TestRequestCounterCollections checks the observable request counter over
// several collections by two readers, one cumulative and one delta: each
// reader sees every decision once, totals only grow, and a collection
// between decisions changes nothing.
func TestRequestCounterCollections(t *testing.T) {
	cumulative := sdkmetric.NewManualReader()
	delta := sdkmetric.NewManualReader(sdkmetric.WithTemporalitySelector(func(sdkmetric.InstrumentKind) metricdata.Temporality {
		return metricdata.DeltaTemporality
	}))
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(cumulative), sdkmetric.WithReader(delta))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	m, err := scopedotel.New(provider)
	require.NoError(t, err)
	ctx := context.Background()
	decide := func(d scopedtoken.Decision, n int) {
		for range n {
			m.OnDecision(ctx, d)
		}
	}

	assert.Empty(t, requestSums(t, cumulative, metricdata.CumulativeTemporality), "no series before a decision")
	decide(allowedHit, 3)
	decide(expired, 1)
	assert.Equal(t, map[string]int64{allowedHitSet: 3, expiredSet: 1}, requestSums(t, cumulative, metricdata.CumulativeTemporality))
	decide(allowedHit, 2)
	assert.Equal(t, map[string]int64{allowedHitSet: 5, expiredSet: 1}, requestSums(t, cumulative, metricdata.CumulativeTemporality))
	assert.Equal(t, map[string]int64{allowedHitSet: 5, expiredSet: 1}, requestSums(t, delta, metricdata.DeltaTemporality),
		"the delta reader's first collection has everything since the start")
	decide(expired, 4)
	assert.Equal(t, map[string]int64{allowedHitSet: 5, expiredSet: 5}, requestSums(t, cumulative, metricdata.CumulativeTemporality))
	assert.Equal(t, map[string]int64{allowedHitSet: 5, expiredSet: 5}, requestSums(t, cumulative, metricdata.CumulativeTemporality),
		"a collection counts nothing")
	assert.Equal(t, map[string]int64{allowedHitSet: 0, expiredSet: 4}, requestSums(t, delta, metricdata.DeltaTemporality))
}

// TestRequestCounterBeyondReadySets checks that decisions whose attribute
// sets come after the table of ready-made sets is full are counted too, each
// set once, however often it comes back.
func TestRequestCounterBeyondReadySets(t *testing.T) {
	reader, m := newReader(t)
	ctx := context.Background()
	const extra = 10
	want := map[string]int64{}
	for i := range scopedotel.MaxAttributeSets + extra {
		reason := fmt.Sprintf("r%d", i)
		d := scopedtoken.Decision{Status: 401, Reason: reason}
		m.OnDecision(ctx, d)
		m.OnDecision(ctx, d)
		want[fmt.Sprintf("error.type=%s,http.response.status_code=401,scopedtoken.cache_hit=false,scopedtoken.outcome=refused", reason)] = 2
	}
	// The same reason with another status is another set, beyond the table
	// as well.
	other := scopedtoken.Decision{Status: 403, Reason: "r0"}
	for range 3 {
		m.OnDecision(ctx, other)
	}
	want["error.type=r0,http.response.status_code=403,scopedtoken.cache_hit=false,scopedtoken.outcome=refused"] = 3
	assert.Equal(t, want, requestSums(t, reader, metricdata.CumulativeTemporality))
	m.OnDecision(ctx, other)
	assert.Equal(t, int64(4), requestSums(t, reader, metricdata.CumulativeTemporality)["error.type=r0,http.response.status_code=403,scopedtoken.cache_hit=false,scopedtoken.outcome=refused"])
}

// TestSameReasonOtherStatus checks that two refusals with one reason and
// two statuses (a Config.Check's error, say) are two series, from the table
// of ready-made sets.
func TestSameReasonOtherStatus(t *testing.T) {
	reader, m := newReader(t)
	ctx := context.Background()
	for range 2 {
		m.OnDecision(ctx, scopedtoken.Decision{Status: 403, Reason: "custom"})
		m.OnDecision(ctx, scopedtoken.Decision{Status: 401, Reason: "custom"})
		m.OnDecision(ctx, scopedtoken.Decision{Status: 403, Reason: "custom"})
	}
	assert.Equal(t, map[string]int64{
		"error.type=custom,http.response.status_code=401,scopedtoken.cache_hit=false,scopedtoken.outcome=refused": 2,
		"error.type=custom,http.response.status_code=403,scopedtoken.cache_hit=false,scopedtoken.outcome=refused": 4,
	}, requestSums(t, reader, metricdata.CumulativeTemporality))
}
