package scopedtoken_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/jwks"
	"github.com/scopedtoken/scopedtoken/mint"
)

// A key bound to an issuer accepts only tokens whose iss is exactly that
// issuer; any other iss, or none, is refused with issuer_mismatch.
func ExampleKey_issuer() {
	exampleIssuers(scopedtoken.Key{Issuer: "https://auth.example.com"},
		"https://auth.example.com", "https://auth.example.com/", "")
	// Output:
	// "https://auth.example.com": accepted, Token.Issuer() "https://auth.example.com"
	// "https://auth.example.com/": 401 issuer_mismatch
	// "": 401 issuer_mismatch
}

// A key that one issuer publishes under two names (a canonical domain and a
// custom one) accepts tokens naming either, exactly; a near miss of either,
// or no iss, is refused with issuer_mismatch.
func ExampleKey_issuers() {
	exampleIssuers(scopedtoken.Key{Issuers: []string{"https://tenant.idp.example/", "https://login.shop.example"}},
		"https://tenant.idp.example/", "https://login.shop.example", "https://login.shop.example/", "")
	// Output:
	// "https://tenant.idp.example/": accepted, Token.Issuer() "https://tenant.idp.example/"
	// "https://login.shop.example": accepted, Token.Issuer() "https://login.shop.example"
	// "https://login.shop.example/": 401 issuer_mismatch
	// "": 401 issuer_mismatch
}

// exampleIssuers serves the issuer examples: it gives key (whose Issuer and
// Issuers are set) an HS256 secret, mints one token per iss ("" for none)
// and prints what the middleware makes of each.
func exampleIssuers(key scopedtoken.Key, issuers ...string) {
	secret := []byte("a-32-byte-secret-for-the-example")
	key.ID, key.Algorithm, key.Secret, key.BusinessID = "k1", "HS256", secret, "42"
	keys, err := scopedtoken.StaticKeys(key)
	if err != nil {
		log.Fatal(err)
	}
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys, Now: exampleNow})
	if err != nil {
		log.Fatal(err)
	}
	minter, _ := mint.New(mint.Config{
		Key: mint.Key{ID: "k1", Algorithm: "HS256", Secret: secret},
		Now: exampleNow,
	})
	for _, iss := range issuers {
		token, _ := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}, Issuer: iss})
		tok, err := mw.Verify(context.Background(), token, "/v2/accounts/me/search")
		var e *scopedtoken.Error
		switch {
		case err == nil:
			fmt.Printf("%q: accepted, Token.Issuer() %q\n", iss, tok.Issuer())
		case errors.As(err, &e):
			fmt.Printf("%q: %d %s\n", iss, e.Status(), e.Reason())
		}
	}
}

// Two OpenID Connect providers are trusted side by side: each set discovers
// its keys from its issuer and binds them to it, and CombineKeys serves both.
// A token signed by one provider's key but naming the other as iss is refused.
func ExampleCombineKeys_issuers() {
	alice, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	bob, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	issuerA, stopA := exampleOIDCProvider(&alice.PublicKey, "alice-1")
	defer stopA()
	issuerB, stopB := exampleOIDCProvider(&bob.PublicKey, "bob-1")
	defer stopB()

	var sets []scopedtoken.KeySet
	for _, issuer := range []string{issuerA, issuerB} {
		set, err := jwks.New(context.Background(), jwks.Config{
			Issuer: issuer, // no URL: discovered from issuer + "/.well-known/openid-configuration"
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			log.Fatal(err)
		}
		defer set.Close()
		sets = append(sets, set)
	}
	mw, err := scopedtoken.New(scopedtoken.Config{
		Keys: scopedtoken.CombineKeys(sets...), Now: exampleNow,
		// The providers' keys name no business: "me" is the caller, whom the
		// API resolves from Token.Subject() itself.
		AllowMeWithoutBusiness: true,
	})
	if err != nil {
		log.Fatal(err)
	}

	mint := func(kid string, key *ecdsa.PrivateKey, iss string) string {
		minter, _ := mint.New(mint.Config{
			Key: mint.Key{ID: kid, Algorithm: "ES256", PrivateKey: key},
			Now: exampleNow,
		})
		token, _ := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}, Issuer: iss})
		return token
	}
	for _, tc := range []struct{ name, token string }{
		{"A's key, A's iss", mint("alice-1", alice, issuerA)},
		{"B's key, B's iss", mint("bob-1", bob, issuerB)},
		{"B's key, A's iss", mint("bob-1", bob, issuerA)},
	} {
		_, err := mw.Verify(context.Background(), tc.token, "/v2/accounts/me/search")
		fmt.Println(tc.name+":", err == nil, errors.Is(err, scopedtoken.ErrIssuerMismatch))
	}
	// Output:
	// A's key, A's iss: true false
	// B's key, B's iss: true false
	// B's key, A's iss: false true
}

// exampleOIDCProvider serves an OpenID configuration naming its own URL as
// issuer and, as jwks_uri, a JWKS server on another host with one public
// key. (A real issuer is https; an http issuer may name an http jwks_uri, as
// these test servers do.) stop shuts both servers down.
func exampleOIDCProvider(pub *ecdsa.PublicKey, kid string) (issuer string, stop func()) {
	keys := exampleJWKSServer(pub, kid)
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux) // Start sets srv.URL before serving
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": keys.URL})
	})
	srv.Start()
	return srv.URL, func() { srv.Close(); keys.Close() }
}
