package chars_test

import (
	"fmt"

	"github.com/scopedtoken/scopedtoken/internal/chars"
)

// A request byte is looked up once in the table, whatever class is asked.
func Example() {
	token := "eyJhbGciOiJIUzI1NiJ9.e30.sig"
	fmt.Println(chars.Span(token, chars.B64URL))   // the header segment
	fmt.Println(chars.Span(token, chars.B64Token)) // the whole token
	fmt.Println(chars.IsPchar('@'), chars.IsPchar('/'))

	folded, _ := chars.AppendFolded(nil, []byte("experience\u212Aey"), -1) // with the Kelvin sign
	fmt.Printf("%s\n", folded)
	fmt.Println(chars.UnescapedEquals("%6Awt", "jwt"))
	// Output:
	// 20
	// 28
	// true false
	// EXPERIENCEKEY
	// true
}
