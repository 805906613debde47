package mint_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
)

// A minter and the middleware that checks its tokens share one HMAC secret;
// Config.Verify makes the minter check every token before handing it out.
func ExampleNew() {
	secret := []byte(strings.Repeat("s", 32)) // use 32 random bytes
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
	if err != nil {
		panic(err)
	}
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys})
	if err != nil {
		panic(err)
	}
	m, err := mint.New(mint.Config{
		Key:      mint.Key{ID: "k1", Algorithm: "HS256", Secret: secret},
		Lifetime: 10 * time.Minute,
		Verify:   mw,
	})
	if err != nil {
		panic(err)
	}
	token, err := m.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}})
	if err != nil {
		panic(err)
	}
	tok, err := mw.Verify(context.Background(), token, "/v2/accounts/me/search")
	if err != nil {
		panic(err)
	}
	fmt.Println("business:", tok.BusinessID())

	_, err = m.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/../admin"}})
	fmt.Println(err)
	// Output:
	// business: 42
	// mint: cannot mint: the minted token does not verify: scopedtoken: bad_audience: The token aud is missing or is not a valid list of API paths.
}

// TokenURL puts a token into a link, as emailed links carry it.
func ExampleTokenURL() {
	link, err := mint.TokenURL("https://app.example.com/search?q=pizza&jwt=old#top", "eyJ...")
	if err != nil {
		panic(err)
	}
	fmt.Println(link)
	// Output:
	// https://app.example.com/search?q=pizza&jwt=eyJ...#top
}

// A key given without an algorithm signs with its default one, and an aud
// entry is checked with the middleware's own grammar before it is minted.
func ExampleCheckAudience() {
	fmt.Println(mint.DefaultAlgorithm([]byte(strings.Repeat("s", 32))))
	fmt.Println(mint.CheckAudience("", "/v2/accounts/me/search"))
	fmt.Println(mint.CheckAudience("", "/v2/accounts/me"))
	// Output:
	// HS256
	// <nil>
	// aud "/v2/accounts/me" needs a business and an endpoint after "/v2/accounts/", as in "/v2/accounts/me/search"
}
