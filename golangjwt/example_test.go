package golangjwt_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/golangjwt"
	"github.com/scopedtoken/scopedtoken/mint"
)

// A program that parses with golang-jwt takes its keys from a scopedtoken
// KeySet: here static keys, as well as a jwks.Set or keys joined by
// scopedtoken.CombineKeys.
func ExampleKeyfunc() {
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	secret := []byte("a-32-byte-secret-for-the-example")
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret})
	if err != nil {
		log.Fatal(err)
	}
	minter, err := mint.New(mint.Config{Key: mint.Key{ID: "k1", Secret: secret}, Now: now})
	if err != nil {
		log.Fatal(err)
	}
	token, err := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}, Subject: "alice"})
	if err != nil {
		log.Fatal(err)
	}

	// ParserOptions first, then this program's own: the algorithms of its
	// keys, and the clock of the example.
	opts := append(golangjwt.ParserOptions(), jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(now))
	parser := jwt.NewParser(opts...)
	keyfunc := golangjwt.Keyfunc(context.Background(), keys)

	var claims jwt.RegisteredClaims
	if _, err := parser.ParseWithClaims(token, &claims, keyfunc); err != nil {
		log.Fatal(err)
	}
	fmt.Println("subject:", claims.Subject)

	// The same claims and signature under the header {"alg":"none","kid":"k1"}:
	// refused by the Keyfunc, even by a parser without WithValidMethods.
	_, signed, _ := strings.Cut(token, ".")
	_, err = jwt.NewParser(jwt.WithTimeFunc(now)).Parse("eyJhbGciOiJub25lIiwia2lkIjoiazEifQ."+signed, keyfunc)
	fmt.Println("alg none refused:", errors.Is(err, scopedtoken.ErrAlgMismatch))
	// Output:
	// subject: alice
	// alg none refused: true
}
