package testkit

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// JWKSServer is the tests' one JWKS endpoint: a local server whose replies,
// path by path, a test sets and changes at will (a JWK Set, an OpenID
// configuration, a failure, a redirect, a slow or huge answer), and which
// counts and records the requests it gets.
type JWKSServer struct {
	*httptest.Server
	Hits atomic.Int64 // requests received, on every path

	mu      sync.Mutex
	replies map[string]Reply // by path; "" for every other path
	paths   []string         // the path of every request, in order
}

// Reply is what a JWKSServer answers on a path.
type Reply struct {
	Status int         // 0 means 200
	Body   []byte      // written as it is
	Header http.Header // set on the response; Content-Type is application/json unless given
	// Delay holds the answer back this long, or until the request's
	// context ends (the client gave up): a slow endpoint, or with a long
	// Delay one that answers only when the fetch is cancelled.
	Delay time.Duration
	// Chunk, when positive, writes Body in pieces of this many bytes, each
	// flushed: a chunked response without Content-Length.
	Chunk int
}

// Redirect is a 302 to location.
func Redirect(location string) Reply {
	return Reply{Status: http.StatusFound, Header: http.Header{"Location": {location}}}
}

// NewJWKSServer starts an http server that answers body with status 200 on
// every path, until Serve or Reply changes that; it is closed when the test
// ends.
func NewJWKSServer(t testing.TB, body []byte) *JWKSServer {
	t.Helper()
	return startJWKSServer(t, body, httptest.NewServer)
}

// NewTLSJWKSServer is NewJWKSServer over https; its Client trusts it.
func NewTLSJWKSServer(t testing.TB, body []byte) *JWKSServer {
	t.Helper()
	return startJWKSServer(t, body, httptest.NewTLSServer)
}

// ClosedURL is the URL of a server that has stopped: connections to it are
// refused.
func ClosedURL(t testing.TB) string {
	t.Helper()
	s := NewJWKSServer(t, nil)
	s.Close()
	return s.URL
}

func startJWKSServer(t testing.TB, body []byte, start func(http.Handler) *httptest.Server) *JWKSServer {
	s := &JWKSServer{replies: map[string]Reply{"": {Body: body}}}
	s.Server = start(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Serve changes what every path without a reply of its own answers: body
// with status, after delay.
func (s *JWKSServer) Serve(body []byte, status int, delay time.Duration) {
	s.Reply("", Reply{Status: status, Body: body, Delay: delay})
}

// Reply sets what path answers from now on; path "" stands for every path
// without a reply of its own.
func (s *JWKSServer) Reply(path string, r Reply) {
	s.mu.Lock()
	s.replies[path] = r
	s.mu.Unlock()
}

// HitsOf returns how many requests path received.
func (s *JWKSServer) HitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.paths {
		if p == path {
			n++
		}
	}
	return n
}

// Paths returns the path of every request so far, in order.
func (s *JWKSServer) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.paths)
}

func (s *JWKSServer) serve(w http.ResponseWriter, r *http.Request) {
	s.Hits.Add(1)
	s.mu.Lock()
	s.paths = append(s.paths, r.URL.Path)
	reply, ok := s.replies[r.URL.Path]
	if !ok {
		reply = s.replies[""]
	}
	s.mu.Unlock()
	if reply.Delay > 0 {
		t := time.NewTimer(reply.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	for name, values := range reply.Header {
		w.Header()[name] = values
	}
	if reply.Status == 0 {
		reply.Status = http.StatusOK
	}
	w.WriteHeader(reply.Status)
	if reply.Chunk <= 0 {
		w.Write(reply.Body)
		return
	}
	for b := reply.Body; len(b) > 0; b = b[min(reply.Chunk, len(b)):] {
		w.Write(b[:min(reply.Chunk, len(b))])
		w.(http.Flusher).Flush()
	}
}
