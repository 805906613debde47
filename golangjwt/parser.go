package golangjwt

import (
	"github.com/golang-jwt/jwt/v5"

	"github.com/scopedtoken/scopedtoken"
)

// ParserOptions returns the golang-jwt parser options that hold the time
// claims and the encoding to the middleware's defaults: exp required
// (jwt.WithExpirationRequired), iat in the future refused
// (jwt.WithIssuedAt), scopedtoken.DefaultLeeway for exp, nbf and iat
// (jwt.WithLeeway), and base64url segments without stray bits
// (jwt.WithStrictDecoding), so that one token has one encoding. Options given
// after these override them; add jwt.WithValidMethods with the algorithms of
// your keys, and jwt.WithIssuer or jwt.WithAudience when the token must name
// them. None of them checks the scoped path and query rules (see the package
// documentation).
func ParserOptions() []jwt.ParserOption {
	return []jwt.ParserOption{
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(scopedtoken.DefaultLeeway),
		jwt.WithStrictDecoding(),
	}
}
