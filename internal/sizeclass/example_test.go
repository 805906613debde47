package sizeclass_test

import (
	"fmt"

	"github.com/scopedtoken/scopedtoken/internal/sizeclass"
)

// The heap that a cache entry's parts take, as the cache's byte bound
// counts them.
func Example() {
	fmt.Println(sizeclass.Round(100))     // the size class of a 100-byte allocation
	fmt.Println(sizeclass.String(700))    // a 700-byte token, cloned
	fmt.Println(sizeclass.Object(3 * 16)) // an array of three strings
	fmt.Println(sizeclass.Map(4, 16+8))   // a map of four strings to pointers
	// Output:
	// 112
	// 704
	// 48
	// 256
}
