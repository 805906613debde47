// Package otelmetrics records the decisions of a scopedtoken middleware, the
// health of its remote key sets and that of its revocation store as
// OpenTelemetry metrics.
//
// Plug (*Metrics).OnDecision into scopedtoken.Config.OnDecision, register
// each remote key set (a *jwks.Set) with ObserveKeySet, and wrap and observe
// the revocation store with InstrumentRevocations and ObserveRevocations:
//
//	m, err := otelmetrics.New(provider)
//	...
//	err = m.ObserveKeySet("issuer", keys)
//	revocations := m.InstrumentRevocations(store) // store: a *redisstore.Store, say
//	err = m.ObserveRevocations("redis", revocations)
//	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys, Revocations: revocations, OnDecision: m.OnDecision})
//
// Every attribute has a bounded set of values: no request path and no token
// content is ever recorded, and the kid only with WithKeyID, and then only
// for allowed requests, whose kid is one of the configured keys. See
// docs/metrics.md for the instruments and a Prometheus set-up.
package otelmetrics

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/jwks"
)

// ScopeName is the instrumentation scope of every instrument.
const ScopeName = "github.com/scopedtoken/scopedtoken/otelmetrics"

// Names of the instruments.
const (
	RequestsName  = "scopedtoken.requests"
	DurationName  = "scopedtoken.decision.duration"
	FetchesName   = "scopedtoken.keyset.fetches"
	KeysName      = "scopedtoken.keyset.keys"
	HealthyName   = "scopedtoken.keyset.healthy"
	KeySetAgeName = "scopedtoken.keyset.age"
)

// maxAttributeSets bounds the attribute sets kept ready for OnDecision;
// beyond it, the sets of new combinations are built on each call.
const maxAttributeSets = 1024

// Attribute keys.
const (
	OutcomeKey     = attribute.Key("scopedtoken.outcome")       // "allowed", "refused" or "anonymous"
	StatusKey      = attribute.Key("http.response.status_code") // the refusal's status; refusals only
	ReasonKey      = attribute.Key("scopedtoken.reason")        // the refusal's reason code; refusals only
	CacheHitKey    = attribute.Key("scopedtoken.cache_hit")     // the verification came from the cache
	KeyIDKey       = attribute.Key("scopedtoken.kid")           // allowed requests only, with WithKeyID
	KeySetKey      = attribute.Key("scopedtoken.keyset")        // the name given to ObserveKeySet
	FetchResultKey = attribute.Key("scopedtoken.fetch.result")  // "success" or "failure"
)

// DurationBuckets are the bucket boundaries, in seconds, of the decision
// duration histogram: from a microsecond (a cached token) to the seconds a
// request may wait for a key set fetch.
var DurationBuckets = []float64{
	0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// Option changes how New records.
type Option func(*Metrics)

// WithKeyID adds the kid (scopedtoken.kid) to the request counter of allowed
// requests. Their kid is that of a configured key, so its values are bounded
// by the keys in use; the kid of a refused request is never recorded, since
// anyone can send any kid.
func WithKeyID() Option { return func(m *Metrics) { m.withKeyID = true } }

// StatsSource is what ObserveKeySet reads: *jwks.Set.
type StatsSource interface {
	Stats() jwks.Stats
}

// Metrics records decisions, key set health and the revocation store. Build
// it with New; it is safe for concurrent use.
type Metrics struct {
	withKeyID bool
	requests  metric.Int64Counter
	duration  metric.Float64Histogram

	mu   sync.RWMutex
	sets map[attrKey]*measureOpts // ready-made attribute sets by decision

	keySetsMu sync.Mutex
	keySets   map[string]StatsSource

	uses        metric.Int64Counter
	useDuration metric.Float64Histogram
	useOpts     [useOutcomes]measureOpts // ready-made attribute sets by outcome of Use

	storesMu sync.Mutex
	stores   map[string]*observedStore // by the name given to ObserveRevocations
}

// attrKey is what a decision's attributes depend on.
type attrKey struct {
	allowed   bool
	anonymous bool
	cached    bool
	status    int
	reason    string
	kid       string
}

// measureOpts are the options of one attribute set, built once so that
// recording allocates nothing.
type measureOpts struct {
	add    []metric.AddOption
	record []metric.RecordOption
}

// New creates the instruments with the meter of ScopeName from provider (nil:
// the global provider of otel.GetMeterProvider).
func New(provider metric.MeterProvider, opts ...Option) (*Metrics, error) {
	if provider == nil {
		provider = otel.GetMeterProvider()
	}
	m := &Metrics{sets: map[attrKey]*measureOpts{}, keySets: map[string]StatsSource{}, stores: map[string]*observedStore{}}
	for _, o := range opts {
		o(m)
	}
	meter := provider.Meter(ScopeName)
	var (
		errs    [6]error
		fetches metric.Int64ObservableCounter
		keys    metric.Int64ObservableGauge
		healthy metric.Int64ObservableGauge
		age     metric.Float64ObservableGauge
	)
	m.requests, errs[0] = meter.Int64Counter(RequestsName, metric.WithUnit("{request}"),
		metric.WithDescription("Requests decided by the scopedtoken middleware, by outcome, refusal status and reason, and cache hit."))
	m.duration, errs[1] = meter.Float64Histogram(DurationName, metric.WithUnit("s"),
		metric.WithDescription("Time from the start of the middleware's work on a request to its decision, the next handler excluded."),
		metric.WithExplicitBucketBoundaries(DurationBuckets...))
	fetches, errs[2] = meter.Int64ObservableCounter(FetchesName, metric.WithUnit("{fetch}"),
		metric.WithDescription("Fetches of a remote JWK Set, by result."))
	keys, errs[3] = meter.Int64ObservableGauge(KeysName, metric.WithUnit("{key}"),
		metric.WithDescription("Keys of a remote JWK Set in use."))
	healthy, errs[4] = meter.Int64ObservableGauge(HealthyName,
		metric.WithDescription("1 when the last fetch of a remote JWK Set succeeded, else 0."))
	age, errs[5] = meter.Float64ObservableGauge(KeySetAgeName, metric.WithUnit("s"),
		metric.WithDescription("Time since the last successful fetch of a remote JWK Set (absent before the first)."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("otelmetrics: creating the instruments: %w", err)
	}
	_, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		m.observeKeySets(o, fetches, keys, healthy, age)
		return nil
	}, fetches, keys, healthy, age)
	if err != nil {
		return nil, fmt.Errorf("otelmetrics: registering the key set callback: %w", err)
	}
	if err := m.newRevocationInstruments(meter); err != nil {
		return nil, err
	}
	return m, nil
}

// OnDecision records one decision: it is a scopedtoken.Config.OnDecision. To
// run your own function as well, call both from one:
//
//	OnDecision: func(d scopedtoken.Decision) { m.OnDecision(d); logDecision(d) },
func (m *Metrics) OnDecision(d scopedtoken.Decision) {
	k := attrKey{allowed: d.Allowed, anonymous: d.Anonymous, cached: d.Cached}
	if d.Allowed {
		if m.withKeyID {
			k.kid = d.KeyID
		}
	} else {
		k.status, k.reason = d.Status, d.Reason
	}
	opts := m.optsFor(k)
	ctx := context.Background()
	m.requests.Add(ctx, 1, opts.add...)
	m.duration.Record(ctx, d.Duration.Seconds(), opts.record...)
}

// optsFor returns the ready-made options of k, building them on first use.
func (m *Metrics) optsFor(k attrKey) *measureOpts {
	m.mu.RLock()
	opts, ok := m.sets[k]
	m.mu.RUnlock()
	if ok {
		return opts
	}
	outcome := OutcomeKey.String("allowed")
	attrs := []attribute.KeyValue{CacheHitKey.Bool(k.cached)}
	if k.anonymous {
		outcome = OutcomeKey.String("anonymous")
	}
	if !k.allowed {
		outcome = OutcomeKey.String("refused")
		attrs = append(attrs, StatusKey.Int(k.status), ReasonKey.String(k.reason))
	}
	attrs = append(attrs, outcome)
	// The histogram has only the outcome and the cache hit: a histogram
	// series costs a counter per bucket.
	durationSet := attribute.NewSet(outcome, CacheHitKey.Bool(k.cached))
	if k.kid != "" {
		attrs = append(attrs, KeyIDKey.String(k.kid))
	}
	requestSet := attribute.NewSet(attrs...)
	opts = &measureOpts{
		add:    []metric.AddOption{metric.WithAttributeSet(requestSet)},
		record: []metric.RecordOption{metric.WithAttributeSet(durationSet)},
	}
	m.mu.Lock()
	if len(m.sets) < maxAttributeSets {
		m.sets[k] = opts
	}
	m.mu.Unlock()
	return opts
}

// ObserveKeySet reports the health of set (a *jwks.Set) under
// name, read from its Stats at every collection: fetches by result, keys in
// use, healthy, and the age of its last successful fetch. name must be
// non-empty and not yet observed; the set is observed for as long as m lives.
func (m *Metrics) ObserveKeySet(name string, set StatsSource) error {
	if name == "" || set == nil {
		return errors.New("otelmetrics: ObserveKeySet needs a name and a key set")
	}
	m.keySetsMu.Lock()
	defer m.keySetsMu.Unlock()
	if _, dup := m.keySets[name]; dup {
		return fmt.Errorf("otelmetrics: a key set named %q is already observed", name)
	}
	m.keySets[name] = set
	return nil
}

func (m *Metrics) observeKeySets(o metric.Observer, fetches metric.Int64ObservableCounter,
	keys, healthy metric.Int64ObservableGauge, age metric.Float64ObservableGauge) {
	m.keySetsMu.Lock()
	defer m.keySetsMu.Unlock()
	for name, set := range m.keySets {
		st := set.Stats()
		named := KeySetKey.String(name)
		o.ObserveInt64(fetches, int64(st.Fetches-st.Failures), metric.WithAttributes(named, FetchResultKey.String("success")))
		o.ObserveInt64(fetches, int64(st.Failures), metric.WithAttributes(named, FetchResultKey.String("failure")))
		o.ObserveInt64(keys, int64(st.Keys), metric.WithAttributes(named))
		up := int64(0)
		if st.Healthy {
			up = 1
		}
		o.ObserveInt64(healthy, up, metric.WithAttributes(named))
		if !st.LastSuccess.IsZero() {
			o.ObserveFloat64(age, time.Since(st.LastSuccess).Seconds(), metric.WithAttributes(named))
		}
	}
}
