package names_test

import (
	"fmt"

	"github.com/scopedtoken/scopedtoken/internal/names"
)

// One aud entry read with the audience grammar, and the fault of another in
// words.
func ExampleParseAud() {
	a := names.ParseAud("/v2/accounts/", "/v2/accounts/me/search/")
	fmt.Println(a.OK(), a.Business, a.Tail)

	bad := "/v2/accounts/me/%2e%2e"
	fmt.Println(names.ParseAud("/v2/accounts/", bad).Err("/v2/accounts/", bad))
	// Output:
	// true me search
	// aud "/v2/accounts/me/%2e%2e": segment "%2e%2e" holds '%', which an aud path may not contain (percent-encoding included)
}
