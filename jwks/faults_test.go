package jwks

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

func TestJWKSEndpointDownAtStart(t *testing.T) {
	a := testkit.NewSigner(t, "a")
	srv := testkit.NewJWKSServer(t, []byte("down"))
	srv.Serve([]byte("down"), http.StatusInternalServerError, 0)
	rs := newFaultRemote(t, srv.URL, nil)
	m := remoteMiddleware(t, rs)
	tok := a.Token(t, "")

	res := send(m, tok)
	assertRefused(t, res, http.StatusServiceUnavailable, "keys_unavailable")
	assert.Equal(t, "10", res.Header.Get("Retry-After"))

	srv.Serve(testkit.JWKSet(t, a.JWK(t)), http.StatusOK, 0)
	// The next unknown-kid lookup after MinRefreshInterval fetches again.
	require.Eventually(t, func() bool {
		code, _ := quickStatus(m, tok)
		return code == http.StatusOK
	}, 2*time.Second, 10*time.Millisecond, "the set must recover once the endpoint does")
}

func TestJWKSEndpointUnreachable(t *testing.T) {
	rs := newFaultRemote(t, testkit.ClosedURL(t), nil)
	m := remoteMiddleware(t, rs)
	res := send(m, testkit.NewSigner(t, "a").Token(t, ""))
	assertRefused(t, res, http.StatusServiceUnavailable, "keys_unavailable")
}

func TestJWKSRefreshFailureKeepsKeys(t *testing.T) {
	a := testkit.NewSigner(t, "a")
	srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, a.JWK(t)))
	rs := newFaultRemote(t, srv.URL, nil)
	m := remoteMiddleware(t, rs)
	tok := a.Token(t, "")
	code, _ := quickStatus(m, tok)
	require.Equal(t, http.StatusOK, code)

	failures := []struct {
		name   string
		body   []byte
		status int
	}{
		{name: "500", body: []byte("oops"), status: http.StatusInternalServerError},
		{name: "502 with a valid set", body: testkit.JWKSet(t), status: http.StatusBadGateway},
		{name: "garbage", body: []byte("<html>"), status: http.StatusOK},
		{name: "truncated JSON", body: testkit.JWKSet(t, a.JWK(t))[:20], status: http.StatusOK},
		{name: "keys not an array", body: []byte(`{"keys":{}}`), status: http.StatusOK},
		{name: "no keys member", body: []byte(`{}`), status: http.StatusOK},
		{name: "keys null", body: []byte(`{"keys":null}`), status: http.StatusOK},
		{name: "not an object", body: []byte(`[{"keys":[]}]`), status: http.StatusOK},
		{name: "data after the set", body: append(testkit.JWKSet(t), "{}"...), status: http.StatusOK},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			srv.Serve(tt.body, tt.status, 0)
			assert.Error(t, rs.Refresh(context.Background()))
			code, _ := quickStatus(m, tok)
			assert.Equal(t, http.StatusOK, code, "the last good key must stay")
			code, _ = quickStatus(m, a.Token(t, `,"fresh":1`))
			assert.Equal(t, http.StatusOK, code, "uncached tokens of the kept key still verify")
			// An unknown kid cannot be told apart from a key not fetched yet.
			code, reason := quickStatus(m, testkit.NewSigner(t, "new").Token(t, ""))
			assert.Equal(t, http.StatusServiceUnavailable, code)
			assert.Equal(t, "keys_unavailable", reason)
		})
	}
}

func TestJWKSSlowEndpoint(t *testing.T) {
	a := testkit.NewSigner(t, "a")
	srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, a.JWK(t)))
	rs := newFaultRemote(t, srv.URL, func(c *Config) {
		c.HTTPTimeout = 10 * time.Second
		c.RefreshWait = 100 * time.Millisecond
	})
	m := remoteMiddleware(t, rs)
	srv.Serve(testkit.JWKSet(t, a.JWK(t)), http.StatusOK, 10*time.Second)

	// Bounds here are correctness, not speed: a request must not wait for a
	// 10-second fetch. They are generous so a loaded machine cannot flake.
	t.Run("bounded by RefreshWait", func(t *testing.T) {
		time.Sleep(30 * time.Millisecond) // past MinRefreshInterval: the lookup fetches
		start := time.Now()
		code, reason := quickStatus(m, testkit.NewSigner(t, "unknown").Token(t, ""))
		assert.Less(t, time.Since(start), 3*time.Second)
		assert.Equal(t, http.StatusUnauthorized, code)
		assert.Equal(t, "unknown_kid", reason)
	})
	t.Run("bounded by the request context", func(t *testing.T) {
		slow := newFaultRemote(t, srv.URL, func(c *Config) { c.HTTPTimeout, c.RefreshWait = 200*time.Millisecond, time.Minute })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := slow.LookupKey(ctx, "unknown")
		assert.Less(t, time.Since(start), 3*time.Second)
		assert.ErrorIs(t, err, scopedtoken.ErrKeysUnavailable)
	})
	t.Run("known keys never wait", func(t *testing.T) {
		code, _ := quickStatus(m, a.Token(t, `,"n":1`))
		assert.Equal(t, http.StatusOK, code)
	})
}

func TestJWKSHugeBody(t *testing.T) {
	a := testkit.NewSigner(t, "a")
	good := testkit.JWKSet(t, a.JWK(t))
	huge := append(append([]byte{}, good[:len(good)-1]...), []byte(strings.Repeat(" ", 1<<20)+"}")...)
	tests := []struct {
		name  string
		reply testkit.Reply
	}{
		{name: "with Content-Length", reply: testkit.Reply{Body: huge}},
		{name: "chunked", reply: testkit.Reply{Body: huge, Chunk: 4096}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testkit.NewJWKSServer(t, nil)
			srv.Reply("", tt.reply)
			rs := newFaultRemote(t, srv.URL, func(c *Config) { c.MaxBodyBytes = 64 << 10 })
			err := rs.Refresh(context.Background())
			assert.ErrorIs(t, err, errBodyTooLarge)
			code, reason := quickStatus(remoteMiddleware(t, rs), a.Token(t, ""))
			assert.Equal(t, http.StatusServiceUnavailable, code)
			assert.Equal(t, "keys_unavailable", reason)
		})
	}
	t.Run("the same set under the limit", func(t *testing.T) {
		srv := testkit.NewJWKSServer(t, huge)
		rs := newFaultRemote(t, srv.URL, func(c *Config) { c.MaxBodyBytes = 2 << 20 })
		code, _ := quickStatus(remoteMiddleware(t, rs), a.Token(t, ""))
		assert.Equal(t, http.StatusOK, code)
	})
}

func TestJWKSSetContents(t *testing.T) {
	a, b := testkit.NewSigner(t, "a"), testkit.NewSigner(t, "b")
	dupe := testkit.NewSigner(t, "a")
	rsaKey := testkit.Keys(t).RSA
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	oct := raw(`{"kty":"oct","kid":"o","alg":"HS256","k":"` + base64.RawURLEncoding.EncodeToString(testkit.Secret) + `"}`)
	octToken := testkit.SignRaw(t, "HS256", testkit.Secret, `{"alg":"HS256","kid":"o"}`, testkit.Claims(""))
	withField := func(j json.RawMessage, field string) json.RawMessage {
		return json.RawMessage(strings.TrimSuffix(string(j), "}") + "," + field + "}")
	}
	encKey := withField(testkit.JWK(t, "enc", &rsaKey.PublicKey), `"use":"enc"`)
	encKey = json.RawMessage(strings.Replace(string(encKey), `"use":"sig",`, "", 1))
	tests := []struct {
		name string
		set  []byte
		// tokens and the status each must get
		want map[string]int
	}{
		{name: "empty set", set: []byte(`{"keys":[]}`), want: map[string]int{a.Token(t, ""): 401}},
		// A document without "keys" is not a JWK Set (RFC 7517 §5): the
		// fetch fails, so there is no set yet.
		{name: "no keys member", set: []byte(`{}`), want: map[string]int{a.Token(t, ""): 503}},
		// A key that cannot be parsed is skipped (and logged) on its own:
		// refusing the whole document would keep removed keys in force.
		{name: "one malformed key among good ones", set: testkit.JWKSet(t, a.JWK(t), raw(`{"kty":"EC","crv":"P-256","kid":"bad","x":"!!","y":"AA"}`)),
			want: map[string]int{a.Token(t, ""): 200}},
		{name: "one off-curve key among good ones", set: testkit.JWKSet(t, a.JWK(t), raw(`{"kty":"EC","crv":"P-256","kid":"bad","x":"AQ","y":"AQ"}`)),
			want: map[string]int{a.Token(t, ""): 200}},
		// Key types jwkset does not support are skipped, not fatal.
		{name: "one unsupported key among good ones", set: testkit.JWKSet(t, a.JWK(t), raw(`{"kty":"OKP","crv":"Ed448","kid":"x448","x":"AA"}`)),
			want: map[string]int{a.Token(t, ""): 200}},
		{name: "duplicate kid", set: testkit.JWKSet(t, a.JWK(t), dupe.JWK(t), b.JWK(t)),
			want: map[string]int{a.Token(t, ""): 401, dupe.Token(t, ""): 401, b.Token(t, ""): 200}},
		{name: "oct key", set: testkit.JWKSet(t, oct, a.JWK(t)), want: map[string]int{octToken: 401, a.Token(t, ""): 200}},
		{name: "wrong use", set: testkit.JWKSet(t, encKey, a.JWK(t)), want: map[string]int{
			testkit.SignRaw(t, "RS256", rsaKey, `{"alg":"RS256","kid":"enc"}`, testkit.Claims("")): 401, a.Token(t, ""): 200}},
		{name: "1024-bit RSA", set: testkit.JWKSet(t, testkit.JWK(t, "small", &small.PublicKey), a.JWK(t)), want: map[string]int{
			rs256Weak(t, small, "small"): 401, a.Token(t, ""): 200}},
		{name: "private key published", set: testkit.JWKSet(t, func() json.RawMessage {
			j, err := jwkset.NewJWKFromKey(b.Priv, jwkset.JWKOptions{Marshal: jwkset.JWKMarshalOptions{Private: true}, Metadata: jwkset.JWKMetadataOptions{KID: "b"}})
			require.NoError(t, err)
			out, err := json.Marshal(j.Marshal())
			require.NoError(t, err)
			return out
		}(), a.JWK(t)), want: map[string]int{b.Token(t, ""): 401, a.Token(t, ""): 200}},
		{name: "no kid", set: testkit.JWKSet(t, testkit.JWK(t, "", &b.Priv.PublicKey), a.JWK(t)), want: map[string]int{a.Token(t, ""): 200}},
		{name: "alg binds the key", set: testkit.JWKSet(t, withField(testkit.JWK(t, "rs", &rsaKey.PublicKey), `"alg":"PS256"`)), want: map[string]int{
			testkit.SignRaw(t, "RS256", rsaKey, `{"alg":"RS256","kid":"rs"}`, testkit.Claims("")): 401,
			testkit.SignRaw(t, "PS256", rsaKey, `{"alg":"PS256","kid":"rs"}`, testkit.Claims("")): 200}},
		{name: "no alg means the default", set: testkit.JWKSet(t, testkit.JWK(t, "rs", &rsaKey.PublicKey)), want: map[string]int{
			testkit.SignRaw(t, "PS256", rsaKey, `{"alg":"PS256","kid":"rs"}`, testkit.Claims("")): 401,
			testkit.SignRaw(t, "RS256", rsaKey, `{"alg":"RS256","kid":"rs"}`, testkit.Claims("")): 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testkit.NewJWKSServer(t, tt.set)
			m := remoteMiddleware(t, newFaultRemote(t, srv.URL, nil))
			for tok, want := range tt.want {
				code, reason := quickStatus(m, tok)
				assert.Equal(t, want, code, reason)
			}
		})
	}
}

// rs256Weak signs valid claims with an RSA key that Minter refuses to use.
func rs256Weak(t testing.TB, priv *rsa.PrivateKey, kid string) string {
	t.Helper()
	input := testkit.B64(`{"alg":"RS256","kid":"`+kid+`"}`) + "." + testkit.B64(testkit.Claims(""))
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:])
	require.NoError(t, err)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// settleGoroutines waits until the goroutine count is back to at most base,
// closing idle keep-alive connections that would otherwise linger.
func settleGoroutines(t *testing.T, base int) {
	t.Helper()
	assert.Eventually(t, func() bool {
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		return runtime.NumGoroutine() <= base
	}, 5*time.Second, 20*time.Millisecond, "goroutines: %d before, %d after", base, runtime.NumGoroutine())
}

// TestJWKSFloodOfRandomKids sends a flood of tokens with random kids. Fetches
// stay within one per MinRefreshInterval (plus the first), requests are not
// held, and nothing is left running after Close.
func TestJWKSFloodOfRandomKids(t *testing.T) {
	a := testkit.NewSigner(t, "a")
	attacker := testkit.NewSigner(t, "x")
	srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, a.JWK(t)))
	base := runtime.NumGoroutine()
	const minInterval = 50 * time.Millisecond
	start := time.Now() // before the first fetch, which counts too
	rs, err := New(context.Background(), Config{URL: srv.URL, Logger: testkit.DiscardLogger(),
		MinRefreshInterval: minInterval, RefreshWait: 20 * time.Millisecond})
	require.NoError(t, err)
	m := remoteMiddleware(t, rs)
	valid := a.Token(t, "")

	var wg sync.WaitGroup
	var wrong atomic.Int64
	for g := 0; g < 50; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				kid := fmt.Sprintf("rnd-%d-%d", g, i)
				tok := testkit.SignRaw(t, "ES256", attacker.Priv, `{"alg":"ES256","kid":"`+kid+`"}`, testkit.Claims(""))
				if code, _ := quickStatus(m, tok); code != http.StatusUnauthorized {
					wrong.Add(1)
				}
				if code, _ := quickStatus(m, valid); code != http.StatusOK {
					wrong.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	assert.Zero(t, wrong.Load(), "random kids are 401, the known kid keeps working")
	hits := srv.Hits.Load()
	limit := 1 + int64(elapsed/minInterval) + 1
	t.Logf("%d fetches in %v (limit %d)", hits, elapsed, limit)
	assert.LessOrEqual(t, hits, limit, "fetches caused by unknown kids are rate-limited")

	rs.Close()
	srv.Close()
	settleGoroutines(t, base)
}

// TestJWKSRotationDuringFlood publishes a new key while random kids flood
// the set: the new kid works within MinRefreshInterval plus one fetch.
func TestJWKSRotationDuringFlood(t *testing.T) {
	a, b := testkit.NewSigner(t, "a"), testkit.NewSigner(t, "b")
	attacker := testkit.NewSigner(t, "x")
	srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, a.JWK(t)))
	const minInterval = 100 * time.Millisecond
	rs := newFaultRemote(t, srv.URL, func(c *Config) { c.MinRefreshInterval, c.RefreshWait = minInterval, 200*time.Millisecond })
	m := remoteMiddleware(t, rs)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				quickStatus(m, testkit.SignRaw(t, "ES256", attacker.Priv, fmt.Sprintf(`{"alg":"ES256","kid":"f%d-%d"}`, g, i), testkit.Claims("")))
			}
		}()
	}
	defer func() { cancel(); wg.Wait() }()
	time.Sleep(2 * minInterval) // the flood is under way

	srv.Serve(testkit.JWKSet(t, a.JWK(t), b.JWK(t)), http.StatusOK, 0)
	published := time.Now()
	tok := b.Token(t, "")
	// Documented bound: MinRefreshInterval after publication, plus one fetch
	// (RefreshWait). Slack for a loaded machine.
	bound := minInterval + 200*time.Millisecond + time.Second
	require.Eventually(t, func() bool {
		code, _ := quickStatus(m, tok)
		return code == http.StatusOK
	}, bound, 5*time.Millisecond, "the new kid must work within the documented bound")
	t.Logf("new kid accepted %v after publication", time.Since(published))
	code, _ := quickStatus(m, a.Token(t, ""))
	assert.Equal(t, http.StatusOK, code, "the old kid still works while published")
}

// TestJWKSRemoval removes and replaces keys: a removed kid stops working
// after the next refresh, cached verifications included, and a kid whose
// material changed no longer accepts tokens of the old key.
func TestJWKSRemoval(t *testing.T) {
	a, b := testkit.NewSigner(t, "a"), testkit.NewSigner(t, "b")
	t.Run("explicit refresh", func(t *testing.T) {
		srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, a.JWK(t), b.JWK(t)))
		rs := newFaultRemote(t, srv.URL, nil)
		m := remoteMiddleware(t, rs)
		tok := b.Token(t, "")
		for i := 0; i < 2; i++ { // the second is a cache hit
			code, _ := quickStatus(m, tok)
			require.Equal(t, http.StatusOK, code)
		}
		srv.Serve(testkit.JWKSet(t, a.JWK(t)), http.StatusOK, 0)
		require.NoError(t, rs.Refresh(context.Background()))
		res := send(m, tok)
		assertRefused(t, res, http.StatusUnauthorized, "unknown_kid")
		code, _ := quickStatus(m, a.Token(t, ""))
		assert.Equal(t, http.StatusOK, code)
	})
	t.Run("background refresh", func(t *testing.T) {
		srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, a.JWK(t), b.JWK(t)))
		rs := newFaultRemote(t, srv.URL, func(c *Config) { c.RefreshInterval = 20 * time.Millisecond })
		m := remoteMiddleware(t, rs)
		tok := b.Token(t, "")
		code, _ := quickStatus(m, tok)
		require.Equal(t, http.StatusOK, code)
		srv.Serve(testkit.JWKSet(t, a.JWK(t)), http.StatusOK, 0)
		assert.Eventually(t, func() bool {
			code, reason := quickStatus(m, tok)
			return code == http.StatusUnauthorized && reason == "unknown_kid"
		}, 2*time.Second, 10*time.Millisecond)
	})
	t.Run("material replaced under the same kid", func(t *testing.T) {
		srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, a.JWK(t), b.JWK(t)))
		rs := newFaultRemote(t, srv.URL, nil)
		m := remoteMiddleware(t, rs)
		tok := b.Token(t, "")
		code, _ := quickStatus(m, tok)
		require.Equal(t, http.StatusOK, code)
		b2 := testkit.NewSigner(t, "b")
		srv.Serve(testkit.JWKSet(t, a.JWK(t), b2.JWK(t)), http.StatusOK, 0)
		require.NoError(t, rs.Refresh(context.Background()))
		code, reason := quickStatus(m, tok)
		assert.Equal(t, http.StatusUnauthorized, code)
		assert.Equal(t, "bad_signature", reason, "the cached result of the old key must not be used")
		code, _ = quickStatus(m, b2.Token(t, ""))
		assert.Equal(t, http.StatusOK, code)
	})
	t.Run("unchanged keys keep cached results", func(t *testing.T) {
		srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, a.JWK(t)))
		rs := newFaultRemote(t, srv.URL, nil)
		before, err := rs.LookupKey(context.Background(), "a")
		require.NoError(t, err)
		require.NoError(t, rs.Refresh(context.Background()))
		after, err := rs.LookupKey(context.Background(), "a")
		require.NoError(t, err)
		assert.Same(t, before, after)
	})
}
