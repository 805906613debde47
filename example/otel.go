package main

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/scopedtoken/scopedtoken/scopedotel"
)

// The values of -otel.
const (
	otelOff    = ""
	otelStdout = "stdout"
)

// checkOtel refuses a -otel value the demo does not know.
func checkOtel(mode string) error {
	if mode != otelOff && mode != otelStdout {
		return fmt.Errorf("-otel %q: the demo knows only -otel stdout", mode)
	}
	return nil
}

// telemetry is the demo's OpenTelemetry with -otel stdout: the SDK's stdout
// exporters print each request's span as it ends and the metrics every
// minute and at shutdown, as JSON (docs/metrics.md, "Traces").
type telemetry struct {
	tracing *sdktrace.TracerProvider
	meters  *sdkmetric.MeterProvider
	metrics *scopedotel.Metrics
}

// newTelemetry sets up the stdout exporters writing to out.
func newTelemetry(out io.Writer) (*telemetry, error) {
	spans, err := stdouttrace.New(stdouttrace.WithWriter(out), stdouttrace.WithPrettyPrint())
	if err != nil {
		return nil, err
	}
	metrics, err := stdoutmetric.New(stdoutmetric.WithWriter(out), stdoutmetric.WithPrettyPrint())
	if err != nil {
		return nil, err
	}
	t := &telemetry{
		// WithSyncer prints a span as soon as its request ends: the demo
		// shows each curl's span at once (a server would use WithBatcher).
		tracing: sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)),
		meters:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metrics))),
	}
	t.metrics, err = scopedotel.New(t.meters, scopedotel.WithTracerProvider(t.tracing))
	if err != nil {
		t.shutdown()
		return nil, err
	}
	return t, nil
}

// handler wraps the demo's handler in otelhttp, whose server span
// OnDecision annotates.
func (t *telemetry) handler(h http.Handler) http.Handler {
	return otelhttp.NewHandler(h, "demo", otelhttp.WithTracerProvider(t.tracing), otelhttp.WithMeterProvider(t.meters))
}

// shutdown prints the metrics a last time and stops the exporters.
func (t *telemetry) shutdown() {
	_ = t.meters.Shutdown(context.Background())
	_ = t.tracing.Shutdown(context.Background())
}
