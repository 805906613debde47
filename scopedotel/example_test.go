package scopedotel_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
	"github.com/scopedtoken/scopedtoken/scopedotel"
)

// Every decision of the middleware is counted by outcome and, for a
// refusal, its status and reason (the same token three times: verified
// once, then found in the cache); here a reader collects the counts that an
// exporter (Prometheus, OTLP) would send.
func ExampleMetrics_OnDecision() {
	reader := sdkmetric.NewManualReader()
	metrics, err := scopedotel.New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	if err != nil {
		log.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	secret := []byte("a-32-byte-secret-for-the-example")
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
	if err != nil {
		log.Fatal(err)
	}
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys, Now: now, OnDecision: metrics.OnDecision})
	if err != nil {
		log.Fatal(err)
	}
	minter, err := mint.New(mint.Config{Key: mint.Key{ID: "k1", Secret: secret}, Now: now})
	if err != nil {
		log.Fatal(err)
	}
	token, err := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}})
	if err != nil {
		log.Fatal(err)
	}
	api := mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, path := range []string{"/v2/accounts/me/search", "/v2/accounts/me/search", "/v2/accounts/me/answers"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		api.ServeHTTP(httptest.NewRecorder(), req)
	}

	var data metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &data); err != nil {
		log.Fatal(err)
	}
	for _, scope := range data.ScopeMetrics {
		for _, m := range scope.Metrics {
			if m.Name != scopedotel.RequestsName {
				continue
			}
			for _, point := range m.Data.(metricdata.Sum[int64]).DataPoints {
				outcome, _ := point.Attributes.Value(scopedotel.OutcomeKey)
				reason, _ := point.Attributes.Value(scopedotel.ReasonKey)
				cached, _ := point.Attributes.Value(scopedotel.CacheHitKey)
				fmt.Printf("%s reason=%q cache_hit=%v: %d\n", outcome.AsString(), reason.AsString(), cached.AsBool(), point.Value)
			}
		}
	}
	// Unordered output:
	// allowed reason="" cache_hit=false: 1
	// allowed reason="" cache_hit=true: 1
	// refused reason="audience_mismatch" cache_hit=true: 1
}
