package scopedotel

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/scopedtoken/scopedtoken/jwks"
)

// FetchSpanName is the name of the span of a JWK Set fetch.
const FetchSpanName = "scopedtoken.keyset.fetch"

// Attribute keys of the fetch spans.
const (
	FetchCauseKey = attribute.Key("scopedtoken.fetch.cause") // jwks.FetchCause: "initial", "unknown_kid", "refresh", "scheduled"
	URLKey        = attribute.Key("url.full")                // the URL fetched first, its credentials REDACTED
)

// fetchFailed is the error.type of a failed fetch.
var fetchFailed = ErrorTypeKey.String("fetch_failed")

// FetchHook returns a jwks.Config.OnFetch that puts each fetch of the key set
// named name (as given to ObserveKeySet) in a span of its own: a child of the
// span of the request that waited for it (an unknown kid) or of the call of
// Refresh or jwks.New that started it, and a root span for a scheduled
// refresh, which no request waits for. The fetch's HTTP requests run under
// that span, so a Client instrumented with otelhttp.NewTransport adds their
// client spans beneath it. A failed fetch sets the span's status to Error
// with the (redacted) error.
func (m *Metrics) FetchHook(name string) jwks.FetchHook {
	named := KeySetKey.String(name)
	return func(ctx context.Context, f jwks.Fetch) (context.Context, func(error)) {
		opts := []trace.SpanStartOption{
			trace.WithSpanKind(trace.SpanKindInternal),
			trace.WithAttributes(named, FetchCauseKey.String(string(f.Cause)), URLKey.String(f.URL)),
		}
		if f.Cause == jwks.FetchScheduled {
			opts = append(opts, trace.WithNewRoot())
		}
		ctx, span := m.tracer.Start(ctx, FetchSpanName, opts...)
		return ctx, func(err error) {
			if err != nil {
				span.SetAttributes(fetchFailed)
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		}
	}
}
