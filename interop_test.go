package scopedtoken

import (
	"crypto"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInteropGolangJWT: tokens that golang-jwt signs verify here, and tokens
// that Minter signs verify with golang-jwt, for every algorithm family. Users
// often mint with one library and verify with another.
func TestInteropGolangJWT(t *testing.T) {
	k := genKeys(t)
	m := newTestMiddleware(t, nil)
	tests := []struct {
		name    string
		kid     string
		method  jwt.SigningMethod
		signKey any
		pubKey  any
	}{
		{name: "HS256", kid: "hs", method: jwt.SigningMethodHS256, signKey: testSecret, pubKey: testSecret},
		{name: "RS256", kid: "rs", method: jwt.SigningMethodRS256, signKey: k.rsa, pubKey: &k.rsa.PublicKey},
		{name: "PS256", kid: "ps", method: jwt.SigningMethodPS256, signKey: k.rsa, pubKey: &k.rsa.PublicKey},
		{name: "ES256", kid: "es", method: jwt.SigningMethodES256, signKey: k.ec, pubKey: &k.ec.PublicKey},
		{name: "EdDSA", kid: "ed", method: jwt.SigningMethodEdDSA, signKey: k.ed, pubKey: k.ed.Public()},
	}
	for _, tc := range tests {
		t.Run(tc.name+" golang-jwt to scopedtoken", func(t *testing.T) {
			tok := jwt.NewWithClaims(tc.method, jwt.MapClaims{"aud": "/v2/accounts/me/search", "exp": testNow.Unix() + 60})
			tok.Header["kid"] = tc.kid
			signed, err := tok.SignedString(tc.signKey)
			require.NoError(t, err)
			got, err := m.Verify(t.Context(), signed, "/v2/accounts/me/search")
			require.NoError(t, err)
			assert.Equal(t, tc.kid, got.KeyID())
		})
		t.Run(tc.name+" scopedtoken to golang-jwt", func(t *testing.T) {
			key := MintKey{ID: tc.kid, Algorithm: tc.method.Alg()}
			if secret, ok := tc.signKey.([]byte); ok {
				key.Secret = secret
			} else {
				key.PrivateKey = tc.signKey.(crypto.Signer)
			}
			minter, err := NewMinterForTest(MintConfig{Key: key, Now: fixedClock})
			require.NoError(t, err)
			signed, err := minter.Mint(MintClaims{Audience: []string{"/v2/accounts/me/search"}})
			require.NoError(t, err)
			parsed, err := jwt.Parse(signed, func(*jwt.Token) (any, error) { return tc.pubKey, nil },
				jwt.WithValidMethods([]string{tc.method.Alg()}), jwt.WithTimeFunc(fixedClock),
				jwt.WithAudience("/v2/accounts/me/search"))
			require.NoError(t, err)
			assert.Equal(t, tc.kid, parsed.Header["kid"])
		})
	}
}
