package alg_test

import (
	"crypto/ed25519"
	"fmt"

	"github.com/scopedtoken/scopedtoken/internal/alg"
)

// A key is checked for its algorithm, signs, and its public half verifies.
func Example() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	name, err := alg.ForSigning("", nil, priv) // no algorithm named: the key's default
	fmt.Println(name, err)

	input := []byte("eyJhbGciOiJFZERTQSJ9.e30")
	sig, _ := alg.Sign(name, nil, priv, input)
	spec, _ := alg.Lookup(name)
	var v alg.Verifier
	fmt.Println(v.Init(spec, nil, priv.Public()), v.Verify(input, sig), len(sig) == v.SignatureSize())

	hs256, _ := alg.Lookup("HS256")
	fmt.Println(hs256.CheckSecret([]byte("too short")))
	// Output:
	// EdDSA <nil>
	// <nil> true true
	// HS256 secret is 9 bytes; at least 32 are required
}
