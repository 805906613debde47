package bench

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scopedtoken/scopedtoken/mint"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The floors are the least work that the middleware's job needs, written as
// tightly as it can be, on the request that binds a query claim: the token
// binds experienceKey and the request carries only input=pizza, so the URL
// is rewritten. They check nothing that the job does not strictly need, keep
// no per-request state apart from what the next handler must see, and are a
// lower bound to compare against, not a safe middleware.

// floorTarget is the request of the floor comparisons: the query claim must
// be appended.
const floorTarget = "/v2/accounts/me/search?input=pizza"

// floorEntry is what a floor knows about a token: its exp, its aud and the
// query claim's precomputed encoding.
type floorEntry struct {
	exp     int64
	aud     string
	encoded string
}

type floorKey struct{}

// floorContext carries the result to the next handler, with the rewritten
// URL in the same allocation.
type floorContext struct {
	context.Context
	e *floorEntry
	u url.URL
}

func (c *floorContext) Value(key any) any {
	if _, ok := key.(floorKey); ok {
		return c.e
	}
	return c.Context.Value(key)
}

// floorPass is the part common to both floors once the token is known good:
// the exp compare, a segment-prefix check of the path, the query binding and
// r.WithContext.
func floorPass(w http.ResponseWriter, r *http.Request, e *floorEntry, next http.Handler) {
	if benchNow.Unix() >= e.exp {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	p := r.URL.Path
	if !strings.HasPrefix(p, e.aud) || len(p) > len(e.aud) && p[len(e.aud)] != '/' {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	c := &floorContext{Context: r.Context(), e: e, u: *r.URL}
	c.u.RawQuery = r.URL.RawQuery + "&" + e.encoded
	r2 := r.WithContext(c)
	r2.URL = &c.u
	next.ServeHTTP(w, r2)
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header["Authorization"]
	if len(h) != 1 || len(h[0]) < 7 || h[0][:7] != "Bearer " {
		return "", false
	}
	return h[0][7:], true
}

// floorEntries is how many tokens the cached floor's map holds, and the
// middleware's cache in the same comparisons: Config's default CacheSize.
const floorEntries = 10000

// cachedFloor reads the Authorization header, looks the token up in a map of
// floorEntries entries under a read lock, then passes.
func cachedFloor(good string, e *floorEntry, next http.Handler) http.Handler {
	var mu sync.RWMutex
	m := make(map[string]*floorEntry, floorEntries)
	for i := range floorEntries - 1 {
		m["filler-"+strconv.Itoa(i)] = e
	}
	m[good] = e
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.RLock()
		e := m[tok]
		mu.RUnlock()
		if e == nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		floorPass(w, r, e, next)
	})
}

// uncachedFloor splits the token, base64url-decodes its three parts into
// reused buffers and checks the HS256 signature with a pre-keyed, reused HMAC
// state and a constant-time compare, then passes. It parses no JSON: the
// entry stands for what the claims say. Its buffers make it single-goroutine.
func uncachedFloor(secret []byte, e *floorEntry, next http.Handler) http.Handler {
	mac := hmac.New(sha256.New, secret)
	var in, header, payload, sig [1024]byte
	var sum [sha256.Size]byte
	verify := func(tok string) bool {
		if len(tok) > len(in) {
			return false
		}
		t := in[:copy(in[:], tok)]
		i := strings.IndexByte(tok, '.')
		j := strings.LastIndexByte(tok, '.')
		if i < 0 || j == i {
			return false
		}
		if _, err := base64.RawURLEncoding.Decode(header[:], t[:i]); err != nil {
			return false
		}
		if _, err := base64.RawURLEncoding.Decode(payload[:], t[i+1:j]); err != nil {
			return false
		}
		n, err := base64.RawURLEncoding.Decode(sig[:], t[j+1:])
		if err != nil {
			return false
		}
		mac.Reset()
		mac.Write(t[:j])
		return hmac.Equal(mac.Sum(sum[:0]), sig[:n])
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok || !verify(tok) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		floorPass(w, r, e, next)
	})
}

// fullCache fills the cache of h, the middleware with its default cache, with
// floorEntries-1 other tokens of f's key, each served once, so that the
// token of the comparisons is a hit in a cache as full as the cached floor's
// map (and the process holds as much live heap for it as a server would).
func fullCache(tb testing.TB, f fixture, h http.Handler) http.Handler {
	tb.Helper()
	mt, err := mint.New(mint.Config{Key: f.sign, Now: benchClock, Lifetime: time.Hour})
	require.NoError(tb, err)
	w := &discardWriter{h: make(http.Header)}
	for i := range floorEntries - 1 {
		tok, err := mt.Mint(mint.Claims{Audience: []string{benchAud}, Issuer: benchIssuer, ID: "filler-" + strconv.Itoa(i),
			Query: url.Values{"experienceKey": {"MySearchExperience"}}})
		require.NoError(tb, err)
		h.ServeHTTP(w, floorRequest(tok))
		require.Equal(tb, http.StatusOK, w.status)
	}
	return h
}

// floorFixture is the HS256 token of the floor comparisons and what the
// floors know about it.
func floorFixture(tb testing.TB) (f fixture, e *floorEntry) {
	tb.Helper()
	f = fixtures(tb)[0]
	require.Equal(tb, "HS256", f.alg)
	return f, &floorEntry{
		exp:     benchNow.Unix() + 3600,
		aud:     benchAud,
		encoded: url.Values{"experienceKey": {"MySearchExperience"}}.Encode(),
	}
}

// wantBound is the next handler of the floor comparisons: it fails the
// request unless the query claim was bound.
var wantBound = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.URL.RawQuery != "input=pizza&experienceKey=MySearchExperience" {
		w.WriteHeader(http.StatusTeapot)
		return
	}
	w.WriteHeader(http.StatusOK)
})

// floorHandlers are the floors and the middleware, on the same token and
// request, so that one benchmark run gives their ratios.
func floorHandlers(tb testing.TB) (token string, hs []struct {
	name string
	h    http.Handler
}) {
	f, e := floorFixture(tb)
	return f.good, []struct {
		name string
		h    http.Handler
	}{
		{"harness", wantBoundHarness},
		{"floor_cached", cachedFloor(f.good, e, wantBound)},
		{"scopedtoken_cached", fullCache(tb, f, ours(tb, f, 0, wantBound))},
		{"floor_uncached", uncachedFloor(benchSecret, e, wantBound)},
		{"scopedtoken_uncached", ours(tb, f, -1, wantBound)},
	}
}

// wantBoundHarness is the harness of the floor comparisons: the bare next
// handler on a request that already carries the bound query.
var wantBoundHarness = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
})

// TestFloorsAcceptAndBind makes sure the floor benchmarks measure a passing
// request whose query claim was bound, and that the floors refuse a bad
// signature or an unknown token.
func TestFloorsAcceptAndBind(t *testing.T) {
	f, _ := floorFixture(t)
	tok, hs := floorHandlers(t)
	for _, c := range hs {
		t.Run(c.name, func(t *testing.T) {
			w := &discardWriter{h: make(http.Header)}
			c.h.ServeHTTP(w, floorRequest(tok))
			assert.Equal(t, http.StatusOK, w.status)
			if c.name == "harness" {
				return
			}
			w = &discardWriter{h: make(http.Header)}
			c.h.ServeHTTP(w, floorRequest(f.bad))
			assert.Equal(t, http.StatusUnauthorized, w.status, "bad signature")
			if c.name == "scopedtoken_cached" { // a hit in the full cache: only the request's own allocations
				req := floorRequest(tok)
				assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { c.h.ServeHTTP(w, req) }), 3.0)
			}
		})
	}
}

func floorRequest(token string) *http.Request {
	r := request(token)
	r.URL, _ = url.Parse(floorTarget)
	r.RequestURI = floorTarget
	return r
}

// BenchmarkFloor runs the floors and the middleware on the same request in
// one benchmark, so that -count interleaves them and their ratios come from
// one run. Subtract the harness from each before dividing.
func BenchmarkFloor(b *testing.B) {
	tok, hs := floorHandlers(b)
	for _, c := range hs {
		b.Run(c.name, func(b *testing.B) {
			req := floorRequest(tok)
			w := &discardWriter{h: make(http.Header)}
			c.h.ServeHTTP(w, req)
			if w.status != http.StatusOK {
				b.Fatalf("status %d, want 200", w.status)
			}
			warmUp(c.h, w, req)
			b.ReportAllocs()
			for b.Loop() {
				c.h.ServeHTTP(w, req)
			}
		})
	}
}

// warmUp serves req warmUpRequests times before a measurement, so that the
// garbage collector has paced itself to the handler's allocation rate even
// in a fresh process: a floor measured first in its process otherwise pays
// for the collector's start-up, which is what running one process per round
// (to interleave the handlers, see BENCHMARKS.md) would do to every floor.
func warmUp(h http.Handler, w http.ResponseWriter, req *http.Request) {
	for range warmUpRequests {
		h.ServeHTTP(w, req)
	}
}

const warmUpRequests = 20000

// BenchmarkCachedParallel is a cache hit on one token shared by every
// goroutine, next to the cached floor doing the same: run it with -cpu 1,2
// to see how a hot token scales (ns/op falls as cores are added when nothing
// is contended).
func BenchmarkCachedParallel(b *testing.B) {
	f, e := floorFixture(b)
	for _, c := range []struct {
		name string
		h    http.Handler
	}{
		{"floor_cached", cachedFloor(f.good, e, wantBound)},
		{"scopedtoken_cached", fullCache(b, f, ours(b, f, 0, wantBound))},
	} {
		b.Run(c.name, func(b *testing.B) {
			check := &discardWriter{h: make(http.Header)}
			c.h.ServeHTTP(check, floorRequest(f.good))
			if check.status != http.StatusOK {
				b.Fatalf("status %d, want 200", check.status)
			}
			warmUp(c.h, check, floorRequest(f.good))
			b.ResetTimer() // RunParallel, unlike b.Loop, does not reset it
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := floorRequest(f.good)
				w := &discardWriter{h: make(http.Header)}
				for pb.Next() {
					c.h.ServeHTTP(w, req)
				}
			})
		})
	}
}
