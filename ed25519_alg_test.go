package scopedtoken

import (
	"net/http"
	"strings"
	"testing"

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
	minter, err := NewMinterForTest(MintConfig{
		Key:    MintKey{ID: "ed", Algorithm: "Ed25519", PrivateKey: k.ed},
		Now:    fixedClock,
		Verify: m,
	})
	require.NoError(t, err)
	tok, err := minter.Mint(MintClaims{Audience: []string{"/v2/accounts/me/search"}})
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
			_, err = NewMinterForTest(MintConfig{Key: MintKey{ID: "x", Algorithm: alg, PrivateKey: k.ec}})
			assert.ErrorIs(t, err, ErrMintForTest)
			_, err = NewMinterForTest(MintConfig{Key: MintKey{ID: "x", Algorithm: alg, Secret: testSecret}})
			assert.ErrorIs(t, err, ErrMintForTest)
		})
	}
}
