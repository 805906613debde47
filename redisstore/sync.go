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
// ResyncInterval, and pings a silent subscription so that a dead link is
// noticed.
func (s *Store) follow(ctx context.Context) {
	defer close(s.done)
	ps := s.client.Subscribe(ctx, s.keys.channel)
	defer func() { ps.Close() }()
	nextResync := time.Now().Add(s.opts.ResyncInterval)
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
			s.handle(ctx, msg)
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
				ps = s.client.Subscribe(ctx, s.keys.channel)
			}
			s.down(err)
			pinged = false
			sleep(ctx, backoff)
			backoff = min(2*backoff, time.Second)
		}
		if time.Now().After(nextResync) {
			nextResync = time.Now().Add(s.opts.ResyncInterval)
			if err := s.resync(ctx); err != nil && ctx.Err() == nil {
				s.down(err)
			}
		}
	}
}

func (s *Store) handle(ctx context.Context, msg any) {
	switch m := msg.(type) {
	case *redis.Subscription:
		if m.Kind == "subscribe" {
			// A new connection: anything announced while the link was down
			// is only in the full state.
			if err := s.resync(ctx); err != nil && ctx.Err() == nil {
				s.down(err)
			}
		}
	case *redis.Message:
		r, err := parseMessage(m.Payload)
		if err != nil {
			s.log.Warn("ignoring a malformed revocation message", "error", err)
			return
		}
		s.mirror.Apply(r)
	}
}

// resync loads the whole state from Redis into the mirror (which keeps what
// it knew: nothing revoked is forgotten), then writes back what the mirror
// has and Redis lacks, as after Redis restarted without persistence or a
// Revoke failed while Redis was down.
func (s *Store) resync(ctx context.Context) error {
	now := s.opts.Now()
	pipe := s.client.Pipeline()
	revoked := pipe.ZRangeByScoreWithScores(ctx, s.keys.revoked, &redis.ZRangeBy{Min: strconv.FormatInt(now.UnixMilli(), 10), Max: "+inf"})
	cutoffs := pipe.ZRangeWithScores(ctx, s.keys.cutoffs, 0, -1)
	untils := pipe.ZRangeWithScores(ctx, s.keys.cutoffUntil, 0, -1)
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	loaded := map[string]bool{}
	apply := func(member string, r scopedtoken.Revocation) {
		kind, value, ok := cutMember(member)
		if !ok {
			s.log.Warn("ignoring a malformed revocation entry in Redis")
			return
		}
		r.Kind, r.Value = kind, value
		if r.Validate() != nil {
			return
		}
		loaded[member] = true
		s.mirror.Apply(r)
	}
	for _, z := range revoked.Val() {
		apply(z.Member.(string), scopedtoken.Revocation{Until: parseUntil(z.Score)})
	}
	until := make(map[string]float64, len(untils.Val()))
	for _, z := range untils.Val() {
		until[z.Member.(string)] = z.Score
	}
	for _, z := range cutoffs.Val() {
		member := z.Member.(string)
		u, ok := until[member]
		if !ok {
			continue // being written or pruned right now: the message or the next load brings it
		}
		r := scopedtoken.Revocation{IssuedBefore: time.Unix(int64(z.Score), 0), Until: parseUntil(u)}
		if !r.Until.IsZero() && !now.Before(r.Until) {
			continue
		}
		apply(member, r)
	}
	healed := 0
	for _, r := range s.mirror.Entries() {
		if !loaded[r.Kind.String()+":"+r.Value] {
			if err := write(ctx, s.client, s.keys, r, now); err != nil {
				return err
			}
			healed++
		}
	}
	s.up(now, healed)
	return nil
}

func cutMember(member string) (scopedtoken.RevocationKind, string, bool) {
	for i := 0; i < len(member); i++ {
		if member[i] == ':' {
			kind, ok := scopedtoken.ParseRevocationKind(member[:i])
			return kind, member[i+1:], ok
		}
	}
	return 0, "", false
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

// up records a successful full load.
func (s *Store) up(now time.Time, healed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &s.health
	if !h.Connected {
		attrs := []any{"entries", s.mirror.Len(), "rewritten", healed}
		if !h.DownSince.IsZero() {
			attrs = append(attrs, "down_for", now.Sub(h.DownSince).Round(time.Millisecond))
		}
		s.log.Info("revocation state synchronised with Redis", attrs...)
	} else if healed > 0 {
		s.log.Warn("Redis had lost revocations; rewrote them from the local mirror", "rewritten", healed)
	}
	h.Connected, h.Synced, h.LastSync, h.DownSince, h.LastError = true, true, now, time.Time{}, ""
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
