package scopedtoken_test

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
)

// TestRawPathIsWhatRoutersRead is the regression test of a bypass found by
// the router differential (integrations/differential_test.go): when RawPath
// holds a byte that is invalid in an escaped path, URL.EscapedPath re-escapes
// the decoded Path and loses an encoded '/', so "/v2/accounts/42%2Fsearch/
// answers/{" read as a search path while chi and echo routed it to answers.
func TestRawPathIsWhatRoutersRead(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	secret := make([]byte, 32)
	_, err := rand.Read(secret)
	require.NoError(t, err)
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k", Algorithm: "HS256", Secret: secret})
	require.NoError(t, err)
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys, Now: func() time.Time { return now }})
	require.NoError(t, err)
	minter, err := mint.New(mint.Config{
		Key: mint.Key{ID: "k", Algorithm: "HS256", Secret: secret},
		Now: func() time.Time { return now },
	})
	require.NoError(t, err)
	token, err := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/42/search"}})
	require.NoError(t, err)

	tests := []struct {
		name       string
		target     string
		stalePath  string // when set, URL.Path is changed afterwards, leaving RawPath stale
		wantStatus int
	}{
		{name: "encoded slash next to a raw brace", target: "/v2/accounts/42%2Fsearch/answers/{", wantStatus: http.StatusBadRequest},
		{name: "encoded slash next to raw UTF-8", target: "/v2/accounts/42%2fsearch/answers/é", wantStatus: http.StatusBadRequest},
		{name: "encoded slash next to a raw quote", target: `/v2/accounts/42%2Fsearch/answers/"`, wantStatus: http.StatusBadRequest},
		{name: "raw backslash", target: `/v2/accounts/42/search/..\answers`, wantStatus: http.StatusBadRequest},
		{name: "encoded letter next to a raw brace", target: "/v2/accounts/4%32/search/{", wantStatus: http.StatusForbidden},
		{name: "raw brace inside scope", target: "/v2/accounts/42/search/x{", wantStatus: http.StatusOK},
		{name: "raw UTF-8 inside scope", target: "/v2/accounts/42/search/é", wantStatus: http.StatusOK},
		{name: "lower-case escape inside scope", target: "/v2/accounts/42/search/%c3%a9", wantStatus: http.StatusOK},
		{name: "stale RawPath", target: "/v2/accounts/42/search%2Fx", stalePath: "/v2/accounts/42/search", wantStatus: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.target, nil)
			if tt.stalePath != "" {
				require.NotEmpty(t, req.URL.RawPath)
				req.URL.Path = tt.stalePath
			}
			req.Header.Set("Authorization", "Bearer "+token)
			ran := false
			rec := httptest.NewRecorder()
			mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true })).ServeHTTP(rec, req)
			assert.Equal(t, tt.wantStatus, rec.Code)
			assert.Equal(t, tt.wantStatus == http.StatusOK, ran)
		})
	}
}
