package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	auth0v3 "github.com/auth0/go-jwt-middleware/v3"
	validatorv3 "github.com/auth0/go-jwt-middleware/v3/validator"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// dpopOrigin is the origin of BenchmarkDPoP's request (httptest's Host),
// plain http as both middlewares take it from a request without TLS.
const dpopOrigin = "http://example.com"

// BenchmarkDPoP is one DPoP-bound request (docs/dpop.md) through
// scopedtoken and through auth0's go-jwt-middleware v3, both with DPoP
// allowed: the same HS256 token, bound to a P-256 key, and one fresh ES256
// proof per request, made before the timer starts (run it with a fixed
// -benchtime such as 20000x). scopedtoken finds the token in its cache and
// verifies the proof and records its jti in a memory store; auth0 verifies
// the token and the proof, and records nothing (a replayed proof passes).
// Both read the real clock: auth0 has no other.
func BenchmarkDPoP(b *testing.B) {
	key, token, ours, theirs := dpopContenders(b)
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"scopedtoken_cached", ours}, {"auth0-v3", theirs}} {
		b.Run(c.name, func(b *testing.B) {
			proofs := make([]string, b.N+1)
			for i := range proofs {
				proofs[i] = key.Proof(http.MethodGet, dpopOrigin+benchAud, token)
			}
			req := httptest.NewRequest(http.MethodGet, benchAud, nil)
			req.Header.Set("Authorization", "DPoP "+token)
			dpop := []string{proofs[b.N]}
			req.Header["Dpop"] = dpop
			w := &discardWriter{h: make(http.Header)}
			if c.h.ServeHTTP(w, req); w.status != http.StatusOK { // and the token is cached
				b.Fatalf("status %d", w.status)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				dpop[0] = proofs[i]
				c.h.ServeHTTP(w, req)
			}
			b.StopTimer()
			if w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
		})
	}
}

// TestDPoPReplayAgainstAuth0 backs BENCHMARKS.md's note on what the two
// middlewares of BenchmarkDPoP do with a replayed proof: scopedtoken refuses
// it, auth0's go-jwt-middleware v3 accepts it again within its window.
func TestDPoPReplayAgainstAuth0(t *testing.T) {
	key, token, ours, theirs := dpopContenders(t)
	proof := key.Proof(http.MethodGet, dpopOrigin+benchAud, token)
	for _, c := range []struct {
		name   string
		h      http.Handler
		replay int
	}{{"scopedtoken", ours, http.StatusUnauthorized}, {"auth0-v3", theirs, http.StatusOK}} {
		for i, want := range []int{http.StatusOK, c.replay} {
			req := httptest.NewRequest(http.MethodGet, benchAud, nil)
			req.Header.Set("Authorization", "DPoP "+token)
			req.Header.Set("DPoP", proof)
			w := httptest.NewRecorder()
			c.h.ServeHTTP(w, req)
			if w.Code != want {
				t.Errorf("%s, request %d: status %d, want %d", c.name, i+1, w.Code, want)
			}
		}
	}
}

// dpopContenders returns a client key, a token bound to it that both
// middlewares accept, and the two middlewares with DPoP allowed.
func dpopContenders(tb testing.TB) (key *scopedtokentest.DPoPKey, token string, ours, theirs http.Handler) {
	tb.Helper()
	key = scopedtokentest.NewDPoPKey(tb, "ES256", nil)
	mt, err := mint.New(mint.Config{Key: mint.Key{ID: "k-HS256", Algorithm: "HS256", Secret: benchSecret}, Lifetime: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	token, err = mt.Mint(mint.Claims{Audience: []string{benchAud}, Issuer: benchIssuer, DPoPThumbprint: key.Thumbprint()})
	if err != nil {
		tb.Fatal(err)
	}
	set, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k-HS256", Algorithm: "HS256", Secret: benchSecret})
	if err != nil {
		tb.Fatal(err)
	}
	m, err := scopedtoken.New(scopedtoken.Config{Keys: set, AllowMeWithoutBusiness: true,
		DPoPAllowed: true, DPoPOrigin: dpopOrigin, Revocations: scopedtoken.NewMemoryRevocations(nil)})
	if err != nil {
		tb.Fatal(err)
	}
	v, err := validatorv3.New(
		validatorv3.WithKeyFunc(func(context.Context) (any, error) { return benchSecret, nil }),
		validatorv3.WithAlgorithm(validatorv3.HS256),
		validatorv3.WithIssuer(benchIssuer),
		validatorv3.WithAudience(benchAud),
	)
	if err != nil {
		tb.Fatal(err)
	}
	a, err := auth0v3.New(auth0v3.WithValidator(v), auth0v3.WithDPoPMode(auth0v3.DPoPAllowed))
	if err != nil {
		tb.Fatal(err)
	}
	return key, token, m.Handler(okHandler), a.CheckJWT(okHandler)
}
