package browser_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDemoInBrowser builds and runs the demo as "go run ./example" runs it,
// on a free loopback port, and opens the page URL and the emailed link it
// prints in Chromium. The page calls the API with a DPoP-bound token and a
// proof of its non-extractable key; a copy of that token taken from the
// page's request, sent without a proof or as Bearer, gets 401 with a DPoP
// challenge, and so does the page's own proof sent again.
func TestDemoInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the demo with the go command")
	}
	ctx := newBrowser(t)
	demo := startDemo(t, buildDemo(t), "-addr", "127.0.0.1:0")
	page, link := demo.page, demo.link
	require.Equal(t, demo.base+"/", page, "the page is at the demo's own address by default")

	calls := watchRequests(t, ctx, "/v2/accounts/me/search")
	res := openPage(t, ctx, page)
	assert.Equal(t, "200", res.status, res.text)
	assert.Contains(t, res.text, `"endpoint": "search"`)
	assert.Contains(t, res.text, `"demo-experience"`, "the page token's query claim")
	assert.Contains(t, res.text, "Authorization: DPoP and a proof signed by an ECDSA P-256 key (extractable: false)")
	assert.Contains(t, res.text, `"keyThumbprint": "`, "the API saw a bound token")
	stolen := calls()
	require.Len(t, stolen, 1, "the page called the API once")
	token, ok := strings.CutPrefix(stolen[0].header.Get("Authorization"), "DPoP ")
	require.True(t, ok, "the page sent its token with the DPoP scheme")
	proof := stolen[0].header.Get("DPoP")
	require.NotEmpty(t, proof, "with a proof")
	checkPageProof(t, proof, token, strings.TrimSuffix(page, "/")+"/v2/accounts/me/search")
	t.Run("a copy of the page's token alone", func(t *testing.T) {
		for name, h := range map[string]http.Header{
			"with the DPoP scheme, no proof":  {"Authorization": {"DPoP " + token}},
			"as Bearer":                       {"Authorization": {"Bearer " + token}},
			"with the page's proof, replayed": {"Authorization": {"DPoP " + token}, "Dpop": {proof}},
		} {
			req, err := http.NewRequest(http.MethodGet, stolen[0].url, nil)
			require.NoError(t, err)
			req.Header = h
			code, body, challenge := send(t, req)
			assert.Equal(t, http.StatusUnauthorized, code, "%s: %s", name, body)
			assert.Contains(t, challenge, `DPoP realm="api"`, name)
		}
	})

	res = openPage(t, ctx, link)
	assert.Equal(t, "200", res.status, res.text)
	assert.Contains(t, res.text, `"endpoint": "answers"`)
	assert.Equal(t, strings.TrimSuffix(page, "/")+"/answers", res.href, "the token left the address bar")
}

// buildDemo builds the demo as its users do ("go build" in example/, with
// its own go.mod) into a temporary directory and returns the binary.
func buildDemo(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "demo")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = "../example"
	build.Env = append(os.Environ(), "GOWORK=off")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build the demo:\n%s", out)
	return bin
}

// runningDemo is what a started demo printed: its own address, the page
// URL and the emailed link (under -origin when given).
type runningDemo struct {
	base, page, link string
}

// startDemo runs the demo binary with args, reads what it prints up to its
// ready line, and ends it when the test ends, or after browserTimeout.
func startDemo(t *testing.T, bin string, args ...string) runningDemo {
	t.Helper()
	runCtx, stop := context.WithTimeout(context.Background(), browserTimeout)
	demo := exec.CommandContext(runCtx, bin, args...)
	stdout, err := demo.StdoutPipe()
	require.NoError(t, err)
	demo.Stderr = os.Stderr
	require.NoError(t, demo.Start())
	t.Cleanup(func() {
		stop()      // ends the demo: CommandContext kills the process it started
		demo.Wait() //nolint:errcheck // killed on purpose
	})

	var d runningDemo
	baseLine := regexp.MustCompile(`^scopedtoken demo API on (http://127\.0\.0\.1:\d+)$`)
	pageLine := regexp.MustCompile(`^# In a browser: (https?://\S+/) `)
	linkLine := regexp.MustCompile(`^# an emailed link.*: (https?://\S+/answers\?jwt=[A-Za-z0-9_.-]+)$`)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() && sc.Text() != "Press Ctrl-C to stop." {
		for re, dst := range map[*regexp.Regexp]*string{baseLine: &d.base, pageLine: &d.page, linkLine: &d.link} {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				*dst = m[1]
			}
		}
	}
	require.NotEmpty(t, d.base, "the demo prints its address")
	require.NotEmpty(t, d.page, "the demo prints its page URL")
	require.NotEmpty(t, d.link, "the demo prints an emailed link")
	go func() {
		for sc.Scan() { // drained so that the demo never blocks on its output
		}
	}()
	return d
}

// checkPageProof asserts the page's proof has the form RFC 9449 §4.2 gives
// it: header typ, alg ES256 and the public jwk alone; claims jti (random,
// 128 bits), htm, htu without the query, iat now and ath the token's hash.
func checkPageProof(t *testing.T, proof, token, htu string) {
	t.Helper()
	parts := strings.Split(proof, ".")
	require.Len(t, parts, 3)
	var header struct {
		Typ, Alg string
		JWK      map[string]string
	}
	var claims map[string]any
	for i, v := range []any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, v))
	}
	assert.Equal(t, "dpop+jwt", header.Typ)
	assert.Equal(t, "ES256", header.Alg)
	assert.ElementsMatch(t, []string{"kty", "crv", "x", "y"}, slices.Collect(maps.Keys(header.JWK)), "the public key's members only")
	assert.Equal(t, "EC", header.JWK["kty"])
	assert.Equal(t, "P-256", header.JWK["crv"])
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	assert.Len(t, sig, 64, "r||s, as JWS has it")
	sum := sha256.Sum256([]byte(token))
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum[:]), claims["ath"])
	assert.Equal(t, "GET", claims["htm"])
	assert.Equal(t, htu, claims["htu"])
	assert.Len(t, claims["jti"], 22, "16 random bytes")
	iat, ok := claims["iat"].(float64)
	require.True(t, ok)
	assert.InDelta(t, float64(time.Now().Unix()), iat, 60)
}
