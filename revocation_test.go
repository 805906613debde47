package scopedtoken_test

import (
	"net/http"
	"testing"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

func TestMemoryRevocationsConformance(t *testing.T) {
	scopedtokentest.RevocationsConformance(t, func(*testing.T) (scopedtoken.RevocationStore, scopedtoken.RevocationStore) {
		s := scopedtoken.NewMemoryRevocations(nil)
		return s, s
	})
}

// TestRevocationHitAllocatesNothing: the revocation check adds no allocation
// to a cache hit (BenchmarkRevocation measures its time).
func TestRevocationHitAllocatesNothing(t *testing.T) {
	key := scopedtoken.Key{ID: "hs", Algorithm: "HS256", Secret: []byte("alloc-test-secret-alloc-test-sec")}
	minter, err := mint.New(mint.Config{Key: mint.Key{ID: key.ID, Algorithm: key.Algorithm, Secret: key.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := minter.Mint(mint.Claims{Audience: []string{benchAud}, Query: benchQuery})
	if err != nil {
		t.Fatal(err)
	}
	allocs := func(store scopedtoken.Revocations) float64 {
		set, err := scopedtoken.StaticKeys(key)
		if err != nil {
			t.Fatal(err)
		}
		m, err := scopedtoken.New(scopedtoken.Config{AllowMeWithoutBusiness: true, Keys: set, Revocations: store})
		if err != nil {
			t.Fatal(err)
		}
		h, req, w := m.Handler(okHandler), benchRequest(benchTarget, tok), &benchWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			t.Fatalf("status %d", w.status)
		}
		return testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) })
	}
	store := scopedtoken.NewMemoryRevocations(nil)
	if err := store.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.CutoffBusiness, Value: "other"}); err != nil {
		t.Fatal(err)
	}
	if off, on := allocs(nil), allocs(store); on != off {
		t.Errorf("a cache hit allocates %v times with revocation on, %v with it off", on, off)
	}
}
