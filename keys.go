package scopedtoken

import (
	"context"
	"crypto"
	"errors"
	"fmt"

	"github.com/scopedtoken/scopedtoken/internal/alg"
	"github.com/scopedtoken/scopedtoken/internal/names"
)

// Key is one verification key: the kid that selects it, the one algorithm it
// accepts, its material, the business that the path word "me" stands for and,
// optionally, the issuers whose tokens it verifies.
type Key struct {
	ID         string           // the kid that selects this key (a key's ID, not a token's: Token.ID() is the jti)
	Algorithm  string           // the only alg accepted with this key
	Secret     []byte           // HMAC secret, for HS*
	PublicKey  crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	BusinessID string           // the business that `me` stands for; "" when the key has none
	Issuer     string           // when set, the exact iss (case-sensitive) its tokens must carry; else 401 issuer_mismatch
	Issuers    []string         // further issuers the key also accepts: iss must be Issuer or one of these (docs/keys.md)
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
	issuer            string       // the first accepted issuer; "" when the key is bound to no issuer
	moreIssuers       []string     // the other accepted issuers, each once; nil with one issuer or none
	v                 alg.Verifier // the key material, checked, and the signature check
}

// NewVerificationKey validates k (docs/security.md) and prepares it for verification:
// a non-empty ID, a supported algorithm, material of the type that algorithm
// needs, HMAC secrets at least as long as the hash, RSA keys of 2048 bits or
// more, EC points on the named curve, a BusinessID that is a valid path
// segment other than "me", and an Issuer and Issuers that are valid UTF-8
// without control characters or surrounding white space, with no empty entry
// in Issuers (see Key.Issuer). The secret and the issuers are copied.
func NewVerificationKey(k Key) (*VerificationKey, error) {
	if k.ID == "" {
		return nil, fmt.Errorf("%w: key has an empty ID", ErrBadKey)
	}
	spec, ok := alg.Lookup(k.Algorithm)
	if !ok {
		return nil, fmt.Errorf("%w: key %q: %w", ErrBadKey, k.ID, alg.Unsupported(k.Algorithm))
	}
	if k.BusinessID != "" && !names.ValidBusiness(k.BusinessID) {
		return nil, fmt.Errorf("%w: key %q: BusinessID %q is not a valid path segment (and may not be %q)", ErrBadKey, k.ID, k.BusinessID, meSegment)
	}
	issuers, err := names.Issuers(k.Issuer, k.Issuers)
	if err != nil {
		return nil, fmt.Errorf("%w: key %q: %w", ErrBadKey, k.ID, err)
	}
	switch {
	case spec.Family == alg.HMAC && k.PublicKey != nil:
		return nil, fmt.Errorf("%w: key %q: %s takes a Secret, not a PublicKey", ErrBadKey, k.ID, k.Algorithm)
	case spec.Family != alg.HMAC && len(k.Secret) != 0:
		return nil, fmt.Errorf("%w: key %q: %s takes a PublicKey, not a Secret", ErrBadKey, k.ID, k.Algorithm)
	}
	vk := &VerificationKey{id: k.ID, alg: spec.Name, business: k.BusinessID}
	if len(issuers) > 0 {
		vk.issuer = issuers[0]
	}
	if len(issuers) > 1 {
		vk.moreIssuers = issuers[1:]
	}
	if err := vk.v.Init(spec, k.Secret, k.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: key %q: %s", ErrBadKey, k.ID, err)
	}
	return vk, nil
}

// ID returns the key's kid.
func (k *VerificationKey) ID() string { return k.id }

// Algorithm returns the one algorithm the key accepts.
func (k *VerificationKey) Algorithm() string { return k.alg }

// BusinessID returns the business that "me" stands for with this key, or "".
func (k *VerificationKey) BusinessID() string { return k.business }

// PublicKey returns the key's public material, or nil for an HMAC key.
func (k *VerificationKey) PublicKey() crypto.PublicKey { return k.v.PublicKey() }

// Secret returns a copy of the key's HMAC secret, or nil for a key with a
// public key. It serves verifiers other than the middleware, such as the
// golang-jwt Keyfunc of package golangjwt (docs/golang-jwt.md), which must
// hand the secret to another library; the copy keeps the key immutable.
func (k *VerificationKey) Secret() []byte { return k.v.Secret() }

// Format writes the key's kid and algorithm, whatever the verb, so that no
// fmt or log call prints its secret or key material (docs/security.md).
func (k *VerificationKey) Format(f fmt.State, verb rune) {
	if k == nil {
		fmt.Fprint(f, "<nil>")
		return
	}
	fmt.Fprintf(f, "scopedtoken.VerificationKey{ID: %q, Algorithm: %q}", k.id, k.alg)
}

// staticKeys is the KeySet that StaticKeys returns. Its keys never change:
// a cache hit is trusted without looking its key up again (Middleware's
// verifyHit). The map is an unexported field rather than the type itself so
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
	return nil, errUnknownKID
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
		if !errors.Is(err, errUnknownKID) && unavailable == nil {
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
	return nil, errUnknownKID
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
