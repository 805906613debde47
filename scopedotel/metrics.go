// Package scopedotel reports a scopedtoken middleware to OpenTelemetry: its
// decisions as metrics and on the request's trace span, the fetches of its
// remote key sets as spans and their health as metrics, and the state of its
// revocation store as metrics.
//
// Plug (*Metrics).OnDecision into scopedtoken.Config.OnDecision, give each
// remote key set (a *jwks.Set) the hook of FetchHook and register it with
// ObserveKeySet, and wrap and observe the revocation store with
// InstrumentRevocations and ObserveRevocations:
//
//	m, err := scopedotel.New(meterProvider, scopedotel.WithTracerProvider(tracerProvider))
//	...
//	keys, err := jwks.New(ctx, jwks.Config{URL: jwksURL, OnFetch: m.FetchHook("issuer")})
//	...
//	err = m.ObserveKeySet("issuer", keys)
//	revocations := m.InstrumentRevocations(store) // store: a *redisstore.Store, say
//	err = m.ObserveRevocations("redis", revocations)
//	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys, Revocations: revocations, OnDecision: m.OnDecision})
//
// Every attribute has a bounded set of values: no request path and no token
// content is ever recorded, and the kid only for allowed requests, whose kid
// is one of the configured keys (on their span always, on the metrics only
// with WithKeyID). See
// docs/metrics.md for the instruments, the spans and a Prometheus set-up.
package scopedotel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/scopedtoken/scopedtoken/jwks"
)

// ScopeName is the instrumentation scope of every instrument and span; its
// version is the module's (see ScopeVersion).
const ScopeName = "github.com/scopedtoken/scopedtoken/scopedotel"

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
	OutcomeKey     = attribute.Key("scopedtoken.outcome")       // "allowed", "refused", "anonymous" or "preflight"
	StatusKey      = attribute.Key("http.response.status_code") // the refusal's status; refusals only
	ErrorTypeKey   = attribute.Key("error.type")                // what went wrong: a refusal's reason, a failed fetch
	ReasonKey      = ErrorTypeKey                               // the refusal's reason code; refusals only
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
// requests, as their spans always have it. Their kid is that of a configured
// key, so its values are bounded by the keys in use, but each kid is a series
// of its own; the kid of a refused request is never recorded, since anyone
// can send any kid.
func WithKeyID() Option { return func(m *Metrics) { m.withKeyID = true } }

// WithTracerProvider sets the provider of the tracer that FetchHook's spans
// come from. Default: the global provider of otel.GetTracerProvider. The
// spans that OnDecision annotates are the request's own, whatever their
// provider.
func WithTracerProvider(provider trace.TracerProvider) Option {
	return func(m *Metrics) { m.tracerProvider = provider }
}

// StatsSource is what ObserveKeySet reads: *jwks.Set.
type StatsSource interface {
	Stats() jwks.Stats
}

// Metrics records decisions, key set health and the revocation store. Build
// it with New; it is safe for concurrent use.
type Metrics struct {
	withKeyID      bool
	tracerProvider trace.TracerProvider
	tracer         trace.Tracer
	requests       requestCounts // reported by an observable counter
	duration       metric.Float64Histogram

	// sets holds the ready-made attribute sets by decision: by its kind
	// (attrKey.kind), then by its kid (allowed) or reason (refused), a
	// string key that the runtime's maps find without hashing while they
	// are small; the entries of one reason with different statuses are
	// chained. Each map is copied on write (under setsMu), so that
	// OnDecision reads it without a lock.
	sets   [kinds]atomic.Pointer[map[string]*measureOpts]
	nsets  int // entries in sets, at most maxAttributeSets; under setsMu
	setsMu sync.Mutex

	keySetsMu sync.Mutex
	keySets   map[string]StatsSource

	uses        metric.Int64Counter
	useDuration metric.Float64Histogram
	useOpts     [useOutcomes]measureOpts // ready-made attribute sets by outcome of Use

	storesMu sync.Mutex
	stores   map[string]*observedStore // by the name given to ObserveRevocations
}

// attrKey is what a decision's attributes depend on. kid is set for every
// request allowed with a token, whose span gets it; the metrics have it only
// with WithKeyID.
type attrKey struct {
	allowed   bool
	anonymous bool
	preflight bool
	cached    bool
	status    int
	reason    string
	kid       string
}

// measureOpts are the options of one attribute set, built once so that
// recording allocates nothing: the metrics' and, for OnDecision, the request
// counter's cell, the span's attributes and the refusal event's options.
type measureOpts struct {
	status int           // OnDecision only: the refusal status of the set
	next   *measureOpts  // OnDecision only: the same reason with another status
	count  *requestCount // OnDecision only
	add    []metric.AddOption
	record []metric.RecordOption
	span   []attribute.KeyValue
	event  []trace.EventOption
}

// New creates the instruments with the meter of ScopeName from provider (nil:
// the global provider of otel.GetMeterProvider), and the tracer of FetchHook
// (see WithTracerProvider).
func New(provider metric.MeterProvider, opts ...Option) (*Metrics, error) {
	if provider == nil {
		provider = otel.GetMeterProvider()
	}
	m := &Metrics{keySets: map[string]StatsSource{}, stores: map[string]*observedStore{}}
	for _, o := range opts {
		o(m)
	}
	for i := range m.sets {
		m.sets[i].Store(&map[string]*measureOpts{})
	}
	if m.tracerProvider == nil {
		m.tracerProvider = otel.GetTracerProvider()
	}
	version := ScopeVersion()
	m.tracer = m.tracerProvider.Tracer(ScopeName, trace.WithInstrumentationVersion(version))
	meter := provider.Meter(ScopeName, metric.WithInstrumentationVersion(version))
	var (
		errs    [6]error
		fetches metric.Int64ObservableCounter
		keys    metric.Int64ObservableGauge
		healthy metric.Int64ObservableGauge
		age     metric.Float64ObservableGauge
	)
	// An observable counter over the module's own atomics (requests.go):
	// exported as a monotonic cumulative sum, a Prometheus counter, as a
	// synchronous one would be, but without exemplars; the duration
	// histogram, recorded with the request's context, carries them.
	_, errs[0] = meter.Int64ObservableCounter(RequestsName, metric.WithUnit("{request}"),
		metric.WithDescription("Requests decided by the scopedtoken middleware, by outcome, refusal status and reason (error.type), and cache hit."),
		metric.WithInt64Callback(m.requests.observe))
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
		return nil, fmt.Errorf("scopedotel: creating the instruments: %w", err)
	}
	_, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		m.observeKeySets(o, fetches, keys, healthy, age)
		return nil
	}, fetches, keys, healthy, age)
	if err != nil {
		return nil, fmt.Errorf("scopedotel: registering the key set callback: %w", err)
	}
	if err := m.newRevocationInstruments(meter); err != nil {
		return nil, err
	}
	return m, nil
}
