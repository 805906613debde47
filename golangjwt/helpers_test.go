package golangjwt_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/golangjwt"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
	"github.com/scopedtoken/scopedtoken/mint"
)

// The tests of this package parse with golang-jwt through the Keyfunc and
// compare with the middleware; keys, clock and raw signing come from
// internal/testkit, valid tokens from package mint.

// issuer is the issuer that the key "bound" is bound to; the key "multi"
// accepts it and secondIssuer.
const (
	issuer       = "https://id.example"
	secondIssuer = "https://login.custom.example/"
)

// fixture is one key of the tests' set: its kid, the signing half and the
// key the set holds.
type fixture struct {
	kid, alg string
	signer   any // []byte or crypto.Signer, for testkit.SignRaw and mint
	issuer   string
	issuers  []string // Key.Issuers
}

// fixtures are the keys of the tests' set: every algorithm family, the RFC
// 9864 name of Ed25519, a key bound to one issuer and one bound to two.
func fixtures(t testing.TB) []fixture {
	k := testkit.Keys(t)
	return []fixture{
		{kid: "hs", alg: "HS256", signer: testkit.Secret},
		{kid: "rs", alg: "RS256", signer: k.RSA},
		{kid: "ps", alg: "PS256", signer: k.RSA},
		{kid: "es", alg: "ES256", signer: k.EC},
		{kid: "ed", alg: "EdDSA", signer: k.Ed},
		{kid: "ed9864", alg: "Ed25519", signer: k.Ed},
		{kid: "bound", alg: "ES256", signer: k.EC, issuer: issuer},
		{kid: "multi", alg: "ES256", signer: k.EC, issuers: []string{issuer, secondIssuer}},
	}
}

// fixtureOf is the fixture of kid.
func fixtureOf(t testing.TB, kid string) fixture {
	t.Helper()
	for _, f := range fixtures(t) {
		if f.kid == kid {
			return f
		}
	}
	t.Fatalf("no fixture %q", kid)
	return fixture{}
}

// key is the verification half of f, as a KeySet takes it.
func (f fixture) key() scopedtoken.Key {
	key := scopedtoken.Key{ID: f.kid, Algorithm: f.alg, BusinessID: "42", Issuer: f.issuer, Issuers: f.issuers}
	if secret, ok := f.signer.([]byte); ok {
		key.Secret = secret
	} else {
		key.PublicKey = f.signer.(crypto.Signer).Public()
	}
	return key
}

// iss is an iss that f's key accepts: its Issuer, else its first Issuers
// entry, else "" (any).
func (f fixture) iss() string {
	if f.issuer == "" && len(f.issuers) > 0 {
		return f.issuers[0]
	}
	return f.issuer
}

// mint mints a valid token for testkit.Path with f's key.
func (f fixture) mint(t testing.TB, c mint.Claims) string {
	t.Helper()
	key := mint.Key{ID: f.kid, Algorithm: f.alg}
	if secret, ok := f.signer.([]byte); ok {
		key.Secret = secret
	} else {
		key.PrivateKey = f.signer.(crypto.Signer)
	}
	m, err := mint.New(mint.Config{Key: key, Now: clock})
	require.NoError(t, err)
	if c.Audience == nil {
		c.Audience = []string{testkit.Path}
	}
	if c.Issuer == "" {
		c.Issuer = f.iss()
	}
	tok, err := m.Mint(c)
	require.NoError(t, err)
	return tok
}

// clock is the tests' fixed time.
func clock() time.Time { return testkit.Now }

// keySet holds every fixture.
func keySet(t testing.TB) scopedtoken.KeySet {
	t.Helper()
	var keys []scopedtoken.Key
	for _, f := range fixtures(t) {
		keys = append(keys, f.key())
	}
	ks, err := scopedtoken.StaticKeys(keys...)
	require.NoError(t, err)
	return ks
}

// parse parses tok with golang-jwt through the Keyfunc over keys, with
// ParserOptions, the fixed clock and then opts.
func parse(keys scopedtoken.KeySet, tok string, opts ...jwt.ParserOption) (*jwt.Token, error) {
	opts = append(append(golangjwt.ParserOptions(), jwt.WithTimeFunc(clock)), opts...)
	return jwt.NewParser(opts...).Parse(tok, golangjwt.Keyfunc(context.Background(), keys))
}

// signPSS signs header and claims under PS256 with a salt of saltLength
// bytes (RFC 7518 §3.5 asks for 32).
func signPSS(t testing.TB, key *rsa.PrivateKey, header, claims string, saltLength int) string {
	t.Helper()
	input := testkit.B64(header) + "." + testkit.B64(claims)
	digest := crypto.SHA256.New()
	digest.Write([]byte(input))
	sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest.Sum(nil), &rsa.PSSOptions{SaltLength: saltLength})
	require.NoError(t, err)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}
