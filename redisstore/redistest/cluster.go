package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterNodeTimeout is the cluster-node-timeout of the nodes StartCluster
// starts: a stopped master is flagged as failing after about this long.
const ClusterNodeTimeout = 2 * time.Second

const clusterSlots = 16384

// Cluster is a Redis Cluster of masters without replicas, each a Server on
// its own loopback port (its cluster bus on port+10000) and temporary
// directory.
type Cluster struct {
	masters []*Server
}

// StartCluster starts masters redis-server nodes (3 if masters < 1), gives
// each an equal run of the 16384 slots, joins them with CLUSTER MEET and
// waits until every node reports cluster_state:ok and all slots.
//
// extra is passed to every node. By default a cluster whose master is
// stopped goes to cluster_state:fail on the other nodes once they flag it
// (cluster-require-full-coverage yes, as in Redis); with
// "--cluster-require-full-coverage", "no" the others keep serving their own
// slots.
func StartCluster(tb testing.TB, masters int, extra ...string) *Cluster {
	tb.Helper()
	if masters < 1 {
		masters = 3
	}
	c := &Cluster{}
	for range masters {
		c.masters = append(c.masters, startServer(tb, true, func(port int, dir string) []string {
			return append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
				"--daemonize", "no", "--save", "", "--appendonly", "no", "--protected-mode", "yes",
				"--loglevel", "notice", "--logfile", logFile(dir),
				"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
				"--cluster-node-timeout", strconv.Itoa(int(ClusterNodeTimeout / time.Millisecond))}, extra...)
		}))
	}
	ctx, cancel := ctxTimeout()
	defer cancel()
	for i, s := range c.masters {
		cl := shortClient(s.Addr())
		lo, hi := i*clusterSlots/masters, (i+1)*clusterSlots/masters-1
		if err := cl.ClusterAddSlotsRange(ctx, lo, hi).Err(); err != nil {
			// Redis before 7.0 has no ADDSLOTSRANGE.
			slots := make([]int, 0, hi-lo+1)
			for slot := lo; slot <= hi; slot++ {
				slots = append(slots, slot)
			}
			if err := cl.ClusterAddSlots(ctx, slots...).Err(); err != nil {
				cl.Close()
				tb.Fatalf("CLUSTER ADDSLOTS on %s: %v", s.Addr(), err)
			}
		}
		// Distinct epochs spare the nodes from resolving a collision.
		if err := cl.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			cl.Close()
			tb.Fatalf("CLUSTER SET-CONFIG-EPOCH on %s: %v", s.Addr(), err)
		}
		cl.Close()
	}
	first := shortClient(c.masters[0].Addr())
	defer first.Close()
	for _, s := range c.masters[1:] {
		if err := first.ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(s.port)).Err(); err != nil {
			tb.Fatalf("CLUSTER MEET %s: %v", s.Addr(), err)
		}
	}
	c.WaitOK(tb, 30*time.Second)
	return c
}

// Addrs returns the masters' addresses, in order.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.masters))
	for i, s := range c.masters {
		addrs[i] = s.Addr()
	}
	return addrs
}

// URL returns the cluster in the form redis.ParseClusterURL reads:
// redis://H1:P1?addr=H2:P2&addr=H3:P3.
func (c *Cluster) URL() string {
	addrs := c.Addrs()
	u := "redis://" + addrs[0]
	for i, a := range addrs[1:] {
		if i == 0 {
			u += "?"
		} else {
			u += "&"
		}
		u += "addr=" + a
	}
	return u
}

// Master returns master i, which a test may Stop and Restart; a restarted
// master keeps its port, directory and node ID (nodes.conf) and so rejoins.
func (c *Cluster) Master(i int) *Server { return c.masters[i] }

// Client returns a cluster client with short timeouts, closed at the end of
// the test.
func (c *Cluster) Client(tb testing.TB) *redis.ClusterClient {
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(),
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second, MaxRetries: 1,
		DialerRetries: 2, DialerRetryTimeout: 50 * time.Millisecond})
	tb.Cleanup(func() { cl.Close() })
	return cl
}

// running returns a running master to ask, failing the test if none is.
func (c *Cluster) running(tb testing.TB) *Server {
	tb.Helper()
	for _, s := range c.masters {
		if s.running() {
			return s
		}
	}
	tb.Fatal("no master of the cluster is running")
	return nil
}

func (c *Cluster) index(addr string) int {
	for i, s := range c.masters {
		if s.Addr() == addr {
			return i
		}
	}
	return -1
}

// MasterForKey returns the index of the master that serves key's slot, as a
// running master sees it (CLUSTER KEYSLOT, CLUSTER SLOTS).
func (c *Cluster) MasterForKey(tb testing.TB, key string) int {
	tb.Helper()
	s := c.running(tb)
	cl := shortClient(s.Addr())
	defer cl.Close()
	ctx, cancel := ctxTimeout()
	defer cancel()
	slot, err := cl.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		tb.Fatalf("CLUSTER KEYSLOT on %s: %v", s.Addr(), err)
	}
	ranges, err := servedRanges(ctx, cl)
	if err != nil {
		tb.Fatalf("CLUSTER SHARDS on %s: %v", s.Addr(), err)
	}
	for _, r := range ranges {
		if r.start <= slot && slot <= r.end && r.master != "" {
			if i := c.index(r.master); i >= 0 {
				return i
			}
			tb.Fatalf("slot %d of %q is served by %s, not one of %v", slot, key, r.master, c.Addrs())
		}
	}
	tb.Fatalf("slot %d of %q is not served, as %s sees it", slot, key, s.Addr())
	return -1
}

// KeysPerMaster counts, on each master, the keys that match pattern (SCAN
// MATCH); a stopped master counts -1.
func (c *Cluster) KeysPerMaster(tb testing.TB, pattern string) []int {
	tb.Helper()
	counts := make([]int, len(c.masters))
	for i, s := range c.masters {
		if !s.running() {
			counts[i] = -1
			continue
		}
		func() {
			cl := shortClient(s.Addr())
			defer cl.Close()
			ctx, cancel := ctxTimeout()
			defer cancel()
			var cursor uint64
			for {
				keys, next, err := cl.Scan(ctx, cursor, pattern, 1000).Result()
				if err != nil {
					tb.Fatalf("SCAN on %s: %v", s.Addr(), err)
				}
				counts[i] += len(keys)
				if cursor = next; cursor == 0 {
					return
				}
			}
		}()
	}
	return counts
}

// Info returns CLUSTER INFO of master i as fields (cluster_state,
// cluster_slots_assigned, cluster_known_nodes...).
func (c *Cluster) Info(tb testing.TB, i int) map[string]string {
	tb.Helper()
	info, err := clusterInfo(c.masters[i])
	if err != nil {
		tb.Fatalf("CLUSTER INFO on master %d: %v", i, err)
	}
	return info
}

func clusterInfo(s *Server) (map[string]string, error) {
	cl := shortClient(s.Addr())
	defer cl.Close()
	ctx, cancel := ctxTimeout()
	defer cancel()
	info, err := cl.ClusterInfo(ctx).Result()
	if err != nil {
		return nil, err
	}
	return parseInfo(info), nil
}

// WaitState waits until every running master reports cluster_state:state
// ("ok" or "fail"). Killing a master without replicas makes the others
// report "fail" about ClusterNodeTimeout later, unless the cluster was
// started with cluster-require-full-coverage no.
func (c *Cluster) WaitState(tb testing.TB, state string, timeout time.Duration) {
	tb.Helper()
	waitUntil(tb, timeout, "cluster_state:"+state, func() error {
		for i, s := range c.masters {
			if !s.running() {
				continue
			}
			info, err := clusterInfo(s)
			if err != nil {
				return fmt.Errorf("master %d: %w", i, err)
			}
			if got := info["cluster_state"]; got != state {
				return fmt.Errorf("master %d: cluster_state:%s", i, got)
			}
		}
		return nil
	}, c.masters...)
}

// WaitMarkedFailed waits until every other running master flags master i
// as failed (fail, not just fail?, in CLUSTER NODES).
func (c *Cluster) WaitMarkedFailed(tb testing.TB, i int, timeout time.Duration) {
	tb.Helper()
	waitUntil(tb, timeout, fmt.Sprintf("master %d flagged as failed", i), func() error {
		for j, s := range c.masters {
			if j == i || !s.running() {
				continue
			}
			nodes, err := clusterNodes(s)
			if err != nil {
				return fmt.Errorf("master %d: %w", j, err)
			}
			if flags := nodes[c.masters[i].Addr()]; !hasFlag(flags, "fail") {
				return fmt.Errorf("master %d sees master %d with flags %q", j, i, flags)
			}
		}
		return nil
	}, c.masters...)
}

// WaitOK waits until every master is up and reports cluster_state:ok, all
// slots assigned and served, every node known and none flagged as failing:
// after a stopped master was restarted, for example. It fails the test at
// once if a master is stopped.
func (c *Cluster) WaitOK(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	for i, s := range c.masters {
		if !s.running() {
			tb.Fatalf("WaitOK: master %d is stopped", i)
		}
	}
	n := len(c.masters)
	waitUntil(tb, timeout, "cluster ok on every master", func() error {
		for i, s := range c.masters {
			info, err := clusterInfo(s)
			if err != nil {
				return fmt.Errorf("master %d: %w", i, err)
			}
			if info["cluster_state"] != "ok" || info["cluster_slots_assigned"] != strconv.Itoa(clusterSlots) ||
				info["cluster_slots_ok"] != strconv.Itoa(clusterSlots) || info["cluster_known_nodes"] != strconv.Itoa(n) {
				return fmt.Errorf("master %d: cluster_state:%s slots_assigned:%s slots_ok:%s known_nodes:%s", i,
					info["cluster_state"], info["cluster_slots_assigned"], info["cluster_slots_ok"], info["cluster_known_nodes"])
			}
			nodes, err := clusterNodes(s)
			if err != nil {
				return fmt.Errorf("master %d: %w", i, err)
			}
			for addr, flags := range nodes {
				if c.index(addr) < 0 || hasFlag(flags, "fail") || hasFlag(flags, "fail?") || hasFlag(flags, "handshake") {
					return fmt.Errorf("master %d sees %s with flags %q", i, addr, flags)
				}
			}
			if err := c.coversAll(s); err != nil {
				return fmt.Errorf("master %d: %w", i, err)
			}
		}
		return nil
	}, c.masters...)
}

// coversAll checks that, as s sees it, the masters serve every slot.
func (c *Cluster) coversAll(s *Server) error {
	cl := shortClient(s.Addr())
	defer cl.Close()
	ctx, cancel := ctxTimeout()
	defer cancel()
	ranges, err := servedRanges(ctx, cl)
	if err != nil {
		return err
	}
	covered := 0
	for _, r := range ranges {
		if r.master == "" || c.index(r.master) < 0 {
			return fmt.Errorf("slots %d-%d served by %q", r.start, r.end, r.master)
		}
		covered += int(r.end - r.start + 1)
	}
	if covered != clusterSlots {
		return fmt.Errorf("%d slots served", covered)
	}
	return nil
}

// clusterNodes returns CLUSTER NODES of s as flags by node address.
func clusterNodes(s *Server) (map[string]string, error) {
	cl := shortClient(s.Addr())
	defer cl.Close()
	ctx, cancel := ctxTimeout()
	defer cancel()
	out, err := cl.ClusterNodes(ctx).Result()
	if err != nil {
		return nil, err
	}
	nodes := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		// ip:port@cport[,hostname]
		addr, _, _ := strings.Cut(f[1], "@")
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, errors.New("CLUSTER NODES: bad address in " + line)
		}
		nodes[addr] = f[2]
	}
	return nodes, nil
}

func hasFlag(flags, flag string) bool {
	for _, f := range strings.Split(flags, ",") {
		if f == flag {
			return true
		}
	}
	return false
}

// slotRange is a range of slots and the address of its master ("" when the
// shard lists none).
type slotRange struct {
	start, end int64
	master     string
}

// servedRanges reads CLUSTER SHARDS as cl's node sees it.
func servedRanges(ctx context.Context, cl *redis.Client) ([]slotRange, error) {
	shards, err := cl.ClusterShards(ctx).Result()
	if err != nil {
		return nil, err
	}
	var out []slotRange
	for _, sh := range shards {
		master := ""
		for _, n := range sh.Nodes {
			if n.Role == "master" {
				master = net.JoinHostPort(n.IP, strconv.FormatInt(n.Port, 10))
			}
		}
		for _, r := range sh.Slots {
			out = append(out, slotRange{start: r.Start, end: r.End, master: master})
		}
	}
	return out, nil
}
