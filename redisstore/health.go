package redisstore

import (
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopedtoken/scopedtoken"
)

// State sums up a Store's link to Redis for probes and metrics.
type State string

// The states of a Store, from best to worst within a connected link.
const (
	// StateStarting: not loaded from Redis yet (Options.StartUnsynced).
	StateStarting State = "starting"
	// StateSynced: the subscription is up, the last full load succeeded and
	// the last write was acknowledged.
	StateSynced State = "synced"
	// StateReplicasBehind: Redis is reachable, but too few replicas
	// acknowledged the last write (ErrNotDurable): single-use tokens are
	// refused with 503 and revocations are enforced here and written again.
	StateReplicasBehind State = "replicas_behind"
	// StateWritesRefused: Redis is reachable but refused the last write
	// (READONLY, NOREPLICAS, CLUSTERDOWN, OOM...; Health.WriteError has the
	// Redis error).
	StateWritesRefused State = "writes_refused"
	// StateUnreachable: the subscription or the last full load failed: the
	// mirror holds the last known state, and single-use tokens are refused.
	StateUnreachable State = "unreachable"
)

// Health is the state of a Store's link to Redis, for metrics and probes.
type Health struct {
	// State sums the fields below up.
	State State `json:"state"`
	// Connected is true while the subscription is up and the last full load
	// succeeded: the mirror is current.
	Connected bool `json:"connected"`
	// Synced is true once the mirror was loaded from Redis at least once.
	Synced bool `json:"synced"`
	// LastSync is the time of the last successful full load.
	LastSync time.Time `json:"lastSync,omitzero"`
	// DownSince is when Redis was found unreachable; zero while connected.
	DownSince time.Time `json:"downSince,omitzero"`
	// LastError is the last error reaching Redis; "" while connected.
	LastError string `json:"lastError,omitempty"`
	// WriteError is the last write that Redis refused or that too few
	// replicas acknowledged; "" once a write succeeds again.
	WriteError string `json:"writeError,omitempty"`
	// Entries is the number of revocations and cutoffs in the mirror.
	Entries int `json:"entries"`
	// Pending is the number of revocations this Store enforces that Redis
	// has not acknowledged yet; they are written again every PingInterval.
	Pending int `json:"pending"`
}

// Stats are a Store's counters, for metrics.
type Stats struct {
	Health
	// Uses counts the calls of Use by outcome: UseAccepted, UseAlreadyUsed
	// and UseUnavailable.
	Uses map[UseOutcome]uint64
	// WriteBacks counts the revocations this Store wrote again because Redis
	// lacked them, held them weaker, or had not acknowledged them.
	WriteBacks uint64
}

// Health returns the state of the link to Redis.
func (s *Store) Health() Health {
	s.mu.Lock()
	h := s.health
	h.Pending = len(s.pending)
	s.mu.Unlock()
	h.Entries = s.mirror.Len()
	switch {
	case !h.Connected && !h.Synced && h.LastError == "":
		h.State = StateStarting
	case !h.Connected:
		h.State = StateUnreachable
	case h.WriteError != "":
		// State holds the kind of the write error (set by writeFailed).
	default:
		h.State = StateSynced
	}
	return h
}

// Stats returns the Store's health and counters.
func (s *Store) Stats() Stats {
	st := Stats{Health: s.Health(), Uses: map[UseOutcome]uint64{}, WriteBacks: s.writeBacks.Load()}
	for o := UseAccepted; o <= UseUnavailable; o++ {
		st.Uses[o] = s.uses[o].Load()
	}
	return st
}

var _ scopedtoken.RevocationStatsReporter = (*Store)(nil)

// RevocationStats reports the Store's state for metrics.
func (s *Store) RevocationStats() scopedtoken.RevocationStats {
	h := s.Health()
	return scopedtoken.RevocationStats{State: string(h.State), LastSync: h.LastSync, Entries: h.Entries, Pending: h.Pending,
		WriteBacks: s.writeBacks.Load()}
}

// classify tells what kind of failure err is: a server's refusal, too few
// replicas, or anything else (a network error, a timeout, a closed client),
// which means Redis cannot be reached.
func classify(err error) State {
	var re redis.Error
	var ne net.Error
	switch {
	case errors.Is(err, ErrNotDurable):
		return StateReplicasBehind
	case errors.As(err, &ne):
		return StateUnreachable
	case errors.As(err, &re) && !errors.Is(err, redis.ErrClosed):
		return StateWritesRefused
	}
	return StateUnreachable
}

// failed records err from the follower: a refused or unacknowledged write,
// or a lost link.
func (s *Store) failed(err error) {
	if classify(err) == StateUnreachable {
		s.down(err)
		return
	}
	s.writeFailed(err)
}

// writeFailed records a write that Redis refused or too few replicas
// acknowledged, logging each new kind of failure once. A lost link is the
// follower's to notice.
func (s *Store) writeFailed(err error) {
	state := classify(err)
	if state == StateUnreachable {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &s.health
	changed := h.State != state || h.WriteError == ""
	h.WriteError, h.State = err.Error(), state
	s.troubled.Store(true)
	if !changed {
		return
	}
	if state == StateReplicasBehind {
		s.log.Warn("too few Redis replicas acknowledge writes: single-use tokens are refused and revocations are written again until they do",
			"error", err)
		return
	}
	s.log.Warn("Redis refuses writes: single-use tokens are refused and revocations are written again until it accepts them", "error", err)
}

// writeOK records an acknowledged write.
func (s *Store) writeOK() {
	if !s.troubled.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.health.WriteError != "" {
		s.log.Info("Redis acknowledges writes again")
	}
	s.health.WriteError, s.health.State = "", ""
	s.troubled.Store(false)
}

// down records that Redis cannot be reached, logging the first failure.
func (s *Store) down(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &s.health
	h.LastError = err.Error()
	if !h.Connected && !h.DownSince.IsZero() {
		return
	}
	h.Connected = false
	h.DownSince = s.opts.Now()
	s.log.Warn("Redis unreachable: enforcing the last known revocations; single-use tokens are refused until it is back",
		"error", err, "last_sync", h.LastSync, "entries", s.mirror.Len())
}

// up records a successful full load, and how many entries it wrote back
// that Redis had lost (not counting revocations of this Store that were
// still waiting to be written).
func (s *Store) up(now time.Time, lost int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &s.health
	if !h.Connected {
		attrs := []any{"entries", s.mirror.Len(), "rewritten", lost}
		if !h.DownSince.IsZero() {
			attrs = append(attrs, "down_for", now.Sub(h.DownSince).Round(time.Millisecond))
		}
		s.log.Info("revocation state synchronised with Redis", attrs...)
	} else if lost > 0 {
		s.log.Warn("Redis had lost revocations or held them weaker; rewrote them from the local mirror", "rewritten", lost)
	}
	h.Connected, h.Synced, h.LastSync, h.DownSince, h.LastError = true, true, now, time.Time{}, ""
}
