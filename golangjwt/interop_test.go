package golangjwt_test

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// TestInteropGolangJWT: tokens that golang-jwt signs verify with the
// middleware and with golang-jwt through the Keyfunc, for every algorithm
// family (tokens minted by package mint go the other way in
// TestDifferentialMiddleware). Users often mint with one library and verify
// with another.
func TestInteropGolangJWT(t *testing.T) {
	ks := keySet(t)
	m, err := scopedtoken.New(scopedtoken.Config{Keys: ks, Now: clock})
	require.NoError(t, err)
	for _, f := range fixtures(t) {
		method := jwt.GetSigningMethod(f.alg)
		if method == nil {
			continue // Ed25519: golang-jwt v5.3.1 has no method for it
		}
		t.Run(f.kid, func(t *testing.T) {
			claims := jwt.MapClaims{"aud": testkit.Path, "exp": testkit.Exp}
			if iss := f.iss(); iss != "" {
				claims["iss"] = iss
			}
			tok := jwt.NewWithClaims(method, claims)
			tok.Header["kid"] = f.kid
			signed, err := tok.SignedString(f.signer)
			require.NoError(t, err)
			got, err := m.Verify(t.Context(), signed, testkit.Path)
			require.NoError(t, err)
			assert.Equal(t, f.kid, got.KeyID())
			parsed, err := parse(ks, signed)
			require.NoError(t, err)
			assert.Equal(t, f.kid, parsed.Header["kid"])
		})
	}
}
