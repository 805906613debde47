package redisstore

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// skipEnv, set to 1, skips the tests that need redis-server when it is not
// installed; only for local runs: CI installs it and runs them all.
const skipEnv = "SCOPEDTOKEN_SKIP_REDIS"

// redisServer is a redis-server that a test started on a free loopback port
// with its own data directory, and stops by its PID.
type redisServer struct {
	tb   testing.TB
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
}

// startRedis starts redis-server with extra arguments (for example
// "--appendonly", "yes"); by default nothing is persisted.
func startRedis(tb testing.TB, extra ...string) *redisServer {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv(skipEnv) == "1" {
			tb.Skip("redis-server is not installed and " + skipEnv + "=1")
		}
		tb.Fatal("redis-server is not installed (apt-get install redis-server); set " + skipEnv + "=1 to skip locally")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &redisServer{tb: tb, port: port, dir: tb.TempDir()}
	s.args = append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--daemonize", "no", "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--loglevel", "warning"}, extra...)
	s.start()
	tb.Cleanup(func() { s.stop(syscall.SIGKILL) })
	return s
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *redisServer) start() {
	s.tb.Helper()
	s.cmd = exec.Command("redis-server", s.args...)
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatal(err)
	}
	done := make(chan struct{})
	s.done = done
	go func(cmd *exec.Cmd) { _ = cmd.Wait(); close(done) }(s.cmd)
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.tb.Fatalf("redis-server on %s did not start", s.addr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the server with sig (SIGKILL: a crash) and waits for it.
func (s *redisServer) stop(sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	<-s.done
	s.cmd = nil
}

// restart starts the server again on the same port and directory.
func (s *redisServer) restart() { s.start() }

// client returns a client for the server, closed at the end of the test.
func (s *redisServer) client(tb testing.TB) *redis.Client {
	return clientFor(tb, s.addr())
}

func clientFor(tb testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second, MaxRetries: 1})
	tb.Cleanup(func() { c.Close() })
	return c
}

// proxy forwards loopback connections to a Redis server until cut, so that a
// test can take one instance's link down while Redis stays up.
type proxy struct {
	l      net.Listener
	target string

	mu    sync.Mutex
	open  bool
	conns []net.Conn
}

func newProxy(tb testing.TB, target string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{l: l, target: target, open: true}
	go p.accept()
	tb.Cleanup(func() { l.Close(); p.cut() })
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if !p.open {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// cut closes every connection and refuses new ones until heal.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open = false
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) heal() {
	p.mu.Lock()
	p.open = true
	p.mu.Unlock()
}

var prefixes struct {
	sync.Mutex
	n int
}

// uniquePrefix isolates tests that share one server.
func uniquePrefix() string {
	prefixes.Lock()
	defer prefixes.Unlock()
	prefixes.n++
	return fmt.Sprintf("test%d:", prefixes.n)
}
