package strictjson_test

import (
	"fmt"

	"github.com/scopedtoken/scopedtoken/internal/strictjson"
)

// Check refuses what a struct decoder could read differently.
func ExampleCheck() {
	for _, doc := range []string{
		`{"role":"user"}`,
		`{"role":"user","role":"admin"}`,
		`{"role":"user","ROLE":"admin"}`,
		`{"role":"user","\u212Aey":1,"key":2}`, // the Kelvin sign folds to K
		`{"role":"user"} {}`,
	} {
		fmt.Println(strictjson.Check([]byte(doc), false))
	}
	// Output:
	// is valid
	// repeats a member name
	// has two member names that differ only in case
	// has two member names that differ only in case
	// is not strictly valid JSON
}

// Reading the members of an object: the name is unescaped, and the value
// must be consumed.
func Example() {
	s := strictjson.Scanner{Data: []byte(`{"aud":"/v2/accounts/me/search","exp":1767323345,"x":[true]}`)}
	var it strictjson.Object
	it.Begin(&s)
	for it.Next(&s) {
		switch string(it.Name) {
		case "aud":
			fmt.Println("aud", s.ReadText())
		case "exp":
			fmt.Println("exp", string(s.ReadNumber()))
		default:
			fmt.Println("skipped", string(s.SkipValue()))
		}
	}
	fmt.Println(s.Finish())
	// Output:
	// aud /v2/accounts/me/search
	// exp 1767323345
	// skipped [true]
	// is valid
}
