package scopedtoken

import (
	"context"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const revPath = "/v2/accounts/me/search"

// revClaims returns validClaims with extra members.
func revClaims(extra map[string]any) map[string]any {
	c := validClaims()
	c["iat"] = testNow.Unix()
	for k, v := range extra {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

func TestSingleUseClaim(t *testing.T) {
	store := NewMemoryRevocations(fixedClock)
	withStore := newTestMiddleware(t, func(c *Config) { c.Revocations = store })
	without := newTestMiddleware(t, nil)
	cases := []struct {
		name   string
		m      *Middleware
		claims map[string]any
		code   int
		reason string
	}{
		{"false_is_an_ordinary_token", without, revClaims(map[string]any{"once": false}), http.StatusOK, ""},
		{"no_store_refuses_single_use", without, revClaims(map[string]any{"once": true}), http.StatusUnauthorized, "single_use_unsupported"},
		{"string_value", withStore, revClaims(map[string]any{"once": "true"}), http.StatusUnauthorized, "invalid_claims"},
		{"number_value", withStore, revClaims(map[string]any{"once": 1}), http.StatusUnauthorized, "invalid_claims"},
		{"null_value", withStore, revClaims(map[string]any{"once": json.RawMessage("null")}), http.StatusUnauthorized, "invalid_claims"},
		{"case_variant_name", withStore, revClaims(map[string]any{"ONCE": true}), http.StatusUnauthorized, "ambiguous_member"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := serve(t, c.m, bearer(revPath, hsToken(t, c.claims)))
			assert.Equal(t, c.code, res.code)
			assert.Equal(t, c.reason, res.reason)
		})
	}

	t.Run("without_exp_is_refused", func(t *testing.T) {
		m := newTestMiddleware(t, func(c *Config) { c.Revocations = store; c.AllowMissingExp = true })
		tok := hsToken(t, revClaims(map[string]any{"once": true, "exp": nil}))
		res := serve(t, m, bearer(revPath, tok))
		assert.Equal(t, "missing_exp", res.reason, "a used-token record could never expire")
		assert.Equal(t, http.StatusOK, serve(t, m, bearer(revPath, hsToken(t, revClaims(map[string]any{"exp": nil})))).code)
	})
}

// failingStore cannot reach its shared state for single-use records.
type failingStore struct {
	*MemoryRevocations
	revokedCalls atomic.Int64
}

func (s *failingStore) Use(context.Context, string, time.Time) error {
	return errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
}

func (s *failingStore) Revoked(c *RevocationCheck) bool {
	s.revokedCalls.Add(1)
	return s.MemoryRevocations.Revoked(c)
}

func TestSingleUseStoreUnavailable(t *testing.T) {
	store := &failingStore{MemoryRevocations: NewMemoryRevocations(fixedClock)}
	m := newTestMiddleware(t, func(c *Config) { c.Revocations = store })
	res := serve(t, m, bearer(revPath, hsToken(t, revClaims(map[string]any{"once": true, "jti": "x"}))))
	assert.Equal(t, http.StatusServiceUnavailable, res.code)
	assert.Equal(t, "revocations_unavailable", res.reason)
	assert.NotEmpty(t, res.header.Get("Retry-After"))
	assert.False(t, res.ran)
	assert.NotContains(t, res.body, "6379", "the cause is not sent")
	assert.Equal(t, http.StatusOK, serve(t, m, bearer(revPath, hsToken(t, revClaims(nil)))).code, "ordinary tokens need no store")

	_, err := m.Verify(t.Context(), hsToken(t, revClaims(map[string]any{"once": true, "jti": "y"})), revPath)
	assert.ErrorIs(t, err, ErrRevocationsUnavailable)
	assert.ErrorContains(t, errors.Unwrap(err), "connection refused", "the cause stays reachable")
}

// TestRevocationCheckedOncePerVersion shows that a cache hit does not ask the
// store again while its version is unchanged, and does after any change.
func TestRevocationCheckedOncePerVersion(t *testing.T) {
	store := &failingStore{MemoryRevocations: NewMemoryRevocations(fixedClock)}
	m := newTestMiddleware(t, func(c *Config) { c.Revocations = store })
	tok := hsToken(t, revClaims(map[string]any{"jti": "a"}))
	for range 3 {
		require.Equal(t, http.StatusOK, serve(t, m, bearer(revPath, tok)).code)
	}
	assert.Equal(t, int64(1), store.revokedCalls.Load())
	require.NoError(t, store.Revoke(t.Context(), Revocation{Kind: RevokeID, Value: "other"}))
	assert.Equal(t, http.StatusOK, serve(t, m, bearer(revPath, tok)).code)
	assert.Equal(t, int64(2), store.revokedCalls.Load())
	require.NoError(t, store.Revoke(t.Context(), Revocation{Kind: RevokeID, Value: "a"}))
	assert.Equal(t, "revoked", serve(t, m, bearer(revPath, tok)).reason)
	assert.Equal(t, "revoked", serve(t, m, bearer(revPath, tok)).reason, "a refusal is never memoised as a pass")
}

func TestRevocationOrder(t *testing.T) {
	store := NewMemoryRevocations(fixedClock)
	m := newTestMiddleware(t, func(c *Config) { c.Revocations = store })
	revoked := hsToken(t, revClaims(map[string]any{"jti": "r"}))
	require.NoError(t, store.Revoke(t.Context(), Revocation{Kind: RevokeID, Value: "r"}))
	assert.Equal(t, "revoked", serve(t, m, bearer("/v2/accounts/me/other", revoked)).reason, "401 before the path's 403")
	assert.Equal(t, "revoked", serve(t, m, bearer("/v2/accounts/me//x", revoked)).reason, "401 before the path's 400")

	once := hsToken(t, revClaims(map[string]any{"once": true, "jti": "o", "query": map[string]any{"k": "v"}}))
	m2 := newTestMiddleware(t, func(c *Config) { c.Revocations = store; c.QueryMode = QueryRefuse })
	assert.Equal(t, "query_mismatch", serve(t, m2, bearer(revPath+"?k=w", once)).reason)
	assert.Equal(t, "bad_path", serve(t, m2, bearer("/v2/accounts/me/%2e", once)).reason)
	assert.Equal(t, http.StatusOK, serve(t, m2, bearer(revPath+"?k=v", once)).code, "refused requests did not use the token")
	assert.Equal(t, "token_used", serve(t, m2, bearer(revPath+"?k=v", once)).reason)

	// A request that the Check hook refuses does not use the token up either.
	refuse := true
	m3 := newTestMiddleware(t, func(c *Config) {
		c.Revocations = store
		c.Check = func(*http.Request, *Token) error {
			if refuse {
				return errors.New("not now")
			}
			return nil
		}
	})
	checked := hsToken(t, revClaims(map[string]any{"once": true, "jti": "c"}))
	assert.Equal(t, "check_failed", serve(t, m3, bearer(revPath, checked)).reason)
	refuse = false
	assert.Equal(t, http.StatusOK, serve(t, m3, bearer(revPath, checked)).code)
	assert.Equal(t, "token_used", serve(t, m3, bearer(revPath, checked)).reason)
}

func TestVerifyAndMintSingleUse(t *testing.T) {
	store := NewMemoryRevocations(fixedClock)
	m := newTestMiddleware(t, func(c *Config) { c.Revocations = store })
	minter, err := NewMinterForTest(MintConfig{Key: MintKey{ID: "hs", Algorithm: "HS256", Secret: testSecret}, Now: fixedClock, Verify: m})
	require.NoError(t, err)
	tok, err := minter.Mint(MintClaims{Audience: []string{revPath}, Once: true})
	require.NoError(t, err, "the verify step does not use the token up")

	var claims struct {
		Once bool   `json:"once"`
		ID   string `json:"jti"`
	}
	tk, err := m.Verify(t.Context(), tok, revPath)
	require.NoError(t, err)
	require.NoError(t, tk.DecodeClaims(&claims))
	assert.True(t, claims.Once)
	assert.Len(t, claims.ID, 22, "a random 128-bit jti")
	_, err = m.Verify(t.Context(), tok, revPath)
	assert.ErrorIs(t, err, ErrTokenUsed, "Verify uses a single-use token up like a request")

	other, err := minter.Mint(MintClaims{Audience: []string{revPath}, Once: true})
	require.NoError(t, err)
	assert.NotEqual(t, tok, other)
	_, err = minter.Mint(MintClaims{Audience: []string{revPath}, Once: true, NoExpiry: true})
	assert.ErrorIs(t, err, ErrMintForTest)
	_, err = minter.Mint(MintClaims{Audience: []string{revPath}, Extra: map[string]any{"once": true}})
	assert.ErrorIs(t, err, ErrMintForTest, "the claim is set with mint.Claims.Once")

	noStore, err := NewMinterForTest(MintConfig{Key: MintKey{ID: "hs", Algorithm: "HS256", Secret: testSecret}, Now: fixedClock, Verify: newTestMiddleware(t, nil)})
	require.NoError(t, err)
	_, err = noStore.Mint(MintClaims{Audience: []string{revPath}, Once: true})
	assert.ErrorIs(t, err, ErrSingleUseUnsupported, "a token the API would refuse is not handed out")
}

// TestVerifyUnused: VerifyUnused answers as Verify does but never uses up a
// single-use token, however often it is asked; a token seen used is refused,
// and a refusal is the same *Error as Verify's.
func TestVerifyUnused(t *testing.T) {
	store := NewMemoryRevocations(fixedClock)
	m := newTestMiddleware(t, func(c *Config) { c.Revocations = store })
	tok := hsToken(t, revClaims(map[string]any{"once": true, "jti": "unused"}))
	for range 3 {
		tk, err := m.VerifyUnused(t.Context(), tok, revPath)
		require.NoError(t, err)
		assert.Equal(t, "unused", tk.ID())
	}
	_, err := m.VerifyUnused(t.Context(), tok, "/v2/accounts/me/other")
	assert.ErrorIs(t, err, ErrAudienceMismatch, "the path is checked")
	_, err = m.Verify(t.Context(), tok, revPath)
	require.NoError(t, err, "still unused: Verify uses it")
	_, err = m.VerifyUnused(t.Context(), tok, revPath)
	assert.ErrorIs(t, err, ErrTokenUsed, "a token seen used is refused")
	_, err = m.Verify(t.Context(), tok, revPath)
	assert.ErrorIs(t, err, ErrTokenUsed)

	plain := hsToken(t, revClaims(map[string]any{"jti": "plain"}))
	_, err = m.VerifyUnused(t.Context(), plain, revPath)
	require.NoError(t, err)
	_, err = m.Verify(t.Context(), plain, revPath)
	require.NoError(t, err, "a token without once is not affected")

	noStore := newTestMiddleware(t, nil)
	_, err = noStore.VerifyUnused(t.Context(), tok, revPath)
	assert.ErrorIs(t, err, ErrSingleUseUnsupported, "refused as Verify refuses it")
}

func TestRevocationValidate(t *testing.T) {
	cases := []struct {
		name string
		r    Revocation
		ok   bool
	}{
		{"jti", Revocation{Kind: RevokeID, Value: "a"}, true},
		{"cutoff", Revocation{Kind: CutoffBusiness, Value: "42", IssuedBefore: testNow}, true},
		{"no_kind", Revocation{Value: "a"}, false},
		{"unknown_kind", Revocation{Kind: CutoffKey + 1, Value: "a"}, false},
		{"no_value", Revocation{Kind: CutoffSubject}, false},
		{"cutoff_time_on_token", Revocation{Kind: RevokeHash, Value: "h", IssuedBefore: testNow}, false},
		{"line_break", Revocation{Kind: RevokeID, Value: "a\nb"}, true},
		{"control_characters", Revocation{Kind: CutoffSubject, Value: "alice\r\x00\x1b"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.r.Validate()
			assert.Equal(t, c.ok, err == nil, "%v", err)
			if !c.ok {
				assert.Error(t, NewMemoryRevocations(fixedClock).Revoke(t.Context(), c.r))
			}
		})
	}
}

// TestRevocationKindText: a kind reads back what it writes, with
// encoding/json and flag.TextVar too, and an unknown kind is refused both
// ways.
func TestRevocationKindText(t *testing.T) {
	for k := RevokeID; k <= CutoffKey; k++ {
		text, err := k.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, k.String(), string(text))
		var back RevocationKind
		require.NoError(t, back.UnmarshalText(text))
		assert.Equal(t, k, back)

		js, err := json.Marshal(struct{ Kind RevocationKind }{k})
		require.NoError(t, err)
		assert.JSONEq(t, `{"Kind":"`+k.String()+`"}`, string(js))
		var doc struct{ Kind RevocationKind }
		require.NoError(t, json.Unmarshal(js, &doc))
		assert.Equal(t, k, doc.Kind)

		fs := flag.NewFlagSet("revoke", flag.ContinueOnError)
		var flagged RevocationKind
		fs.TextVar(&flagged, "kind", RevokeID, "what the revocation names")
		require.NoError(t, fs.Parse([]string{"-kind", k.String()}))
		assert.Equal(t, k, flagged)
	}
	for _, name := range []string{"", "nope", "JTI", "jti ", "RevocationKind(1)"} {
		k := CutoffKey
		assert.Error(t, k.UnmarshalText([]byte(name)), "%q", name)
		assert.Equal(t, CutoffKey, k, "a refused name leaves the kind as it was")
	}
	for _, k := range []RevocationKind{0, CutoffKey + 1, -1} {
		_, err := k.MarshalText()
		assert.Error(t, err, "%d", k)
		_, err = json.Marshal(k)
		assert.Error(t, err)
	}
}

func TestTokenRevocation(t *testing.T) {
	exp := testNow.Add(time.Minute)
	withJTI := hsToken(t, revClaims(map[string]any{"jti": "id-1"}))
	r, err := TokenRevocation(withJTI)
	require.NoError(t, err)
	assert.Equal(t, Revocation{Kind: RevokeID, Value: "id-1", Until: time.Unix(exp.Unix(), 0).Add(DefaultLeeway)}, r)

	noJTI := hsToken(t, revClaims(map[string]any{"exp": nil}))
	r, err = TokenRevocation(noJTI)
	require.NoError(t, err)
	assert.Equal(t, Revocation{Kind: RevokeHash, Value: TokenHash(noJTI)}, r, "no exp: kept for ever")
	assert.Len(t, r.Value, 43)

	h := b64(hsHeader)
	for _, bad := range []string{"", "a.b", h + ".!!.c", h + "." + b64(`[1]`) + ".c", h + "." + b64(`{"exp":"x"}`) + ".c", h + "." + b64(`{"exp":1e300}`) + ".c"} {
		_, err := TokenRevocation(bad)
		assert.Error(t, err, bad)
	}
}

// TestCutoffSeconds pins the rounding: a token issued in the cutoff's second
// is refused unless the cutoff falls exactly on the second.
func TestCutoffSeconds(t *testing.T) {
	store := NewMemoryRevocations(fixedClock)
	m := newTestMiddleware(t, func(c *Config) { c.Revocations = store })
	at := func(d time.Duration) string {
		return hsToken(t, revClaims(map[string]any{"sub": "s", "iat": testNow.Add(d).Unix()}))
	}
	sameSecond, nextSecond := at(0), at(time.Second)
	require.NoError(t, store.Revoke(t.Context(), Revocation{Kind: CutoffSubject, Value: "s", IssuedBefore: testNow.Add(time.Millisecond)}))
	assert.Equal(t, "revoked", serve(t, m, bearer(revPath, sameSecond)).reason)
	assert.Equal(t, http.StatusOK, serve(t, m, bearer(revPath, nextSecond)).code)

	assert.Equal(t, testNow.Unix(), Revocation{IssuedBefore: testNow}.CutoffSeconds(time.Time{}))
	assert.Equal(t, testNow.Unix()+1, Revocation{}.CutoffSeconds(testNow.Add(time.Nanosecond)), "zero means now")
}

// TestMemoryRevocationsBounded shows that entries live until their Until and
// are then swept, and that a later entry never weakens an earlier one.
func TestMemoryRevocationsBounded(t *testing.T) {
	var now atomic.Pointer[time.Time]
	set := func(t time.Time) { now.Store(&t) }
	set(testNow)
	clock := func() time.Time { return *now.Load() }
	store := NewMemoryRevocations(clock)
	ctx := t.Context()
	check := &RevocationCheck{ID: "a", Subject: "s", IssuedAt: testNow.Add(-time.Hour)}

	require.NoError(t, store.Revoke(ctx, Revocation{Kind: RevokeID, Value: "a", Until: testNow.Add(time.Minute)}))
	require.NoError(t, store.Revoke(ctx, Revocation{Kind: RevokeID, Value: "a", Until: testNow.Add(time.Second)}))
	require.NoError(t, store.Revoke(ctx, Revocation{Kind: CutoffSubject, Value: "s", IssuedBefore: testNow, Until: testNow.Add(2 * time.Minute)}))
	require.NoError(t, store.Revoke(ctx, Revocation{Kind: CutoffSubject, Value: "s", IssuedBefore: testNow.Add(-2 * time.Hour)}))
	require.NoError(t, store.Revoke(ctx, Revocation{Kind: CutoffKey, Value: "k2"}))
	require.NoError(t, store.Revoke(ctx, Revocation{Kind: CutoffKey, Value: "k2", Until: testNow.Add(time.Second)}))
	require.NoError(t, store.Use(ctx, "jti:u", testNow.Add(time.Minute)))
	assert.ErrorIs(t, store.Use(ctx, "jti:u", testNow.Add(time.Minute)), ErrTokenUsed)
	assert.True(t, store.Revoked(check))
	assert.Len(t, store.Entries(), 3)

	set(testNow.Add(30 * time.Second))
	assert.True(t, store.Revoked(&RevocationCheck{ID: "a"}), "the later expiry of the two is kept")

	set(testNow.Add(90 * time.Second))
	assert.True(t, store.Revoked(check), "the cutoff still holds: the earlier, weaker one did not replace it")
	assert.True(t, store.Revoked(&RevocationCheck{ID: "z", Subject: "s", IssuedAt: testNow.Add(-90 * time.Minute)}), "the later cutoff time is kept")
	assert.False(t, store.Revoked(&RevocationCheck{ID: "a"}), "the token entry expired with its token")
	assert.True(t, store.Revoked(&RevocationCheck{KeyID: "k2", IssuedAt: testNow.Add(-time.Hour)}), "a shorter Until did not shorten a cutoff kept for ever")

	set(testNow.Add(sweepEvery + 3*time.Minute))
	require.NoError(t, store.Revoke(ctx, Revocation{Kind: CutoffKey, Value: "k"}))
	assert.Equal(t, 3, store.Len(), "the expired token entry is swept; the cutoffs kept for ever stay")
	assert.NoError(t, store.Use(ctx, "jti:u", testNow.Add(time.Hour)), "the used record expired with its token")
	assert.True(t, store.Revoked(&RevocationCheck{ID: "z", KeyID: "k", IssuedAt: testNow}))
}

func TestRevocationReasonsDocumented(t *testing.T) {
	for _, e := range []*Error{ErrRevoked, ErrTokenUsed, ErrSingleUseUnsupported} {
		assert.ErrorIs(t, e, ErrInvalidToken)
		assert.Equal(t, http.StatusUnauthorized, e.Status())
		assert.True(t, strings.HasPrefix(e.Error(), "scopedtoken: "+e.Reason()))
	}
	assert.Equal(t, http.StatusServiceUnavailable, errRevocationsUnavailable.Status())
	assert.Equal(t, "temporarily_unavailable", errRevocationsUnavailable.oauthCode())
}

// BenchmarkCheckRevocationHit is the work the revocation check adds to a
// cache hit, alone: what BenchmarkRevocation's on/off ratio measures within
// the noise of a whole request.
func BenchmarkCheckRevocationHit(b *testing.B) {
	store := NewMemoryRevocations(fixedClock)
	for i := range 1000 {
		if err := store.Revoke(b.Context(), Revocation{Kind: CutoffSubject, Value: "user-" + strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
	}
	m := newTestMiddleware(b, func(c *Config) { c.Revocations = store })
	tok := hsToken(b, revClaims(map[string]any{"jti": "bench", "sub": "bench-user"}))
	v, _, _, e := m.verify(b.Context(), tok, m.cacheHit(tok))
	if e != nil {
		b.Fatal(e)
	}
	if e := m.checkRevocation(v, tok); e != nil {
		b.Fatal(e)
	}
	b.ReportAllocs()
	for b.Loop() {
		if e := m.checkRevocation(v, tok); e != nil {
			b.Fatal(e)
		}
	}
}

// ecdsaTwin returns tok with its ES256 signature (r, s) replaced by the other
// valid form (r, n-s), which anyone holding the token can compute.
func ecdsaTwin(t *testing.T, tok string) string {
	t.Helper()
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	require.NoError(t, err)
	s := new(big.Int).SetBytes(sig[32:])
	twin := append(append([]byte{}, sig[:32]...), new(big.Int).Sub(elliptic.P256().Params().N, s).FillBytes(make([]byte, 32))...)
	return tok[:i+1] + base64.RawURLEncoding.EncodeToString(twin)
}

// TestRevocationECDSATwin: a token without jti is named by the hash of its
// signing input, so the second valid form of its ECDSA signature is the same
// token to a revocation by hash and to a single-use record.
func TestRevocationECDSATwin(t *testing.T) {
	es := func(t *testing.T, extra map[string]any) string {
		return signRaw(t, "ES256", genKeys(t).ec, `{"alg":"ES256","kid":"es"}`, claimsJSON(t, revClaims(extra)))
	}
	t.Run("the twin verifies on its own", func(t *testing.T) {
		tok := es(t, nil)
		twin := ecdsaTwin(t, tok)
		require.NotEqual(t, tok, twin)
		assert.Equal(t, http.StatusOK, serve(t, newTestMiddleware(t, nil), bearer(revPath, twin)).code)
		assert.Equal(t, TokenHash(tok), TokenHash(twin))
	})
	t.Run("single use", func(t *testing.T) {
		m := newTestMiddleware(t, func(c *Config) { c.Revocations = NewMemoryRevocations(fixedClock) })
		tok := es(t, map[string]any{SingleUseClaim: true})
		require.Equal(t, http.StatusOK, serve(t, m, bearer(revPath, tok)).code)
		res := serve(t, m, bearer(revPath, ecdsaTwin(t, tok)))
		assert.Equal(t, http.StatusUnauthorized, res.code)
		assert.Equal(t, "token_used", res.reason)
	})
	t.Run("revoked by hash", func(t *testing.T) {
		store := NewMemoryRevocations(fixedClock)
		m := newTestMiddleware(t, func(c *Config) { c.Revocations = store })
		tok := es(t, nil)
		r, err := TokenRevocation(tok)
		require.NoError(t, err)
		require.Equal(t, RevokeHash, r.Kind)
		require.NoError(t, store.Revoke(context.Background(), r))
		res := serve(t, m, bearer(revPath, ecdsaTwin(t, tok)))
		assert.Equal(t, http.StatusUnauthorized, res.code)
		assert.Equal(t, "revoked", res.reason)
	})
}
