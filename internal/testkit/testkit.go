// Package testkit holds the test helpers that the tests of scopedtoken and
// of its other packages share: the fixed clock and keys, raw token signing,
// JWK Sets and the one JWKS test server (JWKSServer), whose answers a test
// changes, the tally of the load tests, the Wycheproof vectors and a
// ROCA-like modulus. It imports no package of the module but its internal
// ones (scopedtoken's own tests could not import it otherwise), so it speaks
// in tokens, JWKs and HTTP statuses. Only tests import it.
package testkit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/alg"
)

// Now is the fixed clock of the tests: tokens made by Claims expire a minute
// after it.
var Now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Secret is 32 bytes: the minimum for HS256.
var Secret = []byte("0123456789abcdef0123456789abcdef")

// Path is the request path, and the aud, of the tests' tokens.
const Path = "/v2/accounts/me/search"

// Exp is an exp that the fixed clock accepts.
var Exp = Now.Add(time.Minute).Unix()

// Claims returns valid claims JSON (aud Path, exp Exp) with extra members
// appended (extra starts with a comma).
func Claims(extra string) string {
	return fmt.Sprintf(`{"aud":%q,"exp":%d%s}`, Path, Exp, extra)
}

// KeyPairs are the tests' asymmetric keys.
type KeyPairs struct {
	RSA *rsa.PrivateKey
	EC  *ecdsa.PrivateKey // P-256
	Ed  ed25519.PrivateKey
}

// keyPairs generates the keys once per test binary: RSA generation is slow
// and the keys need not differ between tests.
var keyPairs = sync.OnceValues(func() (KeyPairs, error) {
	var k KeyPairs
	var err error
	if k.RSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return k, err
	}
	if k.EC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return k, err
	}
	_, k.Ed, err = ed25519.GenerateKey(rand.Reader)
	return k, err
})

// Keys returns the tests' asymmetric keys, the same for every test.
func Keys(t testing.TB) KeyPairs {
	t.Helper()
	k, err := keyPairs()
	require.NoError(t, err)
	return k
}

// B64 encodes s as unpadded base64url.
func B64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// SignRaw builds a token from raw header and claims JSON, signed with key (a
// secret []byte or a crypto.Signer) under the algorithm name. It allows any
// JSON and any key, so tests can build tokens that a Minter would refuse to
// make.
func SignRaw(t testing.TB, name string, key any, header, claims string) string {
	t.Helper()
	input := B64(header) + "." + B64(claims)
	secret, _ := key.([]byte)
	signer, _ := key.(crypto.Signer)
	sig, err := alg.Sign(name, secret, signer, []byte(input))
	require.NoError(t, err)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// Unsigned joins header and claims with the given raw signature segment.
func Unsigned(header, claims, sig string) string {
	return B64(header) + "." + B64(claims) + "." + sig
}

// DiscardLogger drops everything: tests assert behaviour, not log lines.
func DiscardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// JWK returns the public JWK of pub with kid and use "sig", in the form a
// JWKS endpoint serves it.
func JWK(t testing.TB, kid string, pub any) json.RawMessage {
	t.Helper()
	j, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, USE: jwkset.UseSig}})
	require.NoError(t, err)
	raw, err := json.Marshal(j.Marshal())
	require.NoError(t, err)
	return raw
}

// JWKSet joins JWKs into a JWK Set document.
func JWKSet(t testing.TB, jwks ...json.RawMessage) []byte {
	t.Helper()
	raw, err := json.Marshal(map[string][]json.RawMessage{"keys": append([]json.RawMessage{}, jwks...)}) // [] when empty, not null
	require.NoError(t, err)
	return raw
}

// Signer is a fresh P-256 key and its kid.
type Signer struct {
	Kid  string
	Priv *ecdsa.PrivateKey
}

// NewSigner generates a P-256 key for kid.
func NewSigner(t testing.TB, kid string) Signer {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return Signer{Kid: kid, Priv: priv}
}

// JWK is the signer's public JWK.
func (s Signer) JWK(t testing.TB) json.RawMessage { return JWK(t, s.Kid, &s.Priv.PublicKey) }

// Token signs Claims(extra) under ES256 and the signer's kid; extra also
// tells tokens of the same key apart.
func (s Signer) Token(t testing.TB, extra string) string {
	return SignRaw(t, "ES256", s.Priv, `{"alg":"ES256","kid":"`+s.Kid+`"}`, Claims(extra))
}

// Response is what a guarded handler answered to one request.
type Response struct {
	Code   int
	Reason string // the reason member of a refusal's JSON body
	Header http.Header
	Ran    bool // the handler behind the guard was called
}

// Send makes a GET of Path with token as its bearer token (none when "")
// through guard (a middleware's Handler) to a handler that answers 200, and
// returns the answer. It is safe to call from any goroutine.
func Send(guard func(http.Handler) http.Handler, token string) Response {
	req := httptest.NewRequest(http.MethodGet, Path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	var res Response
	rec := httptest.NewRecorder()
	guard(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { res.Ran = true })).ServeHTTP(rec, req)
	var body struct{ Reason string }
	json.Unmarshal(rec.Body.Bytes(), &body)
	res.Code, res.Reason, res.Header = rec.Code, body.Reason, rec.Header()
	return res
}

// LoadToken is one prepared request of a load test and the status it must
// get.
type LoadToken struct {
	Name   string
	Token  string
	Status int
}

// InvalidTokens are refusals of every kind, signed with Secret under kid.
func InvalidTokens(t testing.TB, kid string) []LoadToken {
	h := `{"alg":"HS256","kid":"` + kid + `"}`
	good := SignRaw(t, "HS256", Secret, h, Claims(`,"jti":"x"`))
	return []LoadToken{
		{"expired", SignRaw(t, "HS256", Secret, h, fmt.Sprintf(`{"aud":%q,"exp":%d}`, Path, Now.Add(-time.Hour).Unix())), 401},
		{"tampered", good[:len(good)-2] + "AA", 401},
		{"outside aud", SignRaw(t, "HS256", Secret, h, fmt.Sprintf(`{"aud":"/v2/accounts/me/other","exp":%d}`, Exp)), 403},
		{"wrong secret", SignRaw(t, "HS256", []byte("another secret of thirty-two by"), h, Claims("")), 401},
		{"unknown kid", SignRaw(t, "HS256", Secret, `{"alg":"HS256","kid":"nobody"}`, Claims("")), 401},
		{"alg none", Unsigned(`{"alg":"none","kid":"`+kid+`"}`, Claims(""), "AAAA"), 401},
		{"junk", "a.b.c", 401},
		{"duplicate exp", SignRaw(t, "HS256", Secret, h, Claims(`,"exp":99999999999`)), 401},
	}
}

// RunLoad is the body of a load test: goroutines goroutines make perG
// requests each, all at once, while the keys rotate, and every wrong answer
// fails the test. The i-th request of goroutine g sends the token that
// pick(g, i, rotated) returns, through send, which returns the status;
// rotated is false until rotate has run. A token whose expected status
// depends on the rotation (phased) holds rotate off until it is answered, so
// that the phase it assumed cannot change under it. rotate runs once, wait
// after the requests start, on the test's goroutine. Run load tests with
// -race.
func RunLoad(t *testing.T, goroutines, perG int, send func(token string) int,
	pick func(g, i int, rotated bool) (tok LoadToken, phased bool), wait time.Duration, rotate func()) {
	t.Helper()
	var rot sync.RWMutex
	rotated := false
	var tally loadTally
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < goroutines; g++ {
		wg.Go(func() {
			<-start
			for i := 0; i < perG; i++ {
				rot.RLock()
				tok, phased := pick(g, i, rotated)
				if !phased {
					rot.RUnlock()
				}
				code := send(tok.Token)
				if phased {
					rot.RUnlock()
				}
				tally.record(tok, code)
			}
		})
	}
	close(start)
	time.Sleep(wait)
	rot.Lock()
	rotate()
	rotated = true
	rot.Unlock()
	wg.Wait()
	tally.check(t)
}

// loadTally counts the wrong decisions of a load test by the kind of token;
// safe for concurrent use.
type loadTally struct {
	requests, validRefused, invalidAccepted, wrongStatus atomic.Int64
	mu                                                   sync.Mutex
	examples                                             []string
}

// record counts one answer, code, to tok.
func (c *loadTally) record(tok LoadToken, code int) {
	c.requests.Add(1)
	switch {
	case code == tok.Status:
		return
	case tok.Status == http.StatusOK:
		c.validRefused.Add(1)
	case code == http.StatusOK:
		c.invalidAccepted.Add(1)
	default:
		c.wrongStatus.Add(1)
	}
	c.mu.Lock()
	if len(c.examples) < 5 {
		c.examples = append(c.examples, fmt.Sprintf("%s: got %d, want %d", tok.Name, code, tok.Status))
	}
	c.mu.Unlock()
}

// check fails the test for every wrong decision recorded.
func (c *loadTally) check(t *testing.T) {
	t.Helper()
	t.Logf("%d requests", c.requests.Load())
	assert.Zero(t, c.validRefused.Load(), "valid tokens refused: %v", c.examples)
	assert.Zero(t, c.invalidAccepted.Load(), "invalid tokens accepted: %v", c.examples)
	assert.Zero(t, c.wrongStatus.Load(), "refusals with the wrong status: %v", c.examples)
}
