package alg

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strings"
)

// Family is a kind of algorithm: how it signs and what key it needs.
type Family uint8

// The families of the supported algorithms.
const (
	HMAC  Family = iota + 1 // HS*: a secret
	RSA                     // RS*: RSASSA-PKCS1-v1_5
	PSS                     // PS*: RSASSA-PSS, salt as long as the hash (RFC 7518 §3.5)
	ECDSA                   // ES*: the curve named by the algorithm
	EdDSA                   // EdDSA and Ed25519: an Ed25519 key
)

// Spec is one supported algorithm.
type Spec struct {
	Name      string
	Family    Family
	Hash      crypto.Hash    // none for EdDSA
	Curve     elliptic.Curve // ECDSA only
	MinSecret int            // HMAC only: the fewest bytes of secret, the hash's size
	newHash   func() hash.Hash
}

var specs = map[string]*Spec{
	"HS256": {Name: "HS256", Family: HMAC, Hash: crypto.SHA256, newHash: sha256.New, MinSecret: 32},
	"HS384": {Name: "HS384", Family: HMAC, Hash: crypto.SHA384, newHash: sha512.New384, MinSecret: 48},
	"HS512": {Name: "HS512", Family: HMAC, Hash: crypto.SHA512, newHash: sha512.New, MinSecret: 64},
	"RS256": {Name: "RS256", Family: RSA, Hash: crypto.SHA256},
	"RS384": {Name: "RS384", Family: RSA, Hash: crypto.SHA384},
	"RS512": {Name: "RS512", Family: RSA, Hash: crypto.SHA512},
	"PS256": {Name: "PS256", Family: PSS, Hash: crypto.SHA256},
	"PS384": {Name: "PS384", Family: PSS, Hash: crypto.SHA384},
	"PS512": {Name: "PS512", Family: PSS, Hash: crypto.SHA512},
	"ES256": {Name: "ES256", Family: ECDSA, Hash: crypto.SHA256, Curve: elliptic.P256()},
	"ES384": {Name: "ES384", Family: ECDSA, Hash: crypto.SHA384, Curve: elliptic.P384()},
	"ES512": {Name: "ES512", Family: ECDSA, Hash: crypto.SHA512, Curve: elliptic.P521()},
	"EdDSA": {Name: "EdDSA", Family: EdDSA},
	// RFC 9864 §2.2: the fully-specified name of Ed25519 signatures, an
	// algorithm of its own that a key is bound to instead of EdDSA.
	"Ed25519": {Name: "Ed25519", Family: EdDSA},
}

// Lookup returns the algorithm named name, exactly (case-sensitive).
func Lookup(name string) (*Spec, bool) {
	s, ok := specs[name]
	return s, ok
}

// LookupBytes is Lookup for a name read out of a token, without converting
// it to a string.
func LookupBytes(name []byte) (*Spec, bool) {
	s, ok := specs[string(name)]
	return s, ok
}

// Unsupported returns the error for an algorithm name that Lookup does not
// know. Names are case-sensitive (RFC 7515 §4.1.1), which someone writing
// "hs256" does not expect, so the message says so and, when only the case is
// wrong, names the spelling meant. It holds the name, never key material.
func Unsupported(name string) error {
	for n := range specs {
		if strings.EqualFold(n, name) {
			return fmt.Errorf("unsupported algorithm %q: names are case-sensitive; did you mean %q?", name, n)
		}
	}
	return fmt.Errorf("unsupported algorithm %q (names are case-sensitive)", name)
}

// MinRSABits is the smallest RSA modulus accepted for signing or verifying.
const MinRSABits = 2048

// coordBytes is the size in bytes of an ECDSA algorithm's R and S: the size
// of its curve's order (RFC 7518 §3.4).
func (s *Spec) coordBytes() int { return (s.Curve.Params().BitSize + 7) / 8 }

// CheckSecret reports why secret cannot be the HMAC secret of s (it is
// shorter than the hash, RFC 7518 §3.2), or nil. The error holds the
// secret's length, never its bytes.
func (s *Spec) CheckSecret(secret []byte) error {
	if len(secret) < s.MinSecret {
		return fmt.Errorf("%s secret is %d bytes; at least %d are required", s.Name, len(secret), s.MinSecret)
	}
	return nil
}

// CheckPublicKey reports why pub cannot be used with s, or nil: RSA keys of
// MinRSABits or more with an odd exponent of at least 3 and without the ROCA
// fingerprint, EC points on the algorithm's curve, Ed25519 keys of the right
// size. Verification checks the key itself, minting the signer's public half.
func (s *Spec) CheckPublicKey(pub crypto.PublicKey) error {
	switch s.Family {
	case HMAC:
		return fmt.Errorf("%s needs a secret, not a %s", s.Name, keyKind(pub))
	case RSA, PSS:
		k, ok := pub.(*rsa.PublicKey)
		if !ok || k == nil || k.N == nil {
			return fmt.Errorf("%s needs an RSA key, got %s", s.Name, keyKind(pub))
		}
		if k.N.BitLen() < MinRSABits {
			return fmt.Errorf("RSA key has %d bits; at least %d are required", k.N.BitLen(), MinRSABits)
		}
		if k.E < 3 || k.E%2 == 0 {
			return errors.New("RSA public exponent must be odd and at least 3")
		}
		if rocaFingerprint(k.N) {
			return errors.New("RSA key has the ROCA fingerprint (CVE-2017-15361); its private key can be recovered")
		}
	case ECDSA:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k == nil || k.Curve == nil {
			return fmt.Errorf("%s needs an ECDSA %s key, got %s", s.Name, s.Curve.Params().Name, keyKind(pub))
		}
		if k.Curve != s.Curve {
			return fmt.Errorf("%s needs curve %s, got %s", s.Name, s.Curve.Params().Name, k.Curve.Params().Name)
		}
		if _, err := k.ECDH(); err != nil {
			return errors.New("EC public key is not a valid point on its curve")
		}
	case EdDSA:
		k, ok := pub.(ed25519.PublicKey)
		if !ok || len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%s needs an Ed25519 key, got %s", s.Name, keyKind(pub))
		}
	}
	return nil
}

// rocaFingerprint reports whether n has the structure of moduli made by the
// Infineon library of CVE-2017-15361: n mod p lies in the subgroup generated by
// 65537 for every small prime p. A random modulus passes for all these primes
// with a probability of about 4e-9.
func rocaFingerprint(n *big.Int) bool {
	var r big.Int
	for _, p := range [...]int64{3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
		73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167} {
		rem := r.Mod(n, big.NewInt(p)).Int64()
		in := false
		for x := int64(1); ; {
			if x == rem {
				in = true
				break
			}
			if x = x * (65537 % p) % p; x == 1 {
				break
			}
		}
		if !in {
			return false
		}
	}
	return true
}

// Default is the one algorithm a key is used with when none is named:
// HS256 for a non-empty HMAC secret ([]byte), RS256 for RSA,
// ES256/ES384/ES512 for P-256/P-384/P-521, EdDSA for Ed25519, and ""
// otherwise. key may be a public key, a private key or any crypto.Signer
// (its public half decides). An Ed25519 key is bound to the RFC 9864 name
// "Ed25519" only when that alg is named.
func Default(key any) string {
	switch k := key.(type) {
	case []byte:
		if len(k) > 0 {
			return "HS256"
		}
		return ""
	case *rsa.PublicKey, *rsa.PrivateKey:
		return "RS256"
	case *ecdsa.PrivateKey:
		if k == nil {
			return ""
		}
		return Default(&k.PublicKey)
	case ed25519.PrivateKey:
		return "EdDSA"
	case *ecdsa.PublicKey:
		if k == nil {
			return ""
		}
		switch k.Curve {
		case elliptic.P256():
			return "ES256"
		case elliptic.P384():
			return "ES384"
		case elliptic.P521():
			return "ES512"
		}
	case ed25519.PublicKey:
		return "EdDSA"
	case crypto.Signer: // an HSM or KMS key: its public half decides
		return Default(k.Public())
	}
	return ""
}

// keyKind names the type of key material for error messages, without any of
// its content.
func keyKind(k any) string {
	switch k := k.(type) {
	case nil:
		return "no key"
	case *rsa.PublicKey, *rsa.PrivateKey:
		return "RSA key"
	case *ecdsa.PublicKey:
		if k != nil && k.Curve != nil {
			return "ECDSA " + k.Curve.Params().Name + " key"
		}
		return "ECDSA key"
	case *ecdsa.PrivateKey:
		return keyKind(&k.PublicKey)
	case ed25519.PublicKey, ed25519.PrivateKey:
		return "Ed25519 key"
	case []byte:
		return "secret"
	}
	return fmt.Sprintf("key of type %T", k)
}
