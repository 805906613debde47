package deppin_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/scopedtoken/scopedtoken/internal/deppin"
)

// Read reports what a go.mod requires and replaces, as the go command reads
// it: a require in a replace block is not mistaken for a pin.
func ExampleRead() {
	dir, _ := os.MkdirTemp("", "deppin")
	defer os.RemoveAll(dir)
	goMod := filepath.Join(dir, "go.mod")
	_ = os.WriteFile(goMod, []byte(`module example.com/app

go 1.25.0

require github.com/MicahParks/jwkset v0.11.5

replace example.com/fork v1.2.3 => ../fork
`), 0o600)
	required, replaced, err := deppin.Read(goMod)
	fmt.Println(required["github.com/MicahParks/jwkset"], replaced["example.com/fork"], err)
	// Output: v0.11.5 true <nil>
}
