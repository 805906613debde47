package redisstore

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopedtoken/scopedtoken"
)

// follow keeps the mirror current until ctx ends: it applies every announced
// entry, reloads everything after each (re)subscription (go-redis
// resubscribes on every new connection, and Redis confirms it) and every
// ResyncInterval, pings a silent subscription so that a dead link is
// noticed, and writes again the revocations Redis has not acknowledged.
//
// The channel is an ordinary pub/sub channel, not a sharded one: on Redis
// Cluster a PUBLISH reaches the subscribers of every node, which the one
// message per revocation can afford, and it works on every Redis version
// and deployment alike.
func (s *Store) follow(ctx context.Context) {
	defer close(s.done)
	ps := s.w.client.Subscribe(ctx, s.keys.channel)
	s.sub.Store(ps)
	defer func() { ps.Close() }()
	nextResync := time.Now().Add(s.opts.ResyncInterval)
	// A full load that failed while the subscription works (a cluster
	// master that has just restarted answers CLUSTERDOWN for a moment) is
	// tried again after retryEvery, not ResyncInterval; while the link is
	// down, the next subscription brings the load.
	retryEvery := min(s.opts.PingInterval, s.opts.ResyncInterval)
	retry, nextRetry := false, time.Time{}
	var nextFlush time.Time // pending revocations are written at most once per PingInterval
	pinged := false
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, s.opts.PingInterval)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			backoff = 50 * time.Millisecond
			pinged = false
			if err := s.handle(ctx, msg); err != nil {
				retry, nextRetry = true, time.Now().Add(retryEvery)
			}
		case isTimeout(err) && !pinged:
			// Silent: ask for a PONG; a second silence means the link is dead.
			if err := ps.Ping(ctx); err != nil {
				s.down(err)
			}
			pinged = true
		default:
			if isTimeout(err) {
				err = errors.New("no answer to PING on the subscription")
				// Drop the silent connection: a new subscription dials anew.
				ps.Close()
				ps = s.w.client.Subscribe(ctx, s.keys.channel)
				s.sub.Store(ps)
			}
			s.down(err)
			pinged, retry = false, false
			sleep(ctx, backoff)
			backoff = min(2*backoff, time.Second)
		}
		if now := time.Now(); now.After(nextResync) || retry && now.After(nextRetry) {
			nextResync = now.Add(s.opts.ResyncInterval)
			err := s.resync(ctx)
			if err != nil && ctx.Err() == nil {
				s.failed(err)
			}
			retry, nextRetry = err != nil, time.Now().Add(retryEvery)
		} else if now := time.Now(); s.hasPending() && now.After(nextFlush) {
			nextFlush = now.Add(s.opts.PingInterval)
			if err := s.flushPending(ctx); err != nil && ctx.Err() == nil {
				s.writeFailed(err)
			} else if err == nil {
				s.writeOK()
			}
		}
	}
}

func (s *Store) hasPending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending) > 0
}

// handle applies one message of the subscription; it returns the error of
// the full load that a new subscription starts, if it failed.
func (s *Store) handle(ctx context.Context, msg any) error {
	switch m := msg.(type) {
	case *redis.Subscription:
		if m.Kind == "subscribe" {
			// A new connection: anything announced while the link was down
			// is only in the full state.
			if err := s.resync(ctx); err != nil && ctx.Err() == nil {
				s.failed(err)
				return err
			}
		}
	case *redis.Message:
		r, err := parseMessage(m.Payload)
		if err != nil {
			s.log.Warn("ignoring a malformed revocation message", "error", err)
			return nil
		}
		s.mirror.Apply(r)
	}
	return nil
}

// held is what Redis holds for one entry: its cutoff (Unix seconds; 0 for a
// token) and its expiry (Unix ms; 0: for ever).
type held struct{ before, until int64 }

// resync loads the whole state from Redis into the mirror (which keeps what
// it knew: nothing revoked is forgotten), then writes back every entry that
// the mirror held before the load and Redis lacks or holds weaker (an
// earlier cutoff, an earlier expiry), as after Redis lost data, a failover
// to a replica that lagged, or a Revoke that failed; and the revocations of
// this Store that Redis has not acknowledged yet.
func (s *Store) resync(ctx context.Context) error {
	now := s.opts.Now()
	// Only what the mirror held before the load can have been lost: an
	// entry announced during the load is in Redis already.
	known := s.mirror.Entries()
	pipe := s.w.client.Pipeline()
	revoked := pipe.ZRangeByScoreWithScores(ctx, s.keys.revoked, &redis.ZRangeBy{Min: strconv.FormatInt(now.UnixMilli(), 10), Max: "+inf"})
	cutoffs := pipe.ZRangeWithScores(ctx, s.keys.cutoffs, 0, -1)
	untils := pipe.ZRangeWithScores(ctx, s.keys.cutoffUntil, 0, -1)
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	s.w.lookForReplicas(ctx)
	inRedis := map[string]held{}
	apply := func(m string, r scopedtoken.Revocation, h held) {
		kind, value, ok := cutMember(m)
		if !ok {
			s.log.Warn("ignoring a malformed revocation entry in Redis")
			return
		}
		r.Kind, r.Value = kind, value
		if r.Validate() != nil {
			return
		}
		inRedis[m] = h
		s.mirror.Apply(r)
	}
	for _, z := range revoked.Val() {
		until := parseUntil(z.Score)
		apply(z.Member.(string), scopedtoken.Revocation{Until: until}, held{until: unixMilli(until)})
	}
	until := make(map[string]float64, len(untils.Val()))
	for _, z := range untils.Val() {
		until[z.Member.(string)] = z.Score
	}
	for _, z := range cutoffs.Val() {
		m := z.Member.(string)
		u, ok := until[m]
		if !ok {
			continue // being written or pruned right now: the message or the next load brings it
		}
		r := scopedtoken.Revocation{IssuedBefore: time.Unix(int64(z.Score), 0), Until: parseUntil(u)}
		if !r.Until.IsZero() && !now.Before(r.Until) {
			continue
		}
		apply(m, r, held{before: int64(z.Score), until: unixMilli(r.Until)})
	}
	lost := 0
	for _, r := range known {
		m := member(r)
		if h, ok := inRedis[m]; ok && !strongerThan(r, h) {
			continue
		}
		if s.isPending(m) {
			continue // flushPending writes it, and it is no loss
		}
		// Written back as a pending revocation: retried every PingInterval
		// until Redis acknowledges it.
		s.addPending(r)
		lost++
	}
	if err := s.flushPending(ctx); err != nil {
		return s.loadedNotWritten(now, lost, err)
	}
	s.writeOK()
	s.up(now, lost)
	return nil
}

// loadedNotWritten ends a resynchronisation whose load succeeded but whose
// write-back failed with err. A refused or unacknowledged write (after a
// failover to a primary without a replica, say) leaves the mirror current
// and Redis reachable: the Store is connected, and Health says what the
// write met; pending revocations are written again every PingInterval, the
// others at the next resynchronisation. Only a lost link is a failed
// resynchronisation.
func (s *Store) loadedNotWritten(now time.Time, lost int, err error) error {
	if classify(err) == StateUnreachable {
		return err
	}
	s.writeFailed(err)
	s.up(now, lost)
	return nil
}

// strongerThan reports whether the mirror's r refuses more than what Redis
// holds: a later cutoff, or a later expiry (or none).
func strongerThan(r scopedtoken.Revocation, h held) bool {
	u := unixMilli(r.Until)
	laterUntil := h.until != 0 && (u == 0 || u > h.until)
	if r.Kind.IsCutoff() {
		return r.IssuedBefore.Unix() > h.before || laterUntil
	}
	return laterUntil
}

// unixMilli is t in Unix ms, as the sorted sets hold it; 0 for the zero time.
func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(t.UnixMilli(), 1)
}

func (s *Store) isPending(m string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.pending[m]
	return ok
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
