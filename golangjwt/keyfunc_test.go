package golangjwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/golangjwt"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
	"github.com/scopedtoken/scopedtoken/mint"
)

// TestKeyfunc parses valid and hostile tokens with golang-jwt through the
// Keyfunc, with ParserOptions and the fixed clock: the valid ones pass, and
// each hostile one is refused with the error that names its cause.
func TestKeyfunc(t *testing.T) {
	ks := keySet(t)
	k := testkit.Keys(t)
	claims := testkit.Claims("")
	// sign signs claims under alg with signer and the given header members
	// after alg.
	sign := func(alg string, signer any, members, claims string) string {
		return testkit.SignRaw(t, alg, signer, `{"alg":"`+alg+`"`+members+`}`, claims)
	}
	pkix, err := x509.MarshalPKIXPublicKey(&k.RSA.PublicKey)
	require.NoError(t, err)
	ecDER, err := x509.MarshalPKIXPublicKey(&k.EC.PublicKey)
	require.NoError(t, err)
	attacker, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	attackerJWK := string(testkit.JWK(t, "es", &attacker.PublicKey))

	tests := []struct {
		name  string
		token string
		want  error // nil: accepted
	}{
		{name: "HS256 minted", token: fixtureOf(t, "hs").mint(t, mint.Claims{})},
		{name: "RS256 minted", token: fixtureOf(t, "rs").mint(t, mint.Claims{})},
		{name: "PS256 minted", token: fixtureOf(t, "ps").mint(t, mint.Claims{})},
		{name: "ES256 minted", token: fixtureOf(t, "es").mint(t, mint.Claims{})},
		{name: "EdDSA minted", token: fixtureOf(t, "ed").mint(t, mint.Claims{})},
		{name: "issuer-bound key, its issuer", token: fixtureOf(t, "bound").mint(t, mint.Claims{})},
		{name: "typ JWT in any case", token: sign("ES256", k.EC, `,"kid":"es","typ":"jwt"`, claims)},
		// golang-jwt v5.3.1 has no method for the RFC 9864 name: it refuses
		// before asking for a key.
		{name: "Ed25519 minted", token: fixtureOf(t, "ed9864").mint(t, mint.Claims{}), want: jwt.ErrTokenUnverifiable},

		// alg confusion: public key bytes used as an HMAC secret.
		{name: "RSA PKIX PEM as HS256 secret", token: sign("HS256", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}), `,"kid":"rs"`, claims), want: scopedtoken.ErrAlgMismatch},
		{name: "RSA PKIX DER as HS256 secret under a PS key", token: sign("HS256", pkix, `,"kid":"ps"`, claims), want: scopedtoken.ErrAlgMismatch},
		{name: "RSA modulus as HS512 secret", token: sign("HS512", append(k.RSA.N.Bytes(), k.RSA.N.Bytes()...), `,"kid":"rs"`, claims), want: scopedtoken.ErrAlgMismatch},
		{name: "EC DER as HS256 secret", token: sign("HS256", ecDER, `,"kid":"es"`, claims), want: scopedtoken.ErrAlgMismatch},
		{name: "Ed25519 raw key as HS256 secret", token: sign("HS256", []byte(k.Ed.Public().(ed25519.PublicKey)), `,"kid":"ed"`, claims), want: scopedtoken.ErrAlgMismatch},

		// alg none and its spellings, a missing alg.
		{name: "alg none, empty signature", token: testkit.Unsigned(`{"alg":"none","kid":"hs"}`, claims, ""), want: scopedtoken.ErrAlgMismatch},
		{name: "alg none with a signature", token: testkit.Unsigned(`{"alg":"none","kid":"hs"}`, claims, "AAAA"), want: scopedtoken.ErrAlgMismatch},
		{name: "alg None", token: testkit.Unsigned(`{"alg":"None","kid":"hs"}`, claims, ""), want: jwt.ErrTokenUnverifiable},
		{name: "alg NONE", token: testkit.Unsigned(`{"alg":"NONE","kid":"hs"}`, claims, ""), want: jwt.ErrTokenUnverifiable},
		{name: "no alg", token: testkit.Unsigned(`{"kid":"hs"}`, claims, "AAAA"), want: jwt.ErrTokenUnverifiable},

		// The kid.
		{name: "no kid", token: sign("HS256", testkit.Secret, ``, claims), want: scopedtoken.ErrMissingKID},
		{name: "empty kid", token: sign("HS256", testkit.Secret, `,"kid":""`, claims), want: scopedtoken.ErrMissingKID},
		{name: "number kid", token: sign("HS256", testkit.Secret, `,"kid":7`, claims), want: scopedtoken.ErrMissingKID},
		{name: "null kid", token: sign("HS256", testkit.Secret, `,"kid":null`, claims), want: scopedtoken.ErrMissingKID},
		{name: "array kid", token: sign("HS256", testkit.Secret, `,"kid":["hs"]`, claims), want: scopedtoken.ErrMissingKID},
		{name: "unknown kid", token: sign("HS256", testkit.Secret, `,"kid":"nobody"`, claims), want: scopedtoken.ErrUnknownKID},
		{name: "kid case variant", token: sign("HS256", testkit.Secret, `,"kid":"HS"`, claims), want: scopedtoken.ErrUnknownKID},
		{name: "kid in another case of its name", token: sign("HS256", testkit.Secret, `,"KID":"hs"`, claims), want: scopedtoken.ErrMissingKID},

		// The key's one algorithm.
		{name: "RS256 for a PS256 key", token: sign("RS256", k.RSA, `,"kid":"ps"`, claims), want: scopedtoken.ErrAlgMismatch},
		{name: "PS256 for an RS256 key", token: sign("PS256", k.RSA, `,"kid":"rs"`, claims), want: scopedtoken.ErrAlgMismatch},
		{name: "RS512 for an RS256 key", token: sign("RS512", k.RSA, `,"kid":"rs"`, claims), want: scopedtoken.ErrAlgMismatch},
		{name: "ES384 for an ES256 key", token: testkit.Unsigned(`{"alg":"ES384","kid":"es"}`, claims, "AAAA"), want: scopedtoken.ErrAlgMismatch},
		{name: "HS384 for an HS256 key", token: testkit.Unsigned(`{"alg":"HS384","kid":"hs"}`, claims, "AAAA"), want: scopedtoken.ErrAlgMismatch},
		{name: "EdDSA for an Ed25519 key", token: sign("EdDSA", k.Ed, `,"kid":"ed9864"`, claims), want: scopedtoken.ErrAlgMismatch},

		// Issuer binding.
		{name: "bound key, no iss", token: sign("ES256", k.EC, `,"kid":"bound"`, claims), want: scopedtoken.ErrIssuerMismatch},
		{name: "bound key, another iss", token: sign("ES256", k.EC, `,"kid":"bound"`, testkit.Claims(`,"iss":"https://evil.example"`)), want: scopedtoken.ErrIssuerMismatch},
		{name: "bound key, iss with a trailing slash", token: sign("ES256", k.EC, `,"kid":"bound"`, testkit.Claims(`,"iss":"`+issuer+`/"`)), want: scopedtoken.ErrIssuerMismatch},
		{name: "bound key, iss in another case", token: sign("ES256", k.EC, `,"kid":"bound"`, testkit.Claims(`,"iss":"HTTPS://ID.EXAMPLE"`)), want: scopedtoken.ErrIssuerMismatch},
		{name: "bound key, number iss", token: sign("ES256", k.EC, `,"kid":"bound"`, testkit.Claims(`,"iss":7`)), want: scopedtoken.ErrInvalidClaims},
		{name: "bound key, its iss escaped", token: sign("ES256", k.EC, `,"kid":"bound"`, testkit.Claims(`,"iss":"https:\/\/id.example"`))},
		{name: "unbound key, any iss", token: sign("ES256", k.EC, `,"kid":"es"`, testkit.Claims(`,"iss":"https://evil.example"`))},
		{name: "two-issuer key, its first issuer", token: fixtureOf(t, "multi").mint(t, mint.Claims{})},
		{name: "two-issuer key, its second issuer", token: fixtureOf(t, "multi").mint(t, mint.Claims{Issuer: secondIssuer})},
		{name: "two-issuer key, second issuer escaped", token: sign("ES256", k.EC, `,"kid":"multi"`, testkit.Claims(`,"iss":"https:\/\/login.custom.example\u002f"`))},
		{name: "two-issuer key, no iss", token: sign("ES256", k.EC, `,"kid":"multi"`, claims), want: scopedtoken.ErrIssuerMismatch},
		{name: "two-issuer key, another iss", token: sign("ES256", k.EC, `,"kid":"multi"`, testkit.Claims(`,"iss":"https://evil.example"`)), want: scopedtoken.ErrIssuerMismatch},
		{name: "two-issuer key, second issuer without its slash", token: sign("ES256", k.EC, `,"kid":"multi"`, testkit.Claims(`,"iss":"https://login.custom.example"`)), want: scopedtoken.ErrIssuerMismatch},
		{name: "two-issuer key, second issuer in another case", token: sign("ES256", k.EC, `,"kid":"multi"`, testkit.Claims(`,"iss":"HTTPS://login.custom.example/"`)), want: scopedtoken.ErrIssuerMismatch},
		{name: "two-issuer key, both issuers in an array", token: sign("ES256", k.EC, `,"kid":"multi"`, testkit.Claims(`,"iss":["`+issuer+`","`+secondIssuer+`"]`)), want: scopedtoken.ErrInvalidClaims},
		{name: "one-issuer key, the other key's second issuer", token: sign("ES256", k.EC, `,"kid":"bound"`, testkit.Claims(`,"iss":"`+secondIssuer+`"`)), want: scopedtoken.ErrIssuerMismatch},

		// exp, required whatever the parser's options.
		{name: "no exp", token: fixtureOf(t, "es").mint(t, mint.Claims{NoExpiry: true}), want: scopedtoken.ErrMissingExp},
		{name: "string exp", token: sign("ES256", k.EC, `,"kid":"es"`, `{"aud":"`+testkit.Path+`","exp":"soon"}`), want: scopedtoken.ErrInvalidClaims},

		// Header parameters golang-jwt ignores.
		{name: "crit", token: sign("ES256", k.EC, `,"kid":"es","crit":["exp"]`, claims), want: scopedtoken.ErrUnsupportedHeader},
		{name: "b64 false", token: sign("ES256", k.EC, `,"kid":"es","b64":false`, claims), want: scopedtoken.ErrUnsupportedHeader},
		{name: "typ at+jwt", token: sign("ES256", k.EC, `,"kid":"es","typ":"at+jwt"`, claims), want: scopedtoken.ErrUnsupportedHeader},
		{name: "number typ", token: sign("ES256", k.EC, `,"kid":"es","typ":1`, claims), want: scopedtoken.ErrUnsupportedHeader},

		// Signatures.
		{name: "another key under the kid", token: sign("ES256", attacker, `,"kid":"es"`, claims), want: jwt.ErrTokenSignatureInvalid},
		{name: "embedded jwk of the signer", token: sign("ES256", attacker, `,"kid":"es","jwk":`+attackerJWK, claims), want: jwt.ErrTokenSignatureInvalid},
		{name: "claims changed after signing", token: tamper(t, fixtureOf(t, "rs").mint(t, mint.Claims{})), want: jwt.ErrTokenSignatureInvalid},
		{name: "HS256 with another secret", token: sign("HS256", []byte("another secret of thirty-two by"), `,"kid":"hs"`, claims), want: jwt.ErrTokenSignatureInvalid},
		{name: "PS256 with the salt length of RFC 7518", token: signPSS(t, k.RSA, `{"alg":"PS256","kid":"ps"}`, claims, 32)},
		{name: "PS256 without salt", token: signPSS(t, k.RSA, `{"alg":"PS256","kid":"ps"}`, claims, 0), want: jwt.ErrTokenSignatureInvalid},
		{name: "PS256 with the longest salt", token: signPSS(t, k.RSA, `{"alg":"PS256","kid":"ps"}`, claims, rsa.PSSSaltLengthAuto), want: jwt.ErrTokenSignatureInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := parse(ks, tc.token)
			if tc.want == nil {
				require.NoError(t, err)
				assert.True(t, tok.Valid)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.NotContains(t, err.Error(), string(testkit.Secret), "errors never hold key material")
		})
	}
}

// tamper adds a claim to tok and keeps its signature.
func tamper(t testing.TB, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	return parts[0] + "." + testkit.B64(string(raw[:len(raw)-1])+`,"x":1}`) + "." + parts[2]
}

// TestKeyfuncKeyTypes: the key goes to golang-jwt in the type its method
// takes, HMAC secrets as copies, and PS* tokens get a method that verifies
// with the salt length of RFC 7518 §3.5 only.
func TestKeyfuncKeyTypes(t *testing.T) {
	ks := keySet(t)
	k := testkit.Keys(t)
	keyOf := func(t *testing.T, alg, kid string) (*jwt.Token, any) {
		t.Helper()
		claims := jwt.MapClaims{"exp": float64(testkit.Exp), "iss": issuer}
		payload, err := json.Marshal(claims)
		require.NoError(t, err)
		tok := &jwt.Token{
			// Raw as golang-jwt's parser sets it: Keyfunc reads the payload.
			Raw:    "e30." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln",
			Header: map[string]any{"alg": alg, "kid": kid},
			Method: jwt.GetSigningMethod(alg),
			Claims: claims,
		}
		key, err := golangjwt.Keyfunc(t.Context(), ks)(tok)
		require.NoError(t, err)
		return tok, key
	}
	tests := []struct {
		alg, kid string
		want     any
	}{
		{alg: "HS256", kid: "hs", want: testkit.Secret},
		{alg: "RS256", kid: "rs", want: &k.RSA.PublicKey},
		{alg: "PS256", kid: "ps", want: &k.RSA.PublicKey},
		{alg: "ES256", kid: "es", want: &k.EC.PublicKey},
		{alg: "EdDSA", kid: "ed", want: k.Ed.Public().(ed25519.PublicKey)},
	}
	for _, tc := range tests {
		t.Run(tc.alg, func(t *testing.T) {
			_, key := keyOf(t, tc.alg, tc.kid)
			assert.IsType(t, tc.want, key)
			assert.Equal(t, tc.want, key)
		})
	}
	t.Run("a secret is a copy", func(t *testing.T) {
		_, key := keyOf(t, "HS256", "hs")
		key.([]byte)[0] ^= 0xff
		_, again := keyOf(t, "HS256", "hs")
		assert.Equal(t, testkit.Secret, again, "changing what Keyfunc returned does not change the key")
	})
	t.Run("PS256 gets a method with the fixed salt", func(t *testing.T) {
		tok, _ := keyOf(t, "PS256", "ps")
		m, ok := tok.Method.(*jwt.SigningMethodRSAPSS)
		require.True(t, ok)
		assert.Equal(t, "PS256", m.Alg())
		assert.Nil(t, m.VerifyOptions, "golang-jwt's PS256 verifies any salt length with VerifyOptions")
		assert.Equal(t, rsa.PSSSaltLengthEqualsHash, m.Options.SaltLength)
		assert.NotSame(t, jwt.SigningMethodPS256, m, "golang-jwt's own method is not changed")
		assert.Equal(t, rsa.PSSSaltLengthAuto, jwt.SigningMethodPS256.VerifyOptions.SaltLength)
	})
	t.Run("golang-jwt alone takes any PSS salt", func(t *testing.T) {
		// The control of "PS256 without salt" in TestKeyfunc: without the
		// method swap, golang-jwt would accept it.
		tok := signPSS(t, k.RSA, `{"alg":"PS256","kid":"ps"}`, testkit.Claims(""), 0)
		_, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return &k.RSA.PublicKey, nil }, jwt.WithTimeFunc(clock))
		assert.NoError(t, err)
	})
}

// TestKeyfuncKeySetErrors: the KeySet's own errors reach the caller, so a
// set that cannot fetch its keys is told apart from a token's fault.
func TestKeyfuncKeySetErrors(t *testing.T) {
	unavailable := fmt.Errorf("%w: the JWK Set could not be fetched", scopedtoken.ErrKeysUnavailable)
	tok := testkit.SignRaw(t, "HS256", testkit.Secret, `{"alg":"HS256","kid":"hs"}`, testkit.Claims(""))
	_, err := parse(keySetFunc(func(context.Context, string) (*scopedtoken.VerificationKey, error) { return nil, unavailable }), tok)
	assert.ErrorIs(t, err, scopedtoken.ErrKeysUnavailable)

	t.Run("the lookup gets the Keyfunc's context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var got context.Context
		ks := keySetFunc(func(ctx context.Context, _ string) (*scopedtoken.VerificationKey, error) {
			got = ctx
			return nil, scopedtoken.ErrUnknownKID
		})
		_, err := jwt.Parse(tok, golangjwt.Keyfunc(ctx, ks))
		assert.ErrorIs(t, err, scopedtoken.ErrUnknownKID)
		assert.Equal(t, ctx, got)
	})
	t.Run("a buggy set: no key, or another kid's", func(t *testing.T) {
		other, err := scopedtoken.NewVerificationKey(scopedtoken.Key{ID: "other", Algorithm: "HS256", Secret: testkit.Secret})
		require.NoError(t, err)
		for _, key := range []*scopedtoken.VerificationKey{nil, other} {
			_, err := parse(keySetFunc(func(context.Context, string) (*scopedtoken.VerificationKey, error) { return key, nil }), tok)
			assert.ErrorIs(t, err, scopedtoken.ErrUnknownKID)
		}
	})
	t.Run("no KeySet", func(t *testing.T) {
		assert.PanicsWithValue(t, "golangjwt: Keyfunc needs a KeySet", func() { golangjwt.Keyfunc(t.Context(), nil) })
	})
}

// keySetFunc is a KeySet made of a function.
type keySetFunc func(ctx context.Context, kid string) (*scopedtoken.VerificationKey, error)

func (f keySetFunc) LookupKey(ctx context.Context, kid string) (*scopedtoken.VerificationKey, error) {
	return f(ctx, kid)
}
