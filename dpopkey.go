package scopedtoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"

	"github.com/scopedtoken/scopedtoken/internal/alg"
	"github.com/scopedtoken/scopedtoken/internal/jose"
	"github.com/scopedtoken/scopedtoken/internal/strictjson"
)

// This file reads the public key that a DPoP proof carries in its jwk header
// (RFC 9449 §4.2) and computes its RFC 7638 thumbprint, which a bound token
// names in cnf.jkt (RFC 9449 §6.1). docs/dpop.md explains the scheme.

// proofKey is the jwk of a proof: its members as written (strict base64url,
// checked) and the public key they make.
type proofKey struct {
	kty, crv, x, y, n, e string
	private              bool // a private member (d, p, q, dp, dq, qi, oth) or a secret (k) is present
}

// jwkPrivateMembers are the JWK members that hold private or secret key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4): a proof whose jwk has any of
// them is refused (RFC 9449 §4.3 step 7), since a client that sends its
// private key has lost it.
var jwkPrivateMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// readProofKey reads the jwk object at the cursor. Members other than the
// ones a thumbprint needs (kid, use, alg, ...) are skipped; a private one
// marks the key private.
func readProofKey(s *strictjson.Scanner) (proofKey, bool) {
	var k proofKey
	if s.Peek() != '{' {
		return k, false
	}
	var it strictjson.Object
	it.Begin(s)
	for it.Next(s) {
		var dst *string
		switch string(it.Name) {
		case "kty":
			dst = &k.kty
		case "crv":
			dst = &k.crv
		case "x":
			dst = &k.x
		case "y":
			dst = &k.y
		case "n":
			dst = &k.n
		case "e":
			dst = &k.e
		default:
			for _, p := range jwkPrivateMembers {
				if string(it.Name) == p {
					k.private = true
				}
			}
			s.SkipValue()
			continue
		}
		if s.Peek() != '"' {
			return k, false
		}
		*dst = s.ReadText()
	}
	return k, s.Err() == strictjson.OK
}

// publicKey returns the key for spec, or false when the jwk is not a
// canonical public key of spec's family: the key type and curve of the
// algorithm, coordinates of exactly the curve's size (RFC 7518 §6.2.1.2), an
// RSA modulus without leading zero octets (RFC 7518 §6.3.1.1), each member
// strict base64url. Canonical members make the thumbprint one per key.
func (k *proofKey) publicKey(spec *alg.Spec) (crypto.PublicKey, bool) {
	switch spec.Family {
	case alg.ECDSA:
		params := spec.Curve.Params()
		if k.kty != "EC" || k.crv != params.Name || k.n != "" || k.e != "" {
			return nil, false
		}
		size := (params.BitSize + 7) / 8
		x, okX := decodeMember(k.x)
		y, okY := decodeMember(k.y)
		if !okX || !okY || len(x) != size || len(y) != size {
			return nil, false
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(spec.Curve, append(append([]byte{4}, x...), y...))
		return pub, err == nil
	case alg.EdDSA:
		x, ok := decodeMember(k.x)
		if k.kty != "OKP" || k.crv != "Ed25519" || !ok || k.y != "" || k.n != "" || k.e != "" {
			return nil, false
		}
		if len(x) != ed25519.PublicKeySize {
			return nil, false
		}
		return ed25519.PublicKey(x), true
	case alg.RSA, alg.PSS:
		n, okN := decodeMember(k.n)
		e, okE := decodeMember(k.e)
		if k.kty != "RSA" || k.crv != "" || k.x != "" || k.y != "" || !okN || !okE ||
			n[0] == 0 || e[0] == 0 || len(e) > 4 {
			return nil, false
		}
		var exp int
		for _, b := range e {
			exp = exp<<8 | int(b)
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, true
	}
	return nil, false // HMAC: never a proof algorithm (New refuses it)
}

// decodeMember decodes a non-empty strict base64url member.
func decodeMember(s string) ([]byte, bool) {
	if s == "" {
		return nil, false
	}
	b, ok := jose.Decode(nil, []byte(s))
	return b, ok && len(b) > 0
}

// thumbprint returns the RFC 7638 SHA-256 thumbprint of the key, base64url
// without padding: the hash of its required members in lexicographic order,
// without white space (RFC 7638 §3.2, §3.3; RFC 8037 §2 for OKP). The values
// are strict base64url, which JSON needs no escape for.
func (k *proofKey) thumbprint() string {
	var canonical string
	switch k.kty {
	case "EC":
		canonical = `{"crv":"` + k.crv + `","kty":"EC","x":"` + k.x + `","y":"` + k.y + `"}`
	case "OKP":
		canonical = `{"crv":"` + k.crv + `","kty":"OKP","x":"` + k.x + `"}`
	case "RSA":
		canonical = `{"e":"` + k.e + `","kty":"RSA","n":"` + k.n + `"}`
	}
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
