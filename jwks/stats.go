package jwks

import (
	"sync/atomic"
	"time"
)

// Stats is the health of a Set at one moment, for metrics and health checks.
// It holds no key material and no URL.
type Stats struct {
	// Fetches is the number of fetches of the JWK Set that have ended,
	// successful or not, since the set was made (the first one included).
	Fetches uint64
	// Failures is the number of those fetches that failed; the set then
	// kept its last good keys.
	Failures uint64
	// LastSuccess is when the last successful fetch ended; zero if none has.
	LastSuccess time.Time
	// LastFailure is when the last failed fetch ended; zero if none has.
	LastFailure time.Time
	// Healthy reports whether the last fetch succeeded. While it is false,
	// lookups of kids the set does not know answer
	// scopedtoken.ErrKeysUnavailable (503).
	Healthy bool
	// Keys is the number of keys in use: those of the last good set that
	// passed every check. Skipped JWKs are not counted.
	Keys int
}

// counters count the fetches of a Set with atomics, so that reading them
// never waits for a fetch.
type counters struct {
	fetches, failures        atomic.Uint64
	lastSuccess, lastFailure atomic.Int64 // Unix nanoseconds; 0 for never
	healthy                  atomic.Bool
}

// record counts one ended fetch and its result. The fetch is counted before
// its failure, and Stats reads them in the other order, so that a reader
// never sees more failures than fetches.
func (s *counters) record(err error) {
	now := time.Now().UnixNano()
	s.fetches.Add(1)
	if err != nil {
		s.failures.Add(1)
		s.lastFailure.Store(now)
	} else {
		s.lastSuccess.Store(now)
	}
	s.healthy.Store(err == nil)
}

// Stats returns the set's fetch counts, the time of its last successful and
// failed fetches, whether the last fetch succeeded, and how many keys are in
// use. It is cheap and safe for concurrent use; its fields are read one by
// one, so a fetch ending meanwhile may be seen in some fields only.
func (r *Set) Stats() Stats {
	failures := r.stats.failures.Load()
	st := Stats{
		Fetches:     r.stats.fetches.Load(),
		Failures:    failures,
		LastSuccess: unixNanoTime(r.stats.lastSuccess.Load()),
		LastFailure: unixNanoTime(r.stats.lastFailure.Load()),
		Healthy:     r.stats.healthy.Load(),
	}
	if snap := r.snapshot.Load(); snap != nil {
		st.Keys = len(snap.keys)
	}
	return st
}

func unixNanoTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}
