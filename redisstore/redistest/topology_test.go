package redistest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// eventually retries f every 50 ms until it returns nil, failing the test
// after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keyOn returns a key with prefix that master i of c serves.
func keyOn(t *testing.T, c *Cluster, prefix string, i int) string {
	t.Helper()
	for n := range 1000 {
		if k := fmt.Sprintf("%s%d", prefix, n); c.MasterForKey(t, k) == i {
			return k
		}
	}
	t.Fatalf("no key for master %d", i)
	return ""
}

func TestCluster(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c := StartCluster(t, 3)
	t.Logf("cluster of 3 masters up in %v", time.Since(start))
	for i := range 3 {
		info := c.Info(t, i)
		if info["cluster_state"] != "ok" || info["cluster_slots_assigned"] != "16384" ||
			info["cluster_known_nodes"] != "3" || info["cluster_size"] != "3" {
			t.Fatalf("master %d: %v", i, info)
		}
	}

	o, err := redis.ParseClusterURL(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Addrs, c.Addrs()) {
		t.Fatalf("ParseClusterURL(%s).Addrs = %v, want %v", c.URL(), o.Addrs, c.Addrs())
	}

	ctx := context.Background()
	cl := c.Client(t)
	const n = 300
	want := make([]int, 3)
	for k := range n {
		key := fmt.Sprintf("spread:%d", k)
		if err := cl.Set(ctx, key, k, 0).Err(); err != nil {
			t.Fatal(err)
		}
		want[c.MasterForKey(t, key)]++
	}
	got := c.KeysPerMaster(t, "spread:*")
	if !slices.Equal(got, want) {
		t.Fatalf("KeysPerMaster = %v, MasterForKey counts %v", got, want)
	}
	for i, k := range got {
		if k == 0 {
			t.Fatalf("no key on master %d: %v", i, got)
		}
	}

	// Without replicas and with full coverage required, a dead master
	// takes the whole cluster down.
	victim := c.MasterForKey(t, "spread:0")
	other := (victim + 1) % 3
	otherKey := keyOn(t, c, "other:", other)
	c.Master(victim).Stop(syscall.SIGKILL)
	killed := time.Now()
	c.WaitState(t, "fail", 15*time.Second)
	t.Logf("cluster_state:fail on the others %v after the kill", time.Since(killed))
	if got := c.KeysPerMaster(t, "spread:*"); got[victim] != -1 {
		t.Fatalf("KeysPerMaster with master %d stopped = %v", victim, got)
	}
	err = c.Master(other).Client(t).Set(ctx, otherKey, "x", 0).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "CLUSTERDOWN") {
		t.Fatalf("SET %s on master %d of a failed cluster: %v, want CLUSTERDOWN", otherKey, other, err)
	}

	restarted := time.Now()
	c.Master(victim).Restart()
	c.WaitOK(t, 20*time.Second)
	t.Logf("cluster ok again %v after the restart", time.Since(restarted))
	eventually(t, 10*time.Second, "cluster client writes after the restart", func() error {
		if err := cl.Set(ctx, "spread:0", "again", 0).Err(); err != nil {
			return err
		}
		return cl.Set(ctx, otherKey, "again", 0).Err()
	})
	if got := c.KeysPerMaster(t, "spread:0"); got[victim] != 1 {
		t.Fatalf("spread:0 not on master %d: %v", victim, got)
	}
}

func TestClusterPartialCoverage(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, 3, "--cluster-require-full-coverage", "no")
	ctx := context.Background()
	cl := c.Client(t)
	deadKey, liveKey := keyOn(t, c, "k:", 0), keyOn(t, c, "k:", 1)
	for _, k := range []string{deadKey, liveKey} {
		if err := cl.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	c.Master(0).Stop(syscall.SIGKILL)
	killed := time.Now()
	c.WaitMarkedFailed(t, 0, 15*time.Second)
	t.Logf("master 0 flagged as failed %v after the kill", time.Since(killed))
	c.WaitState(t, "ok", 5*time.Second)
	if err := cl.Set(ctx, liveKey, "w", 0).Err(); err != nil {
		t.Fatalf("SET on a live master: %v", err)
	}
	setDead := time.Now()
	if err := cl.Set(ctx, deadKey, "w", 0).Err(); err == nil {
		t.Fatal("SET on the dead master's slot succeeded")
	}
	t.Logf("SET on the dead master's slot failed in %v", time.Since(setDead))
	if got := c.KeysPerMaster(t, "k:*"); got[0] != -1 || got[1] != 1 {
		t.Fatalf("KeysPerMaster = %v", got)
	}
}

func TestSentinel(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s := StartSentinel(t)
	t.Logf("primary, replica and 3 sentinels up in %v", time.Since(start))

	o, err := redis.ParseFailoverURL(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	if o.MasterName != s.MasterName() || !slices.Equal(o.SentinelAddrs, s.SentinelAddrs()) {
		t.Fatalf("ParseFailoverURL(%s) = %q %v, want %q %v", s.URL(), o.MasterName, o.SentinelAddrs, s.MasterName(), s.SentinelAddrs())
	}
	oldPrimary, oldReplica := s.Primary(), s.Replica()
	if p := s.CurrentPrimary(t); p != oldPrimary {
		t.Fatalf("CurrentPrimary = %s, want %s", p.Addr(), oldPrimary.Addr())
	}

	ctx := context.Background()
	cl := s.Client(t)
	replica := oldReplica.Client(t)
	if err := cl.Set(ctx, "a", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := cl.Wait(ctx, 1, 2*time.Second).Result(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 with the link up = %d, %v", n, err)
	}
	if v, err := replica.Get(ctx, "a").Result(); err != nil || v != "1" {
		t.Fatalf("replica GET a = %q, %v", v, err)
	}

	s.CutReplicaLink(t)
	if err := cl.Set(ctx, "b", "2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := cl.Wait(ctx, 1, 100*time.Millisecond).Result(); err != nil || n != 0 {
		t.Fatalf("WAIT 1 with the link cut = %d, %v", n, err)
	}
	if err := replica.Get(ctx, "b").Err(); err != redis.Nil {
		t.Fatalf("replica GET b with the link cut: %v, want redis.Nil", err)
	}
	if role, err := replica.Do(ctx, "ROLE").Slice(); err != nil || role[0] != "slave" {
		t.Fatalf("replica ROLE with the link cut = %v, %v", role, err)
	}

	healed := time.Now()
	s.HealReplicaLink(t)
	t.Logf("replica in sync %v after the heal", time.Since(healed))
	if n, err := cl.Wait(ctx, 1, 2*time.Second).Result(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 after the heal = %d, %v", n, err)
	}
	if v, err := replica.Get(ctx, "b").Result(); err != nil || v != "2" {
		t.Fatalf("replica GET b after the heal = %q, %v", v, err)
	}

	s.KillPrimary(t)
	killed := time.Now()
	p := s.WaitFailover(t, 30*time.Second)
	t.Logf("failover to %s %v after the kill", p.Addr(), time.Since(killed))
	if p != oldReplica || s.Primary() != oldReplica || s.Replica() != oldPrimary {
		t.Fatalf("WaitFailover = %s, Primary %s, Replica %s; the replica was %s",
			p.Addr(), s.Primary().Addr(), s.Replica().Addr(), oldReplica.Addr())
	}
	if c := s.CurrentPrimary(t); c != p {
		t.Fatalf("CurrentPrimary = %s, want %s", c.Addr(), p.Addr())
	}
	eventually(t, 10*time.Second, "failover client writes to the new primary", func() error {
		return cl.Set(ctx, "c", "3", 0).Err()
	})
	if v, err := p.Client(t).Get(ctx, "c").Result(); err != nil || v != "3" {
		t.Fatalf("new primary GET c = %q, %v", v, err)
	}
	if v, err := cl.Get(ctx, "b").Result(); err != nil || v != "2" {
		t.Fatalf("failover client GET b = %q, %v", v, err)
	}
}
