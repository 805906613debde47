package scopedtoken

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// These tests hold the verified-token cache to its promise: a hit is never
// trusted more than a fresh verification would be. Each one first checks
// (through Decision.Cached) that the request it makes really is a cache hit.

// ctClock is a settable clock.
type ctClock struct{ ns atomic.Int64 }

func newCTClock(t time.Time) *ctClock {
	c := &ctClock{}
	c.set(t)
	return c
}

func (c *ctClock) now() time.Time  { return time.Unix(0, c.ns.Load()) }
func (c *ctClock) set(t time.Time) { c.ns.Store(t.UnixNano()) }

// ctSecret is a 32-byte HS256 secret.
var ctSecret = []byte("cache-test-secret-cache-test-sec")

const (
	ctAud    = "/v2/accounts/me/search"
	ctTarget = "/v2/accounts/me/search?experienceKey=MySearchExperience"
)

var ctQuery = url.Values{"experienceKey": {"MySearchExperience"}}

// ctMint mints a token with key at the time now returns.
func ctMint(t testing.TB, key MintKey, now func() time.Time, c MintClaims) string {
	t.Helper()
	mt, err := NewMinterForTest(MintConfig{Key: key, Now: now})
	require.NoError(t, err)
	tok, err := mt.Mint(c)
	require.NoError(t, err)
	return tok
}

func ctHSKey() MintKey { return MintKey{ID: "hs", Algorithm: "HS256", Secret: ctSecret} }

// ctOutcome is what one request produced: the answer, the middleware's
// decision and the token the handler saw.
type ctOutcome struct {
	status   int
	reason   string
	decision Decision
	token    *Token
	query    url.Values // r.URL.Query() as the handler saw it
}

// ctHarness is a middleware, its handler and the last decision.
type ctHarness struct {
	m        *Middleware
	mu       sync.Mutex
	decision Decision
	onServe  func(*Token) // called by the handler, to mutate the token
}

func newCTHarness(t testing.TB, cfg Config) *ctHarness {
	t.Helper()
	ch := &ctHarness{}
	cfg.AllowMeWithoutBusiness = true // the key "hs" has no business; see newTestMiddleware
	cfg.OnDecision = func(_ context.Context, d Decision) {
		ch.mu.Lock()
		ch.decision = d
		ch.mu.Unlock()
	}
	m, err := New(cfg)
	require.NoError(t, err)
	ch.m = m
	return ch
}

// serve sends one request (sequential use only: it reads the last decision).
func (ch *ctHarness) serve(t testing.TB, target, token string) ctOutcome {
	t.Helper()
	var out ctOutcome
	h := ch.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out.token, _ = FromContext(r.Context())
		out.query = r.URL.Query()
		if ch.onServe != nil && out.token != nil {
			ch.onServe(out.token)
		}
		w.WriteHeader(http.StatusOK)
	}))
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	out.status = rec.Code
	if rec.Code != http.StatusOK {
		var body struct{ Reason string }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		out.reason = body.Reason
	}
	ch.mu.Lock()
	out.decision = ch.decision
	ch.mu.Unlock()
	return out
}

// warm sends the token twice and checks that the second answer came from the
// cache.
func (ch *ctHarness) warm(t testing.TB, target, token string) {
	t.Helper()
	first := ch.serve(t, target, token)
	require.Equal(t, http.StatusOK, first.status, first.reason)
	require.False(t, first.decision.Cached, "the first request cannot be a cache hit")
	second := ch.serve(t, target, token)
	require.Equal(t, http.StatusOK, second.status, second.reason)
	require.True(t, second.decision.Cached, "the second request must be a cache hit")
}

func ctStaticKeys(t testing.TB, keys ...Key) KeySet {
	t.Helper()
	ks, err := StaticKeys(keys...)
	require.NoError(t, err)
	return ks
}

func TestCacheHitChecksTimes(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name      string
		claims    MintClaims
		warmAt    time.Time // when the token is verified and cached
		checkAt   time.Time // when it is presented again
		reason    string
		leeway    time.Duration
		allowedAt time.Time // a time at which the hit is accepted again, if any
	}{
		{
			name:    "expired after caching",
			claims:  MintClaims{Audience: []string{ctAud}, ExpiresIn: 5 * time.Minute},
			warmAt:  start,
			checkAt: start.Add(5*time.Minute + time.Second),
			reason:  "expired",
			leeway:  -1,
		},
		{
			name:    "expired beyond the leeway",
			claims:  MintClaims{Audience: []string{ctAud}, ExpiresIn: 5 * time.Minute},
			warmAt:  start,
			checkAt: start.Add(5*time.Minute + 31*time.Second),
			reason:  "expired",
		},
		{
			name:    "clock stepped back before nbf",
			claims:  MintClaims{Audience: []string{ctAud}, NotBefore: start.Add(time.Minute), ExpiresIn: time.Hour},
			warmAt:  start.Add(2 * time.Minute),
			checkAt: start,
			reason:  "not_yet_valid",
			leeway:  -1,
			// The same cached entry is accepted again once the clock is back.
			allowedAt: start.Add(3 * time.Minute),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newCTClock(start)
			tok := ctMint(t, ctHSKey(), clock.now, tc.claims)
			ch := newCTHarness(t, Config{Keys: ctStaticKeys(t, Key{ID: "hs", Algorithm: "HS256", Secret: ctSecret}), Now: clock.now, Leeway: tc.leeway})
			clock.set(tc.warmAt)
			ch.warm(t, ctTarget, tok)

			clock.set(tc.checkAt)
			out := ch.serve(t, ctTarget, tok)
			assert.Equal(t, http.StatusUnauthorized, out.status)
			assert.Equal(t, tc.reason, out.reason)
			assert.Nil(t, out.token, "the handler must not run")

			if !tc.allowedAt.IsZero() {
				clock.set(tc.allowedAt)
				again := ch.serve(t, ctTarget, tok)
				assert.Equal(t, http.StatusOK, again.status, again.reason)
			}
		})
	}
}

// TestCacheClockRefusalsAreNotCached: a token the clock refuses is never
// cached, and a cached entry found expired is removed, so no entry outlives
// its token's exp.
func TestCacheClockRefusalsAreNotCached(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		claims  MintClaims
		reason  string
		laterAt time.Time // the clock for the last presentation
		later   int       // its status
	}{
		{
			name:    "expired",
			claims:  MintClaims{Audience: []string{ctAud}, ExpiresIn: -time.Hour},
			reason:  "expired",
			laterAt: start.Add(time.Hour),
			later:   http.StatusUnauthorized,
		},
		{
			name:    "not yet valid, then valid",
			claims:  MintClaims{Audience: []string{ctAud}, NotBefore: start.Add(10 * time.Minute), ExpiresIn: time.Hour},
			reason:  "not_yet_valid",
			laterAt: start.Add(11 * time.Minute),
			later:   http.StatusOK,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newCTClock(start)
			tok := ctMint(t, ctHSKey(), clock.now, tc.claims)
			ch := newCTHarness(t, Config{Keys: ctStaticKeys(t, Key{ID: "hs", Algorithm: "HS256", Secret: ctSecret}), Now: clock.now})
			for i := range 2 {
				out := ch.serve(t, ctTarget, tok)
				assert.Equal(t, http.StatusUnauthorized, out.status)
				assert.Equal(t, tc.reason, out.reason)
				assert.False(t, out.decision.Cached, "presentation %d", i+1)
				assert.Zero(t, ch.m.cache.len(), "a refused token is not cached")
			}
			clock.set(tc.laterAt)
			out := ch.serve(t, ctTarget, tok)
			assert.Equal(t, tc.later, out.status, out.reason)
			assert.False(t, out.decision.Cached)
		})
	}
	t.Run("cached entry found expired is removed", func(t *testing.T) {
		clock := newCTClock(start)
		tok := ctMint(t, ctHSKey(), clock.now, MintClaims{Audience: []string{ctAud}, ExpiresIn: time.Minute})
		ch := newCTHarness(t, Config{Keys: ctStaticKeys(t, Key{ID: "hs", Algorithm: "HS256", Secret: ctSecret}), Now: clock.now})
		require.Equal(t, http.StatusOK, ch.serve(t, ctTarget, tok).status)
		require.Equal(t, 1, ch.m.cache.len())
		clock.set(start.Add(2 * time.Minute))
		out := ch.serve(t, ctTarget, tok)
		assert.Equal(t, "expired", out.reason)
		assert.True(t, out.decision.Cached, "the hit itself found it expired")
		assert.Zero(t, ch.m.cache.len(), "and removed it")
	})
}

// ctJWKS serves a JWK Set that the test can change, from testkit's JWKS
// server.
type ctJWKS struct {
	*testkit.JWKSServer
}

func newCTJWKS(t testing.TB) *ctJWKS {
	t.Helper()
	return &ctJWKS{testkit.NewJWKSServer(t, testkit.JWKSet(t))}
}

// set publishes the given kid → key pairs (P-256 keys, so ES256, use sig).
func (j *ctJWKS) set(t testing.TB, keys ...any) {
	t.Helper()
	var jwks []json.RawMessage
	for i := 0; i < len(keys); i += 2 {
		jwks = append(jwks, testkit.JWK(t, keys[i].(string), &keys[i+1].(*ecdsa.PrivateKey).PublicKey))
	}
	j.Serve(testkit.JWKSet(t, jwks...), http.StatusOK, 0)
}

func ctECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func TestCacheFollowsKeySetChanges(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, j *ctJWKS, old, other *ecdsa.PrivateKey)
		status int
		reason string
	}{
		{
			name:   "key removed",
			change: func(t *testing.T, j *ctJWKS, _, other *ecdsa.PrivateKey) { j.set(t, "other", other) },
			status: http.StatusUnauthorized,
			reason: "unknown_kid",
		},
		{
			name:   "key replaced under the same kid",
			change: func(t *testing.T, j *ctJWKS, _, other *ecdsa.PrivateKey) { j.set(t, "r1", other) },
			status: http.StatusUnauthorized,
			reason: "bad_signature",
		},
		{
			// Control: an unchanged key keeps its cached results.
			name:   "key unchanged",
			change: func(t *testing.T, j *ctJWKS, old, _ *ecdsa.PrivateKey) { j.set(t, "r1", old) },
			status: http.StatusOK,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newCTClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			old, other := ctECKey(t), ctECKey(t)
			j := newCTJWKS(t)
			j.set(t, "r1", old)
			ks := newRemoteSet(t, RemoteSetConfig{URL: j.URL, Client: j.Client()})
			ch := newCTHarness(t, Config{Keys: ks, Now: clock.now})
			tok := ctMint(t, MintKey{ID: "r1", Algorithm: "ES256", PrivateKey: old}, clock.now,
				MintClaims{Audience: []string{ctAud}, Query: ctQuery})
			ch.warm(t, ctTarget, tok)

			tc.change(t, j, old, other)
			require.NoError(t, ks.Refresh(context.Background()))

			out := ch.serve(t, ctTarget, tok)
			assert.Equal(t, tc.status, out.status)
			assert.Equal(t, tc.reason, out.reason)
			if tc.status == http.StatusOK {
				assert.True(t, out.decision.Cached, "an unchanged key must keep its cached results")
			}
		})
	}
}

func TestCacheHitAppliesPathAndQuery(t *testing.T) {
	tests := []struct {
		name      string
		mode      QueryMode
		target    string
		status    int
		reason    string
		wantQuery string // the experienceKey the handler sees, when allowed
	}{
		{name: "path outside aud", target: "/v2/accounts/me/other?experienceKey=MySearchExperience", status: http.StatusForbidden, reason: "audience_mismatch"},
		{name: "path prefix without segment boundary", target: "/v2/accounts/me/searchx", status: http.StatusForbidden, reason: "audience_mismatch"},
		{name: "ambiguous path", target: "/v2/accounts/me/search/%2e%2e/x", status: http.StatusBadRequest, reason: "bad_path"},
		{name: "other business", target: "/v2/accounts/123/search", status: http.StatusForbidden, reason: "audience_mismatch"},
		{name: "override rewrites the query", mode: QueryOverride, target: "/v2/accounts/me/search?experienceKey=Other", status: http.StatusOK, wantQuery: "MySearchExperience"},
		{name: "override fills a missing parameter", mode: QueryOverride, target: "/v2/accounts/me/search/deeper", status: http.StatusOK, wantQuery: "MySearchExperience"},
		{name: "refuse refuses another value", mode: QueryRefuse, target: "/v2/accounts/me/search?experienceKey=Other", status: http.StatusForbidden, reason: "query_mismatch"},
		{name: "ambiguous query", mode: QueryOverride, target: "/v2/accounts/me/search?experienceKey=Other;x=y", status: http.StatusBadRequest, reason: "bad_query"},
		{name: "leave keeps the request's value", mode: QueryLeave, target: "/v2/accounts/me/search?experienceKey=Other", status: http.StatusOK, wantQuery: "Other"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newCTClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			ch := newCTHarness(t, Config{Keys: ctStaticKeys(t, Key{ID: "hs", Algorithm: "HS256", Secret: ctSecret}), Now: clock.now, QueryMode: tc.mode})
			tok := ctMint(t, ctHSKey(), clock.now, MintClaims{Audience: []string{ctAud}, Query: ctQuery})
			ch.warm(t, ctTarget, tok)

			out := ch.serve(t, tc.target, tok)
			assert.True(t, out.decision.Cached, "the verification must come from the cache")
			assert.Equal(t, tc.status, out.status)
			assert.Equal(t, tc.reason, out.reason)
			if tc.status == http.StatusOK {
				assert.Equal(t, tc.wantQuery, out.query.Get("experienceKey"))
			} else {
				assert.Nil(t, out.token, "the handler must not run")
			}
		})
	}
}

func TestCacheHandlerMutationsStayLocal(t *testing.T) {
	clock := newCTClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	keys := ctStaticKeys(t, Key{ID: "hs", Algorithm: "HS256", Secret: ctSecret})
	aud := []string{ctAud, "/v2/accounts/me/suggest", "/v2/accounts/me/other"} // more than the inline room
	query := url.Values{"experienceKey": {"MySearchExperience"}, "locale": {"en", "fr", "de", "it", "es"}}
	tok := ctMint(t, ctHSKey(), clock.now, MintClaims{Audience: aud, Query: query})
	short := ctMint(t, ctHSKey(), clock.now, MintClaims{Audience: []string{ctAud}, Query: ctQuery})

	for _, tc := range []struct {
		name  string
		token string
		aud   []string
		query url.Values
	}{
		{name: "large claims", token: tok, aud: aud, query: query},
		{name: "small claims", token: short, aud: []string{ctAud}, query: ctQuery},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := newCTHarness(t, Config{Keys: keys, Now: clock.now})
			ch.onServe = func(tk *Token) {
				aud := tk.Audience()
				aud[0] = "/v2/accounts/me/everything"
				_ = append(aud[:1], "/v2/accounts/me/more")
				// The query claim is read-only: mutate every copy it hands out,
				// then drop this request's view.
				all := tk.Query().URLValues()
				for name, vals := range all {
					vals[0] = "tampered"
					all[name] = append(vals, "extra")
				}
				all["injected"] = []string{"x"}
				for _, name := range tk.Query().Names() {
					tk.Query().Values(name)[0] = "tampered"
				}
				tk.Query().Names()[0] = "tampered"
				*tk = Token{} // this request's own view
			}
			for i := range 3 { // a miss, then hits: each handler mutates its token
				out := ch.serve(t, ctTarget, tc.token)
				require.Equal(t, http.StatusOK, out.status, out.reason)
				require.Equal(t, i > 0, out.decision.Cached)
			}
			ch.onServe = nil
			out := ch.serve(t, ctTarget, tc.token)
			require.Equal(t, http.StatusOK, out.status, out.reason)
			require.True(t, out.decision.Cached)
			assert.Equal(t, tc.aud, out.token.Audience())
			assert.Equal(t, tc.query, out.token.Query().URLValues())
			assert.Equal(t, "", out.token.BusinessID())
			assert.Equal(t, "hs", out.token.KeyID())
			assert.Equal(t, "MySearchExperience", out.query.Get("experienceKey"))
		})
	}
}

func TestCacheBounds(t *testing.T) {
	clock := newCTClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	mt, err := NewMinterForTest(MintConfig{Key: ctHSKey(), Now: clock.now})
	require.NoError(t, err)
	tokens := make([]string, 300)
	for i := range tokens {
		tokens[i], err = mt.Mint(MintClaims{Audience: []string{ctAud}, Query: ctQuery, ID: fmt.Sprintf("jti-%d", i)})
		require.NoError(t, err)
	}
	keys := ctStaticKeys(t, Key{ID: "hs", Algorithm: "HS256", Secret: ctSecret})
	tests := []struct {
		name      string
		size      int
		maxBytes  int
		wantBelow int // fewer entries than tokens: the bound did something
	}{
		{name: "entries, small", size: 10},
		{name: "entries, not a multiple of the shard count", size: 37},
		{name: "entries, one", size: 1},
		{name: "bytes", size: 100000, maxBytes: 64 << 10},
		{name: "bytes, small", size: 100000, maxBytes: 32 << 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(Config{AllowMeWithoutBusiness: true, Keys: keys, Now: clock.now, CacheSize: tc.size, CacheMaxBytes: tc.maxBytes})
			require.NoError(t, err)
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
			for _, tok := range tokens {
				req := httptest.NewRequest(http.MethodGet, ctTarget, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				require.Equal(t, http.StatusOK, rec.Code)

				n, bytes := ctCacheUsage(m.cache)
				require.LessOrEqual(t, n, tc.size, "entries")
				if tc.maxBytes > 0 {
					require.LessOrEqual(t, bytes, tc.maxBytes, "bytes")
				}
			}
			n, bytes := ctCacheUsage(m.cache)
			assert.Equal(t, n, m.cache.len(), "entry bookkeeping")
			assert.Equal(t, bytes, ctCacheBookkeptBytes(m.cache), "byte bookkeeping")
			assert.Positive(t, n, "the cache must hold something")
			assert.Less(t, n, len(tokens), "the bound must have evicted entries")
		})
	}
}

// ctCacheUsage counts the entries and recomputes the bytes of c from its
// entries (not from its own bookkeeping, which is what is under test). It
// holds every shard's lock at once, so that the count is a snapshot even while
// other goroutines use the cache.
func ctCacheUsage(c *tokenCache) (entries, bytes int) {
	for i := range c.shards {
		c.shards[i].mu.Lock()
	}
	for i := range c.shards {
		if sm := c.shards[i].entries.Load(); sm != nil {
			for tok, v := range sm.m {
				entries++
				bytes += c.entryBytes(tok, v)
			}
		}
	}
	for i := range c.shards {
		c.shards[i].mu.Unlock()
	}
	return entries, bytes
}

// ctCacheBookkeptBytes is the cache's own count of the bytes it holds.
func ctCacheBookkeptBytes(c *tokenCache) int { return int(c.used.bytes.Load()) }

func TestCacheConcurrent(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := newCTClock(start)
	keys := ctStaticKeys(t, Key{ID: "hs", Algorithm: "HS256", Secret: ctSecret})
	type tokenCase struct {
		token  string
		target string
		status int
		id     string // the jti the handler must see
	}
	var cases []tokenCase
	for i := range 40 {
		id := fmt.Sprintf("jti-%d", i)
		q := url.Values{"experienceKey": {id}}
		tok := ctMint(t, ctHSKey(), clock.now, MintClaims{Audience: []string{ctAud}, Query: q, ID: id})
		cases = append(cases,
			tokenCase{token: tok, target: ctTarget, status: http.StatusOK, id: id},
			tokenCase{token: tok, target: "/v2/accounts/me/other", status: http.StatusForbidden},
		)
	}
	expired := ctMint(t, ctHSKey(), clock.now, MintClaims{Audience: []string{ctAud}, ExpiresIn: -time.Hour})
	cases = append(cases,
		tokenCase{token: expired, target: ctTarget, status: http.StatusUnauthorized},
		tokenCase{token: cases[0].token[:len(cases[0].token)-4] + "AAAA", target: ctTarget, status: http.StatusUnauthorized},
	)

	m, err := New(Config{AllowMeWithoutBusiness: true, Keys: keys, Now: clock.now, CacheSize: 16}) // small: constant eviction
	require.NoError(t, err)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := FromContext(r.Context())
		if !ok {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		if tok.ID() != r.URL.Query().Get("experienceKey") || tok.Query().Get("experienceKey") != tok.ID() {
			w.WriteHeader(http.StatusConflict) // another request's token
			return
		}
		tok.Query().Values("experienceKey")[0] = "mutated" // must not leak into other requests
		tok.Query().URLValues()["experienceKey"][0] = "mutated"
		tok.Audience()[0] = "mutated"
		w.WriteHeader(http.StatusOK)
	}))

	const workers, perWorker = 200, 50
	var wg sync.WaitGroup
	failures := make(chan string, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				c := cases[(w*7+i*13)%len(cases)]
				req := httptest.NewRequest(http.MethodGet, c.target, nil)
				req.Header.Set("Authorization", "Bearer "+c.token)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != c.status {
					failures <- fmt.Sprintf("%s: status %d, want %d", c.target, rec.Code, c.status)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	n, _ := ctCacheUsage(m.cache)
	assert.LessOrEqual(t, n, 16)
}

// TestCacheSkipsKeyLookupForStaticKeysOnly: a cache hit skips the key lookup
// only when Config.Keys is the set StaticKeys returned, whose keys never
// change; any other set, even one made of static sets (CombineKeys, a
// wrapper), is asked on every hit, so that a key it stops serving stops its
// cached tokens at once.
func TestCacheSkipsKeyLookupForStaticKeysOnly(t *testing.T) {
	static := ctStaticKeys(t, Key{ID: "hs", Algorithm: "HS256", Secret: ctSecret})
	vk, err := static.LookupKey(t.Context(), "hs")
	require.NoError(t, err)
	replaced, err := NewVerificationKey(Key{ID: "hs", Algorithm: "HS256", Secret: []byte("another-cache-test-secret-32byte")})
	require.NoError(t, err)
	tests := []struct {
		name string
		keys KeySet
		skip bool
	}{
		{name: "StaticKeys", keys: static, skip: true},
		{name: "CombineKeys of StaticKeys", keys: CombineKeys(static)},
		{name: "a wrapper of StaticKeys", keys: struct{ KeySet }{static}},
		{name: "a map of keys", keys: mapKeys{"hs": vk}},
		{name: "a set that changes", keys: &swapKeys{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			swap, swaps := tc.keys.(*swapKeys)
			if swaps {
				swap.key.Store(vk)
			}
			clock := newCTClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			ch := newCTHarness(t, Config{Keys: tc.keys, Now: clock.now})
			assert.Equal(t, tc.skip, ch.m.staticKeys)
			tok := ctMint(t, ctHSKey(), clock.now, MintClaims{Audience: []string{ctAud}, Query: ctQuery})
			ch.warm(t, ctTarget, tok)
			if !swaps {
				return
			}
			swap.key.Store(replaced) // the key of kid "hs" changes
			out := ch.serve(t, ctTarget, tok)
			assert.Equal(t, http.StatusUnauthorized, out.status)
			assert.Equal(t, "bad_signature", out.reason)
		})
	}
}

// len returns the number of entries, for tests.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		if sm := c.shards[i].entries.Load(); sm != nil {
			n += len(sm.m)
		}
	}
	return n
}
