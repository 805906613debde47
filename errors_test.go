package scopedtoken

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNewError: a refusal of the user's own answers as its category says,
// and matches itself and its category with errors.Is.
func TestNewError(t *testing.T) {
	tests := []struct {
		category  error
		status    int
		oauthCode string
	}{
		{ErrInsufficientScope, http.StatusForbidden, "insufficient_scope"},
		{ErrInvalidRequest, http.StatusBadRequest, "invalid_request"},
		{ErrInvalidToken, http.StatusUnauthorized, "invalid_token"},
	}
	for _, tc := range tests {
		t.Run(tc.oauthCode, func(t *testing.T) {
			e := NewError(tc.category, "read_only2", "Search tokens may only read.")
			assert.Equal(t, "read_only2", e.Reason())
			assert.Equal(t, "Search tokens may only read.", e.Message())
			assert.Equal(t, "scopedtoken: read_only2: Search tokens may only read.", e.Error())
			assert.Equal(t, tc.status, e.Status())
			assert.ErrorIs(t, e, tc.category)
			assert.ErrorIs(t, e.withCause(errors.New("x")), e)
			assert.NotErrorIs(t, NewError(tc.category, "read_only2", "Another."), e, "each NewError is its own reason")
			assert.Nil(t, e.Unwrap())

			rec := httptest.NewRecorder()
			mustMiddleware(t).WriteError(rec, httptest.NewRequest(http.MethodGet, "/", nil), e)
			assert.Equal(t, tc.status, rec.Code)
			assert.Equal(t, `Bearer realm="api", error="`+tc.oauthCode+`", error_description="Search tokens may only read."`,
				rec.Header().Get("WWW-Authenticate"))
			assert.JSONEq(t, `{"error":"`+tc.oauthCode+`","reason":"read_only2","message":"Search tokens may only read."}`, rec.Body.String())
		})
	}
}

// TestNewErrorRefuses: NewError panics on what would make an odd or unsafe
// answer, since its arguments are the program's constants.
func TestNewErrorRefuses(t *testing.T) {
	tests := []struct {
		name              string
		category          error
		reason, message   string
		wantPanicContains string
	}{
		{"no category", nil, "read_only", "m", "category"},
		{"missing token", ErrMissingToken, "read_only", "m", "category"},
		{"keys unavailable", ErrKeysUnavailable, "read_only", "m", "category"},
		{"revocations unavailable", ErrRevocationsUnavailable, "read_only", "m", "category"},
		{"a reason as category", ErrExpired, "read_only", "m", "category"},
		{"another error as category", errors.New("scopedtoken: insufficient scope"), "read_only", "m", "category"},
		{"empty reason", ErrInsufficientScope, "", "m", "reason"},
		{"upper case", ErrInsufficientScope, "Read_only", "m", "reason"},
		{"hyphen", ErrInsufficientScope, "read-only", "m", "reason"},
		{"space", ErrInsufficientScope, "read only", "m", "reason"},
		{"quote", ErrInsufficientScope, `read"only`, "m", "reason"},
		{"comma and equals", ErrInsufficientScope, "a,error=b", "m", "reason"},
		{"control character", ErrInsufficientScope, "read\r\nonly", "m", "reason"},
		{"not ASCII", ErrInsufficientScope, "rëad", "m", "reason"},
		{"leading digit", ErrInsufficientScope, "1read", "m", "reason"},
		{"leading underscore", ErrInsufficientScope, "_read", "m", "reason"},
		{"too long", ErrInsufficientScope, strings.Repeat("a", 65), "m", "reason"},
		{"the package's own", ErrInsufficientScope, "expired", "m", "package's own"},
		{"the package's own, without sentinel", ErrInsufficientScope, "missing_token", "m", "package's own"},
		{"empty message", ErrInsufficientScope, "read_only", "", "message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				p := recover()
				require.NotNil(t, p, "NewError must panic")
				assert.Contains(t, p, tc.wantPanicContains)
			}()
			NewError(tc.category, tc.reason, tc.message)
		})
	}
	assert.NotPanics(t, func() { NewError(ErrInsufficientScope, strings.Repeat("a", 64), "m") })
	assert.NotPanics(t, func() { NewError(ErrInsufficientScope, "a1_b2", "m") })
}
