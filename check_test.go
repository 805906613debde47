package scopedtoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errNotForThisKind = errors.New("secret detail: kind=search, customer 1234")

// TestCheck: what Config.Check returns decides the request, and an error that
// is not an *Error never reaches the client.
func TestCheck(t *testing.T) {
	var typedNil *Error
	readOnly := NewError(ErrInsufficientScope, "read_only", "This token is read-only.")
	tests := []struct {
		name        string
		err         error
		code        int
		reason      string
		challenge   string // the error_description, when checked
		is          []error
		unwrapsTo   error
		notInAnswer string
	}{
		{name: "nil lets the request through", code: http.StatusOK},
		{name: "a plain error", err: errNotForThisKind, code: http.StatusForbidden, reason: "check_failed",
			challenge: ErrCheckFailed.Message(), is: []error{ErrCheckFailed, ErrInsufficientScope, errNotForThisKind},
			unwrapsTo: errNotForThisKind, notInAnswer: "secret detail"},
		{name: "a wrapped plain error", err: fmt.Errorf("lookup: %w", errNotForThisKind), code: http.StatusForbidden, reason: "check_failed",
			is: []error{ErrCheckFailed, errNotForThisKind}, notInAnswer: "secret detail"},
		{name: "a package reason", err: ErrAudienceMismatch, code: http.StatusForbidden, reason: "audience_mismatch",
			challenge: ErrAudienceMismatch.Message(), is: []error{ErrAudienceMismatch, ErrInsufficientScope}},
		{name: "a package reason of another status", err: ErrExpired, code: http.StatusUnauthorized, reason: "expired",
			is: []error{ErrExpired, ErrInvalidToken}},
		{name: "a wrapped package reason", err: fmt.Errorf("secret detail: %w", ErrQueryMismatch), code: http.StatusForbidden,
			reason: "query_mismatch", is: []error{ErrQueryMismatch, ErrInsufficientScope}, notInAnswer: "secret detail"},
		{name: "an error of the user's own", err: readOnly, code: http.StatusForbidden, reason: "read_only",
			challenge: "This token is read-only.", is: []error{readOnly, ErrInsufficientScope}},
		{name: "an error of the user's own, wrapped", err: fmt.Errorf("secret detail: %w", readOnly), code: http.StatusForbidden,
			reason: "read_only", is: []error{readOnly, ErrInsufficientScope}, notInAnswer: "secret detail"},
		{name: "an error of the user's own without texts", err: &Error{}, code: http.StatusForbidden, reason: "check_failed",
			challenge: ErrCheckFailed.Message(), is: []error{ErrInsufficientScope}},
		{name: "a message unsafe in a header", err: NewError(ErrInsufficientScope, "x", "a \"b\" \\ c\r\nSet-Cookie: d=e ü"),
			code: http.StatusForbidden, reason: "x", challenge: "a ?b? ? c??Set-Cookie: d=e ?"},
		{name: "an error of the user's own, 400", err: NewError(ErrInvalidRequest, "bad_filter", "The filter is not one this API knows."),
			code: http.StatusBadRequest, reason: "bad_filter", challenge: "The filter is not one this API knows.", is: []error{ErrInvalidRequest}},
		{name: "an error of the user's own, 401", err: NewError(ErrInvalidToken, "account_closed", "The token's account is closed."),
			code: http.StatusUnauthorized, reason: "account_closed", challenge: "The token's account is closed.", is: []error{ErrInvalidToken}},
		{name: "a typed nil *Error still refuses", err: typedNil, code: http.StatusForbidden, reason: "check_failed",
			is: []error{ErrCheckFailed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var checked *Token
			var decided Decision
			var handled error
			m := newTestMiddleware(t, func(c *Config) {
				c.Check = func(r *http.Request, tok *Token) error {
					checked = tok
					return tc.err
				}
				c.OnDecision = func(_ context.Context, d Decision) { decided = d }
				c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
					handled = err
					mustMiddleware(t).WriteError(w, r, err)
				}
			})
			res := serve(t, m, bearer("/v2/accounts/me/search", hsToken(t, validClaims())))
			require.NotNil(t, checked, "the check ran")
			assert.Equal(t, tc.code, res.code, res.body)
			assert.Equal(t, tc.reason, res.reason)
			assert.Equal(t, tc.code == http.StatusOK, res.ran)
			if tc.code == http.StatusOK {
				assert.Same(t, res.token, checked, "the check gets the token FromContext returns")
				assert.Nil(t, handled)
				assert.True(t, decided.Allowed)
				return
			}
			assertRefused(t, res, tc.code, tc.reason)
			if tc.challenge != "" {
				assert.Contains(t, res.header.Get("WWW-Authenticate"), `error_description="`+tc.challenge+`"`)
			}
			for _, target := range tc.is {
				assert.ErrorIs(t, handled, target)
				assert.ErrorIs(t, decided.Err, target)
			}
			if tc.unwrapsTo != nil {
				assert.Equal(t, tc.unwrapsTo, errors.Unwrap(handled), "the cause is reachable for logs")
			}
			var e *Error
			require.ErrorAs(t, handled, &e, "the error handler receives an *Error")
			assert.Equal(t, tc.code, e.Status())
			assert.Equal(t, Decision{Status: tc.code, Reason: tc.reason, KeyID: "hs", Path: "/v2/accounts/me/search", Err: decided.Err, Duration: decided.Duration}, decided)
			if tc.notInAnswer != "" {
				assert.NotContains(t, res.body, tc.notInAnswer)
				assert.NotContains(t, res.header.Get("WWW-Authenticate"), tc.notInAnswer)
			}
		})
	}
}

// TestCheckNeverRunsOnRefusals: a request that a built-in check refused, or
// that carries no token, never reaches Config.Check.
func TestCheckNeverRunsOnRefusals(t *testing.T) {
	good := hsToken(t, validClaims())
	withCookie := func(method string) *http.Request {
		req, _ := http.NewRequest(method, "http://api.test/v2/accounts/me/search", nil)
		req.AddCookie(&http.Cookie{Name: "st", Value: good})
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		return req
	}
	queryBound := hsToken(t, with(func(c map[string]any) { c["query"] = map[string]any{"k": "a"} }))
	tests := []struct {
		name   string
		config func(*Config)
		req    *http.Request
		code   int
	}{
		{name: "no token", req: bearer("/v2/accounts/me/search", ""), code: http.StatusUnauthorized},
		{name: "no token, credentials optional", config: func(c *Config) { c.CredentialsOptional = true },
			req: bearer("/v2/accounts/me/search", ""), code: http.StatusOK},
		{name: "malformed credentials", req: bearer("/v2/accounts/me/search", good+" x"), code: http.StatusBadRequest},
		{name: "expired", req: bearer("/v2/accounts/me/search", hsToken(t, with(func(c map[string]any) { c["exp"] = testNow.Add(-time.Hour).Unix() }))),
			code: http.StatusUnauthorized},
		{name: "keys unavailable", config: func(c *Config) { c.Keys = unavailableKeys{} }, req: bearer("/v2/accounts/me/search", good),
			code: http.StatusServiceUnavailable},
		{name: "outside the audience", req: bearer("/v2/accounts/me/answers", good), code: http.StatusForbidden},
		{name: "ambiguous path", req: bearer("/v2/accounts/me/search/%2e%2e", good), code: http.StatusBadRequest},
		{name: "query conflict", config: func(c *Config) { c.QueryMode = QueryRefuse }, req: bearer("/v2/accounts/me/search?k=b", queryBound),
			code: http.StatusForbidden},
		{name: "cross-origin cookie", config: func(c *Config) { c.TokenCookie = "st" }, req: withCookie(http.MethodPost), code: http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ran := false
			m := newTestMiddleware(t, func(c *Config) {
				c.Check = func(*http.Request, *Token) error {
					ran = true
					return nil
				}
				if tc.config != nil {
					tc.config(c)
				}
			})
			res := serve(t, m, tc.req)
			assert.Equal(t, tc.code, res.code, res.body)
			assert.False(t, ran, "the check must not run")
		})
	}
}

// TestCheckSeesTheRequestTheHandlerSees: the check runs after the token left
// the query and the query claim was bound, and on cached verifications too.
func TestCheckSeesTheRequestTheHandlerSees(t *testing.T) {
	token := hsToken(t, with(func(c map[string]any) { c["query"] = map[string]any{"k": "bound"} }))
	var queries []string
	m := newTestMiddleware(t, func(c *Config) {
		c.TokenQueryParam = "jwt"
		c.Check = func(r *http.Request, tok *Token) error {
			fromCtx, ok := FromContext(r.Context())
			require.True(t, ok)
			assert.Same(t, fromCtx, tok)
			queries = append(queries, r.URL.RawQuery+" "+r.RequestURI)
			return nil
		}
	})
	for range 2 {
		res := serve(t, m, bearer("/v2/accounts/me/search?k=sent&jwt="+token, ""))
		require.Equal(t, http.StatusOK, res.code, res.body)
	}
	assert.Equal(t, []string{"k=bound /v2/accounts/me/search?k=bound", "k=bound /v2/accounts/me/search?k=bound"}, queries)
}
