package browser_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
)

// blackBoxOrigin is the public origin two demo instances are started
// behind in TestDemoDPoPBlackBox, as behind a load balancer: proofs name
// it, and requests reach each instance at its own loopback address.
const blackBoxOrigin = "https://demo.example"

// TestDemoDPoPBlackBox runs the demo as a user would: two instances built
// with the go command, started with the same -redis, -secret-file and
// -origin on loopback ports, and driven over HTTP only, with DPoP proofs
// made by an outside implementation (panva's dpop, run by Node, see
// dpop_node_test.go). Its proof gives 200; its replay on the same instance
// and on the other one, a proof for another URL or method or signed by
// another key, a proof without ath or for another token, and the bound
// token as Bearer all give 401 with a DPoP challenge. The results are
// logged with -v.
func TestDemoDPoPBlackBox(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the demo with the go command and runs Node and Redis")
	}
	redis := redistest.Start(t) // skips, with SCOPEDTOKEN_SKIP_REDIS=1, before npm ci
	dir := dpopNode(t)
	secret := filepath.Join(t.TempDir(), "demo.secret")
	require.NoError(t, os.WriteFile(secret, []byte("a-32-byte-secret-for-the-black-box-test\n"), 0o600))
	bin := buildDemo(t)
	var inst [2]runningDemo
	for i := range inst {
		inst[i] = startDemo(t, bin, "-addr", "127.0.0.1:0", "-redis", "redis://"+redis.Addr(), "-secret-file", secret, "-origin", blackBoxOrigin)
		assert.Equal(t, blackBoxOrigin+"/", inst[i].page, "the page is printed at the public origin")
	}
	a, b := inst[0].base, inst[1].base

	read, write := runProofs(t, dir, "ES256", blackBoxOrigin+"/site/tokens")

	// The token endpoint: a's tokens bound to the key of Node's proof; the
	// same proof at b gets none.
	var first struct{ JKT, TokenProof string }
	read(&first)
	tokenReq := func(base string) *http.Request {
		req, err := http.NewRequest(http.MethodPost, base+"/site/tokens?page=/", nil)
		require.NoError(t, err)
		req.Header.Set("DPoP", first.TokenProof)
		return req
	}
	code, body, _ := send(t, tokenReq(a))
	require.Equal(t, http.StatusOK, code, body)
	t.Logf("POST a/site/tokens with dpop's proof: %d", code)
	var bound map[string]string
	require.NoError(t, json.Unmarshal([]byte(body), &bound))
	token := bound["search"]
	require.NotEmpty(t, token)
	code, body, challenge := send(t, tokenReq(b))
	assert.Equal(t, http.StatusUnauthorized, code, body)
	assert.Contains(t, challenge, `DPoP realm="api"`)
	assert.Contains(t, body, `"reason":"dpop_proof_replayed"`)
	t.Logf("the same proof at b/site/tokens: %d, WWW-Authenticate: %s", code, challenge)

	// A bearer token of the same page, from GET, for a proof with the wrong ath.
	get, err := http.NewRequest(http.MethodGet, a+"/site/tokens?page=/", nil)
	require.NoError(t, err)
	code, body, _ = send(t, get)
	require.Equal(t, http.StatusOK, code, body)
	var plain map[string]string
	require.NoError(t, json.Unmarshal([]byte(body), &plain))

	const apiPath = "/v2/accounts/me/search"
	write(map[string]string{"url": blackBoxOrigin + apiPath, "otherURL": blackBoxOrigin + "/v2/accounts/me/answers",
		"token": token, "otherToken": plain["search"]})
	var p nodeProofs
	read(&p)

	api := func(base, scheme, proof string) (int, string, string) {
		req, err := http.NewRequest(http.MethodGet, base+apiPath+"?input=pizza", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", scheme+" "+token)
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		return send(t, req)
	}
	code, body, _ = api(a, "DPoP", p.Good)
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"keyThumbprint": "`+first.JKT+`"`, "the handler sees the key of dpop's proof")
	t.Logf("GET a%s with dpop's proof: %d", apiPath, code)

	refused := []struct{ name, base, scheme, proof, reason string }{
		{"replayed on the other instance", b, "DPoP", p.Good, "dpop_proof_replayed"},
		{"replayed on the same instance", a, "DPoP", p.Good, "dpop_proof_replayed"},
		{"a proof for another URL", b, "DPoP", p.WrongURL, "dpop_proof_url"},
		{"a proof for another method", b, "DPoP", p.WrongMethod, "dpop_proof_method"},
		{"a proof signed by another key", b, "DPoP", p.WrongKey, "dpop_proof_key"},
		{"the bound token as Bearer", b, "Bearer", "", "dpop_scheme_mismatch"},
		{"a proof without ath", b, "DPoP", p.NoAth, "dpop_proof_ath"},
		{"a proof for another token", b, "DPoP", p.WrongAth, "dpop_proof_ath"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			code, body, challenge := api(tc.base, tc.scheme, tc.proof)
			assert.Equal(t, http.StatusUnauthorized, code, body)
			assert.True(t, strings.HasPrefix(challenge, `DPoP realm="api", algs="ES256 EdDSA Ed25519", error="`), challenge)
			assert.Contains(t, body, `"reason":"`+tc.reason+`"`)
			t.Logf("%s: %d, WWW-Authenticate: %s", tc.name, code, challenge)
		})
	}
	// proofs.mjs's "aged" proof is aged only by a test's clock: here it is
	// one more fresh proof of the key, never used.
	code, body, _ = api(b, "DPoP", p.Aged)
	assert.Equal(t, http.StatusOK, code, "b accepts a's bound token with a fresh proof: %s", body)
}

// runProofs starts dpopnode/proofs.mjs in dir (see dpopNode) for alg and
// tokenURL, ended when the test ends or after browserTimeout, and returns
// what reads its next line of JSON into v and what writes v to it as one.
func runProofs(t *testing.T, dir, alg, tokenURL string) (read, write func(v any)) {
	t.Helper()
	ctx, stop := context.WithTimeout(context.Background(), browserTimeout)
	node := exec.CommandContext(ctx, "node", "proofs.mjs", alg, tokenURL)
	node.Dir = dir
	node.Stderr = os.Stderr
	stdin, err := node.StdinPipe()
	require.NoError(t, err)
	stdout, err := node.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, node.Start())
	t.Cleanup(func() { stdin.Close(); _ = node.Wait(); stop() })
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 1<<20)
	read = func(v any) {
		require.True(t, lines.Scan(), "node ended early: %v", lines.Err())
		require.NoError(t, json.Unmarshal(lines.Bytes(), v))
	}
	write = func(v any) {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		_, err = stdin.Write(append(b, '\n'))
		require.NoError(t, err)
	}
	return read, write
}
