package scopedtoken

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cbEntries mints n distinct HS256 tokens with claims(i) and verifies each
// with the cache off, returning the tokens and what they verified to.
func cbEntries(t testing.TB, n int, claims func(i int) Claims) ([]string, []*verified) {
	t.Helper()
	clock := newCTClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	mt, err := NewMinter(MinterConfig{Key: ctHSKey(), Now: clock.now})
	require.NoError(t, err)
	m, err := New(Config{Keys: ctStaticKeys(t, Key{ID: "hs", Algorithm: "HS256", Secret: ctSecret}), Now: clock.now, CacheSize: -1})
	require.NoError(t, err)
	tokens, entries := make([]string, n), make([]*verified, n)
	for i := range n {
		tokens[i], err = mt.Mint(claims(i))
		require.NoError(t, err)
		v, _, _, e := m.verify(context.Background(), tokens[i])
		require.Nil(t, e)
		entries[i] = v
	}
	return tokens, entries
}

// cbMinimal is the smallest token the middleware accepts, made distinct by exp.
func cbMinimal(i int) Claims {
	return Claims{Audience: []string{ctAud}, ExpiresIn: time.Hour + time.Duration(i)*time.Second}
}

// cbTypical is the common shape: one aud and a one-value query claim.
func cbTypical(i int) Claims {
	return Claims{Audience: []string{ctAud}, Query: ctQuery, ID: fmt.Sprintf("jti-%d", i)}
}

// BenchmarkCacheGet is a cache hit (the lookup alone), serial and from every
// core at once, on a cache that holds all the tokens asked for.
func BenchmarkCacheGet(b *testing.B) {
	tokens, entries := cbEntries(b, 1000, cbTypical)
	c := newTokenCache(DefaultCacheSize, DefaultCacheMaxBytes)
	for i, tok := range tokens {
		c.put(tok, entries[i])
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if c.get(tokens[i%len(tokens)]) == nil {
				b.Fatal("miss")
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if c.get(tokens[i%len(tokens)]) == nil {
					b.Error("miss")
					return
				}
				i++
			}
		})
	})
}

// BenchmarkCachePut is an insertion into a full cache: each one evicts.
func BenchmarkCachePut(b *testing.B) {
	tokens, entries := cbEntries(b, 4000, cbTypical)
	c := newTokenCache(1000, DefaultCacheMaxBytes)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.put(tokens[i%len(tokens)], entries[i%len(tokens)])
		i++
	}
}
