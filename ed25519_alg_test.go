package scopedtoken

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEd25519AlgorithmBinding checks that the RFC 9864 name Ed25519 is an
// algorithm of its own: a key bound to it accepts only alg "Ed25519", and a
// key bound to EdDSA only alg "EdDSA", although both verify the same
// signatures with the same key.
func TestEd25519AlgorithmBinding(t *testing.T) {
	k := genKeys(t)
	ks, err := StaticKeys(
		Key{ID: "ed-new", Algorithm: "Ed25519", PublicKey: k.ed.Public()},
		Key{ID: "ed-old", Algorithm: "EdDSA", PublicKey: k.ed.Public()},
	)
	require.NoError(t, err)
	m, err := New(Config{AllowMeWithoutBusiness: true, Keys: ks, Now: fixedClock})
	require.NoError(t, err)
	tests := []struct {
		name, kid, alg string
		reason         string
	}{
		{name: "Ed25519 key accepts alg Ed25519", kid: "ed-new", alg: "Ed25519"},
		{name: "Ed25519 key refuses alg EdDSA", kid: "ed-new", alg: "EdDSA", reason: "alg_mismatch"},
		{name: "EdDSA key accepts alg EdDSA", kid: "ed-old", alg: "EdDSA"},
		{name: "EdDSA key refuses alg Ed25519", kid: "ed-old", alg: "Ed25519", reason: "alg_mismatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { assertEdAlg(t, m, tc.kid, tc.alg, tc.reason) })
	}
}

// assertEdAlg sends a token signed by the test Ed25519 key with header alg
// and kid through m: it must pass, or be refused with reason (401).
func assertEdAlg(t *testing.T, m *Middleware, kid, alg, reason string) {
	t.Helper()
	tok := signRaw(t, alg, genKeys(t).ed, `{"alg":"`+alg+`","kid":"`+kid+`","typ":"JWT"}`, claimsJSON(t, validClaims()))
	res := serve(t, m, bearer("/v2/accounts/me/search", tok))
	if reason == "" {
		assert.Equal(t, http.StatusOK, res.code, res.body)
		return
	}
	assertRefused(t, res, http.StatusUnauthorized, reason)
}

// TestEd25519MintRoundTrip mints with alg Ed25519 and verifies the token, and
// checks that the key type is enforced for both names on both sides.
func TestEd25519MintRoundTrip(t *testing.T) {
	k := genKeys(t)
	ks, err := StaticKeys(Key{ID: "ed", Algorithm: "Ed25519", PublicKey: k.ed.Public()})
	require.NoError(t, err)
	m, err := New(Config{AllowMeWithoutBusiness: true, Keys: ks, Now: fixedClock})
	require.NoError(t, err)
	minter, err := NewMinter(MinterConfig{
		Key:    SigningKey{ID: "ed", Algorithm: "Ed25519", PrivateKey: k.ed},
		Now:    fixedClock,
		Verify: m,
	})
	require.NoError(t, err)
	tok, err := minter.Mint(Claims{Audience: []string{"/v2/accounts/me/search"}})
	require.NoError(t, err)
	header, _, _ := strings.Cut(tok, ".")
	assert.Equal(t, b64(`{"alg":"Ed25519","kid":"ed","typ":"JWT"}`), header)
	got, err := m.Verify(t.Context(), tok, "/v2/accounts/me/search")
	require.NoError(t, err)
	assert.Equal(t, "Ed25519", got.Algorithm())

	for _, alg := range []string{"Ed25519", "EdDSA"} {
		t.Run(alg+" refuses other key types", func(t *testing.T) {
			_, err := NewVerificationKey(Key{ID: "x", Algorithm: alg, PublicKey: &k.ec.PublicKey})
			assert.ErrorIs(t, err, ErrBadKey)
			_, err = NewMinter(MinterConfig{Key: SigningKey{ID: "x", Algorithm: alg, PrivateKey: k.ec}})
			assert.ErrorIs(t, err, ErrMint)
			_, err = NewMinter(MinterConfig{Key: SigningKey{ID: "x", Algorithm: alg, Secret: testSecret}})
			assert.ErrorIs(t, err, ErrMint)
		})
	}
}

// TestRemoteEd25519Alg checks that a remote JWK with "alg":"Ed25519" is used
// and bound to Ed25519, while an Ed25519 JWK without alg keeps defaulting to
// EdDSA.
func TestRemoteEd25519Alg(t *testing.T) {
	k := genKeys(t)
	srv := newJWKSServer(t,
		jwk("ed-new", "Ed25519", "sig", k.ed.Public()),
		jwk("ed-old", "EdDSA", "sig", k.ed.Public()),
		jwk("ed-none", "", "sig", k.ed.Public()),
		jwk("rsa-ed", "Ed25519", "sig", &k.rsa.PublicKey),
	)
	remote := newRemote(t, RemoteConfig{URL: srv.URL, MinRefreshInterval: time.Hour})
	for kid, want := range map[string]string{"ed-new": "Ed25519", "ed-old": "EdDSA", "ed-none": "EdDSA"} {
		vk, err := remote.LookupKey(t.Context(), kid)
		require.NoError(t, err, kid)
		assert.Equal(t, want, vk.Algorithm(), kid)
	}
	_, err := remote.LookupKey(t.Context(), "rsa-ed")
	assert.ErrorIs(t, err, ErrUnknownKID, "an RSA JWK labelled Ed25519 is never used")

	m, err := New(Config{AllowMeWithoutBusiness: true, Keys: remote, Now: fixedClock})
	require.NoError(t, err)
	tests := []struct {
		kid, alg, reason string
	}{
		{kid: "ed-new", alg: "Ed25519"},
		{kid: "ed-new", alg: "EdDSA", reason: "alg_mismatch"},
		{kid: "ed-none", alg: "EdDSA"},
		{kid: "ed-none", alg: "Ed25519", reason: "alg_mismatch"},
	}
	for _, tc := range tests {
		t.Run(tc.kid+" with "+tc.alg, func(t *testing.T) { assertEdAlg(t, m, tc.kid, tc.alg, tc.reason) })
	}
}

// TestRemoteEd25519AlgWithX5C records a limit of jwkset v0.11.4: a JWK whose
// x5c certificate holds an Ed25519 key must say alg "EdDSA", so one that says
// "Ed25519" fails jwkset's validation and is skipped (never used), while the
// other keys of the set are used. The same JWK with alg EdDSA is used.
func TestRemoteEd25519AlgWithX5C(t *testing.T) {
	k := genKeys(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.ed.Public(), k.ed)
	require.NoError(t, err)
	withX5C := func(kid, alg string) map[string]any {
		j := jwk(kid, alg, "sig", k.ed.Public())
		j["x5c"] = []string{base64.StdEncoding.EncodeToString(der)}
		return j
	}
	// A certificate of another key: jwkset's full validation still refuses it
	// when the JWK says Ed25519.
	_, other, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	otherDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, other.Public(), other)
	require.NoError(t, err)
	mismatch := jwk("x5c-mismatch", "Ed25519", "sig", k.ed.Public())
	mismatch["x5c"] = []string{base64.StdEncoding.EncodeToString(otherDER)}
	srv := newJWKSServer(t, withX5C("x5c-ed25519", "Ed25519"), withX5C("x5c-eddsa", "EdDSA"), jwk("plain", "Ed25519", "sig", k.ed.Public()), mismatch)
	remote := newRemote(t, RemoteConfig{URL: srv.URL, MinRefreshInterval: time.Hour})
	_, err = remote.LookupKey(t.Context(), "x5c-mismatch")
	assert.ErrorIs(t, err, ErrUnknownKID, "a certificate of another key is refused under Ed25519 too")
	for kid, alg := range map[string]string{"x5c-ed25519": "Ed25519", "x5c-eddsa": "EdDSA", "plain": "Ed25519"} {
		vk, err := remote.LookupKey(t.Context(), kid)
		require.NoError(t, err, kid)
		assert.Equal(t, alg, vk.Algorithm(), kid)
	}
}
