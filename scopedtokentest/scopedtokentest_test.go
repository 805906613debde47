package scopedtokentest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/jwks"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const searchPath = "/v2/accounts/me/search"

func newMiddleware(t *testing.T, iss *scopedtokentest.Issuer, change func(*scopedtoken.Config)) *scopedtoken.Middleware {
	t.Helper()
	cfg := iss.Config()
	if change != nil {
		change(&cfg)
	}
	mw, err := scopedtoken.New(cfg)
	require.NoError(t, err)
	return mw
}

// segments splits a token and decodes its header and claims.
func segments(t *testing.T, token string) (header, claims map[string]any, sig []byte) {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	decode := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		require.NoError(t, err)
		return b
	}
	require.NoError(t, json.Unmarshal(decode(parts[0]), &header))
	require.NoError(t, json.Unmarshal(decode(parts[1]), &claims))
	return header, claims, decode(parts[2])
}

func TestMintDefaultsVerify(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	mw := newMiddleware(t, iss, nil)

	tok, err := mw.Verify(context.Background(), iss.Mint(), searchPath)
	require.NoError(t, err)
	assert.Equal(t, iss.KeyID(), tok.KeyID())
	assert.Equal(t, "ES256", tok.Algorithm())
	assert.Equal(t, []string{scopedtokentest.DefaultAudience}, tok.Audience())
	assertTime(t, testNow.Add(5*time.Minute), tok.ExpiresAt())
	assertTime(t, testNow, tok.IssuedAt())
	assert.Empty(t, tok.BusinessID())
	assert.Zero(t, tok.Query().Len())
}

func TestMintEveryAlgorithm(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	mw := newMiddleware(t, iss, nil)
	for _, alg := range []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"} {
		t.Run(alg, func(t *testing.T) {
			kid := iss.AddKey(alg)
			tok, err := mw.Verify(context.Background(), iss.Mint(scopedtokentest.SignWith(kid)), searchPath)
			require.NoError(t, err)
			assert.Equal(t, kid, tok.KeyID())
			assert.Equal(t, alg, tok.Algorithm())
		})
	}
	t.Run("the HS256 key", func(t *testing.T) {
		tok, err := mw.Verify(context.Background(), iss.Mint(scopedtokentest.SignWith(iss.HMACKeyID())), searchPath)
		require.NoError(t, err)
		assert.Equal(t, "HS256", tok.Algorithm())
	})
}

func TestWithAlgorithm(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow), scopedtokentest.WithAlgorithm("EdDSA"))
	tok, err := newMiddleware(t, iss, nil).Verify(context.Background(), iss.Mint(), searchPath)
	require.NoError(t, err)
	assert.Equal(t, "EdDSA", tok.Algorithm())
}

func TestSecretIsPrintableAndLongEnough(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t)
	secret := iss.Secret()
	assert.GreaterOrEqual(t, len(secret), 32)
	for _, c := range secret {
		assert.True(t, c > ' ' && c < 0x7f, "secret byte %#x is not printable", c)
	}
	secret[0] ^= 0xff
	assert.NotEqual(t, secret, iss.Secret(), "Secret must return a copy")
}

func TestMintOptions(t *testing.T) {
	later := testNow.Add(time.Hour)
	tests := []struct {
		name  string
		opts  []scopedtokentest.MintOption
		path  string
		check func(t *testing.T, tok *scopedtoken.Token)
	}{
		{
			name: "audience list",
			opts: []scopedtokentest.MintOption{scopedtokentest.Audience("/v2/accounts/me/a", "/v2/accounts/me/b/c")},
			path: "/v2/accounts/me/b/c/d",
			check: func(t *testing.T, tok *scopedtoken.Token) {
				assert.Equal(t, []string{"/v2/accounts/me/a", "/v2/accounts/me/b/c"}, tok.Audience())
			},
		},
		{
			name: "query one and several values",
			opts: []scopedtokentest.MintOption{scopedtokentest.Query("experienceKey", "X"), scopedtokentest.Query("f", "1", "2")},
			check: func(t *testing.T, tok *scopedtoken.Token) {
				assert.Equal(t, url.Values{"experienceKey": {"X"}, "f": {"1", "2"}}, tok.Query().URLValues())
			},
		},
		{
			name: "expires in",
			opts: []scopedtokentest.MintOption{scopedtokentest.ExpiresIn(time.Minute)},
			check: func(t *testing.T, tok *scopedtoken.Token) {
				assertTime(t, testNow.Add(time.Minute), tok.ExpiresAt())
			},
		},
		{
			name: "expires at",
			opts: []scopedtokentest.MintOption{scopedtokentest.ExpiresAt(later)},
			check: func(t *testing.T, tok *scopedtoken.Token) {
				assertTime(t, later, tok.ExpiresAt())
			},
		},
		{
			name: "not before and issued at in the past",
			opts: []scopedtokentest.MintOption{scopedtokentest.NotBefore(testNow.Add(-time.Minute)), scopedtokentest.IssuedAt(testNow.Add(-2 * time.Minute))},
			check: func(t *testing.T, tok *scopedtoken.Token) {
				assertTime(t, testNow.Add(-time.Minute), tok.NotBefore())
				assertTime(t, testNow.Add(-2*time.Minute), tok.IssuedAt())
			},
		},
		{
			name: "no iat",
			opts: []scopedtokentest.MintOption{scopedtokentest.NoIssuedAt()},
			check: func(t *testing.T, tok *scopedtoken.Token) {
				assert.True(t, tok.IssuedAt().IsZero())
			},
		},
		{
			name: "iss sub jti",
			opts: []scopedtokentest.MintOption{scopedtokentest.IssuerClaim("me"), scopedtokentest.Subject("user-1"), scopedtokentest.JWTID("j-1")},
			check: func(t *testing.T, tok *scopedtoken.Token) {
				assert.Equal(t, "me", tok.Issuer())
				assert.Equal(t, "user-1", tok.Subject())
				assert.Equal(t, "j-1", tok.ID())
			},
		},
		{
			name: "extra claims",
			opts: []scopedtokentest.MintOption{scopedtokentest.Claim("role", "admin"), scopedtokentest.Claim("n", 3)},
			check: func(t *testing.T, tok *scopedtoken.Token) {
				var c struct {
					Role string `json:"role"`
					N    int    `json:"n"`
				}
				require.NoError(t, tok.DecodeClaims(&c))
				assert.Equal(t, "admin", c.Role)
				assert.Equal(t, 3, c.N)
			},
		},
		{
			name: "header field the verifier ignores",
			opts: []scopedtokentest.MintOption{scopedtokentest.Header("cty", "x"), scopedtokentest.Header("typ", scopedtokentest.Omit)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
			path := tt.path
			if path == "" {
				path = searchPath
			}
			tok, err := newMiddleware(t, iss, nil).Verify(context.Background(), iss.Mint(tt.opts...), path)
			require.NoError(t, err)
			if tt.check != nil {
				tt.check(t, tok)
			}
		})
	}
}

func TestMintOptionsRefused(t *testing.T) {
	tests := []struct {
		name string
		opts []scopedtokentest.MintOption
		want error
	}{
		{name: "expired by ExpiresIn", opts: []scopedtokentest.MintOption{scopedtokentest.ExpiresIn(-time.Hour)}, want: scopedtoken.ErrExpired},
		{name: "no expiry", opts: []scopedtokentest.MintOption{scopedtokentest.NoExpiry()}, want: scopedtoken.ErrMissingExp},
		{name: "nbf in the future", opts: []scopedtokentest.MintOption{scopedtokentest.NotBefore(testNow.Add(time.Hour))}, want: scopedtoken.ErrNotYetValid},
		{name: "iat in the future", opts: []scopedtokentest.MintOption{scopedtokentest.IssuedAt(testNow.Add(time.Hour))}, want: scopedtoken.ErrIssuedInFuture},
		{name: "exp of the wrong type", opts: []scopedtokentest.MintOption{scopedtokentest.Claim("exp", "tomorrow")}, want: scopedtoken.ErrInvalidClaims},
		{name: "aud omitted", opts: []scopedtokentest.MintOption{scopedtokentest.Claim("aud", scopedtokentest.Omit)}, want: scopedtoken.ErrBadAudience},
		{name: "aud an empty array", opts: []scopedtokentest.MintOption{scopedtokentest.Audience()}, want: scopedtoken.ErrBadAudience},
		{name: "aud off the grammar", opts: []scopedtokentest.MintOption{scopedtokentest.Audience("/v2/accounts/me")}, want: scopedtoken.ErrBadAudience},
		{name: "query claim nested", opts: []scopedtokentest.MintOption{scopedtokentest.Claim("query", map[string]any{"a": map[string]any{}})}, want: scopedtoken.ErrBadQueryClaim},
		{name: "kid override unknown", opts: []scopedtokentest.MintOption{scopedtokentest.KeyID("nobody")}, want: scopedtoken.ErrUnknownKID},
		{name: "kid omitted", opts: []scopedtokentest.MintOption{scopedtokentest.Header("kid", scopedtokentest.Omit)}, want: scopedtoken.ErrMissingKID},
		{name: "alg override", opts: []scopedtokentest.MintOption{scopedtokentest.Alg("HS256")}, want: scopedtoken.ErrAlgMismatch},
		{name: "alg none with a signature", opts: []scopedtokentest.MintOption{scopedtokentest.Alg("none")}, want: scopedtoken.ErrAlgMismatch},
		{name: "raw header with crit", opts: []scopedtokentest.MintOption{scopedtokentest.RawHeader([]byte(`{"alg":"ES256","kid":"k","crit":["exp"]}`))}, want: scopedtoken.ErrUnsupportedHeader},
		{name: "raw claims with a duplicate", opts: []scopedtokentest.MintOption{scopedtokentest.RawClaims([]byte(`{"aud":"/v2/accounts/me/search","exp":1,"exp":2}`))}, want: scopedtoken.ErrDuplicateMember},
		{name: "signed by a removed key", opts: []scopedtokentest.MintOption{scopedtokentest.SignWith("removed")}, want: scopedtoken.ErrUnknownKID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
			opts := tt.opts
			if tt.name == "signed by a removed key" {
				kid := iss.KeyID()
				iss.RemoveKey(kid)
				opts = []scopedtokentest.MintOption{scopedtokentest.SignWith(kid)}
			}
			_, err := newMiddleware(t, iss, nil).Verify(context.Background(), iss.Mint(opts...), searchPath)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestNoExpiryAcceptedWhenConfigured(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	mw := newMiddleware(t, iss, func(c *scopedtoken.Config) { c.AllowMissingExp = true })
	tok, err := mw.Verify(context.Background(), iss.Mint(scopedtokentest.NoExpiry()), searchPath)
	require.NoError(t, err)
	assert.True(t, tok.ExpiresAt().IsZero())
}

func TestHostileBuilders(t *testing.T) {
	tests := []struct {
		name   string
		build  func(iss *scopedtokentest.Issuer) string
		want   error
		status int
		shape  func(t *testing.T, iss *scopedtokentest.Issuer, header, claims map[string]any, sig []byte)
	}{
		{
			name:   "expired",
			build:  func(iss *scopedtokentest.Issuer) string { return iss.Expired() },
			want:   scopedtoken.ErrExpired,
			status: http.StatusUnauthorized,
			shape: func(t *testing.T, iss *scopedtokentest.Issuer, _, claims map[string]any, _ []byte) {
				assert.Equal(t, float64(testNow.Add(-scopedtokentest.ExpiredAgo).Unix()), claims["exp"])
			},
		},
		{
			name: "expired, HMAC key",
			build: func(iss *scopedtokentest.Issuer) string {
				return iss.Expired(scopedtokentest.SignWith(iss.HMACKeyID()))
			},
			want:   scopedtoken.ErrExpired,
			status: http.StatusUnauthorized,
		},
		{
			name:   "wrong audience",
			build:  func(iss *scopedtokentest.Issuer) string { return iss.WrongAudience() },
			want:   scopedtoken.ErrAudienceMismatch,
			status: http.StatusForbidden,
			shape: func(t *testing.T, _ *scopedtokentest.Issuer, _, claims map[string]any, _ []byte) {
				assert.Equal(t, scopedtokentest.WrongAudiencePath, claims["aud"])
			},
		},
		{
			name:   "wrong key",
			build:  func(iss *scopedtokentest.Issuer) string { return iss.WrongKey() },
			want:   scopedtoken.ErrBadSignature,
			status: http.StatusUnauthorized,
			shape: func(t *testing.T, iss *scopedtokentest.Issuer, header, _ map[string]any, _ []byte) {
				assert.Equal(t, iss.KeyID(), header["kid"], "the kid must be one the verifier knows")
				assert.Equal(t, "ES256", header["alg"])
			},
		},
		{
			name: "wrong key, HMAC",
			build: func(iss *scopedtokentest.Issuer) string {
				return iss.WrongKey(scopedtokentest.SignWith(iss.HMACKeyID()))
			},
			want:   scopedtoken.ErrBadSignature,
			status: http.StatusUnauthorized,
		},
		{
			name:   "alg none",
			build:  func(iss *scopedtokentest.Issuer) string { return iss.AlgNone() },
			want:   scopedtoken.ErrMalformedToken,
			status: http.StatusUnauthorized,
			shape: func(t *testing.T, iss *scopedtokentest.Issuer, header, _ map[string]any, sig []byte) {
				assert.Equal(t, "none", header["alg"])
				assert.Equal(t, iss.KeyID(), header["kid"])
				assert.Empty(t, sig)
			},
		},
		{
			name:   "tampered payload",
			build:  func(iss *scopedtokentest.Issuer) string { return iss.Tampered() },
			want:   scopedtoken.ErrBadSignature,
			status: http.StatusUnauthorized,
			shape: func(t *testing.T, iss *scopedtokentest.Issuer, header, claims map[string]any, _ []byte) {
				assert.Equal(t, iss.KeyID(), header["kid"])
				assert.Equal(t, float64(testNow.Add(24*time.Hour+5*time.Minute).Unix()), claims["exp"])
			},
		},
		{
			name: "tampered payload, HMAC",
			build: func(iss *scopedtokentest.Issuer) string {
				return iss.Tampered(scopedtokentest.SignWith(iss.HMACKeyID()))
			},
			want:   scopedtoken.ErrBadSignature,
			status: http.StatusUnauthorized,
		},
		{
			name:   "unknown kid",
			build:  func(iss *scopedtokentest.Issuer) string { return iss.UnknownKID() },
			want:   scopedtoken.ErrUnknownKID,
			status: http.StatusUnauthorized,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
			mw := newMiddleware(t, iss, nil)
			token := tt.build(iss)
			if tt.shape != nil {
				header, claims, sig := segments(t, token)
				tt.shape(t, iss, header, claims, sig)
			}

			_, err := mw.Verify(context.Background(), token, searchPath)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)

			reached := false
			h := mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
			req := httptest.NewRequest(http.MethodGet, searchPath, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.False(t, reached)
			assert.Equal(t, tt.status, rec.Code)
			var body struct{ Reason string }
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			var e *scopedtoken.Error
			require.ErrorAs(t, tt.want, &e)
			assert.Equal(t, e.Reason(), body.Reason)
		})
	}
}

func TestGoodTokenThroughHandler(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow), scopedtokentest.WithBusiness("b42"))
	mw := newMiddleware(t, iss, nil)
	var got *scopedtoken.Token
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = scopedtoken.FromContext(r.Context())
		assert.Equal(t, "X", r.URL.Query().Get("experienceKey"))
	}))
	req := httptest.NewRequest(http.MethodGet, "/v2/accounts/b42/search?experienceKey=evil", nil)
	req.Header.Set("Authorization", "Bearer "+iss.Mint(scopedtokentest.Query("experienceKey", "X")))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)
	require.NotNil(t, got)
	assert.Equal(t, "b42", got.BusinessID())
}

func TestKeysAndStaticKeys(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow), scopedtokentest.WithBusiness("b1"))
	keys := iss.Keys()
	require.Len(t, keys, 2)
	assert.Equal(t, iss.HMACKeyID(), keys[0].ID)
	assert.Equal(t, iss.KeyID(), keys[1].ID)
	for _, k := range keys {
		assert.Equal(t, "b1", k.BusinessID)
	}
	set, err := scopedtoken.StaticKeys(keys...)
	require.NoError(t, err)
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: set, Now: iss.Now})
	require.NoError(t, err)
	for _, kid := range []string{iss.HMACKeyID(), iss.KeyID()} {
		_, err = mw.Verify(context.Background(), iss.Mint(scopedtokentest.SignWith(kid)), searchPath)
		assert.NoError(t, err, kid)
	}
}

func TestKeySetIsLive(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	mw := newMiddleware(t, iss, nil)
	ctx := context.Background()
	old := iss.KeyID()
	oldToken := iss.Mint()

	kid := iss.Rotate()
	assert.NotEqual(t, old, kid)
	assert.Equal(t, kid, iss.KeyID())
	tok, err := mw.Verify(ctx, iss.Mint(), searchPath)
	require.NoError(t, err)
	assert.Equal(t, kid, tok.KeyID())
	_, err = mw.Verify(ctx, oldToken, searchPath)
	require.NoError(t, err, "rotation keeps the old key until it is removed")

	iss.RemoveKey(old)
	_, err = mw.Verify(ctx, oldToken, searchPath)
	assert.ErrorIs(t, err, scopedtoken.ErrUnknownKID, "a cached verification must not outlive its key")
	_, err = mw.Verify(ctx, iss.Mint(scopedtokentest.SignWith(old)), searchPath)
	assert.ErrorIs(t, err, scopedtoken.ErrUnknownKID)
}

func TestJWKSServerServesPublicKeysOnly(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t)
	srv := iss.JWKSServer()
	assert.Same(t, srv, iss.JWKSServer(), "one server per issuer")

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.JSONEq(t, string(srv.JSON()), string(body))

	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(body, &set))
	require.Len(t, set.Keys, 1, "the HMAC key is never served")
	k := set.Keys[0]
	assert.Equal(t, iss.KeyID(), k["kid"])
	assert.Equal(t, "ES256", k["alg"])
	assert.Equal(t, "sig", k["use"])
	assert.Equal(t, "EC", k["kty"])
	assert.NotContains(t, k, "d", "no private material")
	assert.NotContains(t, string(body), string(iss.Secret()))
}

func TestJWKSServerRotationWithJWKSSet(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow), scopedtokentest.WithBusiness("b7"))
	srv := iss.JWKSServer()
	ctx := context.Background()
	remote, err := jwks.New(ctx, jwks.Config{
		URL:                srv.URL,
		BusinessID:         iss.BusinessID(),
		MinRefreshInterval: time.Hour, // only Refresh fetches, so the test sees exactly its effect
		Logger:             discardLogger(),
	})
	require.NoError(t, err)
	t.Cleanup(remote.Close)
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: remote, Now: iss.Now})
	require.NoError(t, err)

	old := iss.KeyID()
	oldToken := iss.Mint()
	tok, err := mw.Verify(ctx, oldToken, searchPath)
	require.NoError(t, err)
	assert.Equal(t, "b7", tok.BusinessID())
	_, err = mw.Verify(ctx, iss.Mint(scopedtokentest.SignWith(iss.HMACKeyID())), searchPath)
	assert.ErrorIs(t, err, scopedtoken.ErrUnknownKID, "HMAC keys are not served")
	for _, b := range []func(...scopedtokentest.MintOption) string{iss.Expired, iss.WrongKey, iss.Tampered, iss.AlgNone, iss.WrongAudience} {
		_, err = mw.Verify(ctx, b(), searchPath)
		assert.Error(t, err)
	}

	kid := srv.Rotate()
	assert.Contains(t, string(srv.JSON()), kid, "the served JSON changes at once")
	newToken := iss.Mint()
	_, err = mw.Verify(ctx, newToken, searchPath)
	assert.ErrorIs(t, err, scopedtoken.ErrUnknownKID, "not fetched yet")

	require.NoError(t, remote.Refresh(ctx))
	tok, err = mw.Verify(ctx, newToken, searchPath)
	require.NoError(t, err)
	assert.Equal(t, kid, tok.KeyID())
	_, err = mw.Verify(ctx, oldToken, searchPath)
	require.NoError(t, err, "the previous key is still served")

	srv.RemoveKey(old)
	assert.NotContains(t, string(srv.JSON()), old)
	require.NoError(t, remote.Refresh(ctx))
	_, err = mw.Verify(ctx, oldToken, searchPath)
	assert.ErrorIs(t, err, scopedtoken.ErrUnknownKID)
	_, err = mw.Verify(ctx, newToken, searchPath)
	assert.NoError(t, err)

	added := srv.AddKey("RS256")
	require.NoError(t, remote.Refresh(ctx))
	tok, err = mw.Verify(ctx, iss.Mint(scopedtokentest.SignWith(added)), searchPath)
	require.NoError(t, err)
	assert.Equal(t, "RS256", tok.Algorithm())

	before := srv.Requests()
	srv.FailWith(http.StatusInternalServerError)
	assert.Error(t, remote.Refresh(ctx))
	assert.Equal(t, before+1, srv.Requests())
	_, err = mw.Verify(ctx, newToken, searchPath)
	assert.NoError(t, err, "the last good keys are kept")
}

func TestWithAudience(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow), scopedtokentest.WithAudience("/v2/accounts/me/answers", "/v2/accounts/me/faq"))
	mw := newMiddleware(t, iss, nil)
	tok, err := mw.Verify(context.Background(), iss.Mint(), "/v2/accounts/me/faq/1")
	require.NoError(t, err)
	assert.Equal(t, []string{"/v2/accounts/me/answers", "/v2/accounts/me/faq"}, tok.Audience())
	_, err = mw.Verify(context.Background(), iss.Mint(), searchPath)
	assert.ErrorIs(t, err, scopedtoken.ErrAudienceMismatch)
	_, err = mw.Verify(context.Background(), iss.WrongAudience(), "/v2/accounts/me/faq")
	assert.ErrorIs(t, err, scopedtoken.ErrAudienceMismatch)
}

func TestTryMintConcurrentWithRotation(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	mw := newMiddleware(t, iss, nil)
	_, err := iss.TryMint(scopedtokentest.SignWith("nobody"))
	assert.ErrorContains(t, err, `no key "nobody"`)

	errs := make(chan error, 8)
	for range 8 {
		go func() {
			tok, err := iss.TryMint()
			if err == nil {
				_, err = mw.Verify(context.Background(), tok, searchPath)
			}
			errs <- err
		}()
	}
	iss.Rotate() // concurrently with the minting: old and new keys both stay published
	for range 8 {
		assert.NoError(t, <-errs)
	}
}

// fatalTB records Fatal calls instead of failing the test, so that the
// helper's own refusals can be checked.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatal(args ...any) { f.msg = fmt.Sprint(args...); runtime.Goexit() }
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func fatalOf(t *testing.T, do func(tb testing.TB)) string {
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		do(f)
	}()
	<-done
	return f.msg
}

func TestHelperRefusals(t *testing.T) {
	tests := []struct {
		name string
		do   func(tb testing.TB)
		want string
	}{
		{name: "HMAC as the asymmetric algorithm", do: func(tb testing.TB) {
			scopedtokentest.NewIssuer(tb, scopedtokentest.WithAlgorithm("HS256"))
		}, want: "asymmetric"},
		{name: "unsupported algorithm", do: func(tb testing.TB) {
			scopedtokentest.NewIssuer(tb, scopedtokentest.WithAlgorithm("ES256K"))
		}, want: "unsupported algorithm"},
		{name: "business me", do: func(tb testing.TB) {
			scopedtokentest.NewIssuer(tb, scopedtokentest.WithBusiness("me"))
		}, want: "BusinessID"},
		{name: "sign with an unknown key", do: func(tb testing.TB) {
			scopedtokentest.NewIssuer(tb).Mint(scopedtokentest.SignWith("nobody"))
		}, want: "no key"},
		{name: "remove an unknown key", do: func(tb testing.TB) {
			scopedtokentest.NewIssuer(tb).RemoveKey("nobody")
		}, want: "no key"},
		{name: "claim encoding/json cannot write", do: func(tb testing.TB) {
			scopedtokentest.NewIssuer(tb).Mint(scopedtokentest.Claim("c", make(chan int)))
		}, want: "claims"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Contains(t, fatalOf(t, tt.do), tt.want)
		})
	}
}

func TestClaimsMatchMint(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	opts := []scopedtokentest.MintOption{scopedtokentest.Query("k", "v"), scopedtokentest.Subject("s")}
	_, claims, _ := segments(t, iss.Mint(opts...))
	var want map[string]any
	require.NoError(t, json.Unmarshal(iss.Claims(opts...), &want))
	assert.Equal(t, want, claims)
}

// assertTime compares instants; the token's times are in the local zone.
func assertTime(t *testing.T, want, got time.Time) {
	t.Helper()
	assert.True(t, want.Equal(got), "want %v, got %v", want, got)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestJWKSServerEd25519 checks that a key of the RFC 9864 algorithm Ed25519 is
// served with that alg and that a jwks.Set binds it to Ed25519.
func TestJWKSServerEd25519(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow), scopedtokentest.WithAlgorithm("Ed25519"))
	srv := iss.JWKSServer()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(srv.JSON(), &set))
	require.Len(t, set.Keys, 1)
	assert.Equal(t, "Ed25519", set.Keys[0]["alg"])

	remote, err := jwks.New(context.Background(), jwks.Config{URL: srv.URL, Logger: discardLogger()})
	require.NoError(t, err)
	t.Cleanup(remote.Close)
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: remote, Now: iss.Now, AllowMeWithoutBusiness: true})
	require.NoError(t, err)
	tok, err := mw.Verify(context.Background(), iss.Mint(), searchPath)
	require.NoError(t, err)
	assert.Equal(t, "Ed25519", tok.Algorithm())
	_, err = mw.Verify(context.Background(), iss.Mint(scopedtokentest.Alg("EdDSA")), searchPath)
	assert.ErrorIs(t, err, scopedtoken.ErrAlgMismatch)
}
