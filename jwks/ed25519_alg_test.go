package jwks

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// TestRemoteEd25519Alg checks that a remote JWK with "alg":"Ed25519" is used
// and bound to Ed25519, while an Ed25519 JWK without alg keeps defaulting to
// EdDSA.
func TestRemoteEd25519Alg(t *testing.T) {
	k := testkit.Keys(t)
	srv := newJWKSServer(t,
		jwk("ed-new", "Ed25519", "sig", k.Ed.Public()),
		jwk("ed-old", "EdDSA", "sig", k.Ed.Public()),
		jwk("ed-none", "", "sig", k.Ed.Public()),
		jwk("rsa-ed", "Ed25519", "sig", &k.RSA.PublicKey),
	)
	remote := newRemote(t, Config{URL: srv.URL, MinRefreshInterval: time.Hour})
	for kid, want := range map[string]string{"ed-new": "Ed25519", "ed-old": "EdDSA", "ed-none": "EdDSA"} {
		vk, err := remote.LookupKey(t.Context(), kid)
		require.NoError(t, err, kid)
		assert.Equal(t, want, vk.Algorithm(), kid)
	}
	_, err := remote.LookupKey(t.Context(), "rsa-ed")
	assert.ErrorIs(t, err, scopedtoken.ErrUnknownKID, "an RSA JWK labelled Ed25519 is never used")

	m := remoteMiddleware(t, remote)
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
	k := testkit.Keys(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: testkit.Now.Add(-time.Hour), NotAfter: testkit.Now.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Ed.Public(), k.Ed)
	require.NoError(t, err)
	withX5C := func(kid, alg string) map[string]any {
		j := jwk(kid, alg, "sig", k.Ed.Public())
		j["x5c"] = []string{base64.StdEncoding.EncodeToString(der)}
		return j
	}
	// A certificate of another key: jwkset's full validation still refuses it
	// when the JWK says Ed25519.
	_, other, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	otherDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, other.Public(), other)
	require.NoError(t, err)
	mismatch := jwk("x5c-mismatch", "Ed25519", "sig", k.Ed.Public())
	mismatch["x5c"] = []string{base64.StdEncoding.EncodeToString(otherDER)}
	srv := newJWKSServer(t, withX5C("x5c-ed25519", "Ed25519"), withX5C("x5c-eddsa", "EdDSA"), jwk("plain", "Ed25519", "sig", k.Ed.Public()), mismatch)
	remote := newRemote(t, Config{URL: srv.URL, MinRefreshInterval: time.Hour})
	_, err = remote.LookupKey(t.Context(), "x5c-mismatch")
	assert.ErrorIs(t, err, scopedtoken.ErrUnknownKID, "a certificate of another key is refused under Ed25519 too")
	for kid, alg := range map[string]string{"x5c-ed25519": "Ed25519", "x5c-eddsa": "EdDSA", "plain": "Ed25519"} {
		vk, err := remote.LookupKey(t.Context(), kid)
		require.NoError(t, err, kid)
		assert.Equal(t, alg, vk.Algorithm(), kid)
	}
}

// assertEdAlg sends a token signed by the test Ed25519 key with header alg
// and kid through m: it must pass, or be refused with reason (401).
func assertEdAlg(t *testing.T, m *scopedtoken.Middleware, kid, alg, reason string) {
	t.Helper()
	res := send(m, testkit.SignRaw(t, alg, testkit.Keys(t).Ed, `{"alg":"`+alg+`","kid":"`+kid+`","typ":"JWT"}`, testkit.Claims("")))
	if reason == "" {
		assert.Equal(t, http.StatusOK, res.Code, res.Reason)
		return
	}
	assertRefused(t, res, http.StatusUnauthorized, reason)
}
