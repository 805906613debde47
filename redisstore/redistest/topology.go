package redistest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Ports for the servers of a topology are drawn from [topoPortLo, topoPortHi),
// under the kernel's ephemeral range (32768 and up on Linux), so that outgoing
// connections never hold them; a cluster node's bus port, port+10000, is then
// under 32768 as well.
const (
	topoPortLo = 10000
	topoPortHi = 22000
)

// handedOut remembers the ports this process has chosen, so that two tests
// starting servers at the same time never pick the same one.
var handedOut struct {
	sync.Mutex
	ports map[int]bool
}

// requireRedis skips or fails the test, as Start does, when redis-server is
// not installed.
func requireRedis(tb starter) {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv(SkipEnv) == "1" {
			tb.Skip("redis-server is not installed and " + SkipEnv + "=1")
		}
		tb.Fatal("redis-server is not installed (apt-get install redis-server); set " + SkipEnv + "=1 to skip locally")
	}
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// pickPort returns a free loopback port; with bus, port+10000 is free too.
func pickPort(tb testing.TB, bus bool) int {
	tb.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
	for range 1000 {
		p := topoPortLo + rand.IntN(topoPortHi-topoPortLo)
		if handedOut.ports[p] || handedOut.ports[p+10000] || !portFree(p) || (bus && !portFree(p+10000)) {
			continue
		}
		handedOut.ports[p] = true
		if bus {
			handedOut.ports[p+10000] = true
		}
		return p
	}
	tb.Fatalf("no free loopback port in [%d, %d)", topoPortLo, topoPortHi)
	return 0
}

var errExited = errors.New("redis-server exited")

// startServer starts a redis-server with the arguments build returns for a
// port and the server's own temporary directory, and stops it by its PID at
// the end of the test. If the process exits before it answers (its port was
// taken in the meantime) it tries again on another port.
func startServer(tb testing.TB, bus bool, build func(port int, dir string) []string) *Server {
	tb.Helper()
	requireRedis(tb)
	s := &Server{tb: tb, dir: tb.TempDir()}
	tb.Cleanup(func() { s.Stop(syscall.SIGKILL) })
	for attempt := 1; ; attempt++ {
		s.port = pickPort(tb, bus)
		s.args = build(s.port, s.dir)
		err := s.launch(10 * time.Second)
		if err == nil {
			return s
		}
		if !errors.Is(err, errExited) || attempt == 5 {
			tb.Fatalf("redis-server %s: %v\n%s", strings.Join(s.args, " "), err, logTail(s.dir))
		}
	}
}

// launch starts s.args and waits until the process it started, and not some
// other one on the same port, answers.
func (s *Server) launch(timeout time.Duration) error {
	cmd := exec.Command("redis-server", s.args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	s.cmd, s.done = cmd, done
	go func() { _ = cmd.Wait(); close(done) }()
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1,
		DialTimeout: 500 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-done:
			s.cmd = nil
			return errExited
		default:
		}
		if pid, err := serverPID(c); err == nil && pid == cmd.Process.Pid {
			return nil
		}
		if time.Now().After(deadline) {
			s.Stop(syscall.SIGKILL)
			return fmt.Errorf("did not answer on %s within %v", s.Addr(), timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func serverPID(c *redis.Client) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(parseInfo(info)["process_id"])
}

// running reports whether the server's process is up (not stopped by Stop).
func (s *Server) running() bool { return s.cmd != nil }

// logFile is where the servers of a topology write their log.
func logFile(dir string) string { return filepath.Join(dir, "redis.log") }

// logTail returns the end of a server's log, for failure messages.
func logTail(dir string) string {
	b, err := os.ReadFile(logFile(dir))
	if err != nil {
		return ""
	}
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return "log " + logFile(dir) + ":\n" + string(b)
}

// parseInfo parses the "field:value" lines of INFO or CLUSTER INFO.
func parseInfo(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m
}

// waitUntil calls check every 50 ms until it returns nil or timeout has
// passed, then fails the test with what and the last error.
func waitUntil(tb testing.TB, timeout time.Duration, what string, check func() error, logs ...*Server) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			var tails []string
			for _, s := range logs {
				tails = append(tails, logTail(s.dir))
			}
			tb.Fatalf("%s: not within %v: %v\n%s", what, timeout, err, strings.Join(tails, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shortClient is a client for one check, to be closed by the caller.
func shortClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
}

func ctxTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*time.Second)
}
