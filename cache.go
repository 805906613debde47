package scopedtoken

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// tokenCache maps token strings that verified to what they said. It holds at
// most maxEntries entries and maxBytes accounted bytes in all (see entryBytes),
// and evicts a random entry when a new one would not fit. It holds only tokens
// that passed every check; refusals are never cached, so junk cannot fill it,
// and an entry found expired is removed, so none outlives its token's exp.
//
// It is sharded by a seeded hash (see shard) to keep lock contention low. The
// bounds are global, not per shard: shards never fill evenly, and per-shard
// caps would evict while the cache as a whole still has room. The global
// counters are touched only when an entry is added or removed, never on a hit.
//
// Safety does not rest on the cache: every hit is re-checked against the
// clock, the key set (the same *VerificationKey must still serve the kid),
// the path and the query claim.
type tokenCache struct {
	shards [cacheShards]cacheShard
	seed   maphash.Seed // per cache, so that no token set can aim at one shard

	maxEntries, maxBytes int64

	_    [cacheLineBytes]byte // keeps the counters off the lines that hits read
	used struct {
		entries atomic.Int64 // entries held, plus those reserved by puts in flight
		bytes   atomic.Int64 // their accounted bytes
	}
}

const (
	cacheShards    = 16
	cacheLineBytes = 64
	// cacheShardStride puts 96 bytes between the 32-byte states of two
	// shards, more than a cache line whatever the alignment of the cache, so
	// that hits on different shards from different cores never share a line.
	cacheShardStride = 128
)

type cacheShard struct {
	shardState
	_ [cacheShardStride - unsafe.Sizeof(shardState{})]byte
}

type shardState struct {
	mu      sync.RWMutex
	entries map[string]*verified
}

// newTokenCache returns a cache of at most size entries and maxBytes
// accounted bytes; both must be positive.
func newTokenCache(size, maxBytes int) *tokenCache {
	c := &tokenCache{seed: maphash.MakeSeed(), maxEntries: int64(size), maxBytes: int64(maxBytes)}
	for i := range c.shards {
		c.shards[i].entries = make(map[string]*verified)
	}
	return c
}

// shard picks the token's shard by a seeded hash of its last characters. In
// a token that can be stored (one that verified) they are signature: the last
// 16 carry at least 92 bits of it for every algorithm, which spreads tokens
// as evenly as a hash of the whole token would, at a fixed cost per hit.
func (c *tokenCache) shard(token string) *cacheShard {
	tail := token[max(0, len(token)-shardHashBytes):]
	return &c.shards[maphash.String(c.seed, tail)%cacheShards]
}

const shardHashBytes = 16

func (c *tokenCache) get(token string) *verified {
	s := c.shard(token)
	s.mu.RLock()
	v := s.entries[token]
	s.mu.RUnlock()
	return v
}

// put adds the entry, evicting random entries (from its own shard first)
// until it fits. Room is reserved in the global counters before the entry is
// inserted, so that concurrent puts never take the cache past its bounds.
func (c *tokenCache) put(token string, v *verified) {
	cost := int64(entryBytes(token, v))
	if cost > c.maxBytes {
		return
	}
	s := c.shard(token)
	for !c.reserve(cost) {
		if !c.evict(s) {
			return // the room is reserved by puts in flight: skip caching this one
		}
	}
	token = strings.Clone(token) // do not pin the request's header memory
	s.mu.Lock()
	old, replaced := s.entries[token]
	s.entries[token] = v
	s.mu.Unlock()
	if replaced {
		c.release(entryBytes(token, old))
	}
}

func (c *tokenCache) remove(token string) {
	s := c.shard(token)
	s.mu.Lock()
	old, ok := s.entries[token]
	delete(s.entries, token)
	s.mu.Unlock()
	if ok {
		c.release(entryBytes(token, old))
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
	start := rand.IntN(cacheShards)
	for i := range cacheShards {
		if s := &c.shards[(start+i)%cacheShards]; s != prefer && c.evictFrom(s) {
			return true
		}
	}
	return false
}

func (c *tokenCache) evictFrom(s *cacheShard) bool {
	s.mu.Lock()
	for token, v := range s.entries { // map order is random: random eviction
		delete(s.entries, token)
		s.mu.Unlock()
		c.release(entryBytes(token, v))
		return true
	}
	s.mu.Unlock()
	return false
}

// len returns the number of entries, for tests.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.entries)
		s.mu.RUnlock()
	}
	return n
}

// entryBytes is what the cache accounts for an entry: the heap it holds,
// that is the cloned token, the map's slot and everything v points to that
// is its own (v.size; the *VerificationKey belongs to the key set).
func entryBytes(token string, v *verified) int {
	return stringBytes(len(token)) + mapEntryBytes + v.size
}

// mapEntryBytes is the average share of the shard maps' tables per entry: a
// slot (a string key and a pointer) and its control byte, in tables that
// run between 7/16 and 7/8 full.
const mapEntryBytes = 40

// stringBytes is the heap that a string or byte slice of n bytes, allocated
// on its own, takes. One-byte strings are static; below 16 bytes the runtime
// packs pointer-free allocations together.
func stringBytes(n int) int {
	switch {
	case n <= 1:
		return 0
	case n < 16:
		return n
	}
	return allocBytes(n)
}

// objectBytes is the heap that an allocation of n bytes holding pointers
// takes: one above 512 bytes carries an 8-byte header.
func objectBytes(n int) int {
	if n > 512 {
		n += 8
	}
	return allocBytes(n)
}

// mapBytes is the heap of a map made with a size hint of n and holding at
// most n entries, whose key and element take slotBytes together. It follows
// Go's Swiss tables (internal/runtime/maps): a 48-byte header, then groups of
// 8 slots behind 8 control bytes; up to 8 entries fit one group, more get a
// directory of tables (32 bytes each, at most 1024 slots) sized for n at an
// average load of 7/8.
func mapBytes(n, slotBytes int) int {
	const header, tableHeader, slotsPerGroup, maxTableSlots = 48, 32, 8, 1024
	group := slotsPerGroup + slotsPerGroup*slotBytes
	switch {
	case n == 0:
		return allocBytes(header)
	case n <= slotsPerGroup:
		return allocBytes(header) + objectBytes(group)
	}
	target := n * slotsPerGroup / 7
	tables := ceilPow2((target + maxTableSlots - 1) / maxTableSlots)
	slots := ceilPow2(max(slotsPerGroup, target/tables))
	return allocBytes(header) + objectBytes(tables*8) +
		tables*(allocBytes(tableHeader)+objectBytes(slots/slotsPerGroup*group))
}

// ceilPow2 is the least power of two at least n, for n > 0.
func ceilPow2(n int) int { return 1 << bits.Len(uint(n-1)) }

// allocBytes rounds n up to the runtime allocator's size class, or to whole
// pages above the largest class.
func allocBytes(n int) int {
	switch {
	case n <= 0:
		return 0
	case n <= smallAllocMax:
		return int(smallAllocClasses[(n+7)/8])
	case n > int(allocClasses[len(allocClasses)-1]):
		return (n + 8191) &^ 8191
	}
	i, _ := slices.BinarySearch(allocClasses[:], uint16(n))
	return int(allocClasses[i])
}

// smallAllocClasses maps (n+7)/8 to the size class of n, for n up to
// smallAllocMax: the common sizes cost a lookup, as in the runtime.
var smallAllocClasses = func() (t [smallAllocMax/8 + 1]uint16) {
	c := 0
	for i := range t {
		for int(allocClasses[c]) < 8*i {
			c++
		}
		t[i] = allocClasses[c]
	}
	return t
}()

const smallAllocMax = 1024

// allocClasses are the object sizes of the Go runtime's size classes
// (internal/runtime/gc/sizeclasses.go, Go 1.26).
var allocClasses = [...]uint16{
	8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
	1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528,
	6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072,
	20480, 21760, 24576, 27264, 28672, 32768,
}
