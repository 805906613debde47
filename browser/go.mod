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
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
