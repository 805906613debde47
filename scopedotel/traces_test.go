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
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/jwks"
	"github.com/scopedtoken/scopedtoken/scopedotel"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// telemetry is an SDK set-up whose spans and metrics a test reads back: the
// in-memory span exporter (synchronous) and a manual metric reader.
type telemetry struct {
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
	tracer trace.Tracer
	m      *scopedotel.Metrics
}

func newTelemetry(t *testing.T, opts ...scopedotel.Option) *telemetry {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	m, err := scopedotel.New(mp, append(opts, scopedotel.WithTracerProvider(tp))...)
	require.NoError(t, err)
	return &telemetry{spans: spans, reader: reader, tracer: tp.Tracer("test"), m: m}
}

// serve sends req through mw's handler inside a server span named
// "request", as an HTTP instrumentation (otelhttp) would start it, and
// returns the status and the span's context.
func (tel *telemetry) serve(mw *scopedtoken.Middleware, req *http.Request) (int, trace.SpanContext) {
	h := mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	ctx, span := tel.tracer.Start(req.Context(), "request", trace.WithSpanKind(trace.SpanKindServer))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.WithContext(ctx))
	span.End()
	return rec.Code, span.SpanContext()
}

// spanNamed returns the one ended span called name.
func (tel *telemetry) spanNamed(t *testing.T, name string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range tel.spans.GetSpans() {
		if s.Name == name {
			found = append(found, s)
		}
	}
	require.Len(t, found, 1, "spans named %q", name)
	return found[0]
}

// attrs is a span's attributes by key.
func attrs(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, kv := range kvs {
		out[kv.Key] = kv.Value
	}
	return out
}

func get(path, token string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// TestDecisionSpan checks what OnDecision adds to the request's span: the
// outcome and the cache hit always; for a refusal the reason as error.type
// and an event with the reason and status; the kid of an allowed request
// only, never that of a refused one (the client chose it).
func TestDecisionSpan(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	valid := iss.Mint()
	preflight := get(searchPath, "")
	preflight.Method = http.MethodOptions
	preflight.Header.Set("Origin", "https://site.test")
	preflight.Header.Set("Access-Control-Request-Method", "GET")
	tests := []struct {
		name    string
		req     *http.Request
		warm    bool // send the request once before, so that its token is cached
		status  int
		outcome string
		reason  string // error.type; "" for none
		cached  bool
		kid     string // scopedtoken.kid; "" for none
	}{
		{name: "allowed", req: get(searchPath, valid), status: 200, outcome: "allowed", kid: iss.KeyID()},
		{name: "allowed from the cache", req: get(searchPath, valid), warm: true, status: 200, outcome: "allowed", cached: true, kid: iss.KeyID()},
		{name: "expired", req: get(searchPath, iss.Expired()), status: 401, outcome: "refused", reason: "expired"},
		{name: "missing token", req: get(searchPath, ""), status: 401, outcome: "refused", reason: "missing_token"},
		{name: "wrong audience", req: get(searchPath, iss.WrongAudience()), status: 403, outcome: "refused", reason: "audience_mismatch"},
		{name: "unknown kid", req: get(searchPath, iss.UnknownKID()), status: 401, outcome: "refused", reason: "unknown_kid"},
		{name: "preflight", req: preflight, status: 200, outcome: "preflight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := newTelemetry(t)
			mw, err := scopedtoken.New(scopedtoken.Config{Keys: iss.KeySet(), Now: iss.Now, AllowMeWithoutBusiness: true,
				AllowPreflight: true, OnDecision: tel.m.OnDecision})
			require.NoError(t, err)
			if tt.warm {
				tel.serve(mw, get(searchPath, valid))
				tel.spans.Reset()
			}
			code, _ := tel.serve(mw, tt.req)
			require.Equal(t, tt.status, code)
			span := tel.spanNamed(t, "request")
			got := attrs(span.Attributes)
			assert.Equal(t, tt.outcome, got[scopedotel.OutcomeKey].AsString())
			assert.Equal(t, tt.cached, got[scopedotel.CacheHitKey].AsBool())
			assert.Equal(t, tt.reason, got[scopedotel.ErrorTypeKey].AsString())
			assert.Equal(t, tt.kid, got[scopedotel.KeyIDKey].AsString())
			_, hasStatus := got[scopedotel.StatusKey]
			assert.False(t, hasStatus, "the HTTP instrumentation sets the status code, not OnDecision")
			if tt.reason == "" {
				assert.Empty(t, span.Events)
				return
			}
			require.Len(t, span.Events, 1)
			event := span.Events[0]
			assert.Equal(t, scopedotel.RefusedEventName, event.Name)
			ev := attrs(event.Attributes)
			assert.Equal(t, tt.reason, ev[scopedotel.ErrorTypeKey].AsString())
			assert.Equal(t, int64(tt.status), ev[scopedotel.StatusKey].AsInt64())
		})
	}
}

// TestDecisionSpanNotRecording checks that a span that does not record (not
// sampled) gets nothing, while the decision is still counted.
func TestDecisionSpanNotRecording(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans), sdktrace.WithSampler(sdktrace.NeverSample()))
	reader, m := newReader(t)
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: iss.KeySet(), Now: iss.Now, OnDecision: m.OnDecision})
	require.NoError(t, err)
	ctx, span := tp.Tracer("test").Start(context.Background(), "request")
	require.False(t, span.IsRecording())
	mw.Handler(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), get(searchPath, iss.Expired()).WithContext(ctx))
	span.End()
	assert.Empty(t, spans.GetSpans())
	assert.Len(t, sums[int64](t, collect(t, reader)[scopedotel.RequestsName]), 1)
}

// TestNothingWithoutOnDecision checks "no cost when off": a middleware
// without OnDecision neither counts nor touches the request's span.
func TestNothingWithoutOnDecision(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	tel := newTelemetry(t)
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: iss.KeySet(), Now: iss.Now})
	require.NoError(t, err)
	for _, token := range []string{iss.Mint(), iss.Expired(), ""} {
		tel.serve(mw, get(searchPath, token))
	}
	for _, span := range tel.spans.GetSpans() {
		assert.Empty(t, span.Attributes)
		assert.Empty(t, span.Events)
	}
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, metric := range sm.Metrics {
			switch d := metric.Data.(type) {
			case metricdata.Sum[int64]:
				assert.Empty(t, d.DataPoints, metric.Name)
			case metricdata.Histogram[float64]:
				assert.Empty(t, d.DataPoints, metric.Name)
			}
		}
	}
}

// TestExemplarTraceID checks that the decision's duration carries an
// exemplar of the request's trace: OnDecision records it with the request's
// context, and the SDK's default exemplar filter keeps sampled traces. The
// request counter is an observable counter (docs/metrics.md, "Instruments"),
// which the SDK reads without a request's context: it has no exemplar.
func TestExemplarTraceID(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	tel := newTelemetry(t)
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: iss.KeySet(), Now: iss.Now, OnDecision: tel.m.OnDecision})
	require.NoError(t, err)
	_, sc := tel.serve(mw, get(searchPath, iss.Expired()))
	require.True(t, sc.IsSampled())
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	var counted, timed bool
	for _, sm := range rm.ScopeMetrics {
		for _, metric := range sm.Metrics {
			switch metric.Name {
			case scopedotel.RequestsName:
				points := metric.Data.(metricdata.Sum[int64]).DataPoints
				require.Len(t, points, 1)
				assert.Equal(t, int64(1), points[0].Value)
				assert.Empty(t, points[0].Exemplars, "an observable counter has no exemplars")
				counted = true
			case scopedotel.DurationName:
				points := metric.Data.(metricdata.Histogram[float64]).DataPoints
				require.Len(t, points, 1)
				require.Len(t, points[0].Exemplars, 1)
				assert.Equal(t, sc.TraceID().String(), trace.TraceID(points[0].Exemplars[0].TraceID).String())
				assert.Equal(t, sc.SpanID().String(), trace.SpanID(points[0].Exemplars[0].SpanID).String())
				timed = true
			}
		}
	}
	assert.True(t, counted && timed, "both instruments recorded")
}

// TestPreflightCounted checks that a preflight let through by
// AllowPreflight is counted under its own outcome.
func TestPreflightCounted(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	reader, m := newReader(t)
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: iss.KeySet(), Now: iss.Now, AllowPreflight: true, OnDecision: m.OnDecision})
	require.NoError(t, err)
	req := get(searchPath, "")
	req.Method = http.MethodOptions
	req.Header.Set("Origin", "https://site.test")
	req.Header.Set("Access-Control-Request-Method", "GET")
	rec := httptest.NewRecorder()
	mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, map[string]int64{"scopedtoken.cache_hit=false,scopedtoken.outcome=preflight": 1},
		sums[int64](t, collect(t, reader)[scopedotel.RequestsName]))
}

// newTracedRemote builds a jwks.Set over url whose fetches go through
// tel's FetchHook under the name "issuer".
func newTracedRemote(t *testing.T, tel *telemetry, url string, refresh time.Duration) *jwks.Set {
	t.Helper()
	rs, err := jwks.New(context.Background(), jwks.Config{
		URL:                url,
		OnFetch:            tel.m.FetchHook("issuer"),
		RefreshInterval:    refresh,
		MinRefreshInterval: refresh,
		RefreshWait:        10 * time.Second,
		Logger:             slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	t.Cleanup(rs.Close)
	return rs
}

// TestFetchSpans checks where the fetch spans go: a fetch that a request
// waits for (its token's kid was just published) is a child of the request's
// span; a scheduled refresh is a root span of its own; a failed fetch has the
// Error status and error.type.
func TestFetchSpans(t *testing.T) {
	tests := []struct {
		name   string
		run    func(t *testing.T, tel *telemetry, iss *scopedtokentest.Issuer, srv *scopedtokentest.JWKSServer) trace.SpanContext
		cause  string
		failed bool
	}{
		{name: "request waits for a fetch", cause: "unknown_kid",
			run: func(t *testing.T, tel *telemetry, iss *scopedtokentest.Issuer, srv *scopedtokentest.JWKSServer) trace.SpanContext {
				set := newTracedRemote(t, tel, srv.URL, time.Hour)
				mw, err := scopedtoken.New(scopedtoken.Config{Keys: set, Now: iss.Now, AllowMeWithoutBusiness: true, OnDecision: tel.m.OnDecision})
				require.NoError(t, err)
				kid := srv.AddKey("ES256")
				code, sc := tel.serve(mw, get(searchPath, iss.Mint(scopedtokentest.SignWith(kid))))
				require.Equal(t, http.StatusOK, code)
				return sc
			}},
		{name: "failed fetch a request waits for", cause: "unknown_kid", failed: true,
			run: func(t *testing.T, tel *telemetry, iss *scopedtokentest.Issuer, srv *scopedtokentest.JWKSServer) trace.SpanContext {
				set := newTracedRemote(t, tel, srv.URL, time.Hour)
				mw, err := scopedtoken.New(scopedtoken.Config{Keys: set, Now: iss.Now, AllowMeWithoutBusiness: true, OnDecision: tel.m.OnDecision})
				require.NoError(t, err)
				srv.FailWith(http.StatusInternalServerError)
				code, sc := tel.serve(mw, get(searchPath, iss.UnknownKID()))
				require.Equal(t, http.StatusServiceUnavailable, code)
				return sc
			}},
		{name: "scheduled refresh", cause: "scheduled",
			run: func(t *testing.T, tel *telemetry, _ *scopedtokentest.Issuer, srv *scopedtokentest.JWKSServer) trace.SpanContext {
				newTracedRemote(t, tel, srv.URL, 50*time.Millisecond)
				require.Eventually(t, func() bool { return len(tel.spans.GetSpans()) >= 2 }, 5*time.Second, 10*time.Millisecond)
				return trace.SpanContext{}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := newTelemetry(t)
			iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
			srv := iss.JWKSServer()
			parent := tt.run(t, tel, iss, srv)
			var initial, fetch *tracetest.SpanStub
			spans := tel.spans.GetSpans()
			for i := range spans {
				s := &spans[i]
				if s.Name != scopedotel.FetchSpanName {
					continue
				}
				switch attrs(s.Attributes)[scopedotel.FetchCauseKey].AsString() {
				case "initial":
					initial = s
				case tt.cause:
					if fetch == nil {
						fetch = s
					}
				}
			}
			require.NotNil(t, initial, "the fetch of jwks.New")
			require.NotNil(t, fetch, "the %s fetch", tt.cause)
			got := attrs(fetch.Attributes)
			assert.Equal(t, "issuer", got[scopedotel.KeySetKey].AsString())
			assert.Equal(t, srv.URL, got[scopedotel.URLKey].AsString())
			assert.Equal(t, trace.SpanKindInternal, fetch.SpanKind)
			if parent.IsValid() {
				assert.Equal(t, parent.TraceID(), fetch.SpanContext.TraceID(), "in the request's trace")
				assert.Equal(t, parent.SpanID(), fetch.Parent.SpanID(), "a child of the request's span")
			} else {
				assert.False(t, fetch.Parent.IsValid(), "a root span")
				assert.NotEqual(t, initial.SpanContext.TraceID(), fetch.SpanContext.TraceID(), "a trace of its own")
			}
			if tt.failed {
				assert.Equal(t, "Error", fetch.Status.Code.String())
				assert.Equal(t, "fetch_failed", got[scopedotel.ErrorTypeKey].AsString())
			} else {
				assert.Equal(t, "Unset", fetch.Status.Code.String())
			}
		})
	}
}

// TestScopeVersion checks that the instruments and spans carry the
// module's version as their scope's version.
func TestScopeVersion(t *testing.T) {
	tel := newTelemetry(t)
	srv := scopedtokentest.NewIssuer(t).JWKSServer()
	require.NoError(t, tel.m.ObserveKeySet("issuer", newTracedRemote(t, tel, srv.URL, time.Hour)))
	span := tel.spanNamed(t, scopedotel.FetchSpanName)
	assert.Equal(t, scopedotel.ScopeName, span.InstrumentationScope.Name)
	assert.Equal(t, scopedotel.ScopeVersion(), span.InstrumentationScope.Version)
	assert.NotEmpty(t, scopedotel.ScopeVersion(), "a test binary records its main module as (devel)")
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	require.NotEmpty(t, rm.ScopeMetrics)
	assert.Equal(t, scopedotel.ScopeVersion(), rm.ScopeMetrics[0].Scope.Version)
}
