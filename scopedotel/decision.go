package scopedotel

import (
	"context"
	"maps"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/scopedtoken/scopedtoken"
)

// RefusedEventName is the name of the event added to a refused request's
// span.
const RefusedEventName = "scopedtoken.refused"

// OnDecision records one decision: it is a scopedtoken.Config.OnDecision.
// It counts the decision (one atomic add: the request counter is observable,
// docs/metrics.md, "Instruments"), records its duration with ctx, the
// request's context, so that the SDK's exemplars of the duration point at
// the request's trace, and, when ctx holds a recording span (otelhttp's,
// say), adds the decision to it: the outcome, the cache hit, for a refusal
// the reason as error.type and an event, and for a request allowed with a
// token its kid (docs/metrics.md, "Traces"). To run your own function as
// well, call both from one:
//
//	OnDecision: func(ctx context.Context, d scopedtoken.Decision) { m.OnDecision(ctx, d); logDecision(ctx, d) },
func (m *Metrics) OnDecision(ctx context.Context, d scopedtoken.Decision) {
	k := attrKey{allowed: d.Allowed, anonymous: d.Anonymous, preflight: d.Preflight, cached: d.Cached}
	if d.Allowed {
		// The kid of an allowed request names a configured key, so its
		// values are bounded; a refused request's kid is whatever the client
		// sent and is never recorded.
		k.kid = d.KeyID
	} else {
		k.status, k.reason = d.Status, d.Reason
	}
	opts := m.optsFor(k)
	opts.count.n.Add(1)
	m.duration.Record(ctx, d.Duration.Seconds(), opts.record...)
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(opts.span...)
		if !d.Allowed {
			span.AddEvent(RefusedEventName, opts.event...)
		}
	}
}

// optsFor returns the ready-made options of k, building them on first use.
func (m *Metrics) optsFor(k attrKey) *measureOpts {
	for opts := (*m.sets[k.kind()].Load())[k.name()]; opts != nil; opts = opts.next {
		if opts.status == k.status {
			return opts
		}
	}
	return m.newOpts(k)
}

// newOpts builds the options of k and keeps them in m.sets while it holds
// fewer than maxAttributeSets; beyond, each call builds them again, and
// their request count is still the one of their attribute set.
func (m *Metrics) newOpts(k attrKey) *measureOpts {
	outcome := OutcomeKey.String(k.outcome())
	cached := CacheHitKey.Bool(k.cached)
	attrs := []attribute.KeyValue{cached, outcome}
	opts := &measureOpts{status: k.status, span: []attribute.KeyValue{outcome, cached}}
	if !k.allowed {
		refusal := []attribute.KeyValue{StatusKey.Int(k.status), ReasonKey.String(k.reason)}
		attrs = append(attrs, refusal...)
		// The span gets the reason but not the status: the HTTP
		// instrumentation (otelhttp) sets http.response.status_code itself,
		// from what the ErrorHandler wrote.
		opts.span = append(opts.span, ReasonKey.String(k.reason))
		opts.event = []trace.EventOption{trace.WithAttributes(refusal...)}
	}
	// The histogram has only the outcome and the cache hit: a histogram
	// series costs a counter per bucket.
	durationSet := attribute.NewSet(outcome, cached)
	if k.kid != "" {
		opts.span = append(opts.span, KeyIDKey.String(k.kid))
		if m.withKeyID {
			attrs = append(attrs, KeyIDKey.String(k.kid))
		}
	}
	opts.count = m.requests.cell(attribute.NewSet(attrs...))
	opts.record = []metric.RecordOption{metric.WithAttributeSet(durationSet)}
	m.setsMu.Lock()
	defer m.setsMu.Unlock()
	sets := &m.sets[k.kind()]
	old := *sets.Load()
	for o := old[k.name()]; o != nil; o = o.next {
		if o.status == k.status {
			return o // built meanwhile by another call
		}
	}
	if m.nsets < maxAttributeSets {
		opts.next = old[k.name()]
		updated := make(map[string]*measureOpts, len(old)+1)
		maps.Copy(updated, old)
		updated[k.name()] = opts
		sets.Store(&updated)
		m.nsets++
	}
	return opts
}

// kinds is the number of values of attrKey.kind.
const kinds = 16

// kind is the index in Metrics.sets of k's flags.
func (k attrKey) kind() int {
	i := 0
	if k.allowed {
		i |= 1
	}
	if k.anonymous {
		i |= 2
	}
	if k.preflight {
		i |= 4
	}
	if k.cached {
		i |= 8
	}
	return i
}

// name is k's key in its kind's map: the kid of an allowed request, the
// reason of a refused one (either is empty for the others).
func (k attrKey) name() string {
	if k.allowed {
		return k.kid
	}
	return k.reason
}

// outcome is the value of OutcomeKey for k.
func (k attrKey) outcome() string {
	switch {
	case !k.allowed:
		return "refused"
	case k.anonymous:
		return "anonymous"
	case k.preflight:
		return "preflight"
	}
	return "allowed"
}
