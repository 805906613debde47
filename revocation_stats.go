package scopedtoken

import "time"

// RevocationStats is what a Revocations store tells about itself, for
// metrics and probes (the scopedotel module reads it through
// RevocationStatsReporter).
type RevocationStats struct {
	// State sums up the store's link to its shared state: for the Redis
	// store "synced", "starting", "unreachable", "writes_refused" or
	// "replicas_behind"; "local" for a store that shares nothing.
	State string
	// LastSync is when the store last loaded its shared state in full; zero
	// when it never did or shares nothing.
	LastSync time.Time
	// Entries is the number of revocations and cutoffs held.
	Entries int
	// Pending is the number of revocations enforced here that the shared
	// state has not acknowledged yet.
	Pending int
	// WriteBacks counts the revocations written again to the shared state
	// because it lacked them, held them weaker, or had not acknowledged them.
	WriteBacks uint64
}

// RevocationStatsReporter is implemented by the Revocations stores that
// report RevocationStats: MemoryRevocations and the Redis store.
type RevocationStatsReporter interface {
	RevocationStats() RevocationStats
}

var _ RevocationStatsReporter = (*MemoryRevocations)(nil)

// RevocationStats reports the entries held; the state is "local".
func (s *MemoryRevocations) RevocationStats() RevocationStats {
	return RevocationStats{State: "local", Entries: s.Len()}
}
