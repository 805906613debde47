// Package scopedtokentest mints scoped tokens for tests, the way
// net/http/httptest makes servers: fresh keys for every test, one-line minting
// with valid defaults, the matching scopedtoken.KeySet, a JWKS server whose keys
// can change mid-test, and builders for the hostile tokens that a handler must
// refuse.
//
// A typical test:
//
//	iss := scopedtokentest.NewIssuer(t)
//	mw, err := scopedtoken.New(iss.Config())
//	require.NoError(t, err)
//	req := httptest.NewRequest("GET", "/v2/accounts/me/search", nil)
//	req.Header.Set("Authorization", "Bearer "+iss.Mint())
//
// Every method that can fail calls t.Fatal, so like testing.TB it must be
// called from the test's goroutine.
package scopedtokentest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/internal/alg"
	"github.com/scopedtoken/scopedtoken/mint"
)

// DefaultAudience is the aud of a token minted without the Audience option.
const DefaultAudience = "/v2/accounts/me/search"

// DefaultLifetime is the time from the issuer's now to exp of a token minted
// without an expiry option, the same default as mint.DefaultLifetime.
const DefaultLifetime = mint.DefaultLifetime

// DefaultAlgorithm is the algorithm of the issuer's asymmetric key unless
// WithAlgorithm says otherwise.
const DefaultAlgorithm = "ES256"

// Issuer holds a test's keys and mints its tokens: the issuing side, not the
// iss claim, which its tokens carry only when IssuerClaim sets it. It starts
// with two keys, both published: an HS256 secret and an asymmetric key (ES256
// by default).
// Tokens are signed with the asymmetric key unless SignWith picks another,
// because only that one can also be served from the JWKS server. An Issuer is
// safe for concurrent use, but its methods report failures with t.Fatal.
type Issuer struct {
	t        testing.TB
	now      func() time.Time
	business string
	alg      string
	audience []string

	mu      sync.Mutex
	keys    map[string]*issuerKey
	order   []string // kids in creation order, so the JWKS lists them stably
	current string   // the asymmetric key that signs by default
	hmacKID string
	jwks    *JWKSServer
}

// issuerKey is one key of the issuer. Unpublished keys can still sign (to
// mint tokens under a removed kid) but are in neither the KeySet nor the JWKS.
type issuerKey struct {
	kid, alg  string
	secret    []byte
	private   crypto.Signer
	vk        *scopedtoken.VerificationKey
	published bool
}

// Option configures NewIssuer.
type Option func(*Issuer)

// WithBusiness gives every key of the issuer a business ID: the business that
// "me" stands for (scopedtoken.Key.BusinessID). Use the same value as
// jwks.Config.BusinessID when verifying through the JWKS server.
func WithBusiness(id string) Option { return func(i *Issuer) { i.business = id } }

// WithClock sets the issuer's clock, which decides iat and exp. Pass the same
// function as scopedtoken.Config.Now (Config does). Default time.Now.
func WithClock(now func() time.Time) Option { return func(i *Issuer) { i.now = now } }

// WithTime fixes the issuer's clock at t.
func WithTime(t time.Time) Option { return WithClock(func() time.Time { return t }) }

// WithAudience sets the aud of tokens minted without the Audience option.
// Default DefaultAudience.
func WithAudience(paths ...string) Option {
	return func(i *Issuer) { i.audience = append([]string(nil), paths...) }
}

// WithAlgorithm sets the algorithm of the issuer's asymmetric key: RS*, PS*,
// ES*, EdDSA or Ed25519 (the RFC 9864 name). Default ES256.
func WithAlgorithm(alg string) Option { return func(i *Issuer) { i.alg = alg } }

// NewIssuer generates fresh keys for one test.
func NewIssuer(t testing.TB, opts ...Option) *Issuer {
	t.Helper()
	i := &Issuer{t: t, now: time.Now, alg: DefaultAlgorithm, keys: map[string]*issuerKey{}}
	for _, o := range opts {
		o(i)
	}
	if i.now == nil {
		t.Fatal("scopedtokentest: WithClock needs a clock")
	}
	if len(i.audience) == 0 {
		i.audience = []string{DefaultAudience}
	}
	if isHMAC(i.alg) {
		t.Fatalf("scopedtokentest: WithAlgorithm needs an asymmetric algorithm, not %q", i.alg)
	}
	i.hmacKID = i.AddKey("HS256")
	i.current = i.AddKey(i.alg)
	return i
}

// Now returns the issuer's current time.
func (i *Issuer) Now() time.Time { return i.now() }

// KeyID returns the kid of the asymmetric key that signs by default; Rotate
// changes it. It is not the KeyID mint option, which only rewrites a header.
func (i *Issuer) KeyID() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.current
}

// HMACKeyID returns the kid of the issuer's HS256 key.
func (i *Issuer) HMACKeyID() string { return i.hmacKID }

// Secret returns a copy of the HS256 secret, for tests that configure a key
// themselves.
func (i *Issuer) Secret() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]byte(nil), i.keys[i.hmacKID].secret...)
}

// BusinessID returns the business of the issuer's keys ("" when none).
func (i *Issuer) BusinessID() string { return i.business }

// KeySet returns a KeySet holding the issuer's published keys. It is live:
// AddKey, Rotate and RemoveKey change what it finds at once.
func (i *Issuer) KeySet() scopedtoken.KeySet { return issuerKeySet{i} }

// Config returns a middleware Config with the issuer's KeySet and clock; the
// other fields are the defaults, to be changed as a test needs, except that
// an issuer without a business (no WithBusiness) sets AllowMeWithoutBusiness,
// so that its default audience /v2/accounts/me/search passes. To test the
// middleware's default refusal (403 me_without_business), set it back to
// false; to test as production runs with a business, use WithBusiness.
func (i *Issuer) Config() scopedtoken.Config {
	return scopedtoken.Config{Keys: i.KeySet(), Now: i.now, AllowMeWithoutBusiness: i.business == ""}
}

// Keys returns the published keys as scopedtoken.Key values (public material
// and secrets), for tests that build their own KeySet with StaticKeys.
func (i *Issuer) Keys() []scopedtoken.Key {
	i.mu.Lock()
	defer i.mu.Unlock()
	var out []scopedtoken.Key
	for _, kid := range i.order {
		if k := i.keys[kid]; k.published {
			out = append(out, k.public(i.business))
		}
	}
	return out
}

// AddKey generates and publishes a new key of the algorithm name (any the
// package supports) and returns its kid. It does not change the default
// signing key; use SignWith to mint with it.
func (i *Issuer) AddKey(name string) string {
	i.t.Helper()
	k, err := generateKey(name)
	if err != nil {
		i.t.Fatalf("scopedtokentest: %v", err)
	}
	k.published = true
	k.vk, err = scopedtoken.NewVerificationKey(k.public(i.business))
	if err != nil {
		i.t.Fatalf("scopedtokentest: %v", err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys[k.kid] = k
	i.order = append(i.order, k.kid)
	return k.kid
}

// Rotate publishes a new asymmetric key of the issuer's algorithm, makes it
// the default signing key and returns its kid. The previous key stays
// published until RemoveKey, as in a real rotation.
func (i *Issuer) Rotate() string {
	i.t.Helper()
	kid := i.AddKey(i.alg)
	i.mu.Lock()
	i.current = kid
	i.mu.Unlock()
	return kid
}

// RemoveKey unpublishes the key kid: the KeySet and the JWKS no longer hold
// it. The issuer keeps its private half, so SignWith(kid) still mints tokens
// under the removed kid, which a verifier must now refuse.
func (i *Issuer) RemoveKey(kid string) {
	i.t.Helper()
	i.mu.Lock()
	defer i.mu.Unlock()
	k, ok := i.keys[kid]
	if !ok {
		i.t.Fatalf("scopedtokentest: RemoveKey: the issuer has no key %q", kid)
	}
	k.published = false
}

// signer returns the key that signs with kid ("" for the default).
func (i *Issuer) signer(kid string) (*issuerKey, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if kid == "" {
		kid = i.current
	}
	k, ok := i.keys[kid]
	if !ok {
		return nil, fmt.Errorf("the issuer has no key %q to sign with", kid)
	}
	return k, nil
}

func (k *issuerKey) public(business string) scopedtoken.Key {
	key := scopedtoken.Key{ID: k.kid, Algorithm: k.alg, BusinessID: business}
	if k.secret != nil {
		key.Secret = append([]byte(nil), k.secret...)
	} else {
		key.PublicKey = k.private.Public()
	}
	return key
}

type issuerKeySet struct{ i *Issuer }

// LookupKey returns the published key kid. The *VerificationKey of a key is
// built once, as the KeySet contract asks.
func (s issuerKeySet) LookupKey(_ context.Context, kid string) (*scopedtoken.VerificationKey, error) {
	s.i.mu.Lock()
	defer s.i.mu.Unlock()
	if k, ok := s.i.keys[kid]; ok && k.published {
		return k.vk, nil
	}
	return nil, scopedtoken.ErrUnknownKID
}

func isHMAC(name string) bool {
	spec, ok := alg.Lookup(name)
	return ok && spec.Family == alg.HMAC
}

// generateKey makes a key for the algorithm name with a random kid, as small
// as the middleware accepts (internal/alg). Secrets are printable (base64url
// of random bytes), since the package uses a secret string's raw bytes: a
// secret that can be pasted into a config is the realistic case.
func generateKey(name string) (*issuerKey, error) {
	spec, ok := alg.Lookup(name)
	if !ok {
		return nil, alg.Unsupported(name)
	}
	k := &issuerKey{kid: randomString(16), alg: name}
	var err error
	switch spec.Family {
	case alg.HMAC:
		k.secret = []byte(randomString(spec.MinSecret))
	case alg.RSA, alg.PSS:
		k.private, err = rsa.GenerateKey(rand.Reader, alg.MinRSABits)
	case alg.ECDSA:
		k.private, err = ecdsa.GenerateKey(spec.Curve, rand.Reader)
	case alg.EdDSA:
		_, k.private, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return nil, fmt.Errorf("generating a %s key: %w", name, err)
	}
	return k, nil
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
