package scopedtoken_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"testing"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// BenchmarkDPoPSignature is the standard library's verification of one
// signature, beside which BenchmarkDPoP's bound requests are read.
func BenchmarkDPoPSignature(b *testing.B) {
	msg := sha256.Sum256([]byte("signing input"))
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	sig, err := ecdsa.SignASN1(rand.Reader, p256, msg[:])
	if err != nil {
		b.Fatal(err)
	}
	pub, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	edSig := ed25519.Sign(ed, msg[:])
	b.Run("ES256", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !ecdsa.VerifyASN1(&p256.PublicKey, msg[:], sig) {
				b.Fatal("bad signature")
			}
		}
	})
	b.Run("EdDSA", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !ed25519.Verify(pub, msg[:], edSig) {
				b.Fatal("bad signature")
			}
		}
	})
}

// BenchmarkDPoP is a cache hit on an HS256 token (query claim matched) with
// DPoP allowed and a memory store: as a bearer token, and bound to a client
// key with one fresh proof per request, verified and its jti recorded
// (docs/dpop.md). The difference is the cost of DPoP: about one signature
// verification. The proofs are made before the timer starts, one per
// iteration: run it with a fixed -benchtime such as 20000x.
func BenchmarkDPoP(b *testing.B) {
	alg := benchAlgs(b)[0]
	const origin = "https://api.example.com"
	set, err := scopedtoken.StaticKeys(alg.verify)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		alg  string // "": a bearer token
	}{{"bearer", ""}, {"bound/ES256", "ES256"}, {"bound/EdDSA", "EdDSA"}} {
		b.Run(tc.name, func(b *testing.B) {
			m, err := scopedtoken.New(scopedtoken.Config{Keys: set, Now: benchClock, AllowMeWithoutBusiness: true,
				Revocations: scopedtoken.NewMemoryRevocations(benchClock), DPoPAllowed: true, DPoPOrigin: origin})
			if err != nil {
				b.Fatal(err)
			}
			h := m.Handler(okHandler)
			claims := mint.Claims{Audience: []string{benchAud}, Query: benchQuery}
			var key *scopedtokentest.DPoPKey
			if tc.alg != "" {
				key = scopedtokentest.NewDPoPKey(b, tc.alg, benchClock)
				claims.DPoPThumbprint = key.Thumbprint()
			}
			tok := benchMint(b, alg.sign, claims)
			req := benchRequest(benchTarget, tok)
			proofs := make([]string, b.N+1)
			if key != nil {
				req.Header.Set("Authorization", "DPoP "+tok)
				for i := range proofs {
					proofs[i] = key.Proof(http.MethodGet, origin+benchAud, tok)
				}
			}
			dpop := []string{""}
			req.Header["Dpop"] = dpop
			w := &benchWriter{h: make(http.Header)}
			dpop[0] = proofs[b.N] // the first request fills the cache
			if h.ServeHTTP(w, req); w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				dpop[0] = proofs[i]
				h.ServeHTTP(w, req)
			}
			b.StopTimer()
			if w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
		})
	}
}
