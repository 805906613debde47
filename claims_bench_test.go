package scopedtoken

import (
	"context"
	"net/url"
	"testing"
	"time"
)

// BenchmarkParseClaims is the strict claims parse of a cache miss alone, on
// the token of the floor comparisons in bench/ (one aud entry, iss, exp, iat
// and a one-value query claim): the part of a miss that the uncached floor
// does not do at all.
func BenchmarkParseClaims(b *testing.B) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	key := Key{ID: "k", Algorithm: "HS256", Secret: []byte("bench-secret-bench-secret-bench!")}
	mt, err := NewMinterForTest(MintConfig{Key: MintKey{ID: key.ID, Algorithm: key.Algorithm, Secret: key.Secret}, Now: clock, Lifetime: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := mt.Mint(MintClaims{Audience: []string{"/v2/accounts/me/search"}, Issuer: "https://issuer.example/",
		Query: url.Values{"experienceKey": {"MySearchExperience"}}})
	if err != nil {
		b.Fatal(err)
	}
	set, err := StaticKeys(key)
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(Config{Keys: set, Now: clock, CacheSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	j, e := verifyJWS(context.Background(), m.keys, tok, m.maxTokenBytes, nil)
	if e != nil {
		b.Fatal(e)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, e := m.parseClaims(j.key, j.payload); e != nil {
			b.Fatal(e)
		}
	}
}
