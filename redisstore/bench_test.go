package redisstore

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// BenchmarkCacheHit is a cache hit with revocation off and on, the Store's
// mirror holding a thousand revocations and cutoffs loaded from Redis, none
// of which names the token, on one server and on a 3-master cluster. Off
// and on must stay within 10%.
func BenchmarkCacheHit(b *testing.B) {
	b.Run("server", func(b *testing.B) {
		srv := redistest.Start(b)
		benchCacheHit(b, redistest.NewClient(b, srv.Addr()), redistest.NewClient(b, srv.Addr()))
	})
	b.Run("cluster", func(b *testing.B) {
		c := redistest.StartCluster(b, 3)
		benchCacheHit(b, c.Client(b), c.Client(b))
	})
}

func benchCacheHit(b *testing.B, cli, storeClient redis.UniversalClient) {
	prefix := redistest.UniquePrefix()
	for i := range 1000 {
		for _, r := range []scopedtoken.Revocation{
			{Kind: scopedtoken.RevokeID, Value: "revoked-" + strconv.Itoa(i), Until: time.Now().Add(time.Hour)},
			{Kind: scopedtoken.CutoffSubject, Value: "user-" + strconv.Itoa(i)},
		} {
			if err := Revoke(b.Context(), cli, prefix, r); err != nil {
				b.Fatal(err)
			}
		}
	}
	store, err := New(b.Context(), storeClient, Options{Prefix: prefix, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if n := store.Health().Entries; n != 2000 {
		b.Fatalf("mirror holds %d entries, want 2000", n)
	}
	iss := scopedtokentest.NewIssuer(b)
	tok := iss.Mint(scopedtokentest.SignWith(iss.HMACKeyID()), scopedtokentest.JWTID("bench"), scopedtokentest.Subject("bench-user"),
		scopedtokentest.Query("experienceKey", "MySearchExperience"))
	for _, mode := range []struct {
		name  string
		store scopedtoken.Revocations
	}{{"off", nil}, {"on", store}} {
		b.Run(mode.name, func(b *testing.B) {
			cfg := iss.Config()
			cfg.Revocations = mode.store
			m, err := scopedtoken.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
			req := httptest.NewRequest(http.MethodGet, scopedtokentest.DefaultAudience+"?experienceKey=MySearchExperience", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder() // reused: a 200 writes no body
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkUse is the latency of one single-use record: on a server without
// replicas (SET NX alone), and on a primary with a local replica, where the
// store adds WAIT 1 on the same connection; and WaitReplicas NoWait there.
func BenchmarkUse(b *testing.B) {
	quiet := slog.New(slog.DiscardHandler)
	run := func(b *testing.B, addr string, opts Options) {
		opts.Prefix, opts.Logger = redistest.UniquePrefix(), quiet
		store, err := New(b.Context(), redistest.NewClient(b, addr), opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { store.Close() })
		until := time.Now().Add(time.Hour)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if err := store.Use(b.Context(), "jti:"+strconv.Itoa(i), until); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("no_replica", func(b *testing.B) {
		run(b, redistest.Start(b).Addr(), Options{})
	})
	primary := redistest.Start(b)
	host, port, err := net.SplitHostPort(primary.Addr())
	if err != nil {
		b.Fatal(err)
	}
	redistest.Start(b, "--replicaof", host, port)
	c := redistest.NewClient(b, primary.Addr())
	deadline := time.Now().Add(10 * time.Second)
	for n, _ := c.Do(b.Context(), "WAIT", 1, 50).Int(); n < 1; n, _ = c.Do(b.Context(), "WAIT", 1, 50).Int() {
		if time.Now().After(deadline) {
			b.Fatal("the replica never acknowledged")
		}
	}
	b.Run("wait_1_local_replica", func(b *testing.B) { run(b, primary.Addr(), Options{}) })
	b.Run("replica_no_wait", func(b *testing.B) { run(b, primary.Addr(), Options{WaitReplicas: NoWait}) })
}
