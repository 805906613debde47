module github.com/scopedtoken/scopedtoken/browser

go 1.26.0

replace (
	github.com/scopedtoken/scopedtoken => ../
	github.com/scopedtoken/scopedtoken/example => ../example
	github.com/scopedtoken/scopedtoken/redisstore => ../redisstore
)

require (
	github.com/chromedp/cdproto v0.160.1
	github.com/chromedp/chromedp v0.24.0
	github.com/rs/cors v1.11.1
	github.com/scopedtoken/scopedtoken v0.0.0-20261206015001-28ae803a713b
	github.com/scopedtoken/scopedtoken/example v0.0.0-20261205235956-dae74d525d99
	github.com/scopedtoken/scopedtoken/redisstore v0.0.0-20261206015001-28ae803a713b
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/redis/go-redis/v9 v9.23.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.48.0 // indirect
)
