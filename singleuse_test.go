package scopedtoken

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSingleUseAtTheEdgeOfExpiry: a used single-use token is never accepted
// again, also by a request that passed the clock check just before exp plus
// the leeway and reached the store just after, on an instance whose clock
// runs behind; and a request that reaches the store after the end is
// refused as expired, though it passed the clock check.
func TestSingleUseAtTheEdgeOfExpiry(t *testing.T) {
	exp := testNow.Add(time.Minute)
	last := exp.Add(DefaultLeeway) // accepted while now is before it
	var clock atomic.Int64
	set := func(t time.Time) { clock.Store(t.UnixNano()) }
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	var checkTakes atomic.Int64 // how far Check moves the clock
	store := NewMemoryRevocations(now)
	newInstance := func() *Middleware {
		return newTestMiddleware(t, func(c *Config) {
			c.Now, c.Revocations = now, store
			c.Check = func(*http.Request, *Token) error {
				clock.Add(checkTakes.Load())
				return nil
			}
		})
	}
	tok := hsToken(t, revClaims(map[string]any{"once": true, "jti": "edge", "exp": exp.Unix()}))

	set(last.Add(-time.Millisecond))
	require.Equal(t, http.StatusOK, serve(t, newInstance(), bearer(revPath, tok)).code, "used a millisecond before the end")

	// A second instance whose clock is 50 s behind, and a slow Check: the
	// request passes the clock check before the end and reaches the store
	// after it, by both clocks.
	set(last.Add(-time.Millisecond))
	checkTakes.Store(int64(2 * time.Millisecond))
	res := serve(t, newInstance(), bearer(revPath, tok))
	assert.Equal(t, "token_used", res.reason, "the record outlives the end")
	set(last.Add(50 * time.Second))
	checkTakes.Store(0)
	assert.ErrorIs(t, store.Use(t.Context(), "jti:hs:edge", last), ErrTokenUsed, "a clock 50 s ahead still finds the record")

	t.Run("first_use_that_ends_after_the_end", func(t *testing.T) {
		fresh := hsToken(t, revClaims(map[string]any{"once": true, "jti": "late", "exp": exp.Unix()}))
		set(last.Add(-time.Millisecond))
		checkTakes.Store(int64(2 * time.Millisecond))
		res := serve(t, newInstance(), bearer(revPath, fresh))
		assert.Equal(t, "expired", res.reason)
		assert.False(t, res.ran)
	})

	assert.True(t, last.Add(singleUseRecordMargin).Equal(useRecordUntil(last)), "whole seconds stay")
	assert.True(t, last.Add(singleUseRecordMargin+time.Second).Equal(useRecordUntil(last.Add(time.Millisecond))), "rounded up")
}

// TestSingleUseRecordIsPerKey: a single-use record is named by the key and
// the jti ("jti:KID:ID"), since RFC 7519 §4.1.7 makes a jti unique per issuer
// only (found in review: with the jti alone, a tenant with its own signing
// key could mint a single-use token carrying another tenant's jti, an order
// number, and use up the other tenant's link, never presented).
func TestSingleUseRecordIsPerKey(t *testing.T) {
	ks, err := StaticKeys(
		Key{ID: "tenant-1", Algorithm: "HS256", Secret: []byte("tenant-1-secret-0123456789abcdef"), BusinessID: "1"},
		Key{ID: "tenant-2", Algorithm: "HS256", Secret: []byte("tenant-2-secret-0123456789abcdef"), BusinessID: "2"},
	)
	require.NoError(t, err)
	store := NewMemoryRevocations(fixedClock)
	m, err := New(Config{Keys: ks, Now: fixedClock, Revocations: store})
	require.NoError(t, err)

	mint := func(kid, secret, business string) string {
		return signRaw(t, "HS256", []byte(secret), `{"alg":"HS256","kid":"`+kid+`","typ":"JWT"}`,
			claimsJSON(t, map[string]any{"aud": "/v2/accounts/" + business + "/search", "exp": testNow.Unix() + 60, "jti": "order-1001", "once": true}))
	}
	victim := mint("tenant-1", "tenant-1-secret-0123456789abcdef", "1")
	attacker := mint("tenant-2", "tenant-2-secret-0123456789abcdef", "2")

	require.Equal(t, http.StatusOK, serve(t, m, bearer("/v2/accounts/2/search", attacker)).code, "tenant 2 uses its own link")
	res := serve(t, m, bearer("/v2/accounts/1/search", victim))
	assert.Equal(t, http.StatusOK, res.code, "tenant 1's link was never used: another key's token must not use it up (got %s)", res.reason)
}
