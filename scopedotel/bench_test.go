package scopedotel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/scopedotel"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// BenchmarkCacheHit is a request whose token is in the cache, through a
// middleware without OnDecision ("off") and with scopedotel's ("on"), on the
// real SDK. The ratio on/off is the cost of telemetry on a hit (BENCHMARKS.md,
// "Telemetry on a cache hit"); "noop", an OnDecision that does nothing, is
// the share of the root middleware (the clock reads of Decision.Duration).
// Without a span in the request's context ("off", "noop", "on") OnDecision
// only counts and times; under a sampled span that each request starts, as
// otelhttp does ("traced-off", "traced-on"), it also annotates the span and
// the SDK keeps exemplars. Run the variants alternately:
//
//	go test -c -o /tmp/otel.test . && for i in $(seq 8); do for v in off noop on traced-off traced-on; do
//	/tmp/otel.test -test.run '^$' -test.bench "^BenchmarkCacheHit/^$v\$" -test.benchmem -test.benchtime 300000x; done; done
func BenchmarkCacheHit(b *testing.B) {
	iss := scopedtokentest.NewIssuer(b, scopedtokentest.WithTime(testNow))
	token := iss.Mint()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(discardSpans{}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	m, err := scopedotel.New(mp, scopedotel.WithTracerProvider(tp))
	if err != nil {
		b.Fatal(err)
	}
	tracer := tp.Tracer("bench")
	for _, tc := range []struct {
		name       string
		onDecision func(context.Context, scopedtoken.Decision)
		traced     bool
	}{
		{name: "off"},
		{name: "noop", onDecision: func(context.Context, scopedtoken.Decision) {}},
		{name: "on", onDecision: m.OnDecision},
		{name: "traced-off", traced: true},
		{name: "traced-on", onDecision: m.OnDecision, traced: true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			mw, err := scopedtoken.New(scopedtoken.Config{Keys: iss.KeySet(), Now: iss.Now, AllowMeWithoutBusiness: true, OnDecision: tc.onDecision})
			if err != nil {
				b.Fatal(err)
			}
			var h http.Handler = mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			if tc.traced {
				h = spanPerRequest(tracer, h)
			}
			req := httptest.NewRequest(http.MethodGet, searchPath, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req) // fills the cache
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}

// spanPerRequest starts a server span per request around next, as otelhttp
// does (without its attributes and metrics, the same with the telemetry on or
// off).
func spanPerRequest(tracer trace.Tracer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tracer.Start(r.Context(), "GET", trace.WithSpanKind(trace.SpanKindServer))
		next.ServeHTTP(w, r.WithContext(ctx))
		span.End()
	})
}

// discardSpans is a span processor that drops every span: the benchmark
// measures recording, not exporting.
type discardSpans struct{}

func (discardSpans) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discardSpans) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discardSpans) Shutdown(context.Context) error                  { return nil }
func (discardSpans) ForceFlush(context.Context) error                { return nil }
