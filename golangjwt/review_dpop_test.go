package golangjwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/golangjwt"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
	"github.com/scopedtoken/scopedtoken/mint"
)

// TestReviewKeyfuncRefusesBoundToken: a DPoP-bound token (cnf.jkt, RFC 9449,
// docs/dpop.md) is worth nothing to a thief only if no verifier takes it as
// a bearer token. golang-jwt checks no proof, so a Keyfunc that hands out the
// key for it lets a stolen bound token through every endpoint that parses
// with this package: it must refuse the token instead (fail closed), as the
// middleware does with DPoP off (dpop_unsupported).
func TestReviewKeyfuncRefusesBoundToken(t *testing.T) {
	client, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	jkt := testkit.DPoPThumbprint(t, &client.PublicKey)
	for _, kid := range []string{"hs", "es", "ed"} {
		t.Run(kid, func(t *testing.T) {
			tok := fixtureOf(t, kid).mint(t, mint.Claims{DPoPThumbprint: jkt})
			_, err := parse(keySet(t), tok)
			assert.Error(t, err, "a DPoP-bound token accepted as a bearer token")
			// Parsed into a struct without cnf, the claim is gone from
			// t.Claims: the Keyfunc must read it from the payload (t.Raw).
			opts := append(golangjwt.ParserOptions(), jwt.WithTimeFunc(clock))
			_, err = jwt.NewParser(opts...).ParseWithClaims(tok, &jwt.RegisteredClaims{}, golangjwt.Keyfunc(context.Background(), keySet(t)))
			assert.Error(t, err, "a DPoP-bound token accepted as a bearer token (RegisteredClaims)")
			unbound := fixtureOf(t, kid).mint(t, mint.Claims{})
			_, err = parse(keySet(t), unbound)
			assert.NoError(t, err, "an unbound token stays accepted")
		})
	}
}
