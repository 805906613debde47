package scopedtoken

import (
	"strings"
	"sync"
)

// tokenCache maps token strings that verified to what they said. It is
// sharded to keep lock contention low, bounded by entries and by bytes, and
// evicts a random entry when full. It holds only tokens that verified:
// refusals are never cached, so junk cannot fill it.
//
// Safety does not rest on the cache: every hit is re-checked against the
// clock, the key set (the same *VerificationKey must still serve the kid),
// the path and the query claim.
type tokenCache struct {
	shards               [cacheShards]cacheShard
	maxEntries, maxBytes int // per shard
}

const cacheShards = 16

type cacheShard struct {
	mu      sync.RWMutex
	entries map[string]*verified
	bytes   int
}

func newTokenCache(size, maxBytes int) *tokenCache {
	c := &tokenCache{
		maxEntries: max(1, (size+cacheShards-1)/cacheShards),
		maxBytes:   max(1, maxBytes/cacheShards),
	}
	for i := range c.shards {
		c.shards[i].entries = make(map[string]*verified)
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
	return &c.shards[b%cacheShards]
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
	if cost > c.maxBytes {
		return
	}
	s := c.shard(token)
	token = strings.Clone(token) // do not pin the request's header memory
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.entries[token]; ok {
		s.bytes -= len(token) + old.size
		delete(s.entries, token)
	}
	for len(s.entries) > 0 && (len(s.entries) >= c.maxEntries || s.bytes+cost > c.maxBytes) {
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
