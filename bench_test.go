package scopedtoken_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
)

// The benchmarks run one prebuilt request through the handler per iteration,
// with a writer that discards the response, so that what they measure is the
// middleware. BenchmarkHarness runs the same request through a no-op handler:
// its cost is the harness, to subtract from every other result.

// benchNow is the fixed clock of the benchmarks: tokens never expire mid-run.
var benchNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func benchClock() time.Time { return benchNow }

const (
	benchAud    = "/v2/accounts/me/search"
	benchTarget = "/v2/accounts/me/search?experienceKey=MySearchExperience"
)

var benchQuery = url.Values{"experienceKey": {"MySearchExperience"}}

// benchWriter is a ResponseWriter that keeps the status and drops the body.
type benchWriter struct {
	h      http.Header
	status int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchWriter) WriteHeader(status int)      { w.status = status }

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })

// benchAlg is one algorithm's key pair: what signs and what verifies.
type benchAlg struct {
	name   string
	sign   mint.Key
	verify scopedtoken.Key
}

func benchAlgs(b *testing.B) []benchAlg {
	b.Helper()
	secret := []byte("bench-secret-bench-secret-bench!")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	asym := func(name string, priv crypto.Signer, pub crypto.PublicKey) benchAlg {
		return benchAlg{
			name:   name,
			sign:   mint.Key{ID: "k-" + name, Algorithm: name, PrivateKey: priv},
			verify: scopedtoken.Key{ID: "k-" + name, Algorithm: name, PublicKey: pub},
		}
	}
	return []benchAlg{
		{
			name:   "HS256",
			sign:   mint.Key{ID: "k-HS256", Algorithm: "HS256", Secret: secret},
			verify: scopedtoken.Key{ID: "k-HS256", Algorithm: "HS256", Secret: secret},
		},
		asym("RS256", rsaKey, &rsaKey.PublicKey),
		asym("ES256", ecKey, &ecKey.PublicKey),
		asym("EdDSA", edPriv, edPub),
	}
}

func benchMint(b *testing.B, key mint.Key, c mint.Claims) string {
	b.Helper()
	mt, err := mint.New(mint.Config{Key: key, Now: benchClock})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := mt.Mint(c)
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

func benchMiddleware(b *testing.B, cacheSize int, keys ...scopedtoken.Key) *scopedtoken.Middleware {
	b.Helper()
	set, err := scopedtoken.StaticKeys(keys...)
	if err != nil {
		b.Fatal(err)
	}
	m, err := scopedtoken.New(scopedtoken.Config{Keys: set, Now: benchClock, AllowMeWithoutBusiness: true, CacheSize: cacheSize})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// runBench serves req through h b.N times after checking once that the
// answer is want, so that a benchmark never silently measures the wrong path.
func runBench(b *testing.B, h http.Handler, req *http.Request, want int) {
	b.Helper()
	w := &benchWriter{h: make(http.Header)}
	h.ServeHTTP(w, req)
	if w.status != want {
		b.Fatalf("status %d, want %d", w.status, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

func benchRequest(target, token string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// cacheModes are the two configurations every path is measured in: the
// default cache, and none (every request verified from scratch).
var cacheModes = []struct {
	name string
	size int
}{{"cached", 0}, {"uncached", -1}}

// BenchmarkHarness is the cost of the harness itself: the same request through
// a handler that only writes 200.
func BenchmarkHarness(b *testing.B) {
	runBench(b, okHandler, benchRequest(benchTarget, "x.y.z"), http.StatusOK)
}

// BenchmarkMiddleware is a valid token with a query claim that the request
// already matches, per algorithm, with and without the cache.
func BenchmarkMiddleware(b *testing.B) {
	for _, alg := range benchAlgs(b) {
		tok := benchMint(b, alg.sign, mint.Claims{Audience: []string{benchAud}, Query: benchQuery})
		for _, mode := range cacheModes {
			b.Run(alg.name+"/"+mode.name, func(b *testing.B) {
				h := benchMiddleware(b, mode.size, alg.verify).Handler(okHandler)
				runBench(b, h, benchRequest(benchTarget, tok), http.StatusOK)
			})
		}
	}
}

// BenchmarkQueryRewrite is a valid HS256 token whose query claim the request
// does not carry, so the middleware rewrites the URL.
func BenchmarkQueryRewrite(b *testing.B) {
	alg := benchAlgs(b)[0]
	tok := benchMint(b, alg.sign, mint.Claims{Audience: []string{benchAud}, Query: benchQuery})
	for _, mode := range cacheModes {
		b.Run(mode.name, func(b *testing.B) {
			h := benchMiddleware(b, mode.size, alg.verify).Handler(okHandler)
			runBench(b, h, benchRequest(benchAud+"?page=2", tok), http.StatusOK)
		})
	}
}

// BenchmarkReject measures the refusals an attacker or a stale client can
// cause, with HS256. Each must cost less than a valid token in the same mode.
func BenchmarkReject(b *testing.B) {
	alg := benchAlgs(b)[0]
	claims := mint.Claims{Audience: []string{benchAud}, Query: benchQuery}
	good := benchMint(b, alg.sign, claims)
	badSig := good[:len(good)-10] + flipB64(good[len(good)-10]) + good[len(good)-9:]
	expiredClaims := claims
	expiredClaims.ExpiresIn = -time.Hour
	expired := benchMint(b, alg.sign, expiredClaims)
	cases := []struct {
		name   string
		target string
		token  string
		want   int
	}{
		{name: "garbage", target: benchTarget, token: "garbage.garbage.garbage", want: http.StatusUnauthorized},
		{name: "bad_signature", target: benchTarget, token: badSig, want: http.StatusUnauthorized},
		{name: "expired", target: benchTarget, token: expired, want: http.StatusUnauthorized},
		{name: "wrong_audience", target: "/v2/accounts/me/other?experienceKey=MySearchExperience", token: good, want: http.StatusForbidden},
		{name: "missing_token", target: benchTarget, want: http.StatusUnauthorized},
	}
	for _, c := range cases {
		for _, mode := range cacheModes {
			b.Run(c.name+"/"+mode.name, func(b *testing.B) {
				h := benchMiddleware(b, mode.size, alg.verify).Handler(okHandler)
				runBench(b, h, benchRequest(c.target, c.token), c.want)
			})
		}
	}
}

// flipB64 returns a different base64url character that carries six bits, so
// the signature stays well-formed but wrong.
func flipB64(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// BenchmarkQueryEscapedPairs binds 16 and 64 names against large queries of
// escaped pairs that match none of them: the binding costs the same whatever
// the number of bound names and allocates nothing per pair (a rewrite
// allocates the new query and RequestURI, an untouched query nothing). Beyond net/url's
// 10,000 parameters the request is refused by counting alone.
func BenchmarkQueryEscapedPairs(b *testing.B) {
	alg := benchAlgs(b)[0]
	shapes := []struct {
		name  string
		pair  string
		count int
		bound bool // the request already carries the token's values: left untouched
		want  int
	}{
		{name: "9900_pairs_300KB", pair: "%41%42%43%44%45%46%47=%76%61%6C&", count: 9900, want: http.StatusOK},
		{name: "9900_pairs_300KB_already_bound", pair: "%41%42%43%44%45%46%47=%76%61%6C&", count: 9900, bound: true, want: http.StatusOK},
		{name: "1MB_over_limit", pair: "%41=&", count: 1 << 20 / 5, want: http.StatusBadRequest},
	}
	for _, bound := range []int{16, 64} {
		q := url.Values{}
		for i := range bound {
			q.Set(fmt.Sprintf("bound%02d", i), "v")
		}
		tok := benchMint(b, alg.sign, mint.Claims{Audience: []string{benchAud}, Query: q})
		set, err := scopedtoken.StaticKeys(alg.verify)
		if err != nil {
			b.Fatal(err)
		}
		m, err := scopedtoken.New(scopedtoken.Config{Keys: set, Now: benchClock, AllowMeWithoutBusiness: true, MaxQueryParams: 64})
		if err != nil {
			b.Fatal(err)
		}
		h := m.Handler(okHandler)
		for _, s := range shapes {
			b.Run(fmt.Sprintf("%s/bound=%d", s.name, bound), func(b *testing.B) {
				query := strings.Repeat(s.pair, s.count)
				if s.bound {
					query += q.Encode()
				}
				runBench(b, h, benchRequest(benchAud+"?"+query, tok), s.want)
			})
		}
	}
}

// BenchmarkRevocation is a cache hit (HS256, query claim matched) with
// revocation off and on: an in-memory store holding a thousand revocations
// and cutoffs, none of which names the token. The two must stay within 10%.
func BenchmarkRevocation(b *testing.B) {
	alg := benchAlgs(b)[0]
	tok := benchMint(b, alg.sign, mint.Claims{Audience: []string{benchAud}, Query: benchQuery, ID: "bench-token", Subject: "bench-user"})
	store := scopedtoken.NewMemoryRevocations(benchClock)
	for i := range 1000 {
		for _, r := range []scopedtoken.Revocation{
			{Kind: scopedtoken.RevokeID, Value: "revoked-" + strconv.Itoa(i), Until: benchNow.Add(time.Hour)},
			{Kind: scopedtoken.CutoffSubject, Value: "user-" + strconv.Itoa(i), IssuedBefore: benchNow},
		} {
			if err := store.Revoke(b.Context(), r); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, mode := range []struct {
		name  string
		store scopedtoken.Revocations
	}{{"off", nil}, {"on", store}} {
		b.Run(mode.name, func(b *testing.B) {
			set, err := scopedtoken.StaticKeys(alg.verify)
			if err != nil {
				b.Fatal(err)
			}
			m, err := scopedtoken.New(scopedtoken.Config{Keys: set, Now: benchClock, AllowMeWithoutBusiness: true, Revocations: mode.store})
			if err != nil {
				b.Fatal(err)
			}
			runBench(b, m.Handler(okHandler), benchRequest(benchTarget, tok), http.StatusOK)
		})
	}
}

// BenchmarkRejectHostile measures refusals of tokens built to make the work
// done before the signature check expensive, against the baseline of a
// well-formed HS256 token with a bad signature, short or of MaxTokenBytes.
// Each hostile header is built at two sizes: filling a token of MaxTokenBytes
// (max_token), and of MaxHeaderBytes (max_header). The signed_claims cases are
// the payload side: validly signed but expired tokens of MaxTokenBytes whose
// claims are parsed in full before the refusal.
func BenchmarkRejectHostile(b *testing.B) {
	secret := benchAlgs(b)[0].verify.Secret
	key := scopedtoken.Key{ID: "k-HS256", Algorithm: "HS256", Secret: secret}
	minted := benchMint(b, mint.Key{ID: key.ID, Algorithm: key.Algorithm, Secret: secret},
		mint.Claims{Audience: []string{benchAud}, Query: benchQuery})
	claims := `{"aud":"` + benchAud + `","exp":` + strconv.FormatInt(benchNow.Add(time.Minute).Unix(), 10) + `}`
	enc := base64.RawURLEncoding.EncodedLen
	sigLen := enc(sha256.Size)
	// headerRoom is the longest header that still fits a token of
	// MaxTokenBytes with these claims.
	headerRoom := (scopedtoken.DefaultMaxTokenBytes - enc(len(claims)) - sigLen - 2) * 3 / 4
	hostileHeaders := []struct {
		name   string
		member func(i int) string // the i-th member appended to a valid header
	}{
		{"header_members", func(i int) string { return strconv.Quote(strconv.FormatInt(int64(i), 36)) + ":0" }},
		{"header_nesting", func(i int) string {
			depth := 30 // the header itself is the first level
			return `"n` + strconv.Itoa(i) + `":` + strings.Repeat(`{"a":`, depth) + "0" + strings.Repeat("}", depth)
		}},
		{"header_escapes", func(i int) string {
			return `"\u0065` + strconv.Itoa(i) + `":"` + strings.Repeat(`\u00e9\n\"`, 40) + `"`
		}},
		{"header_fold_candidates", func(i int) string {
			return `"\u017f\u212a` + strings.Repeat("x", 16) + strconv.Itoa(i) + `":0`
		}},
	}
	type hostileCase struct{ name, token string }
	var cases []hostileCase
	for _, h := range hostileHeaders {
		for _, size := range []struct {
			name string
			max  int
		}{{"max_token", headerRoom}, {"max_header", scopedtoken.MaxHeaderBytes}} {
			header := fillHeader(`{"alg":"HS256","kid":"k-HS256"`, h.member, size.max)
			cases = append(cases, hostileCase{h.name + "/" + size.name, benchSpoil(benchHS256(secret, b64Enc(header), b64Enc(claims)))})
		}
	}
	plainHeader := b64Enc(`{"alg":"HS256","kid":"k-HS256"}`)
	payloadRoom := scopedtoken.DefaultMaxTokenBytes - len(plainHeader) - sigLen - 2 // encoded
	longKid := func(n int) string { return b64Enc(`{"alg":"HS256","kid":"` + strings.Repeat("k", n) + `"}`) }
	cases = append(cases,
		hostileCase{"huge_kid/max_token", benchHS256(secret, longKid(headerRoom-30), b64Enc(claims))},
		hostileCase{"huge_kid/max_header", benchHS256(secret, longKid(scopedtoken.MaxHeaderBytes-30), b64Enc(claims))},
		hostileCase{"payload_junk/max_token", benchSpoil(benchHS256(secret, plainHeader, strings.Repeat("A", payloadRoom)))},
		hostileCase{"huge_signature/max_token", plainHeader + "." + b64Enc(claims) + "." +
			strings.Repeat("A", scopedtoken.DefaultMaxTokenBytes-len(plainHeader)-enc(len(claims))-2)},
	)
	expired := `{"aud":"` + benchAud + `","exp":` + strconv.FormatInt(benchNow.Add(-time.Hour).Unix(), 10)
	for _, c := range []struct {
		name   string
		member func(i int) string
	}{
		{"signed_claims_members", func(i int) string { return strconv.Quote(strconv.FormatInt(int64(i), 36)) + ":0" }},
		{"signed_claims_folding", func(i int) string { return `"\u017f\u212a\u00e9` + strconv.Itoa(i) + `":0` }},
	} {
		claims := fillHeader(expired, c.member, payloadRoom*3/4)
		cases = append(cases, hostileCase{c.name + "/max_token", benchHS256(secret, plainHeader, b64Enc(claims))})
	}
	pad := `,"pad":"` + strings.Repeat("x", payloadRoom*3/4-len(claims)-10) + `"}`
	baselines := []hostileCase{
		{"baseline_bad_signature", benchSpoil(minted)},
		{"baseline_bad_signature/max_token", benchSpoil(benchHS256(secret, plainHeader, b64Enc(claims[:len(claims)-1]+pad)))},
	}
	for _, c := range append(baselines, cases...) {
		if len(c.token) > scopedtoken.DefaultMaxTokenBytes {
			b.Fatalf("%s: token of %d bytes", c.name, len(c.token))
		}
		b.Run(c.name, func(b *testing.B) {
			h := benchMiddleware(b, 0, key).Handler(okHandler)
			runBench(b, h, benchRequest(benchTarget, c.token), http.StatusUnauthorized)
		})
	}
}

// fillHeader appends members to an open object while it stays within max
// bytes, and closes it.
func fillHeader(open string, member func(i int) string, max int) string {
	var sb strings.Builder
	sb.WriteString(open)
	for i := 0; ; i++ {
		m := "," + member(i)
		if sb.Len()+len(m)+1 > max {
			break
		}
		sb.WriteString(m)
	}
	sb.WriteString("}")
	return sb.String()
}

func b64Enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// benchHS256 joins two encoded segments and signs them with secret.
func benchHS256(secret []byte, header, payload string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(header + "." + payload))
	return header + "." + payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// benchSpoil changes one character of the signature, which stays well-formed.
func benchSpoil(tok string) string {
	i := len(tok) - 10
	return tok[:i] + flipB64(tok[i]) + tok[i+1:]
}
