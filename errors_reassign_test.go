package scopedtoken

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReassignedSentinelsChangeNothing: the exported error variables are
// variables, as io.EOF is, so an importer can assign to them; the middleware
// compares with and returns its own unexported values, so such an assignment
// (even of nil, which would otherwise read as "no error") changes no status,
// reason or response, and cannot let a refused token through. It must not run
// in parallel: it changes package variables for its duration.
func TestReassignedSentinelsChangeNothing(t *testing.T) {
	m := newTestMiddleware(t, nil)
	expired := validClaims()
	expired["exp"] = testNow.Add(-time.Hour).Unix()
	token := hsToken(t, expired)
	outside := hsToken(t, validClaims())

	before := serve(t, m, bearer("/v2/accounts/me/search", token))
	require.Equal(t, http.StatusUnauthorized, before.code)
	require.Equal(t, "expired", before.reason)
	beforeScope := serve(t, m, bearer("/v2/accounts/me/orders", outside))
	require.Equal(t, http.StatusForbidden, beforeScope.code)

	saved := []*error{&ErrInvalidToken, &ErrInsufficientScope}
	savedValues := []error{ErrInvalidToken, ErrInsufficientScope}
	savedExpired, savedMismatch := ErrExpired, ErrAudienceMismatch
	t.Cleanup(func() {
		for i, p := range saved {
			*p = savedValues[i]
		}
		ErrExpired, ErrAudienceMismatch = savedExpired, savedMismatch
	})
	ErrExpired, ErrAudienceMismatch = nil, nil
	ErrInvalidToken, ErrInsufficientScope = errors.New("changed"), nil

	for _, tc := range []struct {
		name, path, token string
		want              result
	}{
		{"expired", "/v2/accounts/me/search", token, before},
		{"outside aud", "/v2/accounts/me/orders", outside, beforeScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := serve(t, m, bearer(tc.path, tc.token))
			assert.False(t, got.ran, "the request must still be refused")
			assert.Equal(t, tc.want.code, got.code)
			assert.Equal(t, tc.want.reason, got.reason)
			assert.Equal(t, tc.want.body, got.body)
			assert.Equal(t, tc.want.header.Get("WWW-Authenticate"), got.header.Get("WWW-Authenticate"))
		})
	}
	_, err := m.Verify(t.Context(), token, "/v2/accounts/me/search")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "expired", e.Reason())
	assert.Equal(t, http.StatusUnauthorized, e.Status())
	assert.ErrorIs(t, err, savedExpired)
	assert.ErrorIs(t, err, savedValues[0])
}
