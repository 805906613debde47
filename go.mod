module github.com/scopedtoken/scopedtoken

go 1.25.0

require (
	github.com/MicahParks/jwkset v0.11.5
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/stretchr/testify v1.12.1
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/time v0.15.0 // indirect
)
