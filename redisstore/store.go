// Package redisstore shares scopedtoken revocation state between every
// instance of a service through Redis (docs/revocation.md in the scopedtoken
// repository): one server, a primary with replicas behind Sentinel, or Redis
// Cluster, through any redis.UniversalClient but a Ring.
//
// Each Store keeps a local mirror of the revocations and cutoffs, so that
// checking a token never waits for the network: the mirror is loaded when
// the Store starts, kept current through Redis pub/sub, reloaded in full
// after every reconnection and at a fixed interval as a backstop, and what it
// holds that Redis lacks or holds weaker is written back. While Redis cannot
// be reached the mirror keeps the last known state, and Health and the
// logger say so. Using a single-use token is one atomic Redis command (SET
// NX with an expiry), acknowledged by the replicas when there are any; it
// fails, and the middleware answers 503, while that cannot be done.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
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
	DefaultWaitTimeout    = 250 * time.Millisecond
)

// NoWait, as Options.WaitReplicas, turns waiting for replicas off.
const NoWait = -1

// Options configures a Store. Every zero value means the documented default.
type Options struct {
	// Prefix starts every key and the pub/sub channel. Default DefaultPrefix.
	// It may not contain '{' or '}': the store chooses its hash tags, so that
	// on Redis Cluster the state's keys share a slot while single-use records
	// spread over every master.
	Prefix string
	// Logger receives connection losses, recoveries, refused writes and
	// resynchronisations. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock that decides when entries expire. Default time.Now.
	Now func() time.Time
	// ResyncInterval is how often the whole state is reloaded, as a backstop
	// for a lost pub/sub message. Default 30 seconds.
	ResyncInterval time.Duration
	// PingInterval is how long the subscription may stay silent before it is
	// checked with a PING, and how often revocations that Redis has not
	// acknowledged are written again. Default 1 second.
	PingInterval time.Duration
	// StartUnsynced lets New return a Store when Redis cannot be reached at
	// start: it then knows no revocation until the first load succeeds
	// (Health().Synced is false until then). Default false: New fails, so
	// that an instance never starts out unaware of revocations.
	StartUnsynced bool
	// WaitReplicas is how many replicas must acknowledge a single-use record
	// or a revocation (Redis WAIT) before it counts as written: a failover
	// then keeps it. A use that too few acknowledge within WaitTimeout is
	// undone and refused (503); a revocation is kept here and written again.
	// Default 0: 1 once a primary was seen with a connected replica (at New
	// or any resynchronisation), none before; NoWait turns it off.
	WaitReplicas int
	// WaitTimeout bounds each WAIT. The client's ReadTimeout must be longer.
	// Default DefaultWaitTimeout (250 ms).
	WaitTimeout time.Duration
}

// UseOutcome is what a Use found.
type UseOutcome int

// The outcomes of Use.
const (
	UseAccepted    UseOutcome = iota + 1 // recorded: the token is used now
	UseAlreadyUsed                       // the token was used before
	UseUnavailable                       // Redis could not record it durably: 503
)

func (o UseOutcome) String() string {
	switch o {
	case UseAccepted:
		return "used"
	case UseAlreadyUsed:
		return "already_used"
	case UseUnavailable:
		return "unavailable"
	}
	return fmt.Sprintf("UseOutcome(%d)", int(o))
}

// Store is a scopedtoken.RevocationStore shared through Redis. Build it with New
// and stop it with Close.
type Store struct {
	w      *writer
	keys   keys
	opts   Options
	log    *slog.Logger
	mirror *scopedtoken.MemoryRevocations

	cancel context.CancelFunc
	done   chan struct{}
	sub    atomic.Pointer[redis.PubSub] // the follower's subscription, closed by Close

	uses       [UseUnavailable + 1]atomic.Uint64
	writeBacks atomic.Uint64
	troubled   atomic.Bool // a write failed since the last acknowledged one

	mu      sync.Mutex
	health  Health
	pending map[string]pendingEntry // revocations not yet acknowledged by Redis
	gen     uint64
}

// pendingEntry is a revocation that this Store enforces and must still
// write to Redis; gen tells a retry whether a newer Revoke replaced it.
type pendingEntry struct {
	r   scopedtoken.Revocation
	gen uint64
}

// A Store is what scopedtoken.Config.Revocations takes, and a store that
// revocations are written to.
var (
	_ scopedtoken.Revocations     = (*Store)(nil)
	_ scopedtoken.RevocationStore = (*Store)(nil)
)

// New loads the revocation state from Redis and starts following it. It
// fails when the options cannot work with the client, and when the first
// load fails unless Options.StartUnsynced is set. The client is not closed
// by Close.
func New(ctx context.Context, client redis.UniversalClient, opts Options) (*Store, error) {
	if err := checkClient(client); err != nil {
		return nil, err
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if err := checkPrefix(opts.Prefix); err != nil {
		return nil, err
	}
	if opts.WaitReplicas < NoWait {
		return nil, errors.New("redisstore: WaitReplicas must be a count of replicas, 0 (automatic) or NoWait")
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
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = DefaultWaitTimeout
	}
	k := newKeys(opts.Prefix)
	s := &Store{
		w:       &writer{client: client, keys: k, replica: opts.WaitReplicas, timeout: opts.WaitTimeout},
		keys:    k,
		opts:    opts,
		log:     opts.Logger.With("component", "scopedtoken/redisstore"),
		mirror:  scopedtoken.NewMemoryRevocations(opts.Now),
		done:    make(chan struct{}),
		pending: map[string]pendingEntry{},
	}
	s.health.State = StateStarting
	routeClientLogs(s.log)
	if err := s.resync(ctx); err != nil {
		if !opts.StartUnsynced {
			return nil, fmt.Errorf("redisstore: cannot load the revocation state: %w", err)
		}
		s.failed(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.follow(runCtx)
	return s, nil
}

// checkClient refuses what the store cannot work with.
func checkClient(client redis.UniversalClient) error {
	switch client.(type) {
	case nil:
		return errors.New("redisstore: a Redis client is required")
	case *redis.Ring:
		return errors.New("redisstore: a redis.Ring cannot hold shared state (it shards without failover); use a Client, a failover (Sentinel) Client or a ClusterClient")
	}
	return nil
}

// Close stops following Redis. The mirror keeps answering with the last
// known state.
func (s *Store) Close() error {
	s.cancel()
	// Closing the subscription ends its blocking read at once, which the
	// cancelled context does not.
	if ps := s.sub.Load(); ps != nil {
		ps.Close()
	}
	<-s.done
	return nil
}

// Revoked answers from the local mirror, never from the network.
func (s *Store) Revoked(c *scopedtoken.RevocationCheck) bool { return s.mirror.Revoked(c) }

// Version changes whenever the mirror gains an entry.
func (s *Store) Version() uint64 { return s.mirror.Version() }

// Use records the single-use token key as used, with one SET NX that expires
// at until, acknowledged by Options.WaitReplicas replicas: exactly one
// instance succeeds. It returns scopedtoken.ErrTokenUsed for a token used
// before, and an error (ErrNotDurable, or the Redis error) when it cannot
// record the use; the token is then not used up.
func (s *Store) Use(ctx context.Context, key string, until time.Time) error {
	// A relative expiry does not depend on Redis's clock agreeing with ours;
	// rounded up, and at least a second, so a record never expires early.
	ttl := max(until.Sub(s.opts.Now()), time.Second)
	ttl = ttl.Truncate(time.Millisecond) + time.Millisecond
	err := s.w.use(ctx, s.keys.used+key, ttl)
	outcome := UseAccepted
	switch {
	case err == nil:
		s.writeOK()
	case errors.Is(err, scopedtoken.ErrTokenUsed):
		outcome = UseAlreadyUsed
	default:
		outcome = UseUnavailable
		s.writeFailed(err)
	}
	s.uses[outcome].Add(1)
	return err
}

// Revoke records r in the local mirror at once, then in Redis, which tells
// every other Store. When Redis cannot record it (unreachable, refusing the
// write, or too few replicas acknowledging) Revoke returns the error, but
// the entry stays in force here and is written again, with the store's own
// context, until Redis acknowledges it: a cancelled ctx never drops it.
func (s *Store) Revoke(ctx context.Context, r scopedtoken.Revocation) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.Kind.IsCutoff() && r.IssuedBefore.IsZero() {
		r.IssuedBefore = s.opts.Now() // one cutoff time for the mirror and Redis
	}
	gen := s.addPending(r)
	s.mirror.Apply(r)
	if err := s.w.write(ctx, r, s.opts.Now()); err != nil {
		s.writeFailed(err)
		return fmt.Errorf("redisstore: cannot record the revocation (this instance enforces it and will write it again): %w", err)
	}
	s.donePending(r, gen)
	s.writeOK()
	return nil
}

// addPending notes r as not yet in Redis, merged with a pending entry of the
// same name (the stronger of both), and returns its generation.
func (s *Store) addPending(r scopedtoken.Revocation) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	m := member(r)
	if old, ok := s.pending[m]; ok {
		r = stronger(old.r, r)
	}
	s.pending[m] = pendingEntry{r: r, gen: s.gen}
	return s.gen
}

// donePending drops r's pending entry unless a newer one replaced it.
func (s *Store) donePending(r scopedtoken.Revocation, gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.pending[member(r)]; ok && p.gen == gen {
		delete(s.pending, member(r))
	}
}

// stronger merges two entries of one name: the later cutoff, the later
// expiry (zero: for ever).
func stronger(a, b scopedtoken.Revocation) scopedtoken.Revocation {
	if b.IssuedBefore.After(a.IssuedBefore) {
		a.IssuedBefore = b.IssuedBefore
	}
	if a.Until.IsZero() || b.Until.IsZero() {
		a.Until = time.Time{}
	} else if b.Until.After(a.Until) {
		a.Until = b.Until
	}
	return a
}

// flushPending writes every pending revocation again; it reports the first
// error.
func (s *Store) flushPending(ctx context.Context) error {
	s.mu.Lock()
	todo := make([]pendingEntry, 0, len(s.pending))
	for _, p := range s.pending {
		todo = append(todo, p)
	}
	s.mu.Unlock()
	for _, p := range todo {
		if err := s.w.write(ctx, p.r, s.opts.Now()); err != nil {
			return err
		}
		s.donePending(p.r, p.gen)
		s.writeBacks.Add(1)
	}
	return nil
}

// Revoke records r in the Redis state shared by every Store with the same
// prefix ("" for DefaultPrefix), which enforce it within a second. It is what
// the command line uses: it needs no key, since a revocation can only refuse.
// When the primary has connected replicas, one must acknowledge the entry
// within DefaultWaitTimeout, or Revoke returns an error wrapping
// ErrNotDurable (the entry may still reach them, and every running Store
// has it from the announcement).
func Revoke(ctx context.Context, client redis.UniversalClient, prefix string, r scopedtoken.Revocation) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if err := checkClient(client); err != nil {
		return err
	}
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	w := &writer{client: client, keys: newKeys(prefix), timeout: DefaultWaitTimeout}
	w.lookForReplicas(ctx)
	if err := w.write(ctx, r, time.Now()); err != nil {
		return fmt.Errorf("redisstore: cannot record the revocation: %w", err)
	}
	return nil
}
