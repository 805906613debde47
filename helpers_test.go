package scopedtoken

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// testNow is the fixed clock of the package's tests (shared with the tests of
// package jwks, whose tokens these tests verify too).
var testNow = testkit.Now

func fixedClock() time.Time { return testNow }

// testSecret is 32 bytes: the minimum for HS256.
var testSecret = testkit.Secret

type testKeys struct {
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
	ed  ed25519.PrivateKey
}

// genKeys returns the asymmetric test keys, generated once per test binary:
// RSA generation is slow and the keys need not differ between tests.
func genKeys(t testing.TB) testKeys {
	t.Helper()
	k := testkit.Keys(t)
	return testKeys{rsa: k.RSA, ec: k.EC, ed: k.Ed}
}

// b64 encodes s as unpadded base64url.
func b64(s string) string { return testkit.B64(s) }

// signRaw builds a token from raw header and claims JSON, signed with key
// (a secret []byte or a crypto.Signer) under alg. It allows any JSON, so tests
// can build tokens that Minter would refuse to make.
func signRaw(t testing.TB, alg string, key any, header, claims string) string {
	t.Helper()
	return testkit.SignRaw(t, alg, key, header, claims)
}

// claimsJSON marshals claims for signRaw.
func claimsJSON(t testing.TB, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	require.NoError(t, err)
	return string(b)
}

const hsHeader = `{"alg":"HS256","kid":"hs","typ":"JWT"}`

// validClaims returns claims that pass with the default test middleware.
func validClaims() map[string]any {
	return map[string]any{"aud": "/v2/accounts/me/search", "exp": testNow.Add(time.Minute).Unix()}
}

// hsToken signs claims with the HS256 test key "hs".
func hsToken(t testing.TB, claims map[string]any) string {
	return signRaw(t, "HS256", testSecret, hsHeader, claimsJSON(t, claims))
}

// testKeySet holds one key per algorithm family, with kids hs, rs, ps, es,
// ed, and "biz" (HS256 with business 42).
func testKeySet(t testing.TB) KeySet {
	t.Helper()
	k := genKeys(t)
	ks, err := StaticKeys(
		Key{ID: "hs", Algorithm: "HS256", Secret: testSecret},
		Key{ID: "biz", Algorithm: "HS256", Secret: testSecret, BusinessID: "42"},
		Key{ID: "rs", Algorithm: "RS256", PublicKey: &k.rsa.PublicKey},
		Key{ID: "ps", Algorithm: "PS256", PublicKey: &k.rsa.PublicKey},
		Key{ID: "es", Algorithm: "ES256", PublicKey: &k.ec.PublicKey},
		Key{ID: "ed", Algorithm: "EdDSA", PublicKey: k.ed.Public()},
	)
	require.NoError(t, err)
	return ks
}

// newTestMiddleware builds a middleware over testKeySet with the fixed clock;
// edit may change the config first. Most tests use the key "hs", which has
// no business, with aud /v2/accounts/me/...: AllowMeWithoutBusiness is on,
// and the tests of its default (off) set it back.
func newTestMiddleware(t testing.TB, edit func(*Config)) *Middleware {
	t.Helper()
	cfg := Config{Keys: testKeySet(t), Now: fixedClock, AllowMeWithoutBusiness: true}
	if edit != nil {
		edit(&cfg)
	}
	m, err := New(cfg)
	require.NoError(t, err)
	return m
}

// result is what one request through the middleware produced.
type result struct {
	code   int
	ran    bool
	reason string
	header http.Header
	body   string
	req    *http.Request // as the next handler saw it
	token  *Token
}

// serve sends req through m to a handler that records what it saw.
func serve(t testing.TB, m *Middleware, req *http.Request) result {
	t.Helper()
	var res result
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res.ran = true
		res.req = r
		res.token, _ = FromContext(r.Context())
		w.WriteHeader(http.StatusOK)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res.code, res.header, res.body = rec.Code, rec.Header(), rec.Body.String()
	if rec.Code != http.StatusOK && rec.Header().Get("Content-Type") == "application/json" {
		var body struct{ Reason string }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "refusal body must be JSON")
		res.reason = body.Reason
	}
	return res
}

// bearer builds a GET request to target with the token in Authorization.
func bearer(target, token string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// quickStatus sends one request with token to attackPath through m and
// returns the status and reason; unlike serve it is safe to call from any
// goroutine.
func quickStatus(m *Middleware, token string) (int, string) {
	res := testkit.Send(m.Handler, token)
	return res.Code, res.Reason
}
