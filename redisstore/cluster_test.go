package redisstore

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// clusterStore opens a Store on c with its own cluster client and the
// default options but prefix (DefaultPrefix when "") and the logger.
func clusterStore(t *testing.T, c *redistest.Cluster, prefix string, logs *syncBuffer) *Store {
	t.Helper()
	s, err := New(t.Context(), c.Client(t), Options{Prefix: prefix, Logger: testLogger(logs)})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// stateMaster is the master that holds the three sorted sets of prefix.
func stateMaster(t *testing.T, c *redistest.Cluster, prefix string) int {
	t.Helper()
	state := "{" + prefix + "}"
	m := c.MasterForKey(t, state+"revoked")
	require.Equal(t, m, c.MasterForKey(t, state+"cutoffs"))
	require.Equal(t, m, c.MasterForKey(t, state+"cutoffs:until"))
	return m
}

// onceIDOn returns a jti whose single-use record, for a token of iss,
// master i of c serves. The record is prefix+"used:jti:KID:ID" (a jti is
// unique per key only).
func onceIDOn(t *testing.T, c *redistest.Cluster, prefix string, iss *scopedtokentest.Issuer, base string, i int) string {
	t.Helper()
	for n := range 1000 {
		id := fmt.Sprintf("%s-%d", base, n)
		if c.MasterForKey(t, prefix+"used:jti:"+iss.KeyID()+":"+id) == i {
			return id
		}
	}
	t.Fatalf("no jti for master %d", i)
	return ""
}

// medianMax returns the median and the largest of d.
func medianMax(d []time.Duration) (time.Duration, time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)-1]
}

// TestCluster runs the store on a Redis Cluster of 3 masters, each instance
// with its own cluster client and the default options.
func TestCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)

	// The conformance suite: revocations of every kind reach the other
	// instance within the bound, single-use tokens pass exactly once,
	// also when 100 requests race on one.
	t.Run("conformance", func(t *testing.T) {
		scopedtokentest.RevocationsConformance(t, func(t *testing.T) (scopedtoken.RevocationStore, scopedtoken.RevocationStore) {
			prefix := redistest.UniquePrefix()
			return clusterStore(t, c, prefix, nil), clusterStore(t, c, prefix, nil)
		})
	})

	// A revocation made through one instance, or through the package-level
	// Revoke that the command line uses, is enforced by the other instance
	// (which had the token cached) within the bound; the announcement
	// crosses the cluster bus when the channel's subscribers sit on another
	// master than the one the script ran on.
	t.Run("propagation", func(t *testing.T) {
		prefix := redistest.UniquePrefix()
		iss := scopedtokentest.NewIssuer(t)
		a := newNode(t, iss, clusterStore(t, c, prefix, nil))
		b := newNode(t, iss, clusterStore(t, c, prefix, nil))
		cli := c.Client(t)
		t.Logf("state on master %d, channel %q on master %d", stateMaster(t, c, prefix),
			a.store.keys.channel, c.MasterForKey(t, a.store.keys.channel))
		var viaStore, viaCLI []time.Duration
		for i := range 20 {
			tok := iss.Mint(scopedtokentest.JWTID(fmt.Sprintf("p-%d", i)))
			require.Equal(t, http.StatusOK, b.status(tok)) // cached in b
			require.Equal(t, http.StatusOK, a.status(tok))
			r, err := scopedtoken.TokenRevocation(tok)
			require.NoError(t, err)
			start := time.Now()
			if i%2 == 0 {
				require.NoError(t, a.store.Revoke(t.Context(), r))
				require.Equal(t, http.StatusUnauthorized, a.status(tok), "enforced at once by the instance that revoked")
			} else {
				require.NoError(t, Revoke(t.Context(), cli, prefix, r))
			}
			b.waitStatus(t, tok, http.StatusUnauthorized, scopedtokentest.PropagationBound)
			took := time.Since(start)
			if i%2 == 0 {
				viaStore = append(viaStore, took)
			} else {
				viaCLI = append(viaCLI, took)
				a.waitStatus(t, tok, http.StatusUnauthorized, scopedtokentest.PropagationBound)
			}
		}
		all := append(slices.Clone(viaStore), viaCLI...)
		med, most := medianMax(all)
		t.Logf("cluster propagation over %d revocations: median %v, max %v", len(all), med, most)
		med, most = medianMax(viaStore)
		t.Logf("  through Store.Revoke: median %v, max %v", med, most)
		med, most = medianMax(viaCLI)
		t.Logf("  through the package-level Revoke: median %v, max %v", med, most)
		assert.Less(t, most, scopedtokentest.PropagationBound)
		assert.Equal(t, StateSynced, a.store.Health().State)
		assert.Equal(t, StateSynced, b.store.Health().State)
	})

	// Single-use records carry no hash tag and spread over every master;
	// the state's three sorted sets share the prefix's hash tag and sit on
	// one master.
	t.Run("keys_spread", func(t *testing.T) {
		const n = 3000
		prefix := redistest.UniquePrefix()
		s := clusterStore(t, c, prefix, nil)
		until := time.Now().Add(time.Minute)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := time.Now()
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 8 {
					errs <- s.Use(t.Context(), fmt.Sprintf("jti:spread-%d", i), until)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		t.Logf("%d uses in %v", n, time.Since(start))
		assert.ErrorIs(t, s.Use(t.Context(), "jti:spread-0", until), scopedtoken.ErrTokenUsed)

		per := c.KeysPerMaster(t, prefix+"used:*")
		t.Logf("single-use records per master: %v", per)
		total := 0
		for i, k := range per {
			assert.Greater(t, k, n/5, "master %d holds a fair share", i)
			total += k
		}
		assert.Equal(t, n, total)

		require.NoError(t, s.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "j", Until: until}))
		require.NoError(t, s.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.CutoffSubject, Value: "u"}))
		m := stateMaster(t, c, prefix)
		state := c.KeysPerMaster(t, "{"+prefix+"}*")
		want := []int{0, 0, 0}
		want[m] = 3
		assert.Equal(t, want, state, "the three sorted sets are on master %d", m)
	})

	// Regression: with the default prefix, the package-level Revoke (the
	// command line's) works on a cluster client, where the script once
	// failed with CROSSSLOT, and a Store reports synced, not unreachable.
	t.Run("default_prefix", func(t *testing.T) {
		cli := c.Client(t)
		store := clusterStore(t, c, "", nil)
		require.Equal(t, StateSynced, store.Health().State)
		for _, r := range []scopedtoken.Revocation{
			{Kind: scopedtoken.RevokeID, Value: "cli", Until: time.Now().Add(time.Hour)},
			{Kind: scopedtoken.CutoffSubject, Value: "cli-user"},
		} {
			require.NoError(t, Revoke(t.Context(), cli, "", r))
		}
		require.NoError(t, store.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.CutoffKey, Value: "k"}))
		require.Eventually(t, func() bool {
			return store.Revoked(&scopedtoken.RevocationCheck{ID: "cli"}) &&
				store.Revoked(&scopedtoken.RevocationCheck{Subject: "cli-user", IssuedAt: time.Now().Add(-time.Minute)})
		}, scopedtokentest.PropagationBound, 5*time.Millisecond)
		h := store.Health()
		assert.Equal(t, StateSynced, h.State)
		assert.True(t, h.Connected)
		assert.Empty(t, h.WriteError)
		assert.Equal(t, 3, h.Entries)
		assert.EqualValues(t, 1, cli.Exists(t.Context(), "{"+DefaultPrefix+"}revoked").Val())
		fresh := clusterStore(t, c, "", nil)
		assert.Equal(t, 3, fresh.Health().Entries, "a new instance loads the state")
		assert.Equal(t, StateSynced, fresh.Health().State)

		// Close ends the subscription's blocking read at once, not after up
		// to PingInterval (1 s by default).
		start := time.Now()
		require.NoError(t, fresh.Close())
		assert.Less(t, time.Since(start), DefaultPingInterval/2)
	})
}

// TestClusterMasterDown kills one master of a cluster that keeps serving the
// other masters' slots (cluster-require-full-coverage no), under two
// instances: the master that holds the state, or another one.
func TestClusterMasterDown(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t, 3, "--cluster-require-full-coverage", "no")
	cases := []struct {
		name  string
		state bool // kill the state's master
	}{
		{"state_master", true},
		{"other_master", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A prefix whose untagged name prefix+"revocations" sits on
			// another master than the state: a channel so named would put
			// the instances' subscriptions there, so that the state's master
			// could die unnoticed and another master's death would cut the
			// announcements.
			var prefix string
			var sm, um int
			for {
				prefix = redistest.UniquePrefix()
				if sm, um = stateMaster(t, c, prefix), c.MasterForKey(t, prefix+"revocations"); sm != um {
					break
				}
			}
			victim := sm
			if !tc.state {
				victim = um
			}
			live := 3 - sm - um
			if !tc.state {
				live = sm
			}
			iss := scopedtokentest.NewIssuer(t)
			var logsA syncBuffer
			a := newNode(t, iss, clusterStore(t, c, prefix, &logsA))
			b := newNode(t, iss, clusterStore(t, c, prefix, nil))
			cm := c.MasterForKey(t, a.store.keys.channel)
			t.Logf("state on master %d, channel %q on master %d (%q on %d); killing master %d",
				sm, a.store.keys.channel, cm, prefix+"revocations", um, victim)
			require.Equal(t, sm, cm, "the instances subscribe on the state's master")

			before := iss.Mint(scopedtokentest.JWTID("before"))
			require.NoError(t, a.store.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "before", Until: time.Now().Add(time.Hour)}))
			b.waitStatus(t, before, http.StatusUnauthorized, scopedtokentest.PropagationBound)
			onDead := iss.Mint(scopedtokentest.Once(), scopedtokentest.JWTID(onceIDOn(t, c, prefix, iss, "dead", victim)))
			onLive := iss.Mint(scopedtokentest.Once(), scopedtokentest.JWTID(onceIDOn(t, c, prefix, iss, "live", live)))

			c.Master(victim).Stop(syscall.SIGKILL)
			killed := time.Now()
			c.WaitMarkedFailed(t, victim, 15*time.Second)
			c.WaitState(t, "ok", 5*time.Second)
			t.Logf("master %d flagged as failed %v after the kill", victim, time.Since(killed))
			time.Sleep(time.Second) // let every follower notice what it can

			for name, n := range map[string]node{"a": a, "b": b} {
				assert.Equal(t, http.StatusUnauthorized, n.status(before), "%s: the mirror still enforces", name)
				code, _ := n.statusReason(onDead)
				assert.Equal(t, http.StatusServiceUnavailable, code, "%s: the record's master is down", name)
			}
			code, reason := a.statusReason(onLive)
			assert.Equal(t, http.StatusOK, code, "a live master records the use: %s", reason)
			assert.Equal(t, 1, c.KeysPerMaster(t, prefix+"used:*")[live], "the record is on master %d", live)
			code, reason = b.statusReason(onLive)
			assert.Equal(t, http.StatusUnauthorized, code)
			assert.Equal(t, "token_used", reason)

			during := iss.Mint(scopedtokentest.JWTID("during"))
			errDuring := a.store.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "during", Until: time.Now().Add(time.Hour)})
			assert.Equal(t, http.StatusUnauthorized, a.status(during), "enforced at once by the instance that revoked")
			ha, hb := a.store.Health(), b.store.Health()
			t.Logf("with master %d down: Revoke error %v", victim, errDuring)
			t.Logf("  health a: %+v", ha)
			t.Logf("  health b: %+v", hb)
			t.Logf("  uses a: %v", a.store.Stats().Uses)
			if tc.state {
				require.Error(t, errDuring, "the state's master is down")
				assert.Equal(t, StateUnreachable, ha.State, "the subscription is on the dead master")
				assert.Equal(t, StateUnreachable, hb.State)
				assert.False(t, ha.Connected)
				assert.Equal(t, 1, ha.Pending)
				assert.Equal(t, http.StatusOK, b.status(during), "b cannot know yet")
			} else {
				require.NoError(t, errDuring, "the state's master is up")
				b.waitStatus(t, during, http.StatusUnauthorized, scopedtokentest.PropagationBound)
				assert.Equal(t, StateSynced, ha.State)
				assert.Equal(t, StateSynced, hb.State)
			}

			c.Master(victim).Restart() // empty: nothing was persisted
			restarted := time.Now()
			c.WaitOK(t, 20*time.Second)
			t.Logf("cluster ok %v after the restart", time.Since(restarted))
			require.Eventually(t, func() bool {
				return a.store.Health().State == StateSynced && b.store.Health().State == StateSynced
			}, 10*time.Second, 10*time.Millisecond, "synced again: a %+v, b %+v", a.store.Health(), b.store.Health())
			b.waitStatus(t, during, http.StatusUnauthorized, 5*time.Second)
			t.Logf("both synced and enforcing %v after the restart", time.Since(restarted))
			assert.Zero(t, a.store.Health().Pending)
			assert.EqualValues(t, 1, a.store.Stats().Uses[UseUnavailable], "the use on the dead master was counted")
			if tc.state {
				// The state's master came back empty; the instances wrote
				// back what their mirrors hold.
				assert.NotZero(t, a.store.Stats().WriteBacks+b.store.Stats().WriteBacks)
				assert.Contains(t, logsA.String(), "Redis unreachable")
				assert.Contains(t, logsA.String(), "synchronised")
			} else {
				assert.NotContains(t, logsA.String(), "Redis unreachable", "another master's failure leaves the state's link alone")
			}

			// A new instance finds everything in Redis: written again by the
			// instances if the state's master came back empty.
			fresh := newNode(t, iss, clusterStore(t, c, prefix, nil))
			assert.Equal(t, http.StatusUnauthorized, fresh.status(before))
			assert.Equal(t, http.StatusUnauthorized, fresh.status(during))
			assert.Equal(t, http.StatusOK, a.status(onDead), "usable once its master is back")
			code, reason = b.statusReason(onDead)
			assert.Equal(t, http.StatusUnauthorized, code)
			assert.Equal(t, "token_used", reason)
			assert.Equal(t, http.StatusUnauthorized, fresh.status(onLive), "still used")
		})
	}
}
