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
// It counts and times the decision with ctx, the request's context, so that
// the SDK's exemplars point at the request's trace, and, when ctx holds a
// recording span (otelhttp's, say), adds the decision to it: the outcome,
// the cache hit, for a refusal the reason as error.type and an event, and for
// a request allowed with a token its kid (docs/metrics.md, "Traces"). To run
// your own function as well, call both from one:
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
	m.requests.Add(ctx, 1, opts.add...)
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
	if opts, ok := (*m.sets.Load())[k]; ok {
		return opts
	}
	outcome := OutcomeKey.String(k.outcome())
	cached := CacheHitKey.Bool(k.cached)
	attrs := []attribute.KeyValue{cached, outcome}
	opts := &measureOpts{span: []attribute.KeyValue{outcome, cached}}
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
	requestSet := attribute.NewSet(attrs...)
	opts.add = []metric.AddOption{metric.WithAttributeSet(requestSet)}
	opts.record = []metric.RecordOption{metric.WithAttributeSet(durationSet)}
	m.setsMu.Lock()
	defer m.setsMu.Unlock()
	old := *m.sets.Load()
	if _, ok := old[k]; !ok && len(old) < maxAttributeSets {
		sets := make(map[attrKey]*measureOpts, len(old)+1)
		maps.Copy(sets, old)
		sets[k] = opts
		m.sets.Store(&sets)
	}
	return opts
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
