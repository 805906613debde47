package mint_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// TestDefaultAlgorithm: DefaultAlgorithm is the middleware's choice for a
// secret, a public key, a private key and any other crypto.Signer
// (internal/alg's TestDefault has every kind).
func TestDefaultAlgorithm(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	for _, tc := range []struct {
		key  any
		want string
	}{
		{[]byte("a-32-byte-secret-for-the-example"), "HS256"}, {"a string", ""}, {nil, ""},
		{&p384.PublicKey, "ES384"}, {p384, "ES384"}, {opaqueSigner{edPriv}, "EdDSA"},
	} {
		assert.Equal(t, tc.want, mint.DefaultAlgorithm(tc.key), "%T", tc.key)
	}
}

// opaqueSigner hides the key's type, as an HSM or KMS signer does.
type opaqueSigner struct{ s crypto.Signer }

func (o opaqueSigner) Public() crypto.PublicKey { return o.s.Public() }
func (o opaqueSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.s.Sign(r, digest, opts)
}

// TestMinterDefaultAlgorithm: a Key without Algorithm signs with
// DefaultAlgorithm of its material, and the token passes a verifier bound to
// that algorithm.
func TestMinterDefaultAlgorithm(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	secret := []byte("a-32-byte-secret-for-the-example")
	for _, tc := range []struct {
		key  mint.Key
		want string
	}{
		{mint.Key{ID: "k", Secret: secret}, "HS256"},
		{mint.Key{ID: "k", PrivateKey: rsaKey}, "RS256"},
		{mint.Key{ID: "k", PrivateKey: p521}, "ES512"},
		{mint.Key{ID: "k", PrivateKey: edPriv}, "EdDSA"},
		{mint.Key{ID: "k", PrivateKey: opaqueSigner{p521}}, "ES512"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			m, err := mint.New(mint.Config{Key: tc.key})
			require.NoError(t, err)
			token, err := m.Mint(mint.Claims{Audience: []string{"/v2/accounts/42/search"}})
			require.NoError(t, err)
			vk := scopedtoken.Key{ID: "k", Algorithm: tc.want, Secret: tc.key.Secret}
			if tc.key.PrivateKey != nil {
				vk.PublicKey = tc.key.PrivateKey.Public()
			}
			set, err := scopedtoken.StaticKeys(vk)
			require.NoError(t, err)
			mw, err := scopedtoken.New(scopedtoken.Config{Keys: set})
			require.NoError(t, err)
			tok, err := mw.Verify(context.Background(), token, "/v2/accounts/42/search")
			require.NoError(t, err)
			assert.Equal(t, tc.want, tok.Algorithm())
		})
	}
	_, err = mint.New(mint.Config{Key: mint.Key{ID: "k"}})
	assert.ErrorContains(t, err, "no Algorithm given, and none follows from the key (no key)")
}

// TestMintRefusesCaseTwins: the minter does not make a token whose claims the
// middleware would refuse for names of one object that fold together.
func TestMintRefusesCaseTwins(t *testing.T) {
	m, err := mint.New(mint.Config{Key: mint.Key{ID: "k", Secret: []byte("a-32-byte-secret-for-the-example")}})
	require.NoError(t, err)
	aud := []string{"/v2/accounts/42/search"}
	for _, tc := range []struct {
		name   string
		claims mint.Claims
	}{
		{"extra claims", mint.Claims{Audience: aud, Extra: map[string]any{"role": "user", "ROLE": "admin"}}},
		{"nested extra claim", mint.Claims{Audience: aud, Extra: map[string]any{"p": map[string]any{"a": 1, "A": 2}}}},
		{"Kelvin sign", mint.Claims{Audience: aud, Extra: map[string]any{"k": 1, "\u212a": 2}}},
		{"query names", mint.Claims{Audience: aud, Query: map[string][]string{"page": {"1"}, "Page": {"2"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Mint(tc.claims)
			require.ErrorIs(t, err, mint.ErrMint)
			assert.Contains(t, err.Error(), "would be refused")
		})
	}
	_, err = m.Mint(mint.Claims{Audience: aud, Extra: map[string]any{"role": "user", "p": map[string]any{"a": 1}}})
	assert.NoError(t, err, "distinct names mint as before")
}

// TestMintDPoPBound: Claims.DPoPThumbprint writes cnf.jkt, which a middleware
// with DPoP allowed accepts only with a proof of that key; a malformed
// thumbprint and a cnf in Extra are refused.
func TestMintDPoPBound(t *testing.T) {
	secret := []byte("a-32-byte-secret-for-the-example")
	set, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k", Algorithm: "HS256", Secret: secret})
	require.NoError(t, err)
	verifier, err := scopedtoken.New(scopedtoken.Config{Keys: set, DPoPAllowed: true,
		Revocations: scopedtoken.NewMemoryRevocations(nil)})
	require.NoError(t, err)
	m, err := mint.New(mint.Config{Key: mint.Key{ID: "k", Secret: secret}, Verify: verifier})
	require.NoError(t, err)
	key := scopedtokentest.NewDPoPKey(t, "", nil)
	token, err := m.Mint(mint.Claims{Audience: []string{"/v2/accounts/42/search"}, DPoPThumbprint: key.Thumbprint()})
	require.NoError(t, err)
	tok, err := verifier.VerifyUnused(context.Background(), token, "/v2/accounts/42/search")
	require.NoError(t, err)
	assert.Equal(t, key.Thumbprint(), tok.KeyThumbprint())
	_, err = verifier.Verify(context.Background(), token, "/v2/accounts/42/search")
	assert.ErrorIs(t, err, scopedtoken.ErrInvalidDPoPProof, "a bound token needs a proof")

	for _, bad := range []string{"short", key.Thumbprint() + "A", "+" + key.Thumbprint()[1:]} {
		_, err = m.Mint(mint.Claims{Audience: []string{"/v2/accounts/42/search"}, DPoPThumbprint: bad})
		assert.ErrorIs(t, err, mint.ErrMint, bad)
	}
	_, err = m.Mint(mint.Claims{Audience: []string{"/v2/accounts/42/search"}, Extra: map[string]any{"cnf": map[string]any{"jkt": key.Thumbprint()}}})
	assert.ErrorIs(t, err, mint.ErrMint, "cnf is a registered claim")
}
