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

// TestKeyfuncRefusesBoundTokenSpellings: encoding/json reads any case of
// "cnf", and JSON escapes, as the cnf member, so a payload that a program
// decoding with encoding/json would take as bound is refused in each of
// those spellings; a member that only looks alike is not.
func TestKeyfuncRefusesBoundTokenSpellings(t *testing.T) {
	const jkt = `{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}`
	tests := []struct {
		name   string
		member string
		bound  bool
	}{
		{name: "cnf", member: `"cnf"`, bound: true},
		{name: "upper case", member: `"CNF"`, bound: true},
		{name: "mixed case", member: `"Cnf"`, bound: true},
		{name: "escaped", member: `"c\u006ef"`, bound: true},
		{name: "other name", member: `"cnf_"`, bound: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := testkit.SignRaw(t, "HS256", testkit.Secret, `{"alg":"HS256","kid":"hs","typ":"JWT"}`,
				testkit.Claims(`,`+tc.member+`:`+jkt))
			_, err := parse(keySet(t), tok)
			if tc.bound {
				assert.Error(t, err, "a bound token accepted as a bearer token")
			} else {
				assert.NoError(t, err)
			}
		})
	}
}
