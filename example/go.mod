module github.com/scopedtoken/scopedtoken/example

go 1.26.0

require (
	github.com/scopedtoken/scopedtoken v0.0.0-20261206015001-28ae803a713b
	github.com/scopedtoken/scopedtoken/redisstore v0.0.0-20261206015001-28ae803a713b
	github.com/scopedtoken/scopedtoken/scopedotel v0.0.0-20261206023952-a8f3fb1f547b
	github.com/stretchr/testify v1.12.1
	go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp v0.72.0
	go.opentelemetry.io/otel/exporters/stdout/stdoutmetric v1.47.0
	go.opentelemetry.io/otel/exporters/stdout/stdouttrace v1.47.0
	go.opentelemetry.io/otel/sdk v1.47.0
	go.opentelemetry.io/otel/sdk/metric v1.47.0
)

require (
	github.com/MicahParks/jwkset v0.11.5 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/felixge/httpsnoop v1.1.0 // indirect
	github.com/go-logr/logr v1.4.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/redis/go-redis/v9 v9.23.0 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/otel v1.47.0 // indirect
	go.opentelemetry.io/otel/log v1.47.0 // indirect
	go.opentelemetry.io/otel/metric v1.47.0 // indirect
	go.opentelemetry.io/otel/trace v1.47.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

replace (
	github.com/scopedtoken/scopedtoken => ../
	github.com/scopedtoken/scopedtoken/redisstore => ../redisstore
	github.com/scopedtoken/scopedtoken/scopedotel => ../scopedotel
)
