package jwks_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/MicahParks/jwkset"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/jwks"
	"github.com/scopedtoken/scopedtoken/mint"
)

// Keys come from a JWKS endpoint, refreshed in the background and when an
// unknown kid arrives; Stats tells how the fetches went.
func ExampleNew() {
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	private, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	idp := publish(&private.PublicKey, "es-1") // the identity provider's JWKS endpoint
	defer idp.Close()

	keys, err := jwks.New(context.Background(), jwks.Config{
		URL:        idp.URL,
		BusinessID: "42", // every key of this set acts for business 42
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err) // a bad Config; a failed first fetch is not an error
	}
	defer keys.Close()
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys, Now: now})
	if err != nil {
		log.Fatal(err)
	}

	minter, _ := mint.New(mint.Config{
		Key: mint.Key{ID: "es-1", Algorithm: "ES256", PrivateKey: private},
		Now: now,
	})
	token, _ := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}})
	tok, err := mw.Verify(context.Background(), token, "/v2/accounts/me/search")
	fmt.Println(tok.KeyID(), tok.Algorithm(), tok.BusinessID(), err)
	st := keys.Stats()
	fmt.Println("healthy:", st.Healthy, "keys:", st.Keys, "fetches:", st.Fetches)
	// Output:
	// es-1 ES256 42 <nil>
	// healthy: true keys: 1 fetches: 1
}

// publish serves a JWK Set holding pub under kid, as an identity provider
// would.
func publish(pub *ecdsa.PublicKey, kid string) *httptest.Server {
	ctx := context.Background()
	jwk, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{
		KID: kid, ALG: jwkset.AlgES256, USE: jwkset.UseSig,
	}})
	if err != nil {
		log.Fatal(err)
	}
	store := jwkset.NewMemoryStorage()
	if err := store.KeyWrite(ctx, jwk); err != nil {
		log.Fatal(err)
	}
	body, err := store.JSONPublic(ctx)
	if err != nil {
		log.Fatal(err)
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(body)
	}))
}
