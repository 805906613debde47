package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// TestMintDPoPJKT: --dpop-jkt mints a token bound to a DPoP key, which a
// service with DPoP allowed accepts with that key's proof only; a malformed
// thumbprint is refused, and --verify passes a bound token.
func TestMintDPoPJKT(t *testing.T) {
	key := scopedtokentest.NewDPoPKey(t, "", nil)
	r := cli("mint", "--kid", "k1", "--secret", testSecret, "--aud", searchPath, "--dpop-jkt", key.Thumbprint(), "--verify")
	require.Equal(t, exitOK, r.code, r.stderr)
	token := r.lastLine()

	set, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: []byte(testSecret)})
	require.NoError(t, err)
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: set, AllowMeWithoutBusiness: true, DPoPAllowed: true,
		DPoPOrigin: "https://api.example.com", Revocations: scopedtoken.NewMemoryRevocations(nil)})
	require.NoError(t, err)
	tok, err := mw.VerifyUnused(context.Background(), token, searchPath)
	require.NoError(t, err)
	assert.Equal(t, key.Thumbprint(), tok.KeyThumbprint())
	send := func(scheme, proof string) int {
		req := httptest.NewRequest(http.MethodGet, searchPath, nil)
		req.Header.Set("Authorization", scheme+" "+token)
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		rec := httptest.NewRecorder()
		mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, http.StatusOK, send("DPoP", key.Proof(http.MethodGet, "https://api.example.com"+searchPath, token)))
	assert.Equal(t, http.StatusUnauthorized, send("Bearer", ""))

	r = cli("mint", "--kid", "k1", "--secret", testSecret, "--aud", searchPath, "--dpop-jkt", "not-a-thumbprint")
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "DPoPThumbprint")
	r = cli("mint", "--config", "x.json", "--page", "/", "--dpop-jkt", key.Thumbprint())
	assert.Equal(t, exitUsage, r.code)
}
