package scopedtoken

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileRemoteSet serves body as a JWK Set from a local server and returns a
// RemoteKeySet over it that has fetched once, logging nowhere.
func hostileRemoteSet(t testing.TB, body []byte) *RemoteKeySet {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	rs, err := NewRemoteKeySet(context.Background(), RemoteConfig{
		URL:                srv.URL,
		Logger:             discardLogger(),
		MinRefreshInterval: time.Hour,
		RefreshWait:        50 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(rs.Close)
	return rs
}

// discardLogger drops everything: tests assert behaviour, not log lines.
func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// jwkOf returns the public JWK of pub with kid, in the form a JWKS endpoint
// serves it.
func jwkOf(t testing.TB, kid string, pub any) json.RawMessage {
	t.Helper()
	j, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, USE: jwkset.UseSig}})
	require.NoError(t, err)
	raw, err := json.Marshal(j.Marshal())
	require.NoError(t, err)
	return raw
}

// hostileJWKS joins JWKs into a JWK Set document.
func hostileJWKS(t testing.TB, jwks ...json.RawMessage) []byte {
	t.Helper()
	raw, err := json.Marshal(map[string][]json.RawMessage{"keys": append([]json.RawMessage{}, jwks...)}) // [] when empty, not null
	require.NoError(t, err)
	return raw
}

// faultServer is a JWKS endpoint whose answer the test changes at will.
type faultServer struct {
	*httptest.Server
	mu     sync.Mutex
	body   []byte
	status int
	delay  time.Duration
	hits   atomic.Int64
}

func newFaultServer(t testing.TB, body []byte) *faultServer {
	t.Helper()
	s := &faultServer{body: body, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		body, status, delay := s.body, s.status, s.delay
		s.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// serveJWKS changes what the endpoint answers.
func (s *faultServer) serveJWKS(body []byte, status int, delay time.Duration) {
	s.mu.Lock()
	s.body, s.status, s.delay = body, status, delay
	s.mu.Unlock()
}

// newFaultRemote builds a RemoteKeySet over url with millisecond intervals;
// edit may change the config first.
func newFaultRemote(t testing.TB, url string, edit func(*RemoteConfig)) *RemoteKeySet {
	t.Helper()
	cfg := RemoteConfig{
		URL:                url,
		Logger:             discardLogger(),
		HTTPTimeout:        2 * time.Second,
		MinRefreshInterval: 20 * time.Millisecond,
		RefreshWait:        500 * time.Millisecond,
	}
	if edit != nil {
		edit(&cfg)
	}
	rs, err := NewRemoteKeySet(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(rs.Close)
	return rs
}

// ecSigner is a fresh P-256 key and its kid.
type ecSigner struct {
	kid  string
	priv *ecdsa.PrivateKey
}

func newECSigner(t testing.TB, kid string) ecSigner {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return ecSigner{kid: kid, priv: priv}
}

func (s ecSigner) jwk(t testing.TB) json.RawMessage { return jwkOf(t, s.kid, &s.priv.PublicKey) }

// token signs valid claims; extra tells tokens of the same key apart.
func (s ecSigner) token(t testing.TB, extra string) string {
	return signRaw(t, "ES256", s.priv, `{"alg":"ES256","kid":"`+s.kid+`"}`, claimsWith(extra))
}

func remoteMiddleware(t testing.TB, ks KeySet) *Middleware {
	t.Helper()
	m, err := New(Config{Keys: ks, Now: fixedClock, AllowMeWithoutBusiness: true})
	require.NoError(t, err)
	return m
}

// quickStatus sends one request and returns the status and reason; unlike
// serve it is safe to call from any goroutine.
func quickStatus(m *Middleware, token string) (int, string) {
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, bearer(attackPath, token))
	var body struct{ Reason string }
	json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Code, body.Reason
}

func TestJWKSEndpointDownAtStart(t *testing.T) {
	a := newECSigner(t, "a")
	srv := newFaultServer(t, []byte("down"))
	srv.serveJWKS([]byte("down"), http.StatusInternalServerError, 0)
	rs := newFaultRemote(t, srv.URL, nil)
	m := remoteMiddleware(t, rs)
	tok := a.token(t, "")

	res := serve(t, m, bearer(attackPath, tok))
	assertRefused(t, res, http.StatusServiceUnavailable, "keys_unavailable")
	assert.Equal(t, "10", res.header.Get("Retry-After"))

	srv.serveJWKS(hostileJWKS(t, a.jwk(t)), http.StatusOK, 0)
	// The next unknown-kid lookup after MinRefreshInterval fetches again.
	require.Eventually(t, func() bool {
		code, _ := quickStatus(m, tok)
		return code == http.StatusOK
	}, 2*time.Second, 10*time.Millisecond, "the set must recover once the endpoint does")
}

func TestJWKSEndpointUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // connection refused from now on
	rs := newFaultRemote(t, url, nil)
	m := remoteMiddleware(t, rs)
	res := serve(t, m, bearer(attackPath, newECSigner(t, "a").token(t, "")))
	assertRefused(t, res, http.StatusServiceUnavailable, "keys_unavailable")
}

func TestJWKSRefreshFailureKeepsKeys(t *testing.T) {
	a := newECSigner(t, "a")
	srv := newFaultServer(t, hostileJWKS(t, a.jwk(t)))
	rs := newFaultRemote(t, srv.URL, nil)
	m := remoteMiddleware(t, rs)
	tok := a.token(t, "")
	code, _ := quickStatus(m, tok)
	require.Equal(t, http.StatusOK, code)

	failures := []struct {
		name   string
		body   []byte
		status int
	}{
		{name: "500", body: []byte("oops"), status: http.StatusInternalServerError},
		{name: "502 with a valid set", body: hostileJWKS(t), status: http.StatusBadGateway},
		{name: "garbage", body: []byte("<html>"), status: http.StatusOK},
		{name: "truncated JSON", body: hostileJWKS(t, a.jwk(t))[:20], status: http.StatusOK},
		{name: "keys not an array", body: []byte(`{"keys":{}}`), status: http.StatusOK},
		{name: "no keys member", body: []byte(`{}`), status: http.StatusOK},
		{name: "keys null", body: []byte(`{"keys":null}`), status: http.StatusOK},
		{name: "not an object", body: []byte(`[{"keys":[]}]`), status: http.StatusOK},
		{name: "data after the set", body: append(hostileJWKS(t), "{}"...), status: http.StatusOK},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			srv.serveJWKS(tt.body, tt.status, 0)
			assert.Error(t, rs.Refresh(context.Background()))
			code, _ := quickStatus(m, tok)
			assert.Equal(t, http.StatusOK, code, "the last good key must stay")
			code, _ = quickStatus(m, a.token(t, `,"fresh":1`))
			assert.Equal(t, http.StatusOK, code, "uncached tokens of the kept key still verify")
			// An unknown kid cannot be told apart from a key not fetched yet.
			code, reason := quickStatus(m, newECSigner(t, "new").token(t, ""))
			assert.Equal(t, http.StatusServiceUnavailable, code)
			assert.Equal(t, "keys_unavailable", reason)
		})
	}
}

func TestJWKSSlowEndpoint(t *testing.T) {
	a := newECSigner(t, "a")
	srv := newFaultServer(t, hostileJWKS(t, a.jwk(t)))
	rs := newFaultRemote(t, srv.URL, func(c *RemoteConfig) {
		c.HTTPTimeout = 10 * time.Second
		c.RefreshWait = 100 * time.Millisecond
	})
	m := remoteMiddleware(t, rs)
	srv.serveJWKS(hostileJWKS(t, a.jwk(t)), http.StatusOK, 10*time.Second)

	// Bounds here are correctness, not speed: a request must not wait for a
	// 10-second fetch. They are generous so a loaded machine cannot flake.
	t.Run("bounded by RefreshWait", func(t *testing.T) {
		time.Sleep(30 * time.Millisecond) // past MinRefreshInterval: the lookup fetches
		start := time.Now()
		code, reason := quickStatus(m, newECSigner(t, "unknown").token(t, ""))
		assert.Less(t, time.Since(start), 3*time.Second)
		assert.Equal(t, http.StatusUnauthorized, code)
		assert.Equal(t, "unknown_kid", reason)
	})
	t.Run("bounded by the request context", func(t *testing.T) {
		slow := newFaultRemote(t, srv.URL, func(c *RemoteConfig) { c.HTTPTimeout, c.RefreshWait = 200*time.Millisecond, time.Minute })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := slow.LookupKey(ctx, "unknown")
		assert.Less(t, time.Since(start), 3*time.Second)
		assert.ErrorIs(t, err, ErrKeysUnavailable)
	})
	t.Run("known keys never wait", func(t *testing.T) {
		code, _ := quickStatus(m, a.token(t, `,"n":1`))
		assert.Equal(t, http.StatusOK, code)
	})
}

func TestJWKSHugeBody(t *testing.T) {
	a := newECSigner(t, "a")
	good := hostileJWKS(t, a.jwk(t))
	huge := append(append([]byte{}, good[:len(good)-1]...), []byte(strings.Repeat(" ", 1<<20)+"}")...)
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{name: "with Content-Length", handler: func(w http.ResponseWriter, _ *http.Request) { w.Write(huge) }},
		{name: "chunked", handler: func(w http.ResponseWriter, _ *http.Request) {
			for i := 0; i < len(huge); i += 4096 {
				w.Write(huge[i:min(i+4096, len(huge))])
				w.(http.Flusher).Flush()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			rs := newFaultRemote(t, srv.URL, func(c *RemoteConfig) { c.MaxBodyBytes = 64 << 10 })
			err := rs.Refresh(context.Background())
			assert.ErrorIs(t, err, errBodyTooLarge)
			code, reason := quickStatus(remoteMiddleware(t, rs), a.token(t, ""))
			assert.Equal(t, http.StatusServiceUnavailable, code)
			assert.Equal(t, "keys_unavailable", reason)
		})
	}
	t.Run("the same set under the limit", func(t *testing.T) {
		srv := newFaultServer(t, huge)
		rs := newFaultRemote(t, srv.URL, func(c *RemoteConfig) { c.MaxBodyBytes = 2 << 20 })
		code, _ := quickStatus(remoteMiddleware(t, rs), a.token(t, ""))
		assert.Equal(t, http.StatusOK, code)
	})
}

func TestJWKSSetContents(t *testing.T) {
	a, b := newECSigner(t, "a"), newECSigner(t, "b")
	dupe := newECSigner(t, "a")
	rsaKey := genKeys(t).rsa
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	oct := raw(`{"kty":"oct","kid":"o","alg":"HS256","k":"` + base64.RawURLEncoding.EncodeToString(testSecret) + `"}`)
	octToken := signRaw(t, "HS256", testSecret, `{"alg":"HS256","kid":"o"}`, claimsWith(""))
	withField := func(j json.RawMessage, field string) json.RawMessage {
		return json.RawMessage(strings.TrimSuffix(string(j), "}") + "," + field + "}")
	}
	encKey := withField(jwkOf(t, "enc", &rsaKey.PublicKey), `"use":"enc"`)
	encKey = json.RawMessage(strings.Replace(string(encKey), `"use":"sig",`, "", 1))
	tests := []struct {
		name string
		set  []byte
		// tokens and the status each must get
		want map[string]int
	}{
		{name: "empty set", set: []byte(`{"keys":[]}`), want: map[string]int{a.token(t, ""): 401}},
		// A document without "keys" is not a JWK Set (RFC 7517 §5): the
		// fetch fails, so there is no set yet.
		{name: "no keys member", set: []byte(`{}`), want: map[string]int{a.token(t, ""): 503}},
		// A key that cannot be parsed is skipped (and logged) on its own:
		// refusing the whole document would keep removed keys in force.
		{name: "one malformed key among good ones", set: hostileJWKS(t, a.jwk(t), raw(`{"kty":"EC","crv":"P-256","kid":"bad","x":"!!","y":"AA"}`)),
			want: map[string]int{a.token(t, ""): 200}},
		{name: "one off-curve key among good ones", set: hostileJWKS(t, a.jwk(t), raw(`{"kty":"EC","crv":"P-256","kid":"bad","x":"AQ","y":"AQ"}`)),
			want: map[string]int{a.token(t, ""): 200}},
		// Key types jwkset does not support are skipped, not fatal.
		{name: "one unsupported key among good ones", set: hostileJWKS(t, a.jwk(t), raw(`{"kty":"OKP","crv":"Ed448","kid":"x448","x":"AA"}`)),
			want: map[string]int{a.token(t, ""): 200}},
		{name: "duplicate kid", set: hostileJWKS(t, a.jwk(t), dupe.jwk(t), b.jwk(t)),
			want: map[string]int{a.token(t, ""): 401, dupe.token(t, ""): 401, b.token(t, ""): 200}},
		{name: "oct key", set: hostileJWKS(t, oct, a.jwk(t)), want: map[string]int{octToken: 401, a.token(t, ""): 200}},
		{name: "wrong use", set: hostileJWKS(t, encKey, a.jwk(t)), want: map[string]int{
			signRaw(t, "RS256", rsaKey, `{"alg":"RS256","kid":"enc"}`, claimsWith("")): 401, a.token(t, ""): 200}},
		{name: "1024-bit RSA", set: hostileJWKS(t, jwkOf(t, "small", &small.PublicKey), a.jwk(t)), want: map[string]int{
			rs256Weak(t, small, "small"): 401, a.token(t, ""): 200}},
		{name: "private key published", set: hostileJWKS(t, func() json.RawMessage {
			j, err := jwkset.NewJWKFromKey(b.priv, jwkset.JWKOptions{Marshal: jwkset.JWKMarshalOptions{Private: true}, Metadata: jwkset.JWKMetadataOptions{KID: "b"}})
			require.NoError(t, err)
			out, err := json.Marshal(j.Marshal())
			require.NoError(t, err)
			return out
		}(), a.jwk(t)), want: map[string]int{b.token(t, ""): 401, a.token(t, ""): 200}},
		{name: "no kid", set: hostileJWKS(t, jwkOf(t, "", &b.priv.PublicKey), a.jwk(t)), want: map[string]int{a.token(t, ""): 200}},
		{name: "alg binds the key", set: hostileJWKS(t, withField(jwkOf(t, "rs", &rsaKey.PublicKey), `"alg":"PS256"`)), want: map[string]int{
			signRaw(t, "RS256", rsaKey, `{"alg":"RS256","kid":"rs"}`, claimsWith("")): 401,
			signRaw(t, "PS256", rsaKey, `{"alg":"PS256","kid":"rs"}`, claimsWith("")): 200}},
		{name: "no alg means the default", set: hostileJWKS(t, jwkOf(t, "rs", &rsaKey.PublicKey)), want: map[string]int{
			signRaw(t, "PS256", rsaKey, `{"alg":"PS256","kid":"rs"}`, claimsWith("")): 401,
			signRaw(t, "RS256", rsaKey, `{"alg":"RS256","kid":"rs"}`, claimsWith("")): 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFaultServer(t, tt.set)
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
	input := b64(`{"alg":"RS256","kid":"`+kid+`"}`) + "." + b64(claimsWith(""))
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
	a := newECSigner(t, "a")
	attacker := newECSigner(t, "x")
	srv := newFaultServer(t, hostileJWKS(t, a.jwk(t)))
	base := runtime.NumGoroutine()
	const minInterval = 50 * time.Millisecond
	start := time.Now() // before the first fetch, which counts too
	rs, err := NewRemoteKeySet(context.Background(), RemoteConfig{URL: srv.URL, Logger: discardLogger(),
		MinRefreshInterval: minInterval, RefreshWait: 20 * time.Millisecond})
	require.NoError(t, err)
	m := remoteMiddleware(t, rs)
	valid := a.token(t, "")

	var wg sync.WaitGroup
	var wrong atomic.Int64
	for g := 0; g < 50; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				kid := fmt.Sprintf("rnd-%d-%d", g, i)
				tok := signRaw(t, "ES256", attacker.priv, `{"alg":"ES256","kid":"`+kid+`"}`, claimsWith(""))
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
	hits := srv.hits.Load()
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
	a, b := newECSigner(t, "a"), newECSigner(t, "b")
	attacker := newECSigner(t, "x")
	srv := newFaultServer(t, hostileJWKS(t, a.jwk(t)))
	const minInterval = 100 * time.Millisecond
	rs := newFaultRemote(t, srv.URL, func(c *RemoteConfig) { c.MinRefreshInterval, c.RefreshWait = minInterval, 200*time.Millisecond })
	m := remoteMiddleware(t, rs)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				quickStatus(m, signRaw(t, "ES256", attacker.priv, fmt.Sprintf(`{"alg":"ES256","kid":"f%d-%d"}`, g, i), claimsWith("")))
			}
		}()
	}
	defer func() { cancel(); wg.Wait() }()
	time.Sleep(2 * minInterval) // the flood is under way

	srv.serveJWKS(hostileJWKS(t, a.jwk(t), b.jwk(t)), http.StatusOK, 0)
	published := time.Now()
	tok := b.token(t, "")
	// Documented bound: MinRefreshInterval after publication, plus one fetch
	// (RefreshWait). Slack for a loaded machine.
	bound := minInterval + 200*time.Millisecond + time.Second
	require.Eventually(t, func() bool {
		code, _ := quickStatus(m, tok)
		return code == http.StatusOK
	}, bound, 5*time.Millisecond, "the new kid must work within the documented bound")
	t.Logf("new kid accepted %v after publication", time.Since(published))
	code, _ := quickStatus(m, a.token(t, ""))
	assert.Equal(t, http.StatusOK, code, "the old kid still works while published")
}

// TestJWKSRemoval removes and replaces keys: a removed kid stops working
// after the next refresh, cached verifications included, and a kid whose
// material changed no longer accepts tokens of the old key.
func TestJWKSRemoval(t *testing.T) {
	a, b := newECSigner(t, "a"), newECSigner(t, "b")
	t.Run("explicit refresh", func(t *testing.T) {
		srv := newFaultServer(t, hostileJWKS(t, a.jwk(t), b.jwk(t)))
		rs := newFaultRemote(t, srv.URL, nil)
		m := remoteMiddleware(t, rs)
		tok := b.token(t, "")
		for i := 0; i < 2; i++ { // the second is a cache hit
			code, _ := quickStatus(m, tok)
			require.Equal(t, http.StatusOK, code)
		}
		srv.serveJWKS(hostileJWKS(t, a.jwk(t)), http.StatusOK, 0)
		require.NoError(t, rs.Refresh(context.Background()))
		res := serve(t, m, bearer(attackPath, tok))
		assertRefused(t, res, http.StatusUnauthorized, "unknown_kid")
		code, _ := quickStatus(m, a.token(t, ""))
		assert.Equal(t, http.StatusOK, code)
	})
	t.Run("background refresh", func(t *testing.T) {
		srv := newFaultServer(t, hostileJWKS(t, a.jwk(t), b.jwk(t)))
		rs := newFaultRemote(t, srv.URL, func(c *RemoteConfig) { c.RefreshInterval = 20 * time.Millisecond })
		m := remoteMiddleware(t, rs)
		tok := b.token(t, "")
		code, _ := quickStatus(m, tok)
		require.Equal(t, http.StatusOK, code)
		srv.serveJWKS(hostileJWKS(t, a.jwk(t)), http.StatusOK, 0)
		assert.Eventually(t, func() bool {
			code, reason := quickStatus(m, tok)
			return code == http.StatusUnauthorized && reason == "unknown_kid"
		}, 2*time.Second, 10*time.Millisecond)
	})
	t.Run("material replaced under the same kid", func(t *testing.T) {
		srv := newFaultServer(t, hostileJWKS(t, a.jwk(t), b.jwk(t)))
		rs := newFaultRemote(t, srv.URL, nil)
		m := remoteMiddleware(t, rs)
		tok := b.token(t, "")
		code, _ := quickStatus(m, tok)
		require.Equal(t, http.StatusOK, code)
		b2 := newECSigner(t, "b")
		srv.serveJWKS(hostileJWKS(t, a.jwk(t), b2.jwk(t)), http.StatusOK, 0)
		require.NoError(t, rs.Refresh(context.Background()))
		code, reason := quickStatus(m, tok)
		assert.Equal(t, http.StatusUnauthorized, code)
		assert.Equal(t, "bad_signature", reason, "the cached result of the old key must not be used")
		code, _ = quickStatus(m, b2.token(t, ""))
		assert.Equal(t, http.StatusOK, code)
	})
	t.Run("unchanged keys keep cached results", func(t *testing.T) {
		srv := newFaultServer(t, hostileJWKS(t, a.jwk(t)))
		rs := newFaultRemote(t, srv.URL, nil)
		before, err := rs.LookupKey(context.Background(), "a")
		require.NoError(t, err)
		require.NoError(t, rs.Refresh(context.Background()))
		after, err := rs.LookupKey(context.Background(), "a")
		require.NoError(t, err)
		assert.Same(t, before, after)
	})
}
