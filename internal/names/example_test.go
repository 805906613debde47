package names_test

import (
	"fmt"

	"github.com/scopedtoken/scopedtoken/internal/names"
)

// An aud entry is read once with ParseAud; a refused one is explained by Err
// with the same prefix and entry.
func ExampleParseAud() {
	const prefix = "/v2/accounts/"
	for _, entry := range []string{"/v2/accounts/me/search/", "/v2/accounts/42/../admin"} {
		a := names.ParseAud(prefix, entry)
		if a.OK() {
			fmt.Printf("business %q, endpoint %q\n", a.Business, a.Tail)
			continue
		}
		fmt.Println(a.Err(prefix, entry))
	}
	// Output:
	// business "me", endpoint "search"
	// aud "/v2/accounts/42/../admin" has the dot segment ".."
}

// A key's business is a segment other than "me"; its issuer, when it has
// one, is text a token's iss could hold.
func ExampleValidBusiness() {
	fmt.Println(names.ValidBusiness("42"), names.ValidBusiness(names.Me), names.ValidBusiness("a/b"))
	fmt.Println(names.CheckIssuer("https://id.example"), names.CheckIssuer("https://id.example "))
	// Output:
	// true false false
	// <nil> must not begin or end with white space
}
