package browser_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
)

// nodeInstall is the command that installs what TestDPoPOutsideImplementation
// runs; scripts/lib/prereqs.sh installs the same packages.
const nodeInstall = "apt-get update && apt-get install -y nodejs npm"

// dpopNode installs panva's dpop, pinned by dpopnode/package-lock.json,
// with npm ci into a temporary directory, and returns the directory that
// holds proofs.mjs beside its node_modules. It fails, never skips, without
// node and npm: the outside implementation is part of the DPoP tests.
func dpopNode(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: the DPoP tests run panva's dpop with Node; install them with: %s", tool, nodeInstall)
		}
	}
	dir := t.TempDir()
	for _, name := range []string{"package.json", "package-lock.json", "proofs.mjs"} {
		b, err := os.ReadFile(filepath.Join("dpopnode", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "npm ci: %s", out)
	return dir
}

// nodeProofs are the proofs proofs.mjs makes.
type nodeProofs struct {
	Good, Aged, WrongMethod, WrongURL, WrongKey, WrongAth, NoAth string
}

// TestDPoPOutsideImplementation: proofs made by panva's dpop (Node, WebCrypto
// keys) pass the token endpoint's check (VerifyDPoPProof) and the
// middleware, and those it makes for another method, URL, key, token or
// time, and its replays, are refused with a DPoP challenge.
func TestDPoPOutsideImplementation(t *testing.T) {
	dir := dpopNode(t)
	for _, alg := range []string{"ES256", "Ed25519"} {
		t.Run(alg, func(t *testing.T) { testDPoPWithNode(t, dir, alg) })
	}
}

func testDPoPWithNode(t *testing.T, dir, alg string) {
	var skew atomic.Int64 // added to the server's clock, to age a proof
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	secret := []byte("a-32-byte-secret-for-the-example")
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k", Algorithm: "HS256", Secret: secret})
	require.NoError(t, err)
	minter, err := mint.New(mint.Config{Key: mint.Key{ID: "k", Secret: secret}})
	require.NoError(t, err)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys, Now: now, AllowMeWithoutBusiness: true,
		DPoPAllowed: true, DPoPOrigin: srv.URL, Revocations: scopedtoken.NewMemoryRevocations(now)})
	require.NoError(t, err)
	const apiPath = "/v2/accounts/me/search"
	// The token endpoint of RFC 9449 §5: its own proof, then a token bound
	// to that proof's key.
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		jkt, err := mw.VerifyDPoPProof(r)
		if err != nil {
			mw.WriteError(w, r, err)
			return
		}
		token, err := minter.Mint(mint.Claims{Audience: []string{apiPath}, DPoPThumbprint: jkt})
		if err != nil {
			http.Error(w, "mint", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, token)
	})
	mux.Handle(apiPath, mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := scopedtoken.FromContext(r.Context())
		io.WriteString(w, tok.KeyThumbprint())
	})))

	read, write := runProofs(t, dir, alg, srv.URL+"/token")

	var first struct{ JKT, TokenProof string }
	read(&first)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/token", nil)
	require.NoError(t, err)
	req.Header.Set("DPoP", first.TokenProof)
	code, token, _ := send(t, req)
	require.Equal(t, http.StatusOK, code, token)
	otherToken, err := minter.Mint(mint.Claims{Audience: []string{apiPath}, DPoPThumbprint: first.JKT, Subject: "other"})
	require.NoError(t, err)
	// The token endpoint's proof was recorded: a replay gets no second token.
	code, _, challenge := send(t, req)
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Contains(t, challenge, `error="invalid_dpop_proof"`)

	write(map[string]string{"url": srv.URL + apiPath, "otherURL": srv.URL + "/v2/accounts/me/other",
		"token": token, "otherToken": otherToken})
	var p nodeProofs
	read(&p)

	api := func(scheme, proof string) (int, string, string) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+apiPath, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", scheme+" "+token)
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		return send(t, req)
	}
	code, body, _ := api("DPoP", p.Good)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, first.JKT, body, "the handler sees the key's thumbprint")

	refused := []struct{ name, scheme, proof, reason string }{
		{"replayed", "DPoP", p.Good, "dpop_proof_replayed"},
		{"wrong method", "DPoP", p.WrongMethod, "dpop_proof_method"},
		{"wrong URL", "DPoP", p.WrongURL, "dpop_proof_url"},
		{"wrong key", "DPoP", p.WrongKey, "dpop_proof_key"},
		{"wrong ath", "DPoP", p.WrongAth, "dpop_proof_ath"},
		{"no ath", "DPoP", p.NoAth, "dpop_proof_ath"},
		{"the bound token as Bearer", "Bearer", "", "dpop_scheme_mismatch"},
		{"no proof", "DPoP", "", "dpop_proof_missing"},
		{"too old", "DPoP", p.Aged, "dpop_proof_time"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			if tc.reason == "dpop_proof_time" {
				skew.Store(int64(2 * time.Minute)) // the server's clock, two minutes on
				defer skew.Store(0)
			}
			code, body, challenge := api(tc.scheme, tc.proof)
			assert.Equal(t, http.StatusUnauthorized, code)
			assert.True(t, strings.HasPrefix(challenge, `DPoP realm="api", algs="ES256 EdDSA Ed25519", error="`), challenge)
			assert.Contains(t, body, `"reason":"`+tc.reason+`"`)
		})
	}
}

// send makes req and returns the status, the body and the challenge.
func send(t *testing.T, req *http.Request) (int, string, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b), res.Header.Get("WWW-Authenticate")
}
