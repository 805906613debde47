package alg

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSign checks each family's signature against the standard library's
// verification, and the refusals.
func TestSign(t *testing.T) {
	input := []byte("eyJhbGciOiJIUzI1NiJ9.e30")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	secret := []byte("a-32-byte-secret-for-the-example")

	sig, err := Sign("HS256", secret, nil, input)
	require.NoError(t, err)
	mac := hmac.New(sha256.New, secret)
	mac.Write(input)
	assert.Equal(t, mac.Sum(nil), sig)

	d256 := sha256.Sum256(input)
	sig, err = Sign("RS256", nil, rsaKey, input)
	require.NoError(t, err)
	assert.NoError(t, rsa.VerifyPKCS1v15(&rsaKey.PublicKey, crypto.SHA256, d256[:], sig))
	sig, err = Sign("PS256", nil, rsaKey, input)
	require.NoError(t, err)
	assert.NoError(t, rsa.VerifyPSS(&rsaKey.PublicKey, crypto.SHA256, d256[:], sig, &rsa.PSSOptions{SaltLength: 32}))

	d512 := sha512.Sum512(input)
	sig, err = Sign("ES512", nil, p521, input)
	require.NoError(t, err)
	require.Len(t, sig, 132, "R || S, 66 bytes each")
	r, s := new(big.Int).SetBytes(sig[:66]), new(big.Int).SetBytes(sig[66:])
	assert.True(t, ecdsa.Verify(&p521.PublicKey, d512[:], r, s))

	for _, alg := range []string{"EdDSA", "Ed25519"} {
		sig, err = Sign(alg, nil, edPriv, input)
		require.NoError(t, err)
		assert.True(t, ed25519.Verify(edPub, input, sig))
	}

	for _, tc := range []struct{ alg, want string }{
		{"none", "unsupported algorithm"}, {"", "unsupported algorithm"}, {"hs256", `did you mean "HS256"`},
		{"RS256", "no private key"}, {"ES256", "no private key"}, {"EdDSA", "no private key"},
	} {
		_, err := Sign(tc.alg, secret, nil, input)
		assert.ErrorContains(t, err, tc.want, tc.alg)
	}
}
