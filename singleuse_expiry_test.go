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
