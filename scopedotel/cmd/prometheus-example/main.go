// Command prometheus-example serves an API guarded by scopedtoken and exposes
// the middleware's metrics to Prometheus through the OpenTelemetry exporter.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprometheus "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/jwks"
	"github.com/scopedtoken/scopedtoken/scopedotel"
)

func main() {
	jwksURL := flag.String("jwks", "", "URL of the issuer's JWK Set (required)")
	business := flag.String("business", "", `the business of the set's keys, which "me" in a path stands for`)
	apiAddr := flag.String("api", "127.0.0.1:8080", "address of the API (loopback unless you give another)")
	metricsAddr := flag.String("metrics", "127.0.0.1:9464", "address of /metrics, for the scraper only")
	flag.Parse()
	api, err := net.Listen("tcp", *apiAddr)
	if err != nil {
		log.Fatal(err)
	}
	metrics, err := net.Listen("tcp", *metricsAddr)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, jwks.Config{URL: *jwksURL, BusinessID: *business}, api, metrics); err != nil {
		log.Fatal(err)
	}
}

// run serves the API on api and the metrics on metrics until ctx ends. A
// JWK Set carries no business: without keysConfig.BusinessID, a path with
// "me" is refused with 403 me_without_business.
func run(ctx context.Context, keysConfig jwks.Config, api, metrics net.Listener) error {
	// The exporter is a reader of the OpenTelemetry SDK that turns every
	// collection into Prometheus metrics of its own registry.
	registry := prometheus.NewRegistry()
	exporter, err := otelprometheus.New(otelprometheus.WithRegisterer(registry))
	if err != nil {
		return err
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer provider.Shutdown(context.Background())

	m, err := scopedotel.New(provider)
	if err != nil {
		return err
	}
	keys, err := jwks.New(ctx, keysConfig)
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

	mux := http.NewServeMux()
	mux.Handle("/v2/accounts/", mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello\n"))
	})))
	// The metrics have a listener of their own, reached by the scraper only:
	// never behind the token middleware, never public.
	servers := []*http.Server{
		{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		{Handler: promhttp.HandlerFor(registry, promhttp.HandlerOpts{}), ReadHeaderTimeout: 10 * time.Second},
	}
	errs := make(chan error, len(servers))
	for i, ln := range []net.Listener{api, metrics} {
		go func() { errs <- servers[i].Serve(ln) }()
	}
	select {
	case err = <-errs:
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		err = errors.Join(err, s.Shutdown(shutdownCtx))
	}
	return err
}
