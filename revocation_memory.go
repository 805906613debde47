package scopedtoken

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// MemoryRevocations keeps revocation state in this process only: for a
// single instance and for tests. The redisstore module uses one as its local
// mirror of the state in Redis. It is safe for concurrent use; build it with
// NewMemoryRevocations.
type MemoryRevocations struct {
	now     func() time.Time
	version atomic.Uint64

	mu        sync.RWMutex
	tokens    [RevokeHash + 1]map[string]int64      // kind -> value -> until (Unix ms, 0: for ever)
	cutoffs   [CutoffKey + 1]map[string]cutoffEntry // kind -> value -> cutoff
	used      map[string]int64                      // single-use key -> until (Unix ms)
	nextSweep time.Time
}

// MemoryRevocations is what Config.Revocations takes, and a store that
// revocations are written to.
var (
	_ Revocations     = (*MemoryRevocations)(nil)
	_ RevocationStore = (*MemoryRevocations)(nil)
)

type cutoffEntry struct {
	before int64 // Unix seconds: tokens with iat below it are refused
	until  int64 // Unix ms; 0: for ever
}

// sweepEvery is how often writes drop expired entries, so that the state
// stays bounded by the tokens still alive.
const sweepEvery = time.Minute

// NewMemoryRevocations returns an empty store whose clock is now (default
// time.Now); give it the middleware's Config.Now.
func NewMemoryRevocations(now func() time.Time) *MemoryRevocations {
	if now == nil {
		now = time.Now
	}
	s := &MemoryRevocations{now: now, used: make(map[string]int64)}
	for k := RevokeID; k <= RevokeHash; k++ {
		s.tokens[k] = make(map[string]int64)
	}
	for k := CutoffBusiness; k <= CutoffKey; k++ {
		s.cutoffs[k] = make(map[string]cutoffEntry)
	}
	return s
}

// Revoked reports whether c's token is revoked or cut off.
func (s *MemoryRevocations) Revoked(c *RevocationCheck) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c.ID != "" {
		if until, ok := s.tokens[RevokeID][c.ID]; ok && s.alive(until) {
			return true
		}
	}
	if until, ok := s.tokens[RevokeHash][c.Hash]; ok && c.Hash != "" && s.alive(until) {
		return true
	}
	if s.cutOff(CutoffSubject, c.Subject, c) || s.cutOff(CutoffKey, c.KeyID, c) {
		return true
	}
	for _, b := range c.Businesses {
		if s.cutOff(CutoffBusiness, b, c) {
			return true
		}
	}
	return false
}

// cutOff reports whether a live cutoff of kind for value covers c: c's iat is
// before it, or c has no iat.
func (s *MemoryRevocations) cutOff(kind RevocationKind, value string, c *RevocationCheck) bool {
	if value == "" {
		return false
	}
	e, ok := s.cutoffs[kind][value]
	if !ok || !s.alive(e.until) {
		return false
	}
	return c.IssuedAt.IsZero() || c.IssuedAt.Unix() < e.before
}

func (s *MemoryRevocations) alive(until int64) bool {
	return until == 0 || s.now().UnixMilli() < until
}

// Version changes whenever an entry is added.
func (s *MemoryRevocations) Version() uint64 { return s.version.Load() }

// Use records the use of a single-use token; ErrTokenUsed when it was used.
func (s *MemoryRevocations) Use(_ context.Context, key string, until time.Time) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.used[key]; ok && now.UnixMilli() < prev {
		return errTokenUsed
	}
	s.used[key] = until.UnixMilli()
	s.sweepLocked(now)
	return nil
}

// Revoke records r.
func (s *MemoryRevocations) Revoke(_ context.Context, r Revocation) error {
	if err := r.Validate(); err != nil {
		return err
	}
	s.Apply(r)
	return nil
}

// Apply records r, which Revoke or the caller validated, keeping the stronger
// of r and an entry already there: the later cutoff and the later expiry. It
// is how a store that mirrors shared state feeds its local copy. It reports
// whether anything changed; Version changes only then.
func (s *MemoryRevocations) Apply(r Revocation) (changed bool) {
	now := s.now()
	until := int64(0)
	if !r.Until.IsZero() {
		until = max(r.Until.UnixMilli(), 1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Kind.IsCutoff() {
		e := cutoffEntry{before: r.CutoffSeconds(now), until: until}
		old, ok := s.cutoffs[r.Kind][r.Value]
		if ok {
			e.before = max(e.before, old.before)
			e.until = laterUntil(e.until, old.until)
		}
		changed = !ok || e != old
		s.cutoffs[r.Kind][r.Value] = e
	} else {
		old, ok := s.tokens[r.Kind][r.Value]
		if ok {
			until = laterUntil(until, old)
		}
		changed = !ok || until != old
		s.tokens[r.Kind][r.Value] = until
	}
	if changed {
		s.version.Add(1) // after the entry is in place, under the lock
	}
	s.sweepLocked(now)
	return changed
}

// laterUntil returns the later of two expiries, where 0 means never.
func laterUntil(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	return max(a, b)
}

// Entries returns every live entry, for a store that re-seeds shared state
// from its mirror and for tests.
func (s *MemoryRevocations) Entries() []Revocation {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Revocation
	for k := RevokeID; k <= RevokeHash; k++ {
		for v, until := range s.tokens[k] {
			if s.alive(until) {
				out = append(out, Revocation{Kind: k, Value: v, Until: untilTime(until)})
			}
		}
	}
	for k := CutoffBusiness; k <= CutoffKey; k++ {
		for v, e := range s.cutoffs[k] {
			if s.alive(e.until) {
				out = append(out, Revocation{Kind: k, Value: v, IssuedBefore: time.Unix(e.before, 0), Until: untilTime(e.until)})
			}
		}
	}
	return out
}

// Len returns the number of revocations and cutoffs held, expired ones
// included until the next sweep.
func (s *MemoryRevocations) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for k := RevokeID; k <= RevokeHash; k++ {
		n += len(s.tokens[k])
	}
	for k := CutoffBusiness; k <= CutoffKey; k++ {
		n += len(s.cutoffs[k])
	}
	return n
}

func untilTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// sweepLocked drops expired entries at most once per sweepEvery, so that the
// state holds only what can still refuse a live token.
func (s *MemoryRevocations) sweepLocked(now time.Time) {
	if now.Before(s.nextSweep) {
		return
	}
	s.nextSweep = now.Add(sweepEvery)
	ms := now.UnixMilli()
	expired := func(until int64) bool { return until != 0 && until <= ms }
	for k := RevokeID; k <= RevokeHash; k++ {
		for v, until := range s.tokens[k] {
			if expired(until) {
				delete(s.tokens[k], v)
			}
		}
	}
	for k := CutoffBusiness; k <= CutoffKey; k++ {
		for v, e := range s.cutoffs[k] {
			if expired(e.until) {
				delete(s.cutoffs[k], v)
			}
		}
	}
	for key, until := range s.used {
		if expired(until) {
			delete(s.used, key)
		}
	}
}
