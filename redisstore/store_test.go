package redisstore

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// syncBuffer collects log output from the store's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testLogger writes to logs, or nowhere when logs is nil.
func testLogger(logs *syncBuffer) *slog.Logger {
	if logs == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(logs, nil))
}

// newStore opens a Store on addr with its own client, closed with the test.
func newStore(t testing.TB, addr, prefix string, logs *syncBuffer, edit ...func(*Options)) *Store {
	t.Helper()
	opts := Options{Prefix: prefix, PingInterval: 200 * time.Millisecond, ResyncInterval: 5 * time.Second, Logger: testLogger(logs)}
	for _, e := range edit {
		e(&opts)
	}
	s, err := New(t.Context(), redistest.NewClient(t, addr), opts)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	scopedtokentest.RevocationsConformance(t, func(t *testing.T) (scopedtoken.RevocationStore, scopedtoken.RevocationStore) {
		prefix := redistest.UniquePrefix()
		return newStore(t, srv.Addr(), prefix, nil), newStore(t, srv.Addr(), prefix, nil)
	})
}

// node is one service instance: a store with its own client, and a handler.
type node struct {
	store *Store
	h     http.Handler
}

func newNode(t *testing.T, iss *scopedtokentest.Issuer, store *Store) node {
	cfg := iss.Config()
	cfg.Revocations = store
	mw, err := scopedtoken.New(cfg)
	require.NoError(t, err)
	return node{store: store, h: mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))}
}

// statusReason sends token to n and returns the status and the refusal's
// reason ("" for 200).
func (n node) statusReason(token string) (int, string) {
	req := httptest.NewRequest(http.MethodGet, scopedtokentest.DefaultAudience, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	n.h.ServeHTTP(rec, req)
	var body struct{ Reason string }
	if rec.Code != http.StatusOK {
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
	}
	return rec.Code, body.Reason
}

func (n node) status(token string) int {
	code, _ := n.statusReason(token)
	return code
}

// waitStatus polls until token gets want, and returns how long it took.
func (n node) waitStatus(t *testing.T, token string, want int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for n.status(token) != want {
		if time.Since(start) > within {
			t.Fatalf("status still not %d after %v", want, within)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// TestPropagation measures how soon a revocation made through one instance,
// or through the package-level Revoke that the command line uses, is
// enforced by another instance that had the token cached.
func TestPropagation(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.UniquePrefix()
	iss := scopedtokentest.NewIssuer(t)
	a := newNode(t, iss, newStore(t, srv.Addr(), prefix, nil))
	b := newNode(t, iss, newStore(t, srv.Addr(), prefix, nil))
	cli := srv.Client(t)
	var times []time.Duration
	for i := range 20 {
		tok := iss.Mint(scopedtokentest.JWTID("p-" + string(rune('a'+i))))
		require.Equal(t, http.StatusOK, b.status(tok)) // cached in b
		r, err := scopedtoken.TokenRevocation(tok)
		require.NoError(t, err)
		start := time.Now()
		if i%2 == 0 {
			require.NoError(t, a.store.Revoke(t.Context(), r))
		} else {
			require.NoError(t, Revoke(t.Context(), cli, prefix, r))
		}
		b.waitStatus(t, tok, http.StatusUnauthorized, scopedtokentest.PropagationBound)
		times = append(times, time.Since(start))
		// a learns of a revocation made through the command-line path by
		// pub/sub too, on its own schedule: it gets the same bound.
		a.waitStatus(t, tok, http.StatusUnauthorized, scopedtokentest.PropagationBound)
	}
	slices.Sort(times)
	t.Logf("propagation over %d revocations: median %v, max %v", len(times), times[len(times)/2], times[len(times)-1])
	assert.Less(t, times[len(times)-1], scopedtokentest.PropagationBound)
}

// TestStartAfterRevocations: an instance started after the revocations (as
// after a restart or a deploy) refuses them from its first request.
func TestStartAfterRevocations(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.UniquePrefix()
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithBusiness("42"))
	cli := srv.Client(t)
	before := scopedtokentest.IssuedAt(time.Now().Add(-time.Minute))
	byID := iss.Mint(scopedtokentest.JWTID("gone"))
	byHash := iss.Mint()
	bySubject := iss.Mint(before, scopedtokentest.Subject("u-1"))
	byBusiness := iss.Mint(before)
	hashRev, err := scopedtoken.TokenRevocation(byHash)
	require.NoError(t, err)
	for _, r := range []scopedtoken.Revocation{
		{Kind: scopedtoken.RevokeID, Value: "gone", Until: time.Now().Add(time.Hour)},
		hashRev,
		{Kind: scopedtoken.CutoffSubject, Value: "u-1"},
		{Kind: scopedtoken.CutoffBusiness, Value: "42", Until: time.Now().Add(time.Hour)},
		{Kind: scopedtoken.RevokeID, Value: "expired", Until: time.Now().Add(-time.Second)},
	} {
		require.NoError(t, Revoke(t.Context(), cli, prefix, r))
	}
	store := newStore(t, srv.Addr(), prefix, nil)
	n := newNode(t, iss, store)
	for _, tok := range []string{byID, byHash, bySubject, byBusiness} {
		assert.Equal(t, http.StatusUnauthorized, n.status(tok))
	}
	assert.Equal(t, 4, store.Health().Entries, "the expired entry is neither loaded nor kept in Redis")
	assert.EqualValues(t, 2, cli.ZCard(t.Context(), "{"+prefix+"}revoked").Val(), "only live token entries stay in Redis")
}

// TestUseRecordExpiresWithToken: the single-use record lives until the
// token's exp plus leeway, no longer.
func TestUseRecordExpiresWithToken(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.UniquePrefix()
	store := newStore(t, srv.Addr(), prefix, nil)
	require.NoError(t, store.Use(t.Context(), "jti:x", time.Now().Add(90*time.Second)))
	assert.ErrorIs(t, store.Use(t.Context(), "jti:x", time.Now().Add(90*time.Second)), scopedtoken.ErrTokenUsed)
	ttl := srv.Client(t).PTTL(t.Context(), prefix+"used:jti:x").Val()
	assert.InDelta(t, 90*time.Second, ttl, float64(2*time.Second))
}

// TestUseRecordOutlivesTheToken: through the middleware, a single-use
// record lives until the token's exp plus the leeway plus the one-minute
// margin of docs/revocation.md, rounded up to the second, so that an
// instance whose clock runs behind, or a request that reached Redis just
// after the end, still finds it; and it is named by the key and the jti.
func TestUseRecordOutlivesTheToken(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.UniquePrefix()
	iss := scopedtokentest.NewIssuer(t)
	n := newNode(t, iss, newStore(t, srv.Addr(), prefix, nil))
	exp := time.Now().Add(2 * time.Minute).Truncate(time.Second)
	tok := iss.Mint(scopedtokentest.Once(), scopedtokentest.JWTID("edge"), scopedtokentest.ExpiresAt(exp))
	require.Equal(t, http.StatusOK, n.status(tok))
	ttl := srv.Client(t).PTTL(t.Context(), prefix+"used:jti:"+iss.KeyID()+":edge").Val()
	const margin = time.Minute // docs/revocation.md
	want := time.Until(exp.Add(scopedtoken.DefaultLeeway + margin))
	assert.InDelta(t, float64(want), float64(ttl), float64(2*time.Second), "the record outlives exp + leeway by the margin")
	assert.Greater(t, ttl, time.Until(exp.Add(scopedtoken.DefaultLeeway+margin-time.Second)))
}

// TestDownAtStart: without Redis, New fails unless StartUnsynced, which
// starts empty, says so in Health, and syncs once Redis is there.
func TestDownAtStart(t *testing.T) {
	srv := redistest.Start(t)
	srv.Stop(syscall.SIGKILL)
	_, err := New(t.Context(), redistest.NewClient(t, srv.Addr()), Options{Logger: slog.New(slog.DiscardHandler)})
	require.Error(t, err)

	var logs syncBuffer
	prefix := redistest.UniquePrefix()
	store := newStore(t, srv.Addr(), prefix, &logs, func(o *Options) { o.StartUnsynced = true })
	h := store.Health()
	assert.False(t, h.Connected)
	assert.False(t, h.Synced)
	assert.NotEmpty(t, h.LastError)
	assert.Contains(t, logs.String(), "Redis unreachable")

	srv.Restart()
	require.NoError(t, Revoke(t.Context(), srv.Client(t), prefix, scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "late"}))
	require.Eventually(t, func() bool {
		return store.Revoked(&scopedtoken.RevocationCheck{ID: "late"})
	}, 5*time.Second, 10*time.Millisecond)
	h = store.Health()
	assert.True(t, h.Connected)
	assert.True(t, h.Synced)
	assert.Contains(t, logs.String(), "synchronised")
}

// TestRedisRestart stops Redis (a crash, nothing persisted) under two
// instances and starts it again on the same port.
func TestRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.UniquePrefix()
	iss := scopedtokentest.NewIssuer(t)
	var logsA syncBuffer
	a := newNode(t, iss, newStore(t, srv.Addr(), prefix, &logsA))
	b := newNode(t, iss, newStore(t, srv.Addr(), prefix, nil))

	old := iss.Mint(scopedtokentest.JWTID("old"))
	require.NoError(t, a.store.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "old", Until: time.Now().Add(time.Hour)}))
	b.waitStatus(t, old, http.StatusUnauthorized, time.Second)

	srv.Stop(syscall.SIGKILL)
	require.Eventually(t, func() bool { return !a.store.Health().Connected && !b.store.Health().Connected }, 5*time.Second, 10*time.Millisecond,
		"health reports the lost link")
	assert.NotZero(t, a.store.Health().DownSince)
	assert.Contains(t, logsA.String(), "Redis unreachable")
	assert.Equal(t, http.StatusUnauthorized, a.status(old), "the last known state is enforced")
	assert.Equal(t, http.StatusUnauthorized, b.status(old))
	assert.Equal(t, http.StatusServiceUnavailable, a.status(iss.Mint(scopedtokentest.Once())), "single-use fails closed")

	whileDown := iss.Mint(scopedtokentest.JWTID("while-down"))
	assert.Error(t, a.store.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "while-down"}))
	assert.Equal(t, http.StatusUnauthorized, a.status(whileDown), "kept locally")
	assert.Equal(t, http.StatusOK, b.status(whileDown), "b cannot know yet")

	srv.Restart() // empty: nothing was persisted
	b.waitStatus(t, whileDown, http.StatusUnauthorized, 5*time.Second)
	assert.Eventually(t, func() bool { return a.store.Health().Connected && b.store.Health().Connected }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, http.StatusUnauthorized, b.status(old), "nothing revoked is forgotten")

	// The instances wrote back what Redis lost: a new instance knows it all.
	c := newNode(t, iss, newStore(t, srv.Addr(), prefix, nil))
	assert.Equal(t, http.StatusUnauthorized, c.status(old))
	assert.Equal(t, http.StatusUnauthorized, c.status(whileDown))
	once := iss.Mint(scopedtokentest.Once())
	assert.Equal(t, http.StatusOK, c.status(once), "single-use works again")
	assert.Equal(t, http.StatusUnauthorized, a.status(once))
}

// TestPartitionedInstanceResyncs: one instance loses its link while Redis
// and the others stay up; a revocation made meanwhile reaches it through the
// full reload after it reconnects, though its message was never delivered.
func TestPartitionedInstanceResyncs(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.UniquePrefix()
	iss := scopedtokentest.NewIssuer(t)
	p := redistest.NewProxy(t, srv.Addr())
	a := newNode(t, iss, newStore(t, srv.Addr(), prefix, nil))
	b := newNode(t, iss, newStore(t, p.Addr(), prefix, nil, func(o *Options) { o.ResyncInterval = time.Hour }))
	tok := iss.Mint(scopedtokentest.JWTID("during-partition"))
	require.Equal(t, http.StatusOK, b.status(tok))

	p.Cut()
	require.Eventually(t, func() bool { return !b.store.Health().Connected }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, a.store.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "during-partition"}))
	assert.Equal(t, http.StatusOK, b.status(tok), "a partitioned instance enforces what it knew")

	p.Heal()
	took := b.waitStatus(t, tok, http.StatusUnauthorized, 5*time.Second)
	t.Logf("picked up %v after the link came back", took)
	assert.True(t, b.store.Health().Connected)
}

// TestPersistence: which Redis settings keep a revocation across a restart,
// as docs/revocation.md says. With appendonly yes it survives a crash; with
// Debian's default (no AOF, Redis's default RDB save points) only a clean
// stop keeps it; with nothing persisted it is lost by Redis (and only the
// running instances' mirrors keep it, see TestRedisRestart).
func TestPersistence(t *testing.T) {
	const debianDefault = "3600 1 300 100 60 10000"
	cases := []struct {
		name string
		args []string
		stop syscall.Signal
		kept bool
	}{
		{"aof_everysec_crash", []string{"--appendonly", "yes", "--appendfsync", "everysec"}, syscall.SIGKILL, true},
		{"aof_always_crash", []string{"--appendonly", "yes", "--appendfsync", "always"}, syscall.SIGKILL, true},
		{"debian_default_clean_stop", []string{"--save", debianDefault}, syscall.SIGTERM, true},
		{"debian_default_crash", []string{"--save", debianDefault}, syscall.SIGKILL, false},
		{"nothing", nil, syscall.SIGTERM, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := redistest.Start(t, c.args...)
			prefix := redistest.UniquePrefix()
			require.NoError(t, Revoke(t.Context(), srv.Client(t), prefix, scopedtoken.Revocation{Kind: scopedtoken.CutoffSubject, Value: "u"}))
			if c.name == "aof_everysec_crash" {
				time.Sleep(1500 * time.Millisecond) // everysec: the fsync a second later
			}
			srv.Stop(c.stop)
			srv.Restart()
			store := newStore(t, srv.Addr(), prefix, nil)
			assert.Equal(t, c.kept, store.Revoked(&scopedtoken.RevocationCheck{Subject: "u"}))
		})
	}
}

// TestMessages: what is announced is read back exactly, and junk is refused.
func TestMessages(t *testing.T) {
	until := time.UnixMilli(1767322000123)
	for _, r := range []scopedtoken.Revocation{
		{Kind: scopedtoken.RevokeID, Value: "with space:and colon", Until: until},
		{Kind: scopedtoken.RevokeHash, Value: "abc"},
		{Kind: scopedtoken.CutoffKey, Value: "k", IssuedBefore: time.Unix(1767322000, 0), Until: until},
	} {
		msg := encodeMessage(r, time.Now())
		got, err := parseMessage(msg)
		require.NoError(t, err, msg)
		assert.Equal(t, r, got)
	}
	for _, bad := range []string{"", "2 jti - +inf x", "1 nope - +inf x", "1 kid x +inf k", "1 jti - soon x", "1 jti - +inf "} {
		_, err := parseMessage(bad)
		assert.Error(t, err, bad)
	}
}
