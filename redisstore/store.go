// Package redisstore shares scopedtoken revocation state between every
// instance of a service through Redis (docs/revocation.md in the scopedtoken
// repository).
//
// Each Store keeps a local mirror of the revocations and cutoffs, so that
// checking a token never waits for the network: the mirror is loaded when
// the Store starts, kept current through Redis pub/sub, reloaded in full
// after every reconnection and at a fixed interval as a backstop. While
// Redis cannot be reached the mirror keeps the last known state, and Health
// and the logger say so. Using a single-use token is one atomic Redis
// command (SET NX with an expiry); it fails, and the middleware answers 503,
// while Redis cannot be reached.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopedtoken/scopedtoken"
)

// DefaultPrefix starts every key and the channel that a Store uses.
const DefaultPrefix = "scopedtoken:"

// Defaults of Options.
const (
	DefaultResyncInterval = 30 * time.Second
	DefaultPingInterval   = time.Second
)

// Options configures a Store. Every zero value means the documented default.
type Options struct {
	// Prefix starts every key and the pub/sub channel. Default DefaultPrefix.
	// With Redis Cluster, put a hash tag in it (for example
	// "{scopedtoken}:") so that the keys a revocation writes share a slot.
	Prefix string
	// Logger receives connection losses, recoveries and resynchronisations.
	// Default slog.Default().
	Logger *slog.Logger
	// Now is the clock that decides when entries expire. Default time.Now.
	Now func() time.Time
	// ResyncInterval is how often the whole state is reloaded, as a backstop
	// for a lost pub/sub message. Default 30 seconds.
	ResyncInterval time.Duration
	// PingInterval is how long the subscription may stay silent before it is
	// checked with a PING. Default 1 second.
	PingInterval time.Duration
	// StartUnsynced lets New return a Store when Redis cannot be reached at
	// start: it then knows no revocation until the first load succeeds
	// (Health().Synced is false until then). Default false: New fails, so
	// that an instance never starts out unaware of revocations.
	StartUnsynced bool
}

// Store is a scopedtoken.Revocations shared through Redis. Build it with New
// and stop it with Close.
type Store struct {
	client redis.UniversalClient
	keys   keys
	opts   Options
	log    *slog.Logger
	mirror *scopedtoken.MemoryRevocations

	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	health Health
}

var _ scopedtoken.Revocations = (*Store)(nil)

// Health is the state of a Store's link to Redis, for metrics and probes.
type Health struct {
	// Connected is true while the subscription is up and the last full load
	// succeeded: the mirror is current.
	Connected bool `json:"connected"`
	// Synced is true once the mirror was loaded from Redis at least once.
	Synced bool `json:"synced"`
	// LastSync is the time of the last successful full load.
	LastSync time.Time `json:"lastSync,omitzero"`
	// DownSince is when Redis was found unreachable; zero while connected.
	DownSince time.Time `json:"downSince,omitzero"`
	// LastError is the last error talking to Redis; "" while connected.
	LastError string `json:"lastError,omitempty"`
	// Entries is the number of revocations and cutoffs in the mirror.
	Entries int `json:"entries"`
}

// New loads the revocation state from Redis and starts following it. It
// fails when the first load fails, unless Options.StartUnsynced is set. The
// client is not closed by Close.
func New(ctx context.Context, client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: a Redis client is required")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ResyncInterval <= 0 {
		opts.ResyncInterval = DefaultResyncInterval
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	s := &Store{
		client: client,
		keys:   newKeys(opts.Prefix),
		opts:   opts,
		log:    opts.Logger.With("component", "scopedtoken/redisstore"),
		mirror: scopedtoken.NewMemoryRevocations(opts.Now),
		done:   make(chan struct{}),
	}
	if err := s.resync(ctx); err != nil {
		if !opts.StartUnsynced {
			return nil, fmt.Errorf("redisstore: cannot load the revocation state: %w", err)
		}
		s.down(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.follow(runCtx)
	return s, nil
}

// Close stops following Redis. The mirror keeps answering with the last
// known state.
func (s *Store) Close() error {
	s.cancel()
	<-s.done
	return nil
}

// Revoked answers from the local mirror, never from the network.
func (s *Store) Revoked(c *scopedtoken.RevocationCheck) bool { return s.mirror.Revoked(c) }

// Version changes whenever the mirror gains an entry.
func (s *Store) Version() uint64 { return s.mirror.Version() }

// Use records the single-use token key as used, with one SET NX that expires
// at until: exactly one instance succeeds. It returns scopedtoken.ErrTokenUsed
// for a token used before, and the Redis error when Redis cannot be reached.
func (s *Store) Use(ctx context.Context, key string, until time.Time) error {
	// A relative expiry does not depend on Redis's clock agreeing with ours;
	// at least a second, so a record never expires before it is written.
	ttl := max(until.Sub(s.opts.Now()), time.Second).Round(time.Millisecond)
	set, err := s.client.SetNX(ctx, s.keys.used+key, "1", ttl).Result()
	switch {
	case err != nil:
		return err
	case !set:
		return scopedtoken.ErrTokenUsed
	}
	return nil
}

// Revoke records r in the local mirror at once, then in Redis, which tells
// every other Store. When Redis cannot be reached it returns the error, but
// the entry stays in this Store's mirror and is written to Redis by the next
// successful resynchronisation.
func (s *Store) Revoke(ctx context.Context, r scopedtoken.Revocation) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.Kind.IsCutoff() && r.IssuedBefore.IsZero() {
		r.IssuedBefore = s.opts.Now() // one cutoff time for the mirror and Redis
	}
	s.mirror.Apply(r)
	return write(ctx, s.client, s.keys, r, s.opts.Now())
}

// Health returns the state of the link to Redis.
func (s *Store) Health() Health {
	s.mu.Lock()
	h := s.health
	s.mu.Unlock()
	h.Entries = s.mirror.Len()
	return h
}

// Revoke records r in the Redis state shared by every Store with the same
// prefix ("" for DefaultPrefix), which enforce it within a second. It is what
// the command line uses: it needs no key, since a revocation can only refuse.
func Revoke(ctx context.Context, client redis.UniversalClient, prefix string, r scopedtoken.Revocation) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return write(ctx, client, newKeys(prefix), r, time.Now())
}

// keys are the names a Store uses under its prefix.
type keys struct {
	revoked     string // ZSET: kind:value -> until (Unix ms, +inf for ever)
	cutoffs     string // ZSET: kind:value -> cutoff (Unix seconds)
	cutoffUntil string // ZSET: kind:value -> until (Unix ms, +inf for ever)
	used        string // + kind:value: a single-use record (a string with a TTL)
	channel     string // pub/sub: one message per new entry
}

func newKeys(prefix string) keys {
	return keys{
		revoked:     prefix + "revoked",
		cutoffs:     prefix + "cutoffs",
		cutoffUntil: prefix + "cutoffs:until",
		used:        prefix + "used:",
		channel:     prefix + "revocations",
	}
}

// writeScript adds one entry, keeping the stronger of it and an entry already
// there (ZADD GT), drops expired entries, and announces it, atomically.
var writeScript = redis.NewScript(`
if ARGV[2] == '' then
  redis.call('ZADD', KEYS[1], 'GT', ARGV[3], ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4])
else
  redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[1])
  redis.call('ZADD', KEYS[3], 'GT', ARGV[3], ARGV[1])
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[4])) do
    redis.call('ZREM', KEYS[2], m)
    redis.call('ZREM', KEYS[3], m)
  end
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
`)

func write(ctx context.Context, client redis.UniversalClient, k keys, r scopedtoken.Revocation, now time.Time) error {
	before := ""
	if r.Kind.IsCutoff() {
		before = strconv.FormatInt(r.CutoffSeconds(now), 10)
	}
	err := writeScript.Run(ctx, client, []string{k.revoked, k.cutoffs, k.cutoffUntil},
		r.Kind.String()+":"+r.Value, before, formatUntil(r.Until), strconv.FormatInt(now.UnixMilli(), 10),
		k.channel, encodeMessage(r, now)).Err()
	if err != nil {
		return fmt.Errorf("redisstore: cannot record the revocation: %w", err)
	}
	return nil
}

// encodeMessage writes the announcement of r: "1 KIND BEFORE UNTIL VALUE",
// with BEFORE "-" for a token and UNTIL "+inf" for ever; the value is last,
// so it may hold spaces.
func encodeMessage(r scopedtoken.Revocation, now time.Time) string {
	before := "-"
	if r.Kind.IsCutoff() {
		before = strconv.FormatInt(r.CutoffSeconds(now), 10)
	}
	return strings.Join([]string{"1", r.Kind.String(), before, formatUntil(r.Until), r.Value}, " ")
}

// formatUntil writes an expiry as Unix ms, or +inf for ever.
func formatUntil(t time.Time) string {
	if t.IsZero() {
		return "+inf"
	}
	return strconv.FormatInt(max(t.UnixMilli(), 1), 10)
}

// parseUntil reads what formatUntil wrote, or a ZSET score.
func parseUntil(score float64) time.Time {
	if math.IsInf(score, 1) || score > math.MaxInt64/2 {
		return time.Time{}
	}
	return time.UnixMilli(int64(score))
}

// parseMessage reads what encodeMessage wrote.
func parseMessage(payload string) (scopedtoken.Revocation, error) {
	f := strings.SplitN(payload, " ", 5)
	if len(f) != 5 || f[0] != "1" {
		return scopedtoken.Revocation{}, errors.New("redisstore: unknown message format")
	}
	kind, ok := scopedtoken.ParseRevocationKind(f[1])
	if !ok {
		return scopedtoken.Revocation{}, fmt.Errorf("redisstore: unknown revocation kind %q", f[1])
	}
	r := scopedtoken.Revocation{Kind: kind, Value: f[4]}
	if kind.IsCutoff() {
		sec, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return scopedtoken.Revocation{}, errors.New("redisstore: bad cutoff time in message")
		}
		r.IssuedBefore = time.Unix(sec, 0)
	}
	if f[3] != "+inf" {
		ms, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			return scopedtoken.Revocation{}, errors.New("redisstore: bad expiry in message")
		}
		r.Until = time.UnixMilli(ms)
	}
	return r, r.Validate()
}
