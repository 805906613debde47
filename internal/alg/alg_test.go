package alg_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/alg"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// TestDefault: one function names the default algorithm of a secret, a
// public key, a private key and any other crypto.Signer.
func TestDefault(t *testing.T) {
	k := testkit.Keys(t)
	p384, p521, p224 := ecKey(t, elliptic.P384()), ecKey(t, elliptic.P521()), ecKey(t, elliptic.P224())
	tests := []struct {
		name string
		key  any
		want string
	}{
		{name: "secret", key: []byte("a-32-byte-secret-for-the-example"), want: "HS256"},
		{name: "empty secret", key: []byte{}, want: ""},
		{name: "RSA public", key: &k.RSA.PublicKey, want: "RS256"},
		{name: "RSA private", key: k.RSA, want: "RS256"},
		{name: "P-256 public", key: &k.EC.PublicKey, want: "ES256"},
		{name: "P-256 private", key: k.EC, want: "ES256"},
		{name: "P-384 private", key: p384, want: "ES384"},
		{name: "P-521 private", key: p521, want: "ES512"},
		{name: "P-224 private", key: p224, want: ""},
		{name: "Ed25519 public", key: k.Ed.Public(), want: "EdDSA"},
		{name: "Ed25519 private", key: k.Ed, want: "EdDSA"},
		{name: "other signer", key: opaqueSigner{p384}, want: "ES384"},
		{name: "nil", key: nil, want: ""},
		{name: "nil EC key", key: (*ecdsa.PrivateKey)(nil), want: ""},
		{name: "string", key: "a-32-byte-secret-for-the-example", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, alg.Default(tc.key))
		})
	}
}

func ecKey(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	require.NoError(t, err)
	return k
}

// opaqueSigner hides the key's type, as an HSM or KMS signer does.
type opaqueSigner struct{ s crypto.Signer }

func (o opaqueSigner) Public() crypto.PublicKey { return o.s.Public() }
func (o opaqueSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.s.Sign(r, digest, opts)
}

// TestROCA: a modulus with the structure of CVE-2017-15361 is refused, a
// freshly generated one is not.
func TestROCA(t *testing.T) {
	rs256, ok := alg.Lookup("RS256")
	require.True(t, ok)
	assert.ErrorContains(t, rs256.CheckPublicKey(&rsa.PublicKey{N: testkit.ROCALikeModulus(), E: 65537}), "ROCA")
	assert.NoError(t, rs256.CheckPublicKey(&testkit.Keys(t).RSA.PublicKey), "a fresh key must not look like ROCA")
}

// TestLookup: names are exact, and the table answers the same for a string
// and for bytes.
func TestLookup(t *testing.T) {
	for _, name := range []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
		"ES256", "ES384", "ES512", "EdDSA", "Ed25519"} {
		s, ok := alg.Lookup(name)
		require.True(t, ok, name)
		assert.Equal(t, name, s.Name)
		b, ok := alg.LookupBytes([]byte(name))
		assert.True(t, ok)
		assert.Same(t, s, b)
	}
	for _, name := range []string{"", "none", "None", "hs256", "ES521", "EDDSA", "HS256 "} {
		_, ok := alg.Lookup(name)
		assert.False(t, ok, name)
		_, ok = alg.LookupBytes([]byte(name))
		assert.False(t, ok, name)
	}
}

// TestSignVerifyRoundTrip: what Sign makes under each algorithm, a Verifier
// of the matching public key accepts with SignatureSize bytes, and refuses
// once a bit changes.
func TestSignVerifyRoundTrip(t *testing.T) {
	k := testkit.Keys(t)
	p384, p521 := ecKey(t, elliptic.P384()), ecKey(t, elliptic.P521())
	secret := make([]byte, 64)
	input := []byte("eyJhbGciOiJIUzI1NiJ9.e30")
	for _, tc := range []struct {
		name   string
		signer crypto.Signer
	}{
		{"HS256", nil}, {"HS384", nil}, {"HS512", nil},
		{"RS256", k.RSA}, {"RS384", k.RSA}, {"RS512", k.RSA}, {"PS256", k.RSA}, {"PS384", k.RSA}, {"PS512", k.RSA},
		{"ES256", k.EC}, {"ES384", p384}, {"ES512", p521}, {"EdDSA", k.Ed}, {"Ed25519", k.Ed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, ok := alg.Lookup(tc.name)
			require.True(t, ok)
			name, err := alg.ForSigning(tc.name, secretFor(tc.signer, secret), tc.signer)
			require.NoError(t, err)
			require.Equal(t, tc.name, name)
			sig, err := alg.Sign(tc.name, secret, tc.signer, input)
			require.NoError(t, err)
			var v alg.Verifier
			assert.Nil(t, v.PublicKey(), "before Init")
			var pub crypto.PublicKey
			if tc.signer != nil {
				pub = tc.signer.Public()
			}
			require.NoError(t, v.Init(spec, secret, pub))
			assert.Equal(t, pub, v.PublicKey())
			assert.Len(t, sig, v.SignatureSize())
			assert.True(t, v.Verify(input, sig))
			sig[len(sig)/2] ^= 1
			assert.False(t, v.Verify(input, sig))
		})
	}
}

func secretFor(signer crypto.Signer, secret []byte) []byte {
	if signer != nil {
		return nil
	}
	return secret
}

// TestForSigningRefusals: a minting key that does not fit its algorithm is
// refused, with errors that name the mismatch.
func TestForSigningRefusals(t *testing.T) {
	k := testkit.Keys(t)
	secret := []byte("a-32-byte-secret-for-the-example")
	for _, tc := range []struct {
		name, alg string
		secret    []byte
		key       crypto.Signer
		want      string
	}{
		{"nothing", "", nil, nil, "none follows from the key (no key)"},
		{"unknown", "none", secret, nil, `unsupported algorithm "none"`},
		{"short secret", "HS512", secret, nil, "HS512 secret is 32 bytes; at least 64 are required"},
		{"secret and key", "HS256", secret, k.EC, "HS256 takes a secret, but a private ECDSA P-256 key was given"},
		{"secret for RS256", "RS256", secret, nil, "RS256 needs a private key, but a secret was given"},
		{"no key", "ES256", nil, nil, "ES256 needs a private key"},
		{"wrong curve", "ES384", nil, k.EC, "ES384 needs curve P-384, got P-256"},
		{"RSA for EdDSA", "EdDSA", nil, k.RSA, "EdDSA needs an Ed25519 key, got RSA key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := alg.ForSigning(tc.alg, tc.secret, tc.key)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), string(secret))
		})
	}
}

// TestUnsupported: the error for an unknown algorithm says that names are
// case-sensitive and, when only the case is wrong, which name was meant.
func TestUnsupported(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"hs256", `unsupported algorithm "hs256": names are case-sensitive; did you mean "HS256"?`},
		{"eddsa", `unsupported algorithm "eddsa": names are case-sensitive; did you mean "EdDSA"?`},
		{"ED25519", `unsupported algorithm "ED25519": names are case-sensitive; did you mean "Ed25519"?`},
		{"Es256", `unsupported algorithm "Es256": names are case-sensitive; did you mean "ES256"?`},
		{"none", `unsupported algorithm "none" (names are case-sensitive)`},
		{"", `unsupported algorithm "" (names are case-sensitive)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ok := alg.Lookup(tc.name)
			require.False(t, ok, "Lookup is case-sensitive")
			assert.EqualError(t, alg.Unsupported(tc.name), tc.want)
		})
	}
}
