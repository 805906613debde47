// Package redistest starts throwaway redis-server processes for tests: each
// on a free loopback port, with its own data directory, stopped by its PID
// when the test ends. It never touches a Redis it did not start.
package redistest

import (
	"context"
	"errors"
	"flag"
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

// SkipEnv, set to 1, skips the tests that need redis-server when it is not
// installed; only for local runs: CI installs it and runs them all.
const SkipEnv = "SCOPEDTOKEN_SKIP_REDIS"

// Server is a redis-server that a test started on a free loopback port
// with its own data directory, and stops by its PID.
type Server struct {
	tb   starter
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
}

// starter is what starting a server needs of a testing.TB; Main gives one
// to the server it starts outside any test.
type starter interface {
	Helper()
	Skip(args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	TempDir() string
	Cleanup(func())
}

// Start starts redis-server with extra arguments (for example
// "--appendonly", "yes"); by default nothing is persisted.
func Start(tb testing.TB, extra ...string) *Server {
	tb.Helper()
	return startPlain(tb, extra...)
}

func startPlain(tb starter, extra ...string) *Server {
	tb.Helper()
	requireRedis(tb)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{tb: tb, port: port, dir: tb.TempDir()}
	s.args = append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--daemonize", "no", "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--loglevel", "warning"}, extra...)
	// Registered first: a server that never answers is stopped all the same.
	tb.Cleanup(func() { s.Stop(syscall.SIGKILL) })
	s.start()
	return s
}

// Main is the body of the TestMain of a package whose examples need Redis:
// an example has no testing.TB to start a server with. It starts one
// redis-server as Start does, sets *addr to its address, runs m, stops the
// server and returns m's exit code, for os.Exit. Without redis-server it
// fails, as Start does, unless SkipEnv is 1: then it runs m without a server
// and with the examples skipped (the tests skip themselves in Start).
func Main(m *testing.M, addr *string) int {
	if _, err := exec.LookPath("redis-server"); err != nil && os.Getenv(SkipEnv) == "1" {
		if err := flag.Set("test.skip", "^Example"); err != nil {
			panic(err)
		}
		return m.Run()
	}
	var tb mainStarter
	defer tb.cleanup()
	*addr = startPlain(&tb).Addr()
	return m.Run()
}

// mainStarter is the starter of Main: a failure panics (there is no test to
// fail), and cleanups run when Main returns.
type mainStarter struct {
	cleanups []func()
	dirs     []string
}

func (*mainStarter) Helper()                           {}
func (*mainStarter) Skip(args ...any)                  { panic(fmt.Sprint(args...)) }
func (*mainStarter) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (*mainStarter) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (m *mainStarter) Cleanup(f func())                { m.cleanups = append(m.cleanups, f) }

func (m *mainStarter) TempDir() string {
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		panic(err)
	}
	m.dirs = append(m.dirs, dir)
	return dir
}

func (m *mainStarter) cleanup() {
	for i := len(m.cleanups) - 1; i >= 0; i-- {
		m.cleanups[i]()
	}
	for _, dir := range m.dirs {
		os.RemoveAll(dir)
	}
}

func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *Server) start() {
	s.tb.Helper()
	s.cmd = exec.Command("redis-server", s.args...)
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatal(err)
	}
	done := make(chan struct{})
	s.done = done
	go func(cmd *exec.Cmd) { _ = cmd.Wait(); close(done) }(s.cmd)
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	// Any answer means it is up: a server started with --requirepass
	// answers NOAUTH.
	for err := c.Ping(context.Background()).Err(); err != nil && !isReply(err); err = c.Ping(context.Background()).Err() {
		if time.Now().After(deadline) {
			s.tb.Fatalf("redis-server on %s did not start", s.Addr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// isReply reports whether err is an error that the server answered.
func isReply(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}

// Stop ends the server with sig (SIGKILL: a crash) and waits for it.
func (s *Server) Stop(sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	<-s.done
	s.cmd = nil
}

// Restart starts the server again on the same port and directory.
func (s *Server) Restart() { s.start() }

// Client returns a client for the server, closed at the end of the test.
func (s *Server) Client(tb testing.TB) *redis.Client {
	return NewClient(tb, s.Addr())
}

// NewClient returns a client for addr with short timeouts, closed at the end
// of the test.
func NewClient(tb testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second, MaxRetries: 1})
	tb.Cleanup(func() { c.Close() })
	return c
}

// Proxy forwards loopback connections to a Redis server until cut, so that a
// test can take one instance's link down while Redis stays up.
type Proxy struct {
	l      net.Listener
	target string

	mu    sync.Mutex
	open  bool
	conns []net.Conn
}

// NewProxy starts a proxy to target.
func NewProxy(tb testing.TB, target string) *Proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{l: l, target: target, open: true}
	go p.accept()
	tb.Cleanup(func() { l.Close(); p.Cut() })
	return p
}

// Addr is where clients connect.
func (p *Proxy) Addr() string { return p.l.Addr().String() }

func (p *Proxy) accept() {
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

// Cut closes every connection and refuses new ones until heal.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open = false
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Heal accepts connections again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.open = true
	p.mu.Unlock()
}

var prefixes struct {
	sync.Mutex
	n int
}

// UniquePrefix isolates tests that share one server.
func UniquePrefix() string {
	prefixes.Lock()
	defer prefixes.Unlock()
	prefixes.n++
	return fmt.Sprintf("test%d:", prefixes.n)
}
