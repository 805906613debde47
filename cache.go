package scopedtoken

import (
	"hash/maphash"
	"math"
	"math/bits"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/scopedtoken/scopedtoken/internal/sizeclass"
)

// tokenCache maps token strings that verified to what they said. It holds at
// most maxEntries entries and maxBytes accounted bytes in all (see entryBytes).
// It holds only tokens that passed every check; refusals are never cached, so
// junk cannot fill it, and an entry found expired is removed, so none outlives
// its token's exp.
//
// A hit writes no shared memory: each shard publishes an immutable map behind
// an atomic pointer, which a hit loads and reads, so hits on one hot token
// from many cores share its cache lines read-only. A write (put or remove)
// copies its shard's map under the shard's lock; shards are many and small
// (four to eight entries each when the cache is full), so a copy costs about as
// much as one insertion into a big map.
//
// The bounds are global, not per shard: shards never fill evenly, and
// per-shard caps would evict while the cache as a whole still has room. The
// global counters are touched only when an entry is added or removed, never on
// a hit. When the cache is full, a new token is admitted only when the
// doorkeeper has seen it before (see doorkeeper), and then evicts a random
// entry: a flood of tokens presented once cannot push out the tokens in use.
//
// Safety does not rest on the cache: every hit is re-checked against the
// clock, the key set (the same *VerificationKey must still serve the kid),
// revocations, the path and the query claim.
type tokenCache struct {
	shards []cacheShard
	mask   uint64       // len(shards) - 1, a power of two
	seed   maphash.Seed // per cache, so that no token set can aim at one shard
	door   doorkeeper

	maxEntries, maxBytes int64
	mapBytes             int // accounted share of the shard maps per entry

	_    [cacheLineBytes]byte // keeps the counters off the lines that hits read
	used struct {
		entries atomic.Int64 // entries held, plus those reserved by puts in flight
		bytes   atomic.Int64 // their accounted bytes
	}
}

const (
	cacheLineBytes = 64
	// cacheEntriesPerShard is the least mean number of entries of a shard in
	// a full cache (at most twice that): small enough that copying a shard's map is cheap and that
	// most maps are a single Swiss-table group.
	cacheEntriesPerShard = 4
	minCacheShards       = 16
	maxCacheShards       = 1 << 14
)

// cacheShard is one shard, alone on its cache line, so that a write to one
// shard never invalidates the line another shard's hits read.
type cacheShard struct {
	entries atomic.Pointer[shardMap] // nil when empty; never written in place
	mu      sync.Mutex               // serialises writers
	_       [cacheLineBytes - 16]byte
}

// shardMap is a shard's entries. Once published it is never written.
type shardMap struct {
	m map[string]*verified
}

// newTokenCache returns a cache of at most size entries and maxBytes
// accounted bytes; both must be positive.
func newTokenCache(size, maxBytes int) *tokenCache {
	n := min(max(size/cacheEntriesPerShard, minCacheShards), maxCacheShards)
	n = 1 << (bits.Len(uint(n)) - 1) // a power of two, at most n
	c := &tokenCache{
		shards:     make([]cacheShard, n),
		mask:       uint64(n - 1),
		seed:       maphash.MakeSeed(),
		maxEntries: int64(size),
		maxBytes:   int64(maxBytes),
	}
	c.mapBytes = shardMapBytesPerEntry(float64(size) / float64(n))
	c.door.init(size)
	return c
}

// hash is the seeded hash of the token's last characters that picks its
// shard and its doorkeeper bits. In a token that can be stored (one that
// verified) they are signature: the last 16 carry at least 92 bits of it for
// every algorithm, which spreads tokens as evenly as a hash of the whole token
// would, at a fixed cost per hit.
func (c *tokenCache) hash(token string) uint64 {
	return maphash.String(c.seed, token[max(0, len(token)-shardHashBytes):])
}

func (c *tokenCache) shard(h uint64) *cacheShard { return &c.shards[h&c.mask] }

const shardHashBytes = 16

// get returns the entry of token, or nil. It writes no shared memory.
func (c *tokenCache) get(token string) *verified {
	if sm := c.shard(c.hash(token)).entries.Load(); sm != nil {
		return sm.m[token]
	}
	return nil
}

// put adds the entry, evicting random entries (from its own shard first)
// until it fits. Room is reserved in the global counters before the entry is
// inserted, so that concurrent puts never take the cache past its bounds.
// When there is no room, the entry is admitted only if the doorkeeper has seen
// the token before.
func (c *tokenCache) put(token string, v *verified) {
	cost := int64(c.entryBytes(token, v))
	if cost > c.maxBytes {
		return
	}
	h := c.hash(token)
	s := c.shard(h)
	if !c.reserve(cost) {
		if !c.door.seen(h) {
			return // a token seen once does not evict one in use
		}
		for !c.reserve(cost) {
			if !c.evict(s) {
				return // the room is reserved by puts in flight: skip caching this one
			}
		}
	}
	token = strings.Clone(token) // do not pin the request's header memory
	s.mu.Lock()
	old, replaced := s.write(token, v)
	s.mu.Unlock()
	if replaced {
		c.release(c.entryBytes(token, old))
	}
}

// write publishes a copy of s's map with token set to v (v nil: deleted),
// and returns the entry it replaced. s.mu must be held.
func (s *cacheShard) write(token string, v *verified) (old *verified, replaced bool) {
	var cur map[string]*verified
	if sm := s.entries.Load(); sm != nil {
		cur = sm.m
	}
	old, replaced = cur[token]
	if v == nil && !replaced {
		return nil, false
	}
	n := len(cur)
	if v != nil && !replaced {
		n++
	} else if v == nil {
		n--
	}
	if n == 0 {
		s.entries.Store(nil)
		return old, replaced
	}
	next := make(map[string]*verified, n)
	for k, e := range cur {
		if k != token {
			next[k] = e
		}
	}
	if v != nil {
		next[token] = v
	}
	s.entries.Store(&shardMap{next})
	return old, replaced
}

func (c *tokenCache) remove(token string) {
	s := c.shard(c.hash(token))
	s.mu.Lock()
	old, ok := s.write(token, nil)
	s.mu.Unlock()
	if ok {
		c.release(c.entryBytes(token, old))
	}
}

// reserve takes room for one entry of cost bytes, or reports that there is none.
func (c *tokenCache) reserve(cost int64) bool {
	if !reserveUpTo(&c.used.entries, 1, c.maxEntries) {
		return false
	}
	if !reserveUpTo(&c.used.bytes, cost, c.maxBytes) {
		c.used.entries.Add(-1)
		return false
	}
	return true
}

// reserveUpTo adds n to counter unless that would take it past limit. Unlike
// an add that is undone when over, it never shows a value past the limit.
func reserveUpTo(counter *atomic.Int64, n, limit int64) bool {
	for {
		cur := counter.Load()
		if cur+n > limit {
			return false
		}
		if counter.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

func (c *tokenCache) release(cost int) {
	c.used.bytes.Add(-int64(cost))
	c.used.entries.Add(-1)
}

// evict removes one random entry, from prefer when it has any, else from the
// first non-empty shard after a random one. It reports false when every shard
// is empty.
func (c *tokenCache) evict(prefer *cacheShard) bool {
	if c.evictFrom(prefer) {
		return true
	}
	start := rand.IntN(len(c.shards))
	for i := range c.shards {
		if s := &c.shards[(start+i)%len(c.shards)]; s != prefer && c.evictFrom(s) {
			return true
		}
	}
	return false
}

func (c *tokenCache) evictFrom(s *cacheShard) bool {
	s.mu.Lock()
	sm := s.entries.Load()
	if sm == nil {
		s.mu.Unlock()
		return false
	}
	for token := range sm.m { // map order is random: random eviction
		v, _ := s.write(token, nil)
		s.mu.Unlock()
		c.release(c.entryBytes(token, v))
		return true
	}
	s.mu.Unlock() // not reached: a published map is never empty
	return false
}

// doorkeeper is a Bloom filter of the hashes of tokens offered to a full
// cache, cleared each time it has taken as many new tokens as the cache
// holds (the doorkeeper of TinyLFU, Einziger et al., 2017). With 16 bits per
// entry and three probes, a token never seen before passes it about once in
// 200. It is read and written on misses only, with atomic operations on
// words of bits; races make it approximate, never unsafe: admission decides
// only what the cache keeps, not what is accepted.
type doorkeeper struct {
	bits  []atomic.Uint64
	mask  uint64 // number of bits - 1
	added atomic.Int64
	limit int64
}

func (d *doorkeeper) init(size int) {
	n := sizeclass.CeilPow2(max(16*size, 1024))
	d.bits = make([]atomic.Uint64, n/64)
	d.mask = uint64(n - 1)
	d.limit = int64(size)
}

// seen reports whether h was (probably) offered before, and records it. The
// filter is cleared before a new hash is recorded, never after, so that a
// token just recorded is still known when it comes back.
func (d *doorkeeper) seen(h uint64) bool {
	// Three probes from two halves of the hash (Kirsch and Mitzenmacher).
	var words [3]*atomic.Uint64
	var masks [3]uint64
	present := true
	for i := range words {
		pos := (h + uint64(i)*(h>>32|1)) & d.mask
		words[i], masks[i] = &d.bits[pos/64], uint64(1)<<(pos%64)
		present = present && words[i].Load()&masks[i] != 0
	}
	if present {
		return true
	}
	if d.added.Add(1) > d.limit {
		for i := range d.bits {
			d.bits[i].Store(0)
		}
		d.added.Store(1)
	}
	for i, w := range words {
		w.Or(masks[i])
	}
	return false
}

// entryBytes is what the cache accounts for an entry: the heap it holds,
// that is the cloned token, the map's slot and everything v points to that
// is its own (v.size; the *VerificationKey belongs to the key set).
func (c *tokenCache) entryBytes(token string, v *verified) int {
	return sizeclass.String(len(token)) + c.mapBytes + v.size
}

// shardMapBytesPerEntry is the heap of the shard maps per entry in a full
// cache whose shards hold mean entries on average: the expected heap of a
// shard's map and its box, for a number of entries that follows a Poisson
// law of that mean (tokens spread over the shards at random), divided by
// the mean.
func shardMapBytesPerEntry(mean float64) int {
	const slotBytes = 16 + 8 // a string key and a pointer
	total, p := 0.0, math.Exp(-mean)
	for k := 0; k < 64*int(math.Ceil(mean)+1); k++ {
		if k > 0 {
			total += p * float64(sizeclass.Map(k, slotBytes)+sizeclass.Round(8))
		}
		p *= mean / float64(k+1)
	}
	return int(math.Ceil(total / mean))
}
