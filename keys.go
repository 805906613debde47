package scopedtoken

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"sync"

	"github.com/scopedtoken/scopedtoken/internal/names"
)

// Key is one verification key: the kid that selects it, the one algorithm it
// accepts, its material, the business that the path word "me" stands for and,
// optionally, the issuer whose tokens it verifies.
type Key struct {
	ID         string           // the kid that selects this key
	Algorithm  string           // the only alg accepted with this key
	Secret     []byte           // HMAC secret, for HS*
	PublicKey  crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	BusinessID string           // the business that `me` stands for; "" when the key has none
	Issuer     string           // when set, the exact iss (case-sensitive) its tokens must carry; else 401 issuer_mismatch
}

// KeySet finds verification keys by kid. Implementations must be safe for
// concurrent use. LookupKey returns an error wrapping ErrUnknownKID when the set
// has no key with that ID, and one wrapping ErrKeysUnavailable when it cannot
// tell (keys not fetched yet); any other error is also treated as unavailable.
// A set must return the same *VerificationKey for as long as the key is
// unchanged: the verified-token cache trusts an entry only while the lookup of
// its kid returns the very pointer that verified it.
type KeySet interface {
	LookupKey(ctx context.Context, kid string) (*VerificationKey, error)
}

// KnownKeySet is an optional interface of a KeySet: KnownKey answers from the
// keys the set holds now, without fetching, waiting or any I/O, and returns
// the same pointer that LookupKey would. ok false means only "not held now";
// LookupKey gives the set's real answer. CombineKeys uses it to find a kid
// that some set already knows before any set fetches. StaticKeys, the set
// that CombineKeys returns and the remote set of package
// github.com/scopedtoken/scopedtoken/jwks implement it.
type KnownKeySet interface {
	KeySet
	KnownKey(kid string) (vk *VerificationKey, ok bool)
}

// ErrBadKey is wrapped by every error that key validation returns.
var ErrBadKey = errors.New("scopedtoken: bad key")

// VerificationKey is a Key that has been validated and prepared for
// verification. Build one with NewVerificationKey; it is immutable and safe for
// concurrent use.
type VerificationKey struct {
	id, alg, business string
	issuer            string // "" when the key is bound to no issuer
	spec              *algSpec
	secret            []byte
	rsaKey            *rsa.PublicKey
	ecKey             *ecdsa.PublicKey
	edKey             ed25519.PublicKey
	pssOpts           *rsa.PSSOptions
	hmacs             sync.Pool // of *hmacState, so verification allocates nothing
}

type hmacState struct {
	mac hash.Hash
	sum [sha512.Size]byte
}

type algFamily int

const (
	familyHMAC algFamily = iota + 1
	familyRSA
	familyPSS
	familyECDSA
	familyEdDSA
)

type algSpec struct {
	name    string
	family  algFamily
	hash    crypto.Hash
	newHash func() hash.Hash
	curve   elliptic.Curve // ECDSA only
	minKey  int            // HMAC: bytes of secret
}

var algSpecs = map[string]*algSpec{
	"HS256": {name: "HS256", family: familyHMAC, hash: crypto.SHA256, newHash: sha256.New, minKey: 32},
	"HS384": {name: "HS384", family: familyHMAC, hash: crypto.SHA384, newHash: sha512.New384, minKey: 48},
	"HS512": {name: "HS512", family: familyHMAC, hash: crypto.SHA512, newHash: sha512.New, minKey: 64},
	"RS256": {name: "RS256", family: familyRSA, hash: crypto.SHA256},
	"RS384": {name: "RS384", family: familyRSA, hash: crypto.SHA384},
	"RS512": {name: "RS512", family: familyRSA, hash: crypto.SHA512},
	"PS256": {name: "PS256", family: familyPSS, hash: crypto.SHA256},
	"PS384": {name: "PS384", family: familyPSS, hash: crypto.SHA384},
	"PS512": {name: "PS512", family: familyPSS, hash: crypto.SHA512},
	"ES256": {name: "ES256", family: familyECDSA, hash: crypto.SHA256, curve: elliptic.P256()},
	"ES384": {name: "ES384", family: familyECDSA, hash: crypto.SHA384, curve: elliptic.P384()},
	"ES512": {name: "ES512", family: familyECDSA, hash: crypto.SHA512, curve: elliptic.P521()},
	"EdDSA": {name: "EdDSA", family: familyEdDSA},
	// RFC 9864 §2.2: the fully-specified name of Ed25519 signatures, an
	// algorithm of its own that a key is bound to instead of EdDSA.
	"Ed25519": {name: "Ed25519", family: familyEdDSA},
}

// minRSABits is the smallest RSA modulus accepted for signing or verifying.
const minRSABits = 2048

// NewVerificationKey validates k (docs/security.md) and prepares it for verification:
// a non-empty ID, a supported algorithm, material of the type that algorithm
// needs, HMAC secrets at least as long as the hash, RSA keys of 2048 bits or
// more, EC points on the named curve, a BusinessID that is a valid path
// segment other than "me", and an Issuer that is valid UTF-8 without control
// characters or surrounding white space (see Key.Issuer). The secret is
// copied.
func NewVerificationKey(k Key) (*VerificationKey, error) {
	if k.ID == "" {
		return nil, fmt.Errorf("%w: key has an empty ID", ErrBadKey)
	}
	spec, ok := algSpecs[k.Algorithm]
	if !ok {
		return nil, fmt.Errorf("%w: key %q: unsupported algorithm %q", ErrBadKey, k.ID, k.Algorithm)
	}
	if k.BusinessID != "" && !names.ValidBusiness(k.BusinessID) {
		return nil, fmt.Errorf("%w: key %q: BusinessID %q is not a valid path segment (and may not be %q)", ErrBadKey, k.ID, k.BusinessID, meSegment)
	}
	if err := names.CheckIssuer(k.Issuer); err != nil {
		return nil, fmt.Errorf("%w: key %q: Issuer %w", ErrBadKey, k.ID, err)
	}
	vk := &VerificationKey{id: k.ID, alg: k.Algorithm, business: k.BusinessID, issuer: k.Issuer, spec: spec}
	if spec.family == familyHMAC {
		if k.PublicKey != nil {
			return nil, fmt.Errorf("%w: key %q: %s takes a Secret, not a PublicKey", ErrBadKey, k.ID, k.Algorithm)
		}
		if len(k.Secret) < spec.minKey {
			return nil, fmt.Errorf("%w: key %q: %s secret is %d bytes; at least %d are required", ErrBadKey, k.ID, k.Algorithm, len(k.Secret), spec.minKey)
		}
		vk.secret = append([]byte(nil), k.Secret...)
		vk.hmacs.New = func() any { return &hmacState{mac: hmac.New(spec.newHash, vk.secret)} }
		return vk, nil
	}
	if len(k.Secret) != 0 {
		return nil, fmt.Errorf("%w: key %q: %s takes a PublicKey, not a Secret", ErrBadKey, k.ID, k.Algorithm)
	}
	if err := checkPublicKey(spec, k.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: key %q: %s", ErrBadKey, k.ID, err)
	}
	switch pub := k.PublicKey.(type) {
	case *rsa.PublicKey:
		vk.rsaKey = pub
		if spec.family == familyPSS {
			// RFC 7518 §3.5: the salt is as long as the hash. Never auto-detect it.
			vk.pssOpts = &rsa.PSSOptions{SaltLength: spec.hash.Size(), Hash: spec.hash}
		}
	case *ecdsa.PublicKey:
		vk.ecKey = pub
	case ed25519.PublicKey:
		vk.edKey = append(ed25519.PublicKey(nil), pub...)
	}
	return vk, nil
}

// checkPublicKey reports why pub cannot be used with spec, or nil. It is shared
// by verification and minting (with the signer's public half).
func checkPublicKey(spec *algSpec, pub crypto.PublicKey) error {
	switch spec.family {
	case familyHMAC:
		return fmt.Errorf("%s needs a secret, not a %s", spec.name, keyKind(pub))
	case familyRSA, familyPSS:
		k, ok := pub.(*rsa.PublicKey)
		if !ok || k == nil || k.N == nil {
			return fmt.Errorf("%s needs an RSA key, got %s", spec.name, keyKind(pub))
		}
		if k.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA key has %d bits; at least %d are required", k.N.BitLen(), minRSABits)
		}
		if k.E < 3 || k.E%2 == 0 {
			return errors.New("RSA public exponent must be odd and at least 3")
		}
		if rocaFingerprint(k.N) {
			return errors.New("RSA key has the ROCA fingerprint (CVE-2017-15361); its private key can be recovered")
		}
	case familyECDSA:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k == nil || k.Curve == nil {
			return fmt.Errorf("%s needs an ECDSA %s key, got %s", spec.name, spec.curve.Params().Name, keyKind(pub))
		}
		if k.Curve != spec.curve {
			return fmt.Errorf("%s needs curve %s, got %s", spec.name, spec.curve.Params().Name, k.Curve.Params().Name)
		}
		if _, err := k.ECDH(); err != nil {
			return errors.New("EC public key is not a valid point on its curve")
		}
	case familyEdDSA:
		k, ok := pub.(ed25519.PublicKey)
		if !ok || len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%s needs an Ed25519 key, got %s", spec.name, keyKind(pub))
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

// DefaultAlgorithm is the one algorithm a key is used with when none is
// named: HS256 for a non-empty HMAC secret ([]byte), RS256 for RSA,
// ES256/ES384/ES512 for P-256/P-384/P-521, EdDSA for Ed25519, and ""
// otherwise. key may be a public key, a private key or any crypto.Signer
// (its public half decides). A remote JWK without alg accepts only this
// algorithm, and mint.New, token specs and the CLI pick it for keys given
// without one. An Ed25519 key is bound to the RFC 9864 name "Ed25519" only
// when that alg is named.
func DefaultAlgorithm(key any) string {
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
		return DefaultAlgorithm(&k.PublicKey)
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
		return DefaultAlgorithm(k.Public())
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

// ID returns the key's kid.
func (k *VerificationKey) ID() string { return k.id }

// Algorithm returns the one algorithm the key accepts.
func (k *VerificationKey) Algorithm() string { return k.alg }

// BusinessID returns the business that "me" stands for with this key, or "".
func (k *VerificationKey) BusinessID() string { return k.business }

// PublicKey returns the key's public material, or nil for an HMAC key.
func (k *VerificationKey) PublicKey() crypto.PublicKey {
	switch {
	case k.rsaKey != nil:
		return k.rsaKey
	case k.ecKey != nil:
		return k.ecKey
	case k.edKey != nil:
		return k.edKey
	}
	return nil
}

// Secret returns a copy of the key's HMAC secret, or nil for a key with a
// public key. It serves verifiers other than the middleware, such as the
// golang-jwt Keyfunc of package golangjwt (docs/golang-jwt.md), which must
// hand the secret to another library; the copy keeps the key immutable.
func (k *VerificationKey) Secret() []byte {
	if k.secret == nil {
		return nil
	}
	return append([]byte(nil), k.secret...)
}

// verify reports whether sig is a valid signature of signingInput under this
// key with its one algorithm.
func (k *VerificationKey) verify(signingInput, sig []byte) bool {
	spec := k.spec
	switch spec.family {
	case familyHMAC:
		if len(sig) != spec.hash.Size() {
			return false
		}
		st := k.hmacs.Get().(*hmacState)
		st.mac.Reset()
		st.mac.Write(signingInput)
		ok := hmac.Equal(st.mac.Sum(st.sum[:0]), sig)
		k.hmacs.Put(st)
		return ok
	case familyEdDSA:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(k.edKey, signingInput, sig)
	}
	var buf [sha512.Size]byte
	digest := digestInto(spec.hash, signingInput, &buf)
	switch spec.family {
	case familyRSA:
		return rsa.VerifyPKCS1v15(k.rsaKey, spec.hash, digest, sig) == nil
	case familyPSS:
		return rsa.VerifyPSS(k.rsaKey, spec.hash, digest, sig, k.pssOpts) == nil
	case familyECDSA:
		size := (spec.curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(k.ecKey, digest, r, s)
	}
	return false
}

func digestInto(h crypto.Hash, data []byte, buf *[sha512.Size]byte) []byte {
	switch h {
	case crypto.SHA256:
		*(*[sha256.Size]byte)(buf[:sha256.Size]) = sha256.Sum256(data)
	case crypto.SHA384:
		*(*[sha512.Size384]byte)(buf[:sha512.Size384]) = sha512.Sum384(data)
	default:
		*buf = sha512.Sum512(data)
	}
	return buf[:h.Size()]
}

// staticKeys is the KeySet that StaticKeys returns. Its keys never change:
// a cache hit is trusted without looking its key up again (Middleware's
// verify). The map is an unexported field rather than the type itself so
// that not even reflection (reflect.Value.SetMapIndex) can change it.
type staticKeys struct {
	byID map[string]*VerificationKey
}

// StaticKeys validates every key (see NewVerificationKey) and returns a KeySet
// that holds them. IDs must be unique: a duplicate is an error, never a choice.
func StaticKeys(keys ...Key) (KeySet, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys given", ErrBadKey)
	}
	set := staticKeys{byID: make(map[string]*VerificationKey, len(keys))}
	for _, k := range keys {
		vk, err := NewVerificationKey(k)
		if err != nil {
			return nil, err
		}
		if _, dup := set.byID[k.ID]; dup {
			return nil, fmt.Errorf("%w: two keys have the ID %q", ErrBadKey, k.ID)
		}
		set.byID[k.ID] = vk
	}
	return set, nil
}

// LookupKey returns the key with ID kid, or ErrUnknownKID.
func (s staticKeys) LookupKey(_ context.Context, kid string) (*VerificationKey, error) {
	if vk, ok := s.byID[kid]; ok {
		return vk, nil
	}
	return nil, ErrUnknownKID
}

// KnownKey returns the key with ID kid, if any (see KnownKeySet).
func (s staticKeys) KnownKey(kid string) (*VerificationKey, bool) {
	vk, ok := s.byID[kid]
	return vk, ok
}

// CombineKeys returns a KeySet that looks a kid up in two rounds. First,
// without fetching, it asks the sets in order for the keys they hold now
// (KnownKeySet); a set that does not implement KnownKeySet is asked with
// LookupKey in its turn, as it may fetch. The first set that holds the kid
// wins, so static keys listed first cannot be shadowed by a remote set, and
// a kid of one set never waits for another set's fetch. Only when no set
// holds it are the KnownKeySet sets asked with LookupKey, in order, which
// lets a remote set fetch for an unknown kid. When no set knows it, the
// result is ErrKeysUnavailable if any set said so (the request might succeed
// later) and ErrUnknownKID otherwise. The result implements KnownKeySet, so
// combined sets can be nested.
func CombineKeys(sets ...KeySet) KeySet {
	c := &combinedKeys{sets: append([]KeySet(nil), sets...), known: make([]KnownKeySet, len(sets))}
	for i, s := range c.sets {
		c.known[i], _ = s.(KnownKeySet)
	}
	return c
}

type combinedKeys struct {
	sets  []KeySet
	known []KnownKeySet // known[i] is sets[i] when it implements KnownKeySet, else nil
}

func (c *combinedKeys) LookupKey(ctx context.Context, kid string) (*VerificationKey, error) {
	var unavailable error
	note := func(err error) {
		if !errors.Is(err, ErrUnknownKID) && unavailable == nil {
			unavailable = err
		}
	}
	for i, s := range c.sets {
		if k := c.known[i]; k != nil {
			if vk, ok := k.KnownKey(kid); ok {
				return vk, nil
			}
			continue
		}
		vk, err := s.LookupKey(ctx, kid)
		if err == nil {
			return vk, nil
		}
		note(err)
	}
	for _, k := range c.known {
		if k == nil {
			continue
		}
		vk, err := k.LookupKey(ctx, kid)
		if err == nil {
			return vk, nil
		}
		note(err)
	}
	if unavailable != nil {
		return nil, unavailable
	}
	return nil, ErrUnknownKID
}

// KnownKey asks the KnownKeySet sets in order for the keys they hold now;
// the other sets cannot answer without possibly fetching and are skipped.
func (c *combinedKeys) KnownKey(kid string) (*VerificationKey, bool) {
	for _, k := range c.known {
		if k == nil {
			continue
		}
		if vk, ok := k.KnownKey(kid); ok {
			return vk, true
		}
	}
	return nil, false
}
