package scopedtoken

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jwk describes pub as a JWK with the given members (alg and use may be "").
func jwk(kid, alg, use string, pub any) map[string]any {
	enc := base64.RawURLEncoding.EncodeToString
	m := map[string]any{"kid": kid}
	if alg != "" {
		m["alg"] = alg
	}
	if use != "" {
		m["use"] = use
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", enc(k.N.Bytes()), enc(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		m["kty"], m["crv"] = "EC", k.Curve.Params().Name
		m["x"], m["y"] = enc(k.X.FillBytes(make([]byte, size))), enc(k.Y.FillBytes(make([]byte, size)))
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", enc(k)
	case []byte:
		m["kty"], m["k"] = "oct", enc(k)
	}
	return m
}

// jwksServer serves whatever set is stored in it and counts requests.
type jwksServer struct {
	*httptest.Server
	mu       sync.Mutex
	keys     []map[string]any
	requests atomic.Int32
	delay    time.Duration
}

func newJWKSServer(t *testing.T, keys ...map[string]any) *jwksServer {
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		body, _ := json.Marshal(map[string]any{"keys": s.keys})
		delay := s.delay
		s.mu.Unlock()
		time.Sleep(delay)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(keys ...map[string]any) {
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
}

func newRemote(t *testing.T, cfg RemoteConfig) *RemoteKeySet {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r, err := NewRemoteKeySet(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(r.Close)
	return r
}

// TestRemoteKeyRules covers the key rules of docs/security.md for remote keys: alg binding with and
// without a JWK alg, and the keys that are never used.
func TestRemoteKeyRules(t *testing.T) {
	k := genKeys(t)
	claims := claimsJSON(t, validClaims())
	tok := func(t *testing.T, alg, kid string, signer any) string {
		return signRaw(t, alg, signer, `{"alg":"`+alg+`","kid":"`+kid+`"}`, claims)
	}
	private := jwk("priv", "ES256", "sig", &k.ec.PublicKey)
	private["d"] = base64.RawURLEncoding.EncodeToString(k.ec.D.Bytes())
	noVerify := jwk("ops", "ES256", "", &k.ec.PublicKey)
	noVerify["key_ops"] = []string{"sign"}
	withVerify := jwk("opsv", "ES256", "", &k.ec.PublicKey)
	withVerify["key_ops"] = []string{"verify"}
	srv := newJWKSServer(t,
		jwk("rs-alg", "RS256", "sig", &k.rsa.PublicKey),
		jwk("ps-alg", "PS256", "sig", &k.rsa.PublicKey),
		jwk("rs-none", "", "sig", &k.rsa.PublicKey),
		jwk("es-none", "", "", &k.ec.PublicKey),
		jwk("ed-none", "", "sig", k.ed.Public()),
		jwk("enc", "RS256", "enc", &k.rsa.PublicKey),
		jwk("oct", "HS256", "sig", testSecret),
		jwk("dup", "ES256", "sig", &k.ec.PublicKey),
		jwk("dup", "ES256", "sig", &k.ec.PublicKey),
		jwk("wrong-type", "ES256", "sig", &k.rsa.PublicKey),
		private, noVerify, withVerify,
	)
	remote := newRemote(t, RemoteConfig{URL: srv.URL, MinRefreshInterval: time.Hour})
	m, err := New(Config{AllowMeWithoutBusiness: true, Keys: remote, Now: fixedClock})
	require.NoError(t, err)
	tests := []struct {
		name   string
		token  func(t *testing.T) string
		reason string
	}{
		{name: "JWK alg RS256 accepts RS256", token: func(t *testing.T) string { return tok(t, "RS256", "rs-alg", k.rsa) }},
		{name: "JWK alg RS256 refuses PS256", token: func(t *testing.T) string { return tok(t, "PS256", "rs-alg", k.rsa) }, reason: "alg_mismatch"},
		{name: "JWK alg PS256 accepts PS256", token: func(t *testing.T) string { return tok(t, "PS256", "ps-alg", k.rsa) }},
		{name: "JWK alg PS256 refuses RS256", token: func(t *testing.T) string { return tok(t, "RS256", "ps-alg", k.rsa) }, reason: "alg_mismatch"},
		{name: "RSA JWK without alg accepts RS256", token: func(t *testing.T) string { return tok(t, "RS256", "rs-none", k.rsa) }},
		{name: "RSA JWK without alg refuses PS256", token: func(t *testing.T) string { return tok(t, "PS256", "rs-none", k.rsa) }, reason: "alg_mismatch"},
		{name: "RSA JWK without alg refuses RS512", token: func(t *testing.T) string { return tok(t, "RS512", "rs-none", k.rsa) }, reason: "alg_mismatch"},
		{name: "EC JWK without alg or use accepts ES256", token: func(t *testing.T) string { return tok(t, "ES256", "es-none", k.ec) }},
		{name: "OKP JWK without alg accepts EdDSA", token: func(t *testing.T) string { return tok(t, "EdDSA", "ed-none", k.ed) }},
		{name: "use enc is not used", token: func(t *testing.T) string { return tok(t, "RS256", "enc", k.rsa) }, reason: "unknown_kid"},
		{name: "oct key is not used", token: func(t *testing.T) string { return tok(t, "HS256", "oct", testSecret) }, reason: "unknown_kid"},
		{name: "duplicated kid is not used", token: func(t *testing.T) string { return tok(t, "ES256", "dup", k.ec) }, reason: "unknown_kid"},
		{name: "alg that does not fit the key type", token: func(t *testing.T) string { return tok(t, "ES256", "wrong-type", k.ec) }, reason: "unknown_kid"},
		{name: "JWK with private material is not used", token: func(t *testing.T) string { return tok(t, "ES256", "priv", k.ec) }, reason: "unknown_kid"},
		{name: "key_ops without verify is not used", token: func(t *testing.T) string { return tok(t, "ES256", "ops", k.ec) }, reason: "unknown_kid"},
		{name: "key_ops with verify is used", token: func(t *testing.T) string { return tok(t, "ES256", "opsv", k.ec) }},
		{name: "token without kid is never tried against the keys", token: func(t *testing.T) string {
			return signRaw(t, "RS256", k.rsa, `{"alg":"RS256"}`, claims)
		}, reason: "missing_kid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := serve(t, m, bearer("/v2/accounts/me/search", tc.token(t)))
			if tc.reason == "" {
				assert.Equal(t, http.StatusOK, res.code, res.body)
				return
			}
			assert.Equal(t, http.StatusUnauthorized, res.code)
			assert.Equal(t, tc.reason, res.reason)
			assert.False(t, res.ran)
		})
	}
}

func TestRemoteBusiness(t *testing.T) {
	k := genKeys(t)
	srv := newJWKSServer(t, jwk("a", "ES256", "sig", &k.ec.PublicKey), jwk("b", "ES256", "sig", &k.ec.PublicKey))
	remote := newRemote(t, RemoteConfig{URL: srv.URL, BusinessID: "7", BusinessByKID: map[string]string{"b": "8"}})
	m, err := New(Config{AllowMeWithoutBusiness: true, Keys: remote, Now: fixedClock})
	require.NoError(t, err)
	for kid, business := range map[string]string{"a": "7", "b": "8"} {
		token := signRaw(t, "ES256", k.ec, `{"alg":"ES256","kid":"`+kid+`"}`, claimsJSON(t, validClaims()))
		tk, err := m.Verify(t.Context(), token, "/v2/accounts/me/search")
		require.NoError(t, err)
		assert.Equal(t, business, tk.BusinessID())
	}
	_, err = NewRemoteKeySet(t.Context(), RemoteConfig{URL: srv.URL, BusinessByKID: map[string]string{"a": "me"}})
	assert.Error(t, err, "me is not a business")
}

// TestRemoteUnknownKIDSharesOneFetch: concurrent misses wait for one shared
// fetch, and the rate limit holds further ones back.
func TestRemoteUnknownKIDSharesOneFetch(t *testing.T) {
	k := genKeys(t)
	srv := newJWKSServer(t, jwk("old", "ES256", "sig", &k.ec.PublicKey))
	remote := newRemote(t, RemoteConfig{URL: srv.URL, MinRefreshInterval: time.Hour, RefreshWait: 5 * time.Second})
	require.EqualValues(t, 1, srv.requests.Load(), "one fetch at start")
	srv.mu.Lock()
	srv.keys = append(srv.keys, jwk("new", "ES256", "sig", &k.ec.PublicKey))
	srv.delay = 100 * time.Millisecond
	srv.mu.Unlock()
	var wg sync.WaitGroup
	var found atomic.Int32
	for range 50 {
		wg.Go(func() {
			if _, err := remote.LookupKey(context.Background(), "new"); err == nil {
				found.Add(1)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 50, found.Load())
	assert.EqualValues(t, 2, srv.requests.Load(), "fifty misses, one fetch")
	_, err := remote.LookupKey(t.Context(), "unknown")
	assert.ErrorIs(t, err, ErrUnknownKID)
	assert.EqualValues(t, 2, srv.requests.Load(), "the rate limit holds the next fetch back")
}

// TestRemoteCancelledCallerDoesNotAbortFetch: a request that gives up leaves
// the fetch running for the others.
func TestRemoteCancelledCallerDoesNotAbortFetch(t *testing.T) {
	k := genKeys(t)
	srv := newJWKSServer(t)
	remote := newRemote(t, RemoteConfig{URL: srv.URL, MinRefreshInterval: time.Nanosecond})
	srv.mu.Lock()
	srv.keys = []map[string]any{jwk("a", "ES256", "sig", &k.ec.PublicKey)}
	srv.delay = 200 * time.Millisecond
	srv.mu.Unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := remote.LookupKey(ctx, "a")
	assert.Error(t, err)
	assert.Less(t, time.Since(start), 150*time.Millisecond, "bounded by the caller's context")
	got, err := remote.LookupKey(context.Background(), "a")
	require.NoError(t, err, "the fetch went on and a later caller finds the key")
	assert.Equal(t, "ES256", got.Algorithm())
}

func TestRemoteBodyLimitAndLastGoodSet(t *testing.T) {
	k := genKeys(t)
	srv := newJWKSServer(t, jwk("a", "ES256", "sig", &k.ec.PublicKey))
	remote := newRemote(t, RemoteConfig{URL: srv.URL, MaxBodyBytes: 4096})
	_, err := remote.LookupKey(t.Context(), "a")
	require.NoError(t, err)
	big := make([]map[string]any, 40)
	for i := range big {
		big[i] = jwk("k"+itoa(int64(i)), "ES256", "sig", &k.ec.PublicKey)
	}
	srv.set(big...)
	assert.ErrorContains(t, remote.Refresh(t.Context()), "MaxBodyBytes")
	_, err = remote.LookupKey(t.Context(), "a")
	assert.NoError(t, err, "the last good set is kept when a fetch fails")
}

func TestRemoteConfigValidation(t *testing.T) {
	for _, u := range []string{"", "ftp://x/jwks", "/relative", "http://"} {
		_, err := NewRemoteKeySet(t.Context(), RemoteConfig{URL: u})
		assert.Error(t, err, u)
	}
}

// TestRemoteRefreshIsFresh: Refresh never answers with a fetch that started
// before it was called, which may have missed a key just published.
func TestRemoteRefreshIsFresh(t *testing.T) {
	k := genKeys(t)
	srv := newJWKSServer(t)
	remote := newRemote(t, RemoteConfig{URL: srv.URL, MinRefreshInterval: time.Nanosecond, RefreshWait: time.Millisecond})
	srv.mu.Lock()
	srv.delay = 200 * time.Millisecond
	srv.mu.Unlock()
	_, err := remote.LookupKey(t.Context(), "a") // starts a slow fetch and gives up waiting
	require.Error(t, err)
	srv.set(jwk("a", "ES256", "sig", &k.ec.PublicKey)) // published while that fetch is under way
	require.NoError(t, remote.Refresh(t.Context()))
	_, err = remote.LookupKey(t.Context(), "a")
	assert.NoError(t, err)
}

// TestRemoteCloseWaitsForFetches: Close returns only once a fetch that an
// unknown kid started has ended (nothing of the set runs or logs after it),
// and afterwards nothing fetches: lookups answer from the last set.
func TestRemoteCloseWaitsForFetches(t *testing.T) {
	k := genKeys(t)
	body, err := json.Marshal(map[string]any{"keys": []any{jwk("es", "ES256", "sig", &k.ec.PublicKey)}})
	require.NoError(t, err)
	var requests atomic.Int32
	started := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if requests.Add(1) == 1 {
			w.Write(body) // the first fetch, in NewRemoteKeySet
			return
		}
		started <- struct{}{}
		<-req.Context().Done() // holds the fetch until the set's own context ends it
	}))
	t.Cleanup(srv.Close)
	var logs logRecorder
	r, err := NewRemoteKeySet(t.Context(), RemoteConfig{URL: srv.URL, RefreshWait: time.Millisecond, Logger: logs.logger()})
	require.NoError(t, err)
	_, err = r.LookupKey(t.Context(), "unknown") // starts a fetch, waits 1 ms for it
	require.ErrorIs(t, err, ErrUnknownKID)
	<-started
	r.Close()
	assert.Contains(t, logs.String(), "refresh failed", "the fetch ended, and logged, before Close returned")
	before := requests.Load()
	k2, err := r.LookupKey(t.Context(), "es")
	require.NoError(t, err, "lookups still answer from the last set")
	assert.NotNil(t, k2)
	_, err = r.LookupKey(t.Context(), "other")
	assert.Error(t, err, "an unknown kid fetches nothing after Close")
	assert.ErrorIs(t, r.Refresh(t.Context()), errRemoteClosed)
	assert.Equal(t, before, requests.Load(), "no fetch after Close")
}
