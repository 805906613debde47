package scopedtoken_test

import (
	"net/http"
	"testing"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
)

// BenchmarkIssuerBinding is BenchmarkMiddleware's HS256 case with the key
// bound to an issuer and the token naming it, with and without the cache:
// the binding's cost is the difference.
func BenchmarkIssuerBinding(b *testing.B) {
	const issuer = "https://auth.example.com"
	secret := []byte("bench-secret-bench-secret-bench!")
	sign := mint.Key{ID: "k-HS256", Algorithm: "HS256", Secret: secret}
	verify := scopedtoken.Key{ID: "k-HS256", Algorithm: "HS256", Secret: secret, Issuer: issuer}
	tok := benchMint(b, sign, mint.Claims{Audience: []string{benchAud}, Query: benchQuery, Issuer: issuer})
	for _, mode := range cacheModes {
		b.Run("HS256/"+mode.name, func(b *testing.B) {
			h := benchMiddleware(b, mode.size, verify).Handler(okHandler)
			runBench(b, h, benchRequest(benchTarget, tok), http.StatusOK)
		})
	}
}
