package jwks

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
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
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

// jwkSet is the JWK Set document of keys, as jwk describes them.
func jwkSet(t testing.TB, keys ...map[string]any) []byte {
	t.Helper()
	body, err := json.Marshal(map[string]any{"keys": append([]map[string]any{}, keys...)})
	require.NoError(t, err)
	return body
}

// newJWKSServer serves the JWK Set of keys from testkit's JWKS server.
func newJWKSServer(t testing.TB, keys ...map[string]any) *testkit.JWKSServer {
	t.Helper()
	return testkit.NewJWKSServer(t, jwkSet(t, keys...))
}

func newRemote(t *testing.T, cfg Config) *Set {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r, err := New(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(r.Close)
	return r
}

// TestRemoteKeyRules covers the key rules of docs/security.md for remote keys: alg binding with and
// without a JWK alg, and the keys that are never used.
func TestRemoteKeyRules(t *testing.T) {
	k := testkit.Keys(t)
	claims := testkit.Claims("")
	tok := func(t *testing.T, alg, kid string, signer any) string {
		return testkit.SignRaw(t, alg, signer, `{"alg":"`+alg+`","kid":"`+kid+`"}`, claims)
	}
	private := jwk("priv", "ES256", "sig", &k.EC.PublicKey)
	private["d"] = base64.RawURLEncoding.EncodeToString(k.EC.D.Bytes())
	noVerify := jwk("ops", "ES256", "", &k.EC.PublicKey)
	noVerify["key_ops"] = []string{"sign"}
	withVerify := jwk("opsv", "ES256", "", &k.EC.PublicKey)
	withVerify["key_ops"] = []string{"verify"}
	srv := newJWKSServer(t,
		jwk("rs-alg", "RS256", "sig", &k.RSA.PublicKey),
		jwk("ps-alg", "PS256", "sig", &k.RSA.PublicKey),
		jwk("rs-none", "", "sig", &k.RSA.PublicKey),
		jwk("es-none", "", "", &k.EC.PublicKey),
		jwk("ed-none", "", "sig", k.Ed.Public()),
		jwk("enc", "RS256", "enc", &k.RSA.PublicKey),
		jwk("oct", "HS256", "sig", testkit.Secret),
		jwk("dup", "ES256", "sig", &k.EC.PublicKey),
		jwk("dup", "ES256", "sig", &k.EC.PublicKey),
		jwk("wrong-type", "ES256", "sig", &k.RSA.PublicKey),
		private, noVerify, withVerify,
	)
	remote := newRemote(t, Config{URL: srv.URL, MinRefreshInterval: time.Hour})
	m := remoteMiddleware(t, remote)
	tests := []struct {
		name   string
		token  func(t *testing.T) string
		reason string
	}{
		{name: "JWK alg RS256 accepts RS256", token: func(t *testing.T) string { return tok(t, "RS256", "rs-alg", k.RSA) }},
		{name: "JWK alg RS256 refuses PS256", token: func(t *testing.T) string { return tok(t, "PS256", "rs-alg", k.RSA) }, reason: "alg_mismatch"},
		{name: "JWK alg PS256 accepts PS256", token: func(t *testing.T) string { return tok(t, "PS256", "ps-alg", k.RSA) }},
		{name: "JWK alg PS256 refuses RS256", token: func(t *testing.T) string { return tok(t, "RS256", "ps-alg", k.RSA) }, reason: "alg_mismatch"},
		{name: "RSA JWK without alg accepts RS256", token: func(t *testing.T) string { return tok(t, "RS256", "rs-none", k.RSA) }},
		{name: "RSA JWK without alg refuses PS256", token: func(t *testing.T) string { return tok(t, "PS256", "rs-none", k.RSA) }, reason: "alg_mismatch"},
		{name: "RSA JWK without alg refuses RS512", token: func(t *testing.T) string { return tok(t, "RS512", "rs-none", k.RSA) }, reason: "alg_mismatch"},
		{name: "EC JWK without alg or use accepts ES256", token: func(t *testing.T) string { return tok(t, "ES256", "es-none", k.EC) }},
		{name: "OKP JWK without alg accepts EdDSA", token: func(t *testing.T) string { return tok(t, "EdDSA", "ed-none", k.Ed) }},
		{name: "use enc is not used", token: func(t *testing.T) string { return tok(t, "RS256", "enc", k.RSA) }, reason: "unknown_kid"},
		{name: "oct key is not used", token: func(t *testing.T) string { return tok(t, "HS256", "oct", testkit.Secret) }, reason: "unknown_kid"},
		{name: "duplicated kid is not used", token: func(t *testing.T) string { return tok(t, "ES256", "dup", k.EC) }, reason: "unknown_kid"},
		{name: "alg that does not fit the key type", token: func(t *testing.T) string { return tok(t, "ES256", "wrong-type", k.EC) }, reason: "unknown_kid"},
		{name: "JWK with private material is not used", token: func(t *testing.T) string { return tok(t, "ES256", "priv", k.EC) }, reason: "unknown_kid"},
		{name: "key_ops without verify is not used", token: func(t *testing.T) string { return tok(t, "ES256", "ops", k.EC) }, reason: "unknown_kid"},
		{name: "key_ops with verify is used", token: func(t *testing.T) string { return tok(t, "ES256", "opsv", k.EC) }},
		{name: "token without kid is never tried against the keys", token: func(t *testing.T) string {
			return testkit.SignRaw(t, "RS256", k.RSA, `{"alg":"RS256"}`, claims)
		}, reason: "missing_kid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := send(m, tc.token(t))
			if tc.reason == "" {
				assert.Equal(t, http.StatusOK, res.Code, res.Reason)
				return
			}
			assert.Equal(t, http.StatusUnauthorized, res.Code)
			assert.Equal(t, tc.reason, res.Reason)
			assert.False(t, res.Ran)
		})
	}
}

func TestRemoteBusiness(t *testing.T) {
	k := testkit.Keys(t)
	srv := newJWKSServer(t, jwk("a", "ES256", "sig", &k.EC.PublicKey), jwk("b", "ES256", "sig", &k.EC.PublicKey))
	remote := newRemote(t, Config{URL: srv.URL, BusinessID: "7", BusinessByKID: map[string]string{"b": "8"}})
	m := remoteMiddleware(t, remote)
	for kid, business := range map[string]string{"a": "7", "b": "8"} {
		token := testkit.SignRaw(t, "ES256", k.EC, `{"alg":"ES256","kid":"`+kid+`"}`, testkit.Claims(""))
		tk, err := m.Verify(t.Context(), token, "/v2/accounts/me/search")
		require.NoError(t, err)
		assert.Equal(t, business, tk.BusinessID())
	}
	_, err := New(t.Context(), Config{URL: srv.URL, BusinessByKID: map[string]string{"a": "me"}})
	assert.Error(t, err, "me is not a business")
}

// TestRemoteUnknownKIDSharesOneFetch: concurrent misses wait for one shared
// fetch, and the rate limit holds further ones back.
func TestRemoteUnknownKIDSharesOneFetch(t *testing.T) {
	k := testkit.Keys(t)
	srv := newJWKSServer(t, jwk("old", "ES256", "sig", &k.EC.PublicKey))
	remote := newRemote(t, Config{URL: srv.URL, MinRefreshInterval: time.Hour, RefreshWait: 5 * time.Second})
	require.EqualValues(t, 1, srv.Hits.Load(), "one fetch at start")
	srv.Serve(jwkSet(t, jwk("old", "ES256", "sig", &k.EC.PublicKey), jwk("new", "ES256", "sig", &k.EC.PublicKey)), http.StatusOK, 100*time.Millisecond)
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
	assert.EqualValues(t, 2, srv.Hits.Load(), "fifty misses, one fetch")
	_, err := remote.LookupKey(t.Context(), "unknown")
	assert.ErrorIs(t, err, scopedtoken.ErrUnknownKID)
	assert.EqualValues(t, 2, srv.Hits.Load(), "the rate limit holds the next fetch back")
}

// TestRemoteCancelledCallerDoesNotAbortFetch: a request that gives up leaves
// the fetch running for the others.
func TestRemoteCancelledCallerDoesNotAbortFetch(t *testing.T) {
	k := testkit.Keys(t)
	srv := newJWKSServer(t)
	remote := newRemote(t, Config{URL: srv.URL, MinRefreshInterval: time.Nanosecond})
	srv.Serve(jwkSet(t, jwk("a", "ES256", "sig", &k.EC.PublicKey)), http.StatusOK, 200*time.Millisecond)
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
	k := testkit.Keys(t)
	srv := newJWKSServer(t, jwk("a", "ES256", "sig", &k.EC.PublicKey))
	remote := newRemote(t, Config{URL: srv.URL, MaxBodyBytes: 4096})
	_, err := remote.LookupKey(t.Context(), "a")
	require.NoError(t, err)
	big := make([]map[string]any, 40)
	for i := range big {
		big[i] = jwk("k"+strconv.Itoa(i), "ES256", "sig", &k.EC.PublicKey)
	}
	srv.Serve(jwkSet(t, big...), http.StatusOK, 0)
	assert.ErrorContains(t, remote.Refresh(t.Context()), "MaxBodyBytes")
	_, err = remote.LookupKey(t.Context(), "a")
	assert.NoError(t, err, "the last good set is kept when a fetch fails")
}

func TestRemoteConfigValidation(t *testing.T) {
	for _, u := range []string{"", "ftp://x/jwks", "/relative", "http://"} {
		_, err := New(t.Context(), Config{URL: u})
		assert.Error(t, err, u)
	}
}

// TestRemoteRefreshIsFresh: Refresh never answers with a fetch that started
// before it was called, which may have missed a key just published.
func TestRemoteRefreshIsFresh(t *testing.T) {
	k := testkit.Keys(t)
	srv := newJWKSServer(t)
	remote := newRemote(t, Config{URL: srv.URL, MinRefreshInterval: time.Nanosecond, RefreshWait: time.Millisecond})
	srv.Serve(jwkSet(t), http.StatusOK, 200*time.Millisecond)
	_, err := remote.LookupKey(t.Context(), "a") // starts a slow fetch and gives up waiting
	require.Error(t, err)
	srv.Serve(jwkSet(t, jwk("a", "ES256", "sig", &k.EC.PublicKey)), http.StatusOK, 200*time.Millisecond) // published while that fetch is under way
	require.NoError(t, remote.Refresh(t.Context()))
	_, err = remote.LookupKey(t.Context(), "a")
	assert.NoError(t, err)
}

// TestRemoteCloseWaitsForFetches: Close returns only once a fetch that an
// unknown kid started has ended (nothing of the set runs or logs after it),
// and afterwards nothing fetches: lookups answer from the last set.
func TestRemoteCloseWaitsForFetches(t *testing.T) {
	k := testkit.Keys(t)
	srv := newJWKSServer(t, jwk("es", "ES256", "sig", &k.EC.PublicKey)) // the first fetch, in New
	var logs logRecorder
	r, err := New(t.Context(), Config{URL: srv.URL, RefreshWait: time.Millisecond, Logger: logs.logger()})
	require.NoError(t, err)
	// Every later fetch is held until the set's own context ends it.
	srv.Serve(jwkSet(t, jwk("es", "ES256", "sig", &k.EC.PublicKey)), http.StatusOK, time.Hour)
	_, err = r.LookupKey(t.Context(), "unknown") // starts a fetch, waits 1 ms for it
	require.ErrorIs(t, err, scopedtoken.ErrUnknownKID)
	require.Eventually(t, func() bool { return srv.Hits.Load() == 2 }, 5*time.Second, time.Millisecond, "the fetch reached the server")
	r.Close()
	assert.Contains(t, logs.String(), "refresh failed", "the fetch ended, and logged, before Close returned")
	before := srv.Hits.Load()
	k2, err := r.LookupKey(t.Context(), "es")
	require.NoError(t, err, "lookups still answer from the last set")
	assert.NotNil(t, k2)
	_, err = r.LookupKey(t.Context(), "other")
	assert.Error(t, err, "an unknown kid fetches nothing after Close")
	assert.ErrorIs(t, r.Refresh(t.Context()), errClosed)
	assert.Equal(t, before, srv.Hits.Load(), "no fetch after Close")
}

// TestSameKey: a refreshed key keeps its old pointer (and so the cache its
// verified tokens) only when nothing that decides a verification changed.
func TestSameKey(t *testing.T) {
	k := testkit.Keys(t)
	other := testkit.NewSigner(t, "k").Priv
	build := func(edit func(*scopedtoken.Key)) *scopedtoken.VerificationKey {
		key := scopedtoken.Key{ID: "k", Algorithm: "RS256", PublicKey: &k.RSA.PublicKey, BusinessID: "7", Issuer: "https://a.example"}
		if edit != nil {
			edit(&key)
		}
		vk, err := scopedtoken.NewVerificationKey(key)
		require.NoError(t, err)
		return vk
	}
	assert.True(t, sameKey(build(nil), build(nil)), "the same key, built twice")
	for name, edit := range map[string]func(*scopedtoken.Key){
		"another kid":       func(k *scopedtoken.Key) { k.ID = "k2" },
		"another algorithm": func(k *scopedtoken.Key) { k.Algorithm = "PS256" },
		"another business":  func(k *scopedtoken.Key) { k.BusinessID = "8" },
		"another issuer":    func(k *scopedtoken.Key) { k.Issuer = "https://b.example" },
		"no issuer":         func(k *scopedtoken.Key) { k.Issuer = "" },
		"another key":       func(k *scopedtoken.Key) { k.Algorithm, k.PublicKey = "ES256", &other.PublicKey },
	} {
		assert.False(t, sameKey(build(nil), build(edit)), name)
		assert.False(t, sameKey(build(edit), build(nil)), name)
	}
	hs := func() *scopedtoken.VerificationKey {
		vk, err := scopedtoken.NewVerificationKey(scopedtoken.Key{ID: "k", Algorithm: "HS256", Secret: testkit.Secret})
		require.NoError(t, err)
		return vk
	}
	assert.False(t, sameKey(hs(), hs()), "a remote set never holds symmetric keys, so they are never the same")
}
