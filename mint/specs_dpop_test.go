package mint_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// specsDPoPFile has a spec that requires binding ("dpop": true) beside one
// that does not, both for the home page.
const specsDPoPFile = `[
  {"name": "bound", "keyId": "k", "claims": {"aud": "/v2/accounts/me/search"}, "scope": "^/$", "dpop": true},
  {"name": "plain", "keyId": "k", "claims": {"aud": "/v2/accounts/me/answers"}, "dpop": false}
]`

// TestSpecDPoP: a spec with "dpop": true never hands out an unbound token
// (MintForPage leaves it out), MintForPageBound binds every token of the
// page to the key's thumbprint, and a bound token passes the middleware
// only with a proof of that key (docs/dpop.md).
func TestSpecDPoP(t *testing.T) {
	set, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k", Algorithm: "HS256", Secret: []byte(specHexSecret)})
	require.NoError(t, err)
	mw, err := scopedtoken.New(scopedtoken.Config{AllowMeWithoutBusiness: true, Keys: set, Now: specClock,
		DPoPAllowed: true, Revocations: scopedtoken.NewMemoryRevocations(specClock)})
	require.NoError(t, err)
	specs, err := mint.LoadSpecs(strings.NewReader(specsDPoPFile), mint.SpecsConfig{
		Keys: specEnv(map[string]string{"SCOPEDTOKEN_SECRET_k": specHexSecret}), Now: specClock, Verify: mw,
	})
	require.NoError(t, err)
	got := specs.Specs()
	require.Len(t, got, 2)
	assert.True(t, got[0].DPoP)
	assert.False(t, got[1].DPoP)

	t.Run("MintForPage leaves the bound spec out", func(t *testing.T) {
		tokens, err := specs.MintForPage("/")
		require.NoError(t, err)
		assert.Equal(t, []string{"plain"}, keys(tokens))
		tok, err := mw.Verify(context.Background(), tokens["plain"], "/v2/accounts/me/answers")
		require.NoError(t, err)
		assert.Empty(t, tok.KeyThumbprint(), "unbound")
	})

	key := scopedtokentest.NewDPoPKey(t, "ES256", specClock)
	tokens, err := specs.MintForPageBound("/", key.Thumbprint())
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"bound", "plain"}, keys(tokens))
	for name, path := range map[string]string{"bound": "/v2/accounts/me/search", "plain": "/v2/accounts/me/answers"} {
		t.Run(name+" is bound to the key", func(t *testing.T) {
			url := "http://api.example" + path
			call := func(scheme, proof string) int {
				r := httptest.NewRequest(http.MethodGet, url, nil)
				r.Header.Set("Authorization", scheme+" "+tokens[name])
				if proof != "" {
					r.Header.Set("DPoP", proof)
				}
				rec := httptest.NewRecorder()
				mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					tok, _ := scopedtoken.FromContext(r.Context())
					assert.Equal(t, key.Thumbprint(), tok.KeyThumbprint())
				})).ServeHTTP(rec, r)
				return rec.Code
			}
			assert.Equal(t, http.StatusOK, call("DPoP", key.Proof(http.MethodGet, url, tokens[name])))
			assert.Equal(t, http.StatusUnauthorized, call("Bearer", ""), "a bound token as Bearer")
			other := scopedtokentest.NewDPoPKey(t, "ES256", specClock)
			assert.Equal(t, http.StatusUnauthorized, call("DPoP", other.Proof(http.MethodGet, url, tokens[name])), "another key's proof")
		})
	}

	t.Run("MintForPageBound refuses a missing or malformed thumbprint", func(t *testing.T) {
		for _, jkt := range []string{"", "not-a-thumbprint"} {
			tokens, err := specs.MintForPageBound("/", jkt)
			require.Error(t, err, "%q", jkt)
			assert.ErrorIs(t, err, mint.ErrMint)
			assert.Nil(t, tokens)
		}
	})

	t.Run("dpop must be a boolean", func(t *testing.T) {
		for _, v := range []string{`"true"`, `1`, `null`} {
			_, err := specLoad(t, `[{"name":"a","keyId":"k","claims":{"aud":"/v2/accounts/me/search"},"dpop":`+v+`}]`,
				specEnv(map[string]string{"SCOPEDTOKEN_SECRET_k": specHexSecret}))
			require.ErrorIs(t, err, mint.ErrSpec, v)
			assert.ErrorContains(t, err, `"a": "dpop" must be true or false`)
		}
	})
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
