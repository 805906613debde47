package scopedotel

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/scopedtoken/scopedtoken"
)

// Names of the revocation store instruments.
const (
	RevocationsStateName      = "scopedtoken.revocations.state"
	RevocationsSyncAgeName    = "scopedtoken.revocations.sync.age"
	RevocationsEntriesName    = "scopedtoken.revocations.entries"
	RevocationsPendingName    = "scopedtoken.revocations.pending"
	RevocationsWriteBacksName = "scopedtoken.revocations.write_backs"
	UsesName                  = "scopedtoken.revocations.uses"
	UseDurationName           = "scopedtoken.revocations.use.duration"
)

// Attribute keys of the revocation store instruments.
const (
	RevocationsStoreKey = attribute.Key("scopedtoken.revocations.store") // the name given to ObserveRevocations
	RevocationsStateKey = attribute.Key("scopedtoken.revocations.state") // a known state, or "other"
	UseOutcomeKey       = attribute.Key("scopedtoken.use.outcome")       // "used", "already_used" or "unavailable"
)

// revocationStates are the values of RevocationsStateKey: the states of the
// redisstore module's Store, "local" for scopedtoken.MemoryRevocations, and
// last "other" for any other RevocationStats.State, so that a store cannot
// add values of its own.
var revocationStates = [...]string{"starting", "synced", "replicas_behind", "writes_refused", "unreachable", "local", "other"}

// The outcomes of Use, indexes of Metrics.useOpts.
const (
	useUsed = iota
	useAlreadyUsed
	useUnavailable
	useOutcomes
)

var useOutcomeNames = [useOutcomes]string{useUsed: "used", useAlreadyUsed: "already_used", useUnavailable: "unavailable"}

// ErrNoRevocationStats is the error of ObserveRevocations for a store that
// does not implement scopedtoken.RevocationStatsReporter: it would report
// nothing. Wrap a store of your own with InstrumentRevocations to time its
// Use calls anyway, and ignore this error with errors.Is if you observe
// stores of several kinds.
var ErrNoRevocationStats = errors.New("scopedotel: the revocation store does not implement scopedtoken.RevocationStatsReporter")

// observedStore is one store of ObserveRevocations with its attribute sets,
// built once.
type observedStore struct {
	stats  scopedtoken.RevocationStatsReporter
	named  metric.MeasurementOption   // the store attribute
	states []metric.MeasurementOption // store and state, as revocationStates
}

// newRevocationInstruments creates the revocation store instruments of m and
// registers the callback that reads the observed stores.
func (m *Metrics) newRevocationInstruments(meter metric.Meter) error {
	var (
		errs       [7]error
		state      metric.Int64ObservableGauge
		age        metric.Float64ObservableGauge
		entries    metric.Int64ObservableGauge
		pending    metric.Int64ObservableGauge
		writeBacks metric.Int64ObservableCounter
	)
	state, errs[0] = meter.Int64ObservableGauge(RevocationsStateName,
		metric.WithDescription("1 for the current state of a revocation store's link to its shared state, 0 for the others."))
	age, errs[1] = meter.Float64ObservableGauge(RevocationsSyncAgeName, metric.WithUnit("s"),
		metric.WithDescription("Time since a revocation store last loaded its shared state in full (absent before the first, and for a store that shares nothing)."))
	entries, errs[2] = meter.Int64ObservableGauge(RevocationsEntriesName, metric.WithUnit("{entry}"),
		metric.WithDescription("Revocations and cutoffs held by a revocation store."))
	pending, errs[3] = meter.Int64ObservableGauge(RevocationsPendingName, metric.WithUnit("{revocation}"),
		metric.WithDescription("Revocations enforced by this instance that the shared state has not acknowledged yet."))
	writeBacks, errs[4] = meter.Int64ObservableCounter(RevocationsWriteBacksName, metric.WithUnit("{revocation}"),
		metric.WithDescription("Revocations written again to the shared state because it lacked them, held them weaker, or had not acknowledged them."))
	m.uses, errs[5] = meter.Int64Counter(UsesName, metric.WithUnit("{use}"),
		metric.WithDescription("Single-use token records asked of the revocation store, by outcome."))
	m.useDuration, errs[6] = meter.Float64Histogram(UseDurationName, metric.WithUnit("s"),
		metric.WithDescription("Time the revocation store took to record a single-use token, by outcome."),
		metric.WithExplicitBucketBoundaries(DurationBuckets...))
	if err := errors.Join(errs[:]...); err != nil {
		return fmt.Errorf("scopedotel: creating the revocation instruments: %w", err)
	}
	for i, name := range useOutcomeNames {
		set := attribute.NewSet(UseOutcomeKey.String(name))
		m.useOpts[i] = measureOpts{
			add:    []metric.AddOption{metric.WithAttributeSet(set)},
			record: []metric.RecordOption{metric.WithAttributeSet(set)},
		}
	}
	_, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		m.observeRevocations(o, state, entries, pending, writeBacks, age)
		return nil
	}, state, age, entries, pending, writeBacks)
	if err != nil {
		return fmt.Errorf("scopedotel: registering the revocation callback: %w", err)
	}
	return nil
}

// ObserveRevocations reports the state of the revocation store rev under
// name, read from its RevocationStats at every collection: the state of its
// link to the shared state, the time since it last loaded that state in
// full, the entries it holds, the revocations waiting to be acknowledged and
// the write-backs. rev may be the value InstrumentRevocations returns.
//
// name must be non-empty and not yet observed; choose it yourself ("redis",
// say): it is an attribute value. A store that does not implement
// scopedtoken.RevocationStatsReporter is refused with an error wrapping
// ErrNoRevocationStats, rather than observed as reporting nothing. The store
// is observed for as long as m lives.
func (m *Metrics) ObserveRevocations(name string, rev scopedtoken.Revocations) error {
	if name == "" || rev == nil || isNil(rev) {
		return errors.New("scopedotel: ObserveRevocations needs a name and a revocation store")
	}
	stats, ok := rev.(scopedtoken.RevocationStatsReporter)
	if !ok {
		return fmt.Errorf("%w (%T)", ErrNoRevocationStats, rev)
	}
	named := RevocationsStoreKey.String(name)
	st := &observedStore{stats: stats, named: metric.WithAttributeSet(attribute.NewSet(named))}
	for _, s := range revocationStates {
		st.states = append(st.states, metric.WithAttributeSet(attribute.NewSet(named, RevocationsStateKey.String(s))))
	}
	m.storesMu.Lock()
	defer m.storesMu.Unlock()
	if _, dup := m.stores[name]; dup {
		return fmt.Errorf("scopedotel: a revocation store named %q is already observed", name)
	}
	m.stores[name] = st
	return nil
}

// stateIndex returns the index of state in revocationStates, that of
// "other" for a state it does not list.
func stateIndex(state string) int {
	other := len(revocationStates) - 1
	for i, s := range revocationStates[:other] {
		if s == state {
			return i
		}
	}
	return other
}

func (m *Metrics) observeRevocations(o metric.Observer, state, entries, pending metric.Int64ObservableGauge,
	writeBacks metric.Int64ObservableCounter, age metric.Float64ObservableGauge) {
	m.storesMu.Lock()
	defer m.storesMu.Unlock()
	for _, st := range m.stores {
		s := st.stats.RevocationStats()
		// Every state is reported, 0 but the current one, so that each
		// series is continuous and a query need not tell absent from 0.
		current := stateIndex(s.State)
		for i, opt := range st.states {
			v := int64(0)
			if i == current {
				v = 1
			}
			o.ObserveInt64(state, v, opt)
		}
		o.ObserveInt64(entries, int64(s.Entries), st.named)
		o.ObserveInt64(pending, int64(s.Pending), st.named)
		o.ObserveInt64(writeBacks, int64(s.WriteBacks), st.named)
		if !s.LastSync.IsZero() {
			o.ObserveFloat64(age, time.Since(s.LastSync).Seconds(), st.named)
		}
	}
}

// InstrumentRevocations returns rev with every Use timed and counted by
// outcome: "used" (nil), "already_used" (scopedtoken.ErrTokenUsed) and
// "unavailable" (any other error: the request is refused with 503). Give the
// result to scopedtoken.Config.Revocations in place of rev.
//
// Revoked and Version, which run on every request, go straight to rev and
// allocate nothing more. The result implements
// scopedtoken.RevocationStatsReporter exactly when rev does, so it can be
// given to ObserveRevocations. It has no other method of rev, which the
// middleware never calls: keep rev for those (Revoke, and the Redis store's
// Close and Health, say). Wrap a store once: each wrapper counts every Use it
// passes on.
//
// A nil rev returns nil, and a nil pointer is returned as it is, so that
// scopedtoken.New still refuses it.
func (m *Metrics) InstrumentRevocations(rev scopedtoken.Revocations) scopedtoken.Revocations {
	if rev == nil || isNil(rev) {
		return rev
	}
	in := &instrumented{rev: rev, m: m}
	if stats, ok := rev.(scopedtoken.RevocationStatsReporter); ok {
		return &instrumentedReporter{instrumented: in, stats: stats}
	}
	return in
}

// instrumented is a Revocations that times Use.
type instrumented struct {
	rev scopedtoken.Revocations
	m   *Metrics
}

// Revoked is rev's.
func (w *instrumented) Revoked(c *scopedtoken.RevocationCheck) bool { return w.rev.Revoked(c) }

// Version is rev's.
func (w *instrumented) Version() uint64 { return w.rev.Version() }

// Use calls rev's and records its duration and outcome. The key names the
// token: it is never recorded.
func (w *instrumented) Use(ctx context.Context, key string, until time.Time) error {
	start := time.Now()
	err := w.rev.Use(ctx, key, until)
	elapsed := time.Since(start).Seconds()
	outcome := useUsed
	switch {
	case err == nil:
	case errors.Is(err, scopedtoken.ErrTokenUsed):
		outcome = useAlreadyUsed
	default:
		outcome = useUnavailable
	}
	opts := &w.m.useOpts[outcome]
	w.m.uses.Add(ctx, 1, opts.add...)
	w.m.useDuration.Record(ctx, elapsed, opts.record...)
	return err
}

// instrumentedReporter is an instrumented store that reports its stats.
type instrumentedReporter struct {
	*instrumented
	stats scopedtoken.RevocationStatsReporter
}

// RevocationStats is rev's.
func (w *instrumentedReporter) RevocationStats() scopedtoken.RevocationStats {
	return w.stats.RevocationStats()
}

// isNil reports whether v holds a nil pointer (or map, func, channel,
// slice): set, but unusable.
func isNil(v any) bool {
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Slice, reflect.Interface:
		return rv.IsNil()
	}
	return false
}
