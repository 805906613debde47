package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// TestNewRefusesWhatCannotWork: a prefix with a brace (it would defeat the
// store's hash tags on Redis Cluster), a Ring, and a negative WaitReplicas
// other than NoWait are refused by New, not found at the first revocation.
func TestNewRefusesWhatCannotWork(t *testing.T) {
	srv := redistest.Start(t)
	quiet := slog.New(slog.DiscardHandler)
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": srv.Addr()}})
	t.Cleanup(func() { ring.Close() })
	cases := []struct {
		name   string
		client redis.UniversalClient
		opts   Options
		want   string
	}{
		{"hash_tag_in_prefix", srv.Client(t), Options{Prefix: "{scopedtoken}:"}, "may not contain '{'"},
		{"closing_brace", srv.Client(t), Options{Prefix: "a}b:"}, "may not contain"},
		{"ring", ring, Options{}, "Ring"},
		{"wait_replicas", srv.Client(t), Options{WaitReplicas: -2}, "WaitReplicas"},
		{"no_client", nil, Options{}, "client is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Logger = quiet
			_, err := New(t.Context(), c.client, c.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			if c.client != nil {
				err = Revoke(t.Context(), c.client, c.opts.Prefix, scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "x"})
				if c.name != "wait_replicas" {
					assert.Error(t, err, "the package-level Revoke refuses it too")
				}
			}
		})
	}
}

// replicated is a primary with one replica that replicates through a proxy,
// so that a test can cut the replica's link while both keep running.
type replicated struct {
	primary, replica *redistest.Server
	link             *redistest.Proxy
}

func startReplicated(t *testing.T) replicated {
	t.Helper()
	primary := redistest.Start(t)
	link := redistest.NewProxy(t, primary.Addr())
	host, port, err := net.SplitHostPort(link.Addr())
	require.NoError(t, err)
	replica := redistest.Start(t, "--replicaof", host, port, "--repl-timeout", "60")
	r := replicated{primary: primary, replica: replica, link: link}
	r.waitReplicas(t, 1)
	return r
}

// waitReplicas waits until n replicas are online and acknowledge writes.
func (r replicated) waitReplicas(t *testing.T, n int) {
	t.Helper()
	c := r.primary.Client(t)
	require.Eventually(t, func() bool {
		acked, err := c.Do(t.Context(), "WAIT", n, 50).Int()
		return connectedReplicas(t.Context(), c) == n && err == nil && acked == n
	}, 10*time.Second, 20*time.Millisecond, "%d replicas acknowledge writes", n)
}

// cut takes the replica's link down and waits until WAIT sees it: the
// primary may count the replica as connected for a while, but no write of
// its reaches the replica any more.
func (r replicated) cut(t *testing.T) {
	t.Helper()
	r.link.Cut()
	c := r.primary.Client(t)
	require.Eventually(t, func() bool {
		n, err := c.Do(t.Context(), "WAIT", 1, 50).Int()
		return err == nil && n == 0
	}, 10*time.Second, 20*time.Millisecond)
}

// TestWaitForReplicas: with a replica behind the primary, a single-use token
// is accepted only once a replica acknowledged its record; while the
// replica's link is cut, the request gets 503 and the token is not used up,
// and a revocation reports an error, stays enforced here, and is written
// again until acknowledged. Health tells "replicas behind".
func TestWaitForReplicas(t *testing.T) {
	r := startReplicated(t)
	prefix := redistest.UniquePrefix()
	iss := scopedtokentest.NewIssuer(t)
	var logs syncBuffer
	a := newNode(t, iss, newStore(t, r.primary.Addr(), prefix, &logs, func(o *Options) { o.WaitTimeout = 100 * time.Millisecond }))
	b := newNode(t, iss, newStore(t, r.primary.Addr(), prefix, nil))
	require.Equal(t, 1, a.store.w.wants(), "a replica was seen: WAIT 1 by default")

	used := iss.Mint(scopedtokentest.Once())
	require.Equal(t, http.StatusOK, a.status(used))
	assert.Equal(t, http.StatusUnauthorized, b.status(used))

	r.cut(t)
	pending := iss.Mint(scopedtokentest.Once())
	assert.Equal(t, http.StatusServiceUnavailable, a.status(pending), "not durable: refused")
	assert.Equal(t, StateReplicasBehind, a.store.Health().State)
	assert.Contains(t, a.store.Health().WriteError, "replicas acknowledged")
	assert.Contains(t, logs.String(), "too few Redis replicas")
	assert.NotContains(t, logs.String(), "Redis unreachable", "Redis is reachable")
	rec, err := scopedtoken.TokenRevocation(pending)
	require.NoError(t, err)
	assert.Zero(t, r.primary.Client(t).Exists(t.Context(), prefix+"used:"+rec.Kind.String()+":"+rec.Value).Val(),
		"the record of the refused use was removed: the token is not used up")

	revoked := iss.Mint(scopedtokentest.JWTID("while-behind"))
	err = a.store.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "while-behind", Until: time.Now().Add(time.Hour)})
	require.ErrorIs(t, err, ErrNotDurable)
	assert.Equal(t, http.StatusUnauthorized, a.status(revoked), "enforced here")
	b.waitStatus(t, revoked, http.StatusUnauthorized, time.Second) // the announcement went out all the same
	assert.Equal(t, 1, a.store.Health().Pending)

	r.link.Heal()
	require.Eventually(t, func() bool { return a.store.Health().Pending == 0 }, 10*time.Second, 20*time.Millisecond,
		"written again until acknowledged")
	assert.Equal(t, http.StatusOK, a.status(pending), "the token that was refused is usable once")
	assert.Equal(t, StateSynced, a.store.Health().State)
	assert.Contains(t, logs.String(), "acknowledges writes again")
	assert.NotZero(t, a.store.Stats().WriteBacks)
	assert.EqualValues(t, 2, a.store.Stats().Uses[UseAccepted])
	assert.EqualValues(t, 1, a.store.Stats().Uses[UseUnavailable])

	replica := r.replica.Client(t)
	assert.NoError(t, replica.ZScore(t.Context(), "{"+prefix+"}revoked", "jti:while-behind").Err(), "the replica has the revocation")

	t.Run("no_wait", func(t *testing.T) {
		s := newStore(t, r.primary.Addr(), redistest.UniquePrefix(), nil, func(o *Options) { o.WaitReplicas = NoWait })
		r.cut(t)
		defer r.link.Heal()
		assert.NoError(t, s.Use(t.Context(), "jti:nowait", time.Now().Add(time.Minute)), "NoWait: the primary's word is enough")
	})
}

// TestWritesRefused: a primary that refuses writes (here min-replicas-to-write
// with no replica: NOREPLICAS) is reachable; Health says "writes refused"
// with the Redis error, never "unreachable", and single use fails closed.
func TestWritesRefused(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.UniquePrefix()
	var logs syncBuffer
	store := newStore(t, srv.Addr(), prefix, &logs)
	require.NoError(t, srv.Client(t).ConfigSet(t.Context(), "min-replicas-to-write", "1").Err())
	err := store.Use(t.Context(), "jti:refused", time.Now().Add(time.Minute))
	require.Error(t, err)
	h := store.Health()
	assert.Equal(t, StateWritesRefused, h.State)
	assert.Contains(t, h.WriteError, "NOREPLICAS")
	assert.True(t, h.Connected)
	assert.Contains(t, logs.String(), "Redis refuses writes")
	assert.NotContains(t, logs.String(), "unreachable")

	require.NoError(t, srv.Client(t).ConfigSet(t.Context(), "min-replicas-to-write", "0").Err())
	require.NoError(t, store.Use(t.Context(), "jti:accepted", time.Now().Add(time.Minute)))
	assert.Equal(t, StateSynced, store.Health().State)
}

// TestStrongerEntriesWrittenBack: what an instance enforces and Redis holds
// weaker (an earlier cutoff, an earlier expiry) or lacks is written back by
// the next resynchronisation, so that other instances and new ones enforce
// it; and a Revoke whose context was cancelled is written all the same.
func TestStrongerEntriesWrittenBack(t *testing.T) {
	srv := redistest.Start(t)
	cli := srv.Client(t)
	now := time.Now()

	t.Run("later_cutoff_and_later_until", func(t *testing.T) {
		prefix := redistest.UniquePrefix()
		a := newStore(t, srv.Addr(), prefix, nil, func(o *Options) { o.ResyncInterval = 200 * time.Millisecond })
		require.NoError(t, a.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.CutoffSubject, Value: "u", IssuedBefore: now}))
		require.NoError(t, a.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "j", Until: now.Add(time.Hour)}))
		// Redis loses everything (a restart without persistence), and then
		// gets weaker entries from elsewhere (an older instance, the CLI).
		require.NoError(t, cli.FlushAll(t.Context()).Err())
		require.NoError(t, Revoke(t.Context(), cli, prefix, scopedtoken.Revocation{Kind: scopedtoken.CutoffSubject, Value: "u", IssuedBefore: now.Add(-time.Hour)}))
		require.NoError(t, Revoke(t.Context(), cli, prefix, scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "j", Until: now.Add(time.Minute)}))
		state := "{" + prefix + "}"
		require.Eventually(t, func() bool {
			return cli.ZScore(t.Context(), state+"cutoffs", "subject:u").Val() == float64(now.Unix()+1) &&
				cli.ZScore(t.Context(), state+"revoked", "jti:j").Val() == float64(now.Add(time.Hour).UnixMilli())
		}, 5*time.Second, 20*time.Millisecond, "the stronger entries are back in Redis")
		fresh := newStore(t, srv.Addr(), prefix, nil)
		assert.True(t, fresh.Revoked(&scopedtoken.RevocationCheck{Subject: "u", IssuedAt: now.Add(-time.Minute)}), "a new instance enforces the later cutoff")
	})

	t.Run("cancelled_revoke", func(t *testing.T) {
		prefix := redistest.UniquePrefix()
		a := newStore(t, srv.Addr(), prefix, nil)
		b := newStore(t, srv.Addr(), prefix, nil, func(o *Options) { o.ResyncInterval = time.Hour })
		ctx, cancel := context.WithCancel(t.Context())
		cancel() // the client closed the tab before the sign-out was written
		err := a.Revoke(ctx, scopedtoken.Revocation{Kind: scopedtoken.CutoffSubject, Value: "signed-out"})
		require.Error(t, err)
		require.True(t, errors.Is(err, context.Canceled))
		check := &scopedtoken.RevocationCheck{Subject: "signed-out", IssuedAt: now.Add(-time.Minute)}
		assert.True(t, a.Revoked(check), "enforced here at once")
		require.Eventually(t, func() bool { return b.Revoked(check) }, 5*time.Second, 10*time.Millisecond,
			"written again with the store's own context, and announced")
		assert.Eventually(t, func() bool { return a.Health().Pending == 0 }, 5*time.Second, 10*time.Millisecond)
	})
}

// TestNoFalseLossWarning: a Revoke racing a reload (its entry in the mirror,
// its write to Redis not done yet) is not reported as a revocation Redis
// had lost: the reload writes it as the pending revocation it is.
func TestNoFalseLossWarning(t *testing.T) {
	srv := redistest.Start(t)
	var logs syncBuffer
	s := newStore(t, srv.Addr(), redistest.UniquePrefix(), &logs)
	r := scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "in-flight"}
	// What Revoke does before its write reaches Redis.
	s.addPending(r)
	s.mirror.Apply(r)
	require.NoError(t, s.resync(t.Context()))
	assert.NotContains(t, logs.String(), "had lost")
	assert.Zero(t, s.Health().Pending, "written by the reload")
	assert.True(t, newStore(t, srv.Addr(), s.opts.Prefix, nil).Revoked(&scopedtoken.RevocationCheck{ID: "in-flight"}))

	// An entry that Redis really lost is reported.
	require.NoError(t, srv.Client(t).FlushAll(t.Context()).Err())
	require.NoError(t, s.resync(t.Context()))
	assert.Contains(t, logs.String(), "had lost")
}
