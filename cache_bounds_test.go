package scopedtoken

import (
	"context"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests hold the cache to its bounds: a cache of N holds N distinct
// tokens, never more than N nor more than its byte bound (also under
// concurrent puts), and the bytes it accounts are the heap it holds.

// cbEntries mints n distinct HS256 tokens with claims(i) and verifies each,
// returning the tokens and what they verified to (sized for a cache).
func cbEntries(t testing.TB, n int, claims func(i int) MintClaims) ([]string, []*verified) {
	t.Helper()
	clock := newCTClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	mt, err := NewMinterForTest(MintConfig{Key: ctHSKey(), Now: clock.now})
	require.NoError(t, err)
	m, err := New(Config{Keys: ctStaticKeys(t, Key{ID: "hs", Algorithm: "HS256", Secret: ctSecret}), Now: clock.now, CacheSize: n})
	require.NoError(t, err)
	tokens, entries := make([]string, n), make([]*verified, n)
	for i := range n {
		tokens[i], err = mt.Mint(claims(i))
		require.NoError(t, err)
		v, _, _, e := m.verify(context.Background(), tokens[i], m.cacheHit(tokens[i]))
		require.Nil(t, e)
		require.Positive(t, v.size)
		entries[i] = v
	}
	return tokens, entries
}

// cbMinimal is the smallest token the middleware accepts, made distinct by exp.
func cbMinimal(i int) MintClaims {
	return MintClaims{Audience: []string{ctAud}, ExpiresIn: time.Hour + time.Duration(i)*time.Second}
}

// cbTypical is the common shape: one aud and a one-value query claim.
func cbTypical(i int) MintClaims {
	return MintClaims{Audience: []string{ctAud}, Query: ctQuery, ID: fmt.Sprintf("jti-%d", i)}
}

// cbRich has several aud entries, iss, sub, jti and a query claim of several
// parameters and values: every array of the entry outgrows its inline room.
func cbRich(i int) MintClaims {
	return MintClaims{
		Audience: []string{ctAud, "/v2/accounts/me/suggest", "/v2/accounts/me/answers/vertical", "/v2/accounts/me/facets"},
		Query: url.Values{
			"experienceKey": {"MySearchExperience"},
			"locale":        {"en", "fr", "de", "it", "es"},
			"version":       {"PRODUCTION", "STAGING"},
			"filter":        {fmt.Sprintf("c_team == %d", i)}, // escaped in the encoding
		},
		Issuer:  "https://issuer.example.com/tokens",
		Subject: fmt.Sprintf("user-%d@example.com", i),
		ID:      fmt.Sprintf("0f8fad5b-d9cb-469f-a165-70867728%04d", i),
	}
}

// cbManyParams binds a dozen parameters, some in mixed case: the claim's
// name index outgrows a single map group.
func cbManyParams(i int) MintClaims {
	q := url.Values{}
	for p := range 12 {
		q.Set(fmt.Sprintf("Param%d", p), fmt.Sprintf("value-%d-%d", i, p))
	}
	return MintClaims{Audience: []string{ctAud}, Query: q}
}

// cbBusinesses acts for several businesses: revocation names each of them.
func cbBusinesses(i int) MintClaims {
	aud := make([]string, 4)
	for b := range aud {
		aud[b] = fmt.Sprintf("/v2/accounts/%d/search", 1000*i+b)
	}
	return MintClaims{Audience: aud, ID: fmt.Sprintf("jti-%d", i)}
}

// cbLarge carries a large custom claim: the payload dominates the entry.
func cbLarge(i int) MintClaims {
	c := cbTypical(i)
	c.Extra = map[string]any{"profile": strings.Repeat("x", 3000)}
	return c
}

// cbBound is a typical token bound to a DPoP key (cnf.jkt, docs/dpop.md).
func cbBound(i int) MintClaims {
	c := cbTypical(i)
	c.DPoPThumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	return c
}

var (
	cbTypicalOnce   sync.Once
	cbTypicalTokens []string
)

// cbManyTypical returns DefaultCacheSize distinct typical tokens, minted once
// per test binary.
func cbManyTypical(t *testing.T) []string {
	cbTypicalOnce.Do(func() { cbTypicalTokens, _ = cbEntries(t, DefaultCacheSize, cbTypical) })
	require.Len(t, cbTypicalTokens, DefaultCacheSize)
	return cbTypicalTokens
}

// TestCacheHoldsItsSize: a cache of N entries holds N distinct tokens, all of
// which hit afterwards, however their signatures spread over the shards.
func TestCacheHoldsItsSize(t *testing.T) {
	for _, size := range []int{DefaultCacheSize, 4096} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			tokens := cbManyTypical(t)[:size]
			clock := newCTClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			m, err := New(Config{Keys: ctStaticKeys(t, Key{ID: "hs", Algorithm: "HS256", Secret: ctSecret}), Now: clock.now, CacheSize: size})
			require.NoError(t, err)
			ctx := context.Background()
			for _, tok := range tokens {
				_, _, cached, e := m.verify(ctx, tok, m.cacheHit(tok))
				require.Nil(t, e)
				require.False(t, cached)
			}
			hits := 0
			for _, tok := range tokens {
				_, _, cached, e := m.verify(ctx, tok, m.cacheHit(tok))
				require.Nil(t, e)
				if cached {
					hits++
				}
			}
			assert.Equal(t, size, hits, "every token of a working set the size of the cache must hit")
			assert.Equal(t, size, m.cache.len())
		})
	}
}

// TestCacheShardsSpreadEvenly: real tokens spread evenly over the shards, so
// that no shard's lock carries more than its share of the hits.
func TestCacheShardsSpreadEvenly(t *testing.T) {
	tokens := cbManyTypical(t)
	c := newTokenCache(1, 1)
	perShard := map[*cacheShard]int{}
	for _, tok := range tokens {
		perShard[c.shard(c.hash(tok))]++
	}
	require.Len(t, perShard, minCacheShards)
	// 625 per shard on average, with a standard deviation of about 24: 20 %
	// off is five deviations, never reached by chance.
	mean := float64(len(tokens)) / minCacheShards
	for _, n := range perShard {
		assert.InDelta(t, mean, n, 0.2*mean)
	}
}

// TestCacheShardsDoNotShareCacheLines: hits on two shards from two cores
// touch no common cache line, whatever the cache's alignment.
func TestCacheShardsDoNotShareCacheLines(t *testing.T) {
	assert.Equal(t, uintptr(cacheLineBytes), unsafe.Sizeof(cacheShard{}), "one shard per line")
	// The slice need not start on a line (large objects carry a header):
	// what matters is that each shard's fields lie on one line of their own.
	for _, size := range []int{1, 100, DefaultCacheSize, 1 << 20} {
		c := newTokenCache(size, DefaultCacheMaxBytes)
		line := func(i int) (first, last uintptr) {
			s := &c.shards[i]
			return uintptr(unsafe.Pointer(&s.entries)) / cacheLineBytes,
				(uintptr(unsafe.Pointer(&s.mu)) + unsafe.Sizeof(s.mu) - 1) / cacheLineBytes
		}
		for i := range c.shards {
			first, last := line(i)
			require.Equal(t, first, last, "shard %d of %d straddles two lines", i, len(c.shards))
			if i > 0 {
				_, prev := line(i - 1)
				require.NotEqual(t, prev, first, "shards %d and %d share a line", i-1, i)
			}
		}
	}
}

// TestCacheBytesMatchHeap: the bytes the cache accounts are, within 10 %, the
// heap that filling it takes, for entries of several shapes.
func TestCacheBytesMatchHeap(t *testing.T) {
	const n = 2000
	tests := []struct {
		name        string
		claims      func(i int) MintClaims
		revocations bool // the entry also keeps what revocation checks need
	}{
		{name: "minimal", claims: cbMinimal},
		{name: "typical", claims: cbTypical},
		{name: "rich", claims: cbRich},
		{name: "many parameters", claims: cbManyParams},
		{name: "large", claims: cbLarge},
		{name: "DPoP-bound", claims: cbBound},
		{name: "minimal, revocations", claims: cbMinimal, revocations: true}, // named by hash
		{name: "rich, revocations", claims: cbRich, revocations: true},       // named by jti
		{name: "several businesses, revocations", claims: cbBusinesses, revocations: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tokens, _ := cbEntries(t, n, tc.claims)
			clock := newCTClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			cfg := Config{Keys: ctStaticKeys(t, Key{ID: "hs", Algorithm: "HS256", Secret: ctSecret}), Now: clock.now, CacheSize: n, CacheMaxBytes: 1 << 30}
			if tc.revocations {
				cfg.Revocations = NewMemoryRevocations(clock.now)
			}
			m, err := New(cfg)
			require.NoError(t, err)
			ctx := context.Background()

			before := cbHeap()
			for _, tok := range tokens {
				_, _, _, e := m.verify(ctx, tok, m.cacheHit(tok))
				require.Nil(t, e)
			}
			after := cbHeap()
			runtime.KeepAlive(m)
			runtime.KeepAlive(tokens)

			require.Equal(t, n, m.cache.len())
			entries, accounted := ctCacheUsage(m.cache)
			require.Equal(t, n, entries)
			require.Equal(t, accounted, ctCacheBookkeptBytes(m.cache), "byte bookkeeping")
			measured := int(after - before)
			t.Logf("%s: %d bytes accounted, %d measured per entry", tc.name, accounted/n, measured/n)
			assert.InDelta(t, measured, accounted, 0.1*float64(measured), "accounted bytes against the measured heap")
		})
	}
}

// cbHeap is the live heap after a full collection. Two collections: the
// first frees what sync.Pool's victim cache still held.
func cbHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestCacheBoundsUnderConcurrentPuts: many goroutines putting, removing and
// reading never take the cache past its entry or byte bound, and its counters
// end equal to what it holds.
func TestCacheBoundsUnderConcurrentPuts(t *testing.T) {
	typical, typicalEntries := cbEntries(t, 300, cbTypical)
	rich, richEntries := cbEntries(t, 100, cbRich)
	large, largeEntries := cbEntries(t, 50, cbLarge)
	tokens := append(append(typical, rich...), large...)
	entries := append(append(typicalEntries, richEntries...), largeEntries...)
	tests := []struct {
		name           string
		size, maxBytes int
	}{
		{name: "entries", size: 40, maxBytes: 1 << 30},
		{name: "bytes", size: 10000, maxBytes: 64 << 10},
		{name: "one entry", size: 1, maxBytes: 1 << 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTokenCache(tc.size, tc.maxBytes)
			// The workers check the counters after every operation, and a
			// sampler checks what the cache holds, until the workers are done.
			var overCounted, overHeld atomic.Int64
			overBound := func(entries, bytes int64) bool {
				return entries > int64(tc.size) || bytes > int64(tc.maxBytes)
			}
			const workers, perWorker = 32, 1000
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range perWorker {
						k := (w*131 + i*17) % len(tokens)
						switch i % 8 {
						case 0:
							c.remove(tokens[k])
						case 1:
							c.get(tokens[k])
						default:
							c.put(tokens[k], entries[k])
						}
						if overBound(c.used.entries.Load(), c.used.bytes.Load()) {
							overCounted.Add(1)
						}
					}
				}()
			}
			done, sampled := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(sampled)
				for {
					select {
					case <-done:
						return
					default:
					}
					if n, bytes := ctCacheUsage(c); overBound(int64(n), int64(bytes)) {
						overHeld.Add(1)
					}
					runtime.Gosched()
				}
			}()
			wg.Wait()
			close(done)
			<-sampled
			assert.Zero(t, overCounted.Load(), "times the counters were seen past the bounds")
			assert.Zero(t, overHeld.Load(), "times the cache was seen holding more than its bounds")
			n, bytes := ctCacheUsage(c)
			assert.Positive(t, n)
			assert.LessOrEqual(t, n, tc.size)
			assert.LessOrEqual(t, bytes, tc.maxBytes)
			assert.Equal(t, int64(n), c.used.entries.Load(), "entry bookkeeping")
			assert.Equal(t, bytes, ctCacheBookkeptBytes(c), "byte bookkeeping")
		})
	}
}

// TestCacheReserveNeverPassesLimit: goroutines racing for the last units of
// room never take a counter past its limit, not even for an instant.
func TestCacheReserveNeverPassesLimit(t *testing.T) {
	const limit, workers, perWorker = 1, 4, 50000
	var counter, over atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range perWorker {
				if reserveUpTo(&counter, 1, limit) {
					if counter.Load() > limit {
						over.Add(1)
					}
					counter.Add(-1)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.Zero(t, over.Load(), "times the counter was seen past its limit")
	assert.Zero(t, counter.Load())
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

// TestCacheAdmission: once the cache is full, a token offered once does not
// evict a cached one; a token offered again is admitted (evicting one at
// random); and while the cache has room, every token is admitted at once.
func TestCacheAdmission(t *testing.T) {
	const size, flood = 100, 2000
	tokens, entries := cbEntries(t, size+flood+1, cbMinimal)
	hot, hotEntries := tokens[:size], entries[:size]
	oneOff, oneOffEntries := tokens[size:size+flood], entries[size:size+flood]
	again, againEntry := tokens[size+flood], entries[size+flood]

	c := newTokenCache(size, 1<<30)
	for i, tok := range hot {
		c.put(tok, hotEntries[i])
		require.NotNil(t, c.get(tok), "a cache with room admits at once")
	}
	for i, tok := range oneOff {
		c.put(tok, oneOffEntries[i])
	}
	kept := 0
	for _, tok := range hot {
		if c.get(tok) != nil {
			kept++
		}
	}
	// The doorkeeper lets about one never-seen token in 200 through, each
	// evicting one entry at random: 10 of the 2,000 here, on average.
	assert.GreaterOrEqual(t, kept, size-30, "a flood of one-off tokens left %d of %d cached tokens", kept, size)
	assert.Equal(t, size, c.len(), "a cache of N holds N")

	c.put(again, againEntry)
	c.put(again, againEntry)
	assert.NotNil(t, c.get(again), "a token seen twice is admitted")
	assert.Equal(t, size, c.len())
}
