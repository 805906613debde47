package redistest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The sentinels' settings for the monitored primary: it is subjectively down
// after SentinelDownAfter without an answer, and a failover that stalls is
// retried after twice SentinelFailoverTimeout.
const (
	SentinelDownAfter       = time.Second
	SentinelFailoverTimeout = 4 * time.Second
)

// The replication user: replicas authenticate as it, so that disabling it on
// the primary cuts the replication link while the clients, which use the
// default user, and the sentinels carry on.
const (
	replUser = "repl"
	replPass = "repl-secret"
)

// Sentinel is a primary, one replica of it and three sentinels monitoring
// them with quorum 2, each a Server on its own loopback port and temporary
// directory.
type Sentinel struct {
	name      string
	sentinels []*Server

	mu      sync.Mutex
	primary *Server
	replica *Server
}

// StartSentinel starts the primary, the replica (replicaof the primary) and
// the sentinels, and waits until the replica is in sync and every sentinel
// knows the replica and the two other sentinels, so that a failover can be
// authorized from the start.
func StartSentinel(tb testing.TB) *Sentinel {
	tb.Helper()
	s := &Sentinel{name: "scopedtoken-test"}
	s.primary = startServer(tb, false, func(port int, dir string) []string {
		return dataArgs(port, dir)
	})
	s.replica = startServer(tb, false, func(port int, dir string) []string {
		return append(dataArgs(port, dir), "--replicaof", "127.0.0.1", strconv.Itoa(s.primary.port))
	})
	// The sentinels find the replica in the primary's INFO: once linked, it
	// is there from their first look rather than their next, 10 s later.
	s.waitLink(tb, true, 15*time.Second)
	for range 3 {
		s.sentinels = append(s.sentinels, startServer(tb, false, func(port int, dir string) []string {
			conf := filepath.Join(dir, "sentinel.conf")
			text := fmt.Sprintf(`port %d
bind 127.0.0.1
dir %q
daemonize no
loglevel notice
logfile %q
sentinel resolve-hostnames no
sentinel monitor %s 127.0.0.1 %d 2
sentinel down-after-milliseconds %s %d
sentinel failover-timeout %s %d
sentinel parallel-syncs %s 1
`, port, dir, logFile(dir), s.name, s.primary.port, s.name, SentinelDownAfter.Milliseconds(),
				s.name, SentinelFailoverTimeout.Milliseconds(), s.name)
			if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
				tb.Fatal(err)
			}
			return []string{conf, "--sentinel"}
		}))
	}
	waitUntil(tb, 30*time.Second, "sentinels know each other and the replica", func() error {
		for i, sen := range s.sentinels {
			cl := shortClient(sen.Addr())
			ctx, cancel := ctxTimeout()
			m, err := cl.Do(ctx, "SENTINEL", "MASTER", s.name).Result()
			cancel()
			cl.Close()
			if err != nil {
				return fmt.Errorf("sentinel %d: %w", i, err)
			}
			f := pairs(m)
			if f["num-other-sentinels"] != "2" || f["num-slaves"] != "1" || f["flags"] != "master" {
				return fmt.Errorf("sentinel %d: flags %s, num-other-sentinels %s, num-slaves %s",
					i, f["flags"], f["num-other-sentinels"], f["num-slaves"])
			}
		}
		return nil
	}, s.sentinels...)
	return s
}

// dataArgs are the arguments of the primary and the replica: either may
// become the other, so both have the replication user and authenticate as it.
func dataArgs(port int, dir string) []string {
	return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--daemonize", "no", "--save", "", "--appendonly", "no", "--protected-mode", "yes",
		"--loglevel", "notice", "--logfile", logFile(dir),
		"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
		"--user", replUser, "on", ">" + replPass, "~*", "&*", "+@all",
		"--masteruser", replUser, "--masterauth", replPass}
}

// pairs turns a RESP2 field/value array (SENTINEL MASTER) or a RESP3 map
// into strings by field.
func pairs(v any) map[string]string {
	m := map[string]string{}
	switch v := v.(type) {
	case []any:
		for i := 0; i+1 < len(v); i += 2 {
			m[fmt.Sprint(v[i])] = fmt.Sprint(v[i+1])
		}
	case map[any]any:
		for k, x := range v {
			m[fmt.Sprint(k)] = fmt.Sprint(x)
		}
	}
	return m
}

// MasterName is the name the sentinels monitor the primary under.
func (s *Sentinel) MasterName() string { return s.name }

// SentinelAddrs returns the sentinels' addresses.
func (s *Sentinel) SentinelAddrs() []string {
	addrs := make([]string, len(s.sentinels))
	for i, sen := range s.sentinels {
		addrs[i] = sen.Addr()
	}
	return addrs
}

// Sentinels returns the sentinel processes, which a test may Stop and
// Restart.
func (s *Sentinel) Sentinels() []*Server { return s.sentinels }

// URL returns the sentinels and master name in the form
// redis.ParseFailoverURL reads:
// redis://S1:P1?master_name=NAME&addr=S2:P2&addr=S3:P3.
func (s *Sentinel) URL() string {
	addrs := s.SentinelAddrs()
	u := "redis://" + addrs[0] + "?master_name=" + s.name
	for _, a := range addrs[1:] {
		u += "&addr=" + a
	}
	return u
}

// Primary returns the primary as last seen: the server started as primary
// until WaitFailover or CurrentPrimary finds the other one promoted.
func (s *Sentinel) Primary() *Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.primary
}

// Replica returns the server that is not Primary.
func (s *Sentinel) Replica() *Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.replica
}

// Client returns a failover client (redis.NewFailoverClient) for the
// monitored primary with short timeouts, closed at the end of the test.
func (s *Sentinel) Client(tb testing.TB) *redis.Client {
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: s.name, SentinelAddrs: s.SentinelAddrs(),
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second, MaxRetries: 1,
		DialerRetries: 2, DialerRetryTimeout: 50 * time.Millisecond})
	tb.Cleanup(func() { c.Close() })
	return c
}

// sentinelsSay returns the primary address that a majority of the sentinels
// report (SENTINEL GET-MASTER-ADDR-BY-NAME), or an error.
func (s *Sentinel) sentinelsSay() (string, error) {
	votes := map[string]int{}
	var errs []error
	for i, sen := range s.sentinels {
		if !sen.running() {
			continue
		}
		cl := shortClient(sen.Addr())
		ctx, cancel := ctxTimeout()
		hp, err := cl.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.name).StringSlice()
		cancel()
		cl.Close()
		if err != nil || len(hp) != 2 {
			errs = append(errs, fmt.Errorf("sentinel %d: %v %v", i, hp, err))
			continue
		}
		votes[hp[0]+":"+hp[1]]++
	}
	for addr, n := range votes {
		if n > len(s.sentinels)/2 {
			return addr, nil
		}
	}
	return "", fmt.Errorf("no majority of the sentinels agree: %v %v", votes, errors.Join(errs...))
}

func (s *Sentinel) server(addr string) *Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range []*Server{s.primary, s.replica} {
		if x.Addr() == addr {
			return x
		}
	}
	return nil
}

// setPrimary records p as the primary and the other server as the replica.
func (s *Sentinel) setPrimary(p *Server) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p == s.replica {
		s.primary, s.replica = s.replica, s.primary
	}
}

// CurrentPrimary asks the sentinels which server is the primary, waiting up
// to 10 s for a majority of them to agree, and records the answer for
// Primary and Replica.
func (s *Sentinel) CurrentPrimary(tb testing.TB) *Server {
	tb.Helper()
	var p *Server
	waitUntil(tb, 10*time.Second, "the sentinels name the primary", func() error {
		addr, err := s.sentinelsSay()
		if err != nil {
			return err
		}
		if p = s.server(addr); p == nil {
			return fmt.Errorf("the sentinels name %s, neither %s nor %s", addr, s.Primary().Addr(), s.Replica().Addr())
		}
		return nil
	}, s.sentinels...)
	s.setPrimary(p)
	return p
}

// CutReplicaLink stops the replica from receiving the primary's writes
// while every process stays up and keeps its role: the primary disables the
// replication user and drops its connections, so the replica's reconnections
// fail authentication (master_link_status:down). It waits until the primary
// has no replica connected. A replica cut off for long (about ten times
// SentinelDownAfter) is no longer eligible for promotion.
func (s *Sentinel) CutReplicaLink(tb testing.TB) {
	tb.Helper()
	p := s.Primary()
	cl := shortClient(p.Addr())
	defer cl.Close()
	ctx, cancel := ctxTimeout()
	defer cancel()
	if err := cl.Do(ctx, "ACL", "SETUSER", replUser, "off").Err(); err != nil {
		tb.Fatalf("ACL SETUSER %s off on %s: %v", replUser, p.Addr(), err)
	}
	if err := cl.Do(ctx, "CLIENT", "KILL", "USER", replUser).Err(); err != nil {
		tb.Fatalf("CLIENT KILL USER %s on %s: %v", replUser, p.Addr(), err)
	}
	s.waitLink(tb, false, 10*time.Second)
}

// HealReplicaLink undoes CutReplicaLink and waits until the replica is in
// sync with the primary again (it retries about once a second).
func (s *Sentinel) HealReplicaLink(tb testing.TB) {
	tb.Helper()
	p := s.Primary()
	cl := shortClient(p.Addr())
	defer cl.Close()
	ctx, cancel := ctxTimeout()
	defer cancel()
	if err := cl.Do(ctx, "ACL", "SETUSER", replUser, "on").Err(); err != nil {
		tb.Fatalf("ACL SETUSER %s on on %s: %v", replUser, p.Addr(), err)
	}
	s.waitLink(tb, true, 15*time.Second)
}

// waitLink waits until the replica is (up) or is not (!up) linked to and in
// sync with the primary, as both of them report it.
func (s *Sentinel) waitLink(tb testing.TB, up bool, timeout time.Duration) {
	tb.Helper()
	p, r := s.Primary(), s.Replica()
	what := "replica linked to the primary"
	if !up {
		what = "replica cut off from the primary"
	}
	waitUntil(tb, timeout, what, func() error {
		pi, err := replicationInfo(p)
		if err != nil {
			return fmt.Errorf("primary: %w", err)
		}
		ri, err := replicationInfo(r)
		if err != nil {
			return fmt.Errorf("replica: %w", err)
		}
		online := pi["connected_slaves"] == "1" && strings.Contains(pi["slave0"], "port="+strconv.Itoa(r.port)+",state=online")
		linked := ri["role"] == "slave" && ri["master_link_status"] == "up"
		if up && (!online || !linked) || !up && (pi["connected_slaves"] != "0" || ri["master_link_status"] != "down") {
			return fmt.Errorf("primary connected_slaves:%s slave0:%s, replica role:%s master_link_status:%s",
				pi["connected_slaves"], pi["slave0"], ri["role"], ri["master_link_status"])
		}
		return nil
	}, p, r)
}

func replicationInfo(s *Server) (map[string]string, error) {
	cl := shortClient(s.Addr())
	defer cl.Close()
	ctx, cancel := ctxTimeout()
	defer cancel()
	info, err := cl.Info(ctx, "replication").Result()
	if err != nil {
		return nil, err
	}
	return parseInfo(info), nil
}

// KillPrimary stops the primary (as Primary returns it) with SIGKILL.
func (s *Sentinel) KillPrimary(tb testing.TB) {
	tb.Helper()
	s.Primary().Stop(syscall.SIGKILL)
}

// WaitFailover waits until a majority of the sentinels name a primary other
// than Primary and that server answers ROLE as master, records it as the
// primary and returns it. After KillPrimary the sentinels need about
// SentinelDownAfter to see the primary down and a few seconds more to
// promote the replica.
func (s *Sentinel) WaitFailover(tb testing.TB, timeout time.Duration) *Server {
	tb.Helper()
	old := s.Primary()
	var p *Server
	waitUntil(tb, timeout, "failover from "+old.Addr(), func() error {
		addr, err := s.sentinelsSay()
		if err != nil {
			return err
		}
		if addr == old.Addr() {
			return errors.New("the sentinels still name " + addr)
		}
		if p = s.server(addr); p == nil {
			return fmt.Errorf("the sentinels name %s, not a server of this topology", addr)
		}
		cl := shortClient(addr)
		defer cl.Close()
		ctx, cancel := ctxTimeout()
		defer cancel()
		role, err := cl.Do(ctx, "ROLE").Slice()
		if err != nil {
			return fmt.Errorf("ROLE on %s: %w", addr, err)
		}
		if len(role) == 0 || role[0] != "master" {
			return fmt.Errorf("ROLE on %s: %v", addr, role)
		}
		return nil
	}, append([]*Server{old, s.Replica()}, s.sentinels...)...)
	s.setPrimary(p)
	return p
}
