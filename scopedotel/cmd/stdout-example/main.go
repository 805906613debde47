// Command stdout-example serves an API guarded by scopedtoken, keys from a
// JWK Set, and prints its spans and metrics as JSON with the OpenTelemetry
// SDK's stdout exporters: each request's span (otelhttp's) carries the
// decision, and a JWK Set fetch a request waits for is a child of it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/jwks"
	"github.com/scopedtoken/scopedtoken/scopedotel"
)

func main() {
	jwksURL := flag.String("jwks", "", "URL of the JWK Set")
	addr := flag.String("addr", "127.0.0.1:8080", "address of the API")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if err := run(ctx, *jwksURL, ln, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run serves the API on ln until ctx ends, printing spans as they end and
// metrics every minute and at the end to out.
func run(ctx context.Context, jwksURL string, ln net.Listener, out io.Writer) error {
	spans, err := stdouttrace.New(stdouttrace.WithWriter(out), stdouttrace.WithPrettyPrint())
	if err != nil {
		return err
	}
	// WithSyncer prints each span as it ends; use WithBatcher in production.
	tracing := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tracing.Shutdown(context.Background())
	metrics, err := stdoutmetric.New(stdoutmetric.WithWriter(out), stdoutmetric.WithPrettyPrint())
	if err != nil {
		return err
	}
	meters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metrics)))
	defer meters.Shutdown(context.Background()) // prints the metrics a last time

	m, err := scopedotel.New(meters, scopedotel.WithTracerProvider(tracing))
	if err != nil {
		return err
	}
	keys, err := jwks.New(ctx, jwks.Config{URL: jwksURL, OnFetch: m.FetchHook("issuer")})
	if err != nil {
		return err
	}
	defer keys.Close()
	if err := m.ObserveKeySet("issuer", keys); err != nil {
		return err
	}
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys, OnDecision: m.OnDecision})
	if err != nil {
		return err
	}
	api := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := scopedtoken.FromContext(r.Context())
		fmt.Fprintf(w, "hello, business %s\n", token.BusinessID())
	}))
	srv := &http.Server{
		Handler:           otelhttp.NewHandler(api, "api", otelhttp.WithTracerProvider(tracing), otelhttp.WithMeterProvider(meters)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
