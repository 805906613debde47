package redisstore

import (
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

// sentinelStore opens a Store with the default options but prefix and the
// logger, on its own failover client (s.Client makes a new one each call).
// Right after a failover the sentinel that a new client asks first may not
// know of it yet (WaitFailover needs a majority): New is tried again then.
func sentinelStore(t *testing.T, s *redistest.Sentinel, prefix string, logs *syncBuffer) *Store {
	t.Helper()
	opts := Options{Prefix: prefix, Logger: testLogger(logs)}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := New(t.Context(), s.Client(t), opts)
		if err == nil {
			t.Cleanup(func() { st.Close() })
			return st
		}
		if time.Now().After(deadline) {
			require.NoError(t, err)
		}
		t.Logf("New: %v; trying again", err)
		time.Sleep(50 * time.Millisecond)
	}
}

// waitDecided sends token to n until it gets an answer other than 503 (the
// store reconnecting to the new primary) and returns it, failing the test
// if that takes longer than within.
func waitDecided(t *testing.T, n node, token string, within time.Duration) (int, string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, reason := n.statusReason(token)
		if code != http.StatusServiceUnavailable {
			return code, reason
		}
		if time.Now().After(deadline) {
			t.Fatalf("still 503 after %v", within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSentinelFailoverKeepsUsedToken: a single-use token used while the
// replica is linked (its record acknowledged by the replica) stays used
// after the primary dies and the replica is promoted: every instance, old or
// new, refuses it as token_used, none accepts it twice.
func TestSentinelFailoverKeepsUsedToken(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinel(t)
	prefix := redistest.UniquePrefix()
	iss := scopedtokentest.NewIssuer(t)
	a := newNode(t, iss, sentinelStore(t, s, prefix, nil))
	b := newNode(t, iss, sentinelStore(t, s, prefix, nil))
	require.Equal(t, 1, a.store.w.wants(), "a replica was seen: every write waits for it")

	tok := iss.Mint(scopedtokentest.Once())
	require.Equal(t, http.StatusOK, a.status(tok))
	code, reason := b.statusReason(tok)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "token_used", reason)
	revoked := iss.Mint(scopedtokentest.JWTID("acked"))
	require.NoError(t, a.store.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "acked", Until: time.Now().Add(time.Hour)}))

	s.KillPrimary(t)
	killed := time.Now()
	s.WaitFailover(t, 30*time.Second)
	t.Logf("failover %v after the kill", time.Since(killed))

	// New middlewares over the running stores, so that the answer comes
	// from Redis and not from a middleware that remembers the token used.
	for name, n := range map[string]node{
		"a":     newNode(t, iss, a.store),
		"b":     newNode(t, iss, b.store),
		"fresh": newNode(t, iss, sentinelStore(t, s, prefix, nil)),
	} {
		code, reason := waitDecided(t, n, tok, 10*time.Second)
		assert.Equal(t, http.StatusUnauthorized, code, "%s: never accepted twice", name)
		assert.Equal(t, "token_used", reason, name)
		assert.Equal(t, http.StatusUnauthorized, n.status(revoked), "%s: the acknowledged revocation survives", name)
	}
	t.Logf("health a after the failover: %+v", a.store.Health())
}

// TestSentinelFailoverAfterReplicaLag: while the replica's link is cut, a
// single-use token gets 503 (its record could be lost) and a revocation is
// reported not durable but enforced by every running instance. The primary
// then dies and the replica that lacks the revocation is promoted: the
// instances write it to the new primary once they reconnect, so that an
// instance started after the failover enforces it, and the token refused
// with 503 can be used, exactly once.
func TestSentinelFailoverAfterReplicaLag(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinel(t)
	prefix := redistest.UniquePrefix()
	iss := scopedtokentest.NewIssuer(t)
	var logsA syncBuffer
	a := newNode(t, iss, sentinelStore(t, s, prefix, &logsA))
	b := newNode(t, iss, sentinelStore(t, s, prefix, nil))
	oldReplica := s.Replica()

	s.CutReplicaLink(t)
	cut := time.Now()
	refused := iss.Mint(scopedtokentest.Once())
	assert.Equal(t, http.StatusServiceUnavailable, a.status(refused), "not durable: refused")
	ha := a.store.Health()
	t.Logf("health a with the link cut: %+v", ha)
	assert.Equal(t, StateReplicasBehind, ha.State)
	assert.True(t, ha.Connected)

	lagged := iss.Mint(scopedtokentest.JWTID("lagged"))
	err := a.store.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "lagged", Until: time.Now().Add(time.Hour)})
	require.ErrorIs(t, err, ErrNotDurable)
	assert.Equal(t, http.StatusUnauthorized, a.status(lagged), "enforced at once by the instance that revoked")
	b.waitStatus(t, lagged, http.StatusUnauthorized, scopedtokentest.PropagationBound)
	const member = "jti:lagged"
	revokedKey := "{" + prefix + "}revoked"
	assert.ErrorIs(t, oldReplica.Client(t).ZScore(t.Context(), revokedKey, member).Err(), redis.Nil,
		"the replica lacks the revocation")

	// The replica is still eligible: cut off for a few seconds, well under
	// the sentinels' limit (about ten times SentinelDownAfter).
	s.KillPrimary(t)
	killed := time.Now()
	p := s.WaitFailover(t, 30*time.Second)
	failedOver := time.Now()
	t.Logf("link cut for %v before the kill; failover %v after the kill", killed.Sub(cut), failedOver.Sub(killed))
	require.Same(t, oldReplica, p)

	newPrimary := p.Client(t)
	require.Eventually(t, func() bool {
		return newPrimary.ZScore(t.Context(), revokedKey, member).Err() == nil
	}, 10*time.Second, 5*time.Millisecond, "the revocation reaches the new primary")
	reached := time.Now()
	t.Logf("revocation on the new primary %v after the failover was seen (%v after the kill)",
		reached.Sub(failedOver), reached.Sub(killed))

	fresh := newNode(t, iss, sentinelStore(t, s, prefix, nil))
	assert.Equal(t, http.StatusUnauthorized, fresh.status(lagged), "an instance started after the failover enforces it")
	assert.Equal(t, 0, fresh.store.w.wants(), "the new primary has no replica")
	code, reason := fresh.statusReason(refused)
	assert.Equal(t, http.StatusOK, code, "the token refused with 503 is usable: %s", reason)
	t.Logf("single use works on an instance started after the failover %v after it", time.Since(failedOver))
	for name, n := range map[string]node{"a": a, "b": b} {
		code, reason := n.statusReason(refused)
		assert.Equal(t, http.StatusUnauthorized, code, "%s: exactly once", name)
		assert.Equal(t, "token_used", reason, name)
	}

	// The running instances expect a replica since they saw one: they
	// refuse single use, and say so, until one acknowledges writes again.
	require.Eventually(t, func() bool { return a.store.Health().Connected && b.store.Health().Connected },
		5*time.Second, 10*time.Millisecond, "reconnected to the new primary: a %+v, b %+v", a.store.Health(), b.store.Health())
	ha, hb := a.store.Health(), b.store.Health()
	t.Logf("health a after the failover: %+v", ha)
	t.Logf("health b after the failover: %+v", hb)
	assert.Equal(t, StateReplicasBehind, ha.State, "reachable, but no replica acknowledges")
	assert.Equal(t, 1, ha.Pending, "written, but not acknowledged by a replica")
	assert.NotEqual(t, StateUnreachable, hb.State)
	next := iss.Mint(scopedtokentest.Once())
	assert.Equal(t, http.StatusServiceUnavailable, a.status(next))

	// The old primary comes back as a replica of the new one.
	old := s.Replica()
	old.Restart()
	host, port, err := net.SplitHostPort(p.Addr())
	require.NoError(t, err)
	require.NoError(t, old.Client(t).ReplicaOf(t.Context(), host, port).Err())
	back := time.Now()
	took := a.waitStatus(t, next, http.StatusOK, 10*time.Second)
	t.Logf("single use works on the running instances %v after the old primary was made a replica again (%v after the failover)",
		took, time.Since(failedOver))
	require.Eventually(t, func() bool {
		return a.store.Health().State == StateSynced && a.store.Health().Pending == 0
	}, 5*time.Second, 10*time.Millisecond, "a: %+v", a.store.Health())
	t.Logf("a synced, nothing pending, %v after the replica came back", time.Since(back))
	assert.NoError(t, old.Client(t).ZScore(t.Context(), revokedKey, member).Err(), "the new replica has the revocation")
	assert.Contains(t, logsA.String(), "too few Redis replicas")
}
