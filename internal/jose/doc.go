// Package jose is the compact JWS layer of scopedtoken (RFC 7515 §7.1): the
// split into three segments, the strict base64url decoding of each (RFC 7515
// §2: no padding, no character outside the alphabet, no line breaks, no
// non-zero trailing bits), the protected header with its bounds and rules
// (docs/security.md), a memo of the headers of tokens that verified, and the
// names of the header parameters and claims the middleware reads.
//
// It decides nothing about keys or claims: the root package looks the kid up,
// binds the alg to the key, checks the signature with package alg and reads
// the claims with package strictjson.
package jose
