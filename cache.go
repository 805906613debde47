package scopedtoken

import (
	"strings"
	"sync"
)

// tokenCache maps token strings that verified to what they said. It is
// sharded to keep lock contention low, bounded by entries and by bytes, and
// evicts a random entry when full. It holds only tokens that passed every
// check; refusals are never cached, so junk cannot fill it, and an entry found
// expired is removed, so none outlives its token's exp.
//
// Safety does not rest on the cache: every hit is re-checked against the
// clock, the key set (the same *VerificationKey must still serve the kid),
// the path and the query claim.
type tokenCache struct {
	shards  [cacheShards]cacheShard
	nshards int // shards in use: fewer than cacheShards for a tiny cache
}

const cacheShards = 16

type cacheShard struct {
	mu      sync.RWMutex
	entries map[string]*verified
	bytes   int

	maxEntries, maxBytes int // this shard's share of the bounds
}

// newTokenCache splits the bounds between the shards so that the shares add
// up to at most size entries and maxBytes bytes; size must be positive.
func newTokenCache(size, maxBytes int) *tokenCache {
	n := min(cacheShards, size)
	c := &tokenCache{nshards: n}
	for i := range c.shards[:n] {
		s := &c.shards[i]
		s.entries = make(map[string]*verified)
		s.maxEntries = size / n
		if i < size%n {
			s.maxEntries++
		}
		s.maxBytes = maxBytes / n
	}
	return c
}

// shard picks a shard from a signature character: random for real tokens,
// and only tokens that verified are ever stored.
func (c *tokenCache) shard(token string) *cacheShard {
	var b byte
	if len(token) >= 2 {
		b = token[len(token)-2]
	}
	return &c.shards[int(b)%c.nshards]
}

func (c *tokenCache) get(token string) *verified {
	s := c.shard(token)
	s.mu.RLock()
	v := s.entries[token]
	s.mu.RUnlock()
	return v
}

func (c *tokenCache) put(token string, v *verified) {
	cost := len(token) + v.size
	s := c.shard(token)
	if cost > s.maxBytes {
		return
	}
	token = strings.Clone(token) // do not pin the request's header memory
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.entries[token]; ok {
		s.bytes -= len(token) + old.size
		delete(s.entries, token)
	}
	for len(s.entries) > 0 && (len(s.entries) >= s.maxEntries || s.bytes+cost > s.maxBytes) {
		for k, old := range s.entries { // map order is random: random eviction
			s.bytes -= len(k) + old.size
			delete(s.entries, k)
			break
		}
	}
	s.entries[token] = v
	s.bytes += cost
}

func (c *tokenCache) remove(token string) {
	s := c.shard(token)
	s.mu.Lock()
	if old, ok := s.entries[token]; ok {
		s.bytes -= len(token) + old.size
		delete(s.entries, token)
	}
	s.mu.Unlock()
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
