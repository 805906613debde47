module github.com/scopedtoken/scopedtoken/example

go 1.26.0

require (
	github.com/scopedtoken/scopedtoken v0.0.0-20261206015001-28ae803a713b
	github.com/scopedtoken/scopedtoken/redisstore v0.0.0-20261206015001-28ae803a713b
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/MicahParks/jwkset v0.11.5 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/redis/go-redis/v9 v9.23.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

replace (
	github.com/scopedtoken/scopedtoken => ../
	github.com/scopedtoken/scopedtoken/redisstore => ../redisstore
)
