package jose_test

import (
	"fmt"

	"github.com/scopedtoken/scopedtoken/internal/jose"
)

// The header of a compact JWS, read as the middleware reads it before it
// checks the signature.
func Example() {
	token := "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.e30.c2ln"
	headerEnd, payloadEnd, ok := jose.Split(token)
	fmt.Println(ok, token[headerEnd+1:payloadEnd])

	h, ok := jose.Decode(nil, []byte(token[:headerEnd]))
	fmt.Println(ok, string(h))
	fmt.Println(jose.ParseHeader(h, nil, nil))

	_, ok = jose.Decode(nil, []byte("e30="))
	fmt.Println(ok) // padding is refused
	// Output:
	// true e30
	// true {"alg":"HS256","kid":"k1","typ":"JWT"}
	// {HS256 k1} 0
	// false
}
