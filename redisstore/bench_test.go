package redisstore

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// BenchmarkCacheHit is a cache hit with revocation off and on, the Store's
// mirror holding a thousand revocations and cutoffs loaded from Redis, none
// of which names the token. The two must stay within 10%.
func BenchmarkCacheHit(b *testing.B) {
	srv := redistest.Start(b)
	prefix := redistest.UniquePrefix()
	cli := redistest.NewClient(b, srv.Addr())
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
	store, err := New(b.Context(), redistest.NewClient(b, srv.Addr()), Options{Prefix: prefix, Logger: slog.New(slog.DiscardHandler)})
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
