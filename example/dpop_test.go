package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/redisstore"
	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// publicOrigin is the origin the tests' demo instances are served at, as
// behind a load balancer: the requests reach them at other addresses.
const publicOrigin = "https://demo.example"

// answer is one response of a demo instance.
type answer struct {
	code      int
	body      string
	challenge string
}

// dpopCall sends method target to h with the headers given in pairs.
func dpopCall(h http.Handler, method, target string, header ...string) answer {
	r := httptest.NewRequest(method, "http://10.0.0.7:8080"+target, nil) // an instance's own address
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return answer{rec.Code, rec.Body.String(), rec.Header().Get("WWW-Authenticate")}
}

// boundTokens asks h's token endpoint for the home page's tokens with a
// proof of key, and requires them.
func boundTokens(t *testing.T, h http.Handler, proof string) map[string]string {
	t.Helper()
	a := dpopCall(h, http.MethodPost, "/site/tokens?page=/", "DPoP", proof)
	require.Equal(t, http.StatusOK, a.code, a.body)
	var toks map[string]string
	require.NoError(t, json.Unmarshal([]byte(a.body), &toks))
	return toks
}

const (
	tokensHTU = publicOrigin + "/site/tokens"
	searchHTU = publicOrigin + "/v2/accounts/me/search"
	search    = "/v2/accounts/me/search?input=pizza"
)

// TestDemoDPoP: the demo's token endpoint binds the page's tokens to the
// key of the proof that POST /site/tokens carries (htu under -origin, the
// query left out), GET keeps handing out unbound ones, and the API takes a
// bound token only with a fresh proof of that key (docs/dpop.md).
func TestDemoDPoP(t *testing.T) {
	d, err := newDemo(time.Now, options{origin: publicOrigin})
	require.NoError(t, err)
	key := scopedtokentest.NewDPoPKey(t, "ES256", nil)

	unbound := dpopCall(d.handler, http.MethodGet, "/site/tokens?page=/")
	require.Equal(t, http.StatusOK, unbound.code)
	var plain map[string]string
	require.NoError(t, json.Unmarshal([]byte(unbound.body), &plain))
	assert.Equal(t, http.StatusOK, dpopCall(d.handler, http.MethodGet, search, "Authorization", "Bearer "+plain["search"]).code, "GET's tokens are bearer tokens")

	// A proof for no page of the site is not recorded: it still works.
	proof := key.Proof(http.MethodPost, tokensHTU, "")
	assert.Equal(t, http.StatusNotFound, dpopCall(d.handler, http.MethodPost, "/site/tokens?page=/nowhere", "DPoP", proof).code)
	toks := boundTokens(t, d.handler, proof)
	assert.Equal(t, []string{"search"}, mapKeys(toks), "the same JSON as GET")
	token := toks["search"]

	a := dpopCall(d.handler, http.MethodGet, search, "Authorization", "DPoP "+token, "DPoP", key.Proof(http.MethodGet, searchHTU, token))
	require.Equal(t, http.StatusOK, a.code, a.body)
	var got reply
	require.NoError(t, json.Unmarshal([]byte(a.body), &got))
	assert.Equal(t, key.Thumbprint(), got.KeyThumbprint, "the token is bound to the proof's key")
	assert.Equal(t, []string{demoExperience}, got.Query["experienceKey"], "the spec's query claim")

	other := scopedtokentest.NewDPoPKey(t, "ES256", nil)
	refused := []struct {
		name, method, target string
		header               []string
		reason               string
	}{
		{"token endpoint: no proof", http.MethodPost, "/site/tokens?page=/", nil, "dpop_proof_missing"},
		{"token endpoint: replayed proof", http.MethodPost, "/site/tokens?page=/", []string{"DPoP", proof}, "dpop_proof_replayed"},
		{"token endpoint: proof for another URL", http.MethodPost, "/site/tokens?page=/", []string{"DPoP", key.Proof(http.MethodPost, publicOrigin+"/site/other", "")}, "dpop_proof_url"},
		{"token endpoint: htu of the instance, not the public origin", http.MethodPost, "/site/tokens?page=/", []string{"DPoP", key.Proof(http.MethodPost, "http://10.0.0.7:8080/site/tokens", "")}, "dpop_proof_url"},
		{"token endpoint: proof for GET", http.MethodPost, "/site/tokens?page=/", []string{"DPoP", key.Proof(http.MethodGet, tokensHTU, "")}, "dpop_proof_method"},
		{"bound token as Bearer", http.MethodGet, search, []string{"Authorization", "Bearer " + token}, "dpop_scheme_mismatch"},
		{"bound token without a proof", http.MethodGet, search, []string{"Authorization", "DPoP " + token}, "dpop_proof_missing"},
		{"another key's proof", http.MethodGet, search, []string{"Authorization", "DPoP " + token, "DPoP", other.Proof(http.MethodGet, searchHTU, token)}, "dpop_proof_key"},
		{"proof without ath", http.MethodGet, search, []string{"Authorization", "DPoP " + token, "DPoP", key.Proof(http.MethodGet, searchHTU, "")}, "dpop_proof_ath"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			a := dpopCall(d.handler, tc.method, tc.target, tc.header...)
			assert.Equal(t, http.StatusUnauthorized, a.code, a.body)
			assert.Contains(t, a.challenge, `DPoP realm="api"`)
			assert.Contains(t, a.body, `"reason":"`+tc.reason+`"`)
		})
	}
}

// TestTwoInstancesShareDPoPProofs: two demo instances on one Redis, with
// the same -secret-file and -origin, accept each other's bound tokens and
// refuse on one a proof already used on the other, at the token endpoint
// and at the API.
func TestTwoInstancesShareDPoPProofs(t *testing.T) {
	srv := redistest.Start(t)
	target := redisTarget{redisstore.Single, "redis://" + srv.Addr(), "-redis"}
	secret := secretFile(t)
	var inst [2]*demo
	for i := range inst {
		o, closeStore, err := loadOptions(t.Context(), target, secret)
		require.NoError(t, err)
		t.Cleanup(closeStore)
		o.origin = publicOrigin
		inst[i], err = newDemo(time.Now, o)
		require.NoError(t, err)
	}
	a, b := inst[0].handler, inst[1].handler
	key := scopedtokentest.NewDPoPKey(t, "ES256", nil)

	proof := key.Proof(http.MethodPost, tokensHTU, "")
	token := boundTokens(t, a, proof)["search"]
	replay := dpopCall(b, http.MethodPost, "/site/tokens?page=/", "DPoP", proof)
	assert.Equal(t, http.StatusUnauthorized, replay.code, "b refuses the token endpoint proof that a accepted")
	assert.Contains(t, replay.body, "dpop_proof_replayed")

	call := key.Proof(http.MethodGet, searchHTU, token)
	first := dpopCall(b, http.MethodGet, search, "Authorization", "DPoP "+token, "DPoP", call)
	require.Equal(t, http.StatusOK, first.code, "b accepts a's bound token: %s", first.body)
	for name, h := range map[string]http.Handler{"the other instance": a, "the same instance": b} {
		again := dpopCall(h, http.MethodGet, search, "Authorization", "DPoP "+token, "DPoP", call)
		assert.Equal(t, http.StatusUnauthorized, again.code, name)
		assert.Contains(t, again.challenge, `DPoP realm="api"`, name)
		assert.Contains(t, again.body, "dpop_proof_replayed", name)
	}
	assert.Equal(t, http.StatusOK, dpopCall(a, http.MethodGet, search, "Authorization", "DPoP "+token,
		"DPoP", key.Proof(http.MethodGet, searchHTU, token)).code, "a fresh proof passes")

	keys, err := srv.Client(t).Keys(t.Context(), redisstore.DefaultPrefix+"*dpop:*").Result()
	require.NoError(t, err)
	assert.Len(t, keys, 3, "the three accepted proofs are recorded in Redis")
	for _, k := range keys {
		assert.True(t, strings.Contains(k, key.Thumbprint()), k)
	}
}

func mapKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestOriginFlag: -origin takes an http or https origin, with or without a
// final "/", and nothing else.
func TestOriginFlag(t *testing.T) {
	for in, want := range map[string]string{"https://demo.example": "https://demo.example", "http://127.0.0.1:8080/": "http://127.0.0.1:8080"} {
		c, err := parseConfig([]string{"-origin", in}, func(string) string { return "" }, &strings.Builder{})
		require.NoError(t, err, in)
		assert.Equal(t, want, c.origin)
	}
	for _, bad := range []string{"demo.example", "ftp://demo.example", "https://demo.example/app", "https://u:p@demo.example", "https://demo.example?x=1", "https://"} {
		_, err := parseConfig([]string{"-origin", bad}, func(string) string { return "" }, &strings.Builder{})
		assert.ErrorContains(t, err, "must be an http or https origin", bad)
	}
}

// TestPrintedDPoPHint: among the printed commands, the demo shows what a
// DPoP call looks like, with htu under the public origin and curl against
// the instance's own address, as comments that no curl line parser takes
// for a command.
func TestPrintedDPoPHint(t *testing.T) {
	d, err := newDemo(time.Now, options{origin: publicOrigin})
	require.NoError(t, err)
	var out strings.Builder
	d.printCommands(&out, "http://127.0.0.1:8080")
	printed := out.String()
	for _, want := range []string{
		"# In a browser: " + publicOrigin + "/ ",
		"htm POST, htu " + tokensHTU + ")",
		"htm GET, htu " + searchHTU + ", ath",
		"#   curl -sS -X POST -H 'DPoP: PROOF' 'http://127.0.0.1:8080/site/tokens?page=/'\n",
		"#   curl -sS -i -H 'Authorization: DPoP TOKEN' -H 'DPoP: PROOF' 'http://127.0.0.1:8080" + search + "'\n",
	} {
		assert.Contains(t, printed, want)
	}
	checkCommands(t, parseCommands(t, printed))
}
