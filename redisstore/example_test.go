package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
	"github.com/scopedtoken/scopedtoken/redisstore"
	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
)

// exampleRedis is the address of the server that TestMain starts for the
// examples (the tests start their own).
var exampleRedis string

func TestMain(m *testing.M) { os.Exit(redistest.Main(m, &exampleRedis)) }

// Two instances of a service share one Redis: a single-use link passes once
// in the whole fleet, and a token revoked on one instance is refused by the
// other as soon as its Store hears of it (within a second).
func Example() {
	ctx := context.Background()
	secret := []byte("a-32-byte-secret-for-the-example")
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
	if err != nil {
		log.Fatal(err)
	}
	prefix := redistest.UniquePrefix() // the examples' server is shared; a service keeps the default
	instance := func() (*redisstore.Store, http.Handler) {
		store, err := redisstore.New(ctx, redis.NewClient(&redis.Options{Addr: exampleRedis}),
			redisstore.Options{Prefix: prefix, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			log.Fatal(err)
		}
		mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys, Revocations: store})
		if err != nil {
			log.Fatal(err)
		}
		return store, mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	}
	storeA, apiA := instance()
	defer storeA.Close()
	storeB, apiB := instance()
	defer storeB.Close()

	minter, err := mint.New(mint.Config{Key: mint.Key{ID: "k1", Secret: secret}})
	if err != nil {
		log.Fatal(err)
	}
	send := func(api http.Handler, token string) string {
		req := httptest.NewRequest(http.MethodGet, "/v2/accounts/me/search", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return fmt.Sprint(rec.Code)
	}
	link, err := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}, Once: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("single-use link on A:", send(apiA, link), "then on B:", send(apiB, link))

	token, err := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}, ID: "leaked-1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token on B:", send(apiB, token))
	if err := storeA.Revoke(ctx, scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "leaked-1", Until: time.Now().Add(time.Hour)}); err != nil {
		log.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); send(apiB, token) == "200" && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("revoked on A, then on B:", send(apiB, token))
	// Output:
	// single-use link on A: 200 then on B: 401
	// token on B: 200
	// revoked on A, then on B: 401
}
