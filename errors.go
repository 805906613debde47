package scopedtoken

import (
	"errors"
	"net/http"
)

// Categories of refusal. Every error the middleware produces matches exactly one
// of them with errors.Is, and the category decides the HTTP status.
var (
	// ErrMissingToken means the request carried no token (401, no error attribute).
	ErrMissingToken = errors.New("scopedtoken: no token")
	// ErrInvalidToken means the token failed a check of the token or its key (401).
	ErrInvalidToken = errors.New("scopedtoken: invalid token")
	// ErrInsufficientScope means a valid token does not cover the request (403).
	ErrInsufficientScope = errors.New("scopedtoken: insufficient scope")
	// ErrInvalidRequest means the request itself is malformed (400).
	ErrInvalidRequest = errors.New("scopedtoken: invalid request")
	// ErrKeysUnavailable means no key could be fetched for the token (503).
	ErrKeysUnavailable = errors.New("scopedtoken: keys unavailable")
	// ErrRevocationsUnavailable means the revocation store could not record
	// the use of a single-use token (503).
	ErrRevocationsUnavailable = errors.New("scopedtoken: revocations unavailable")
)

// Reasons: one sentinel per stable reason code, each inside one category. They
// are what errors.Is matches for a precise cause, and the Reason field of *Error
// carries the same code as a string for responses and logs.
var (
	ErrTokenTooLarge     = newReason(ErrInvalidToken, "token_too_large", "The token is longer than the allowed maximum.")
	ErrMalformedToken    = newReason(ErrInvalidToken, "malformed_token", "The token is not a well-formed compact JWS.")
	ErrDuplicateMember   = newReason(ErrInvalidToken, "duplicate_member", "The token repeats a JSON member name.")
	ErrAmbiguousMember   = newReason(ErrInvalidToken, "ambiguous_member", "The token has a member name that differs from a registered one only in case.")
	ErrUnsupportedHeader = newReason(ErrInvalidToken, "unsupported_header", "The token header uses crit, b64 or an unexpected typ.")
	ErrAlgMismatch       = newReason(ErrInvalidToken, "alg_mismatch", "The token alg is missing or is not the algorithm of its key.")
	ErrMissingKID        = newReason(ErrInvalidToken, "missing_kid", "The token header has no kid.")
	ErrUnknownKID        = newReason(ErrInvalidToken, "unknown_kid", "The token kid names no known key.")
	ErrBadSignature      = newReason(ErrInvalidToken, "bad_signature", "The token signature does not verify.")
	ErrInvalidClaims     = newReason(ErrInvalidToken, "invalid_claims", "A registered claim has the wrong type or an out-of-range value.")
	ErrMissingExp        = newReason(ErrInvalidToken, "missing_exp", "The token has no exp claim.")
	ErrExpired           = newReason(ErrInvalidToken, "expired", "The token has expired.")
	ErrNotYetValid       = newReason(ErrInvalidToken, "not_yet_valid", "The token is not valid yet (nbf).")
	ErrIssuedInFuture    = newReason(ErrInvalidToken, "issued_in_future", "The token was issued in the future (iat).")
	ErrLifetimeTooLong   = newReason(ErrInvalidToken, "lifetime_too_long", "The token expires later than the maximum lifetime allows.")
	ErrBadAudience       = newReason(ErrInvalidToken, "bad_audience", "The token aud is missing or is not a valid list of API paths.")
	ErrBadQueryClaim     = newReason(ErrInvalidToken, "bad_query_claim", "The token query claim has a wrong type or exceeds the limits.")
	ErrIssuerMismatch    = newReason(ErrInvalidToken, "issuer_mismatch", "The token iss is missing or is not the issuer of its key.")
	ErrAudienceMismatch  = newReason(ErrInsufficientScope, "audience_mismatch", "The request path is outside every audience of the token.")
	ErrQueryMismatch     = newReason(ErrInsufficientScope, "query_mismatch", "The request sends a query parameter value that the token fixes differently.")
	ErrCrossOrigin       = newReason(ErrInsufficientScope, "cross_origin", "A token the browser may send by itself (a cookie) does not authorize a cross-origin request with an unsafe method.")
	ErrCheckFailed       = newReason(ErrInsufficientScope, "check_failed", "The request is not allowed for this token.")
	ErrBadPath           = newReason(ErrInvalidRequest, "bad_path", "The request path is ambiguous (empty, dot or encoded separator segments).")
	ErrBadCredentials    = newReason(ErrInvalidRequest, "bad_credentials", "The request's credentials are malformed (not valid Bearer credentials).")
	ErrMultipleTokens    = newReason(ErrInvalidRequest, "multiple_tokens", "The request carries more than one token or Authorization header.")
	ErrBadQuery          = newReason(ErrInvalidRequest, "bad_query", "The request query string cannot be parsed unambiguously.")
	errKeysUnavailable   = newReason(ErrKeysUnavailable, "keys_unavailable", "The verification keys cannot be fetched right now.")
	errMissingToken      = newReason(ErrMissingToken, "missing_token", "The request carries no bearer token.")

	// Revocation (docs/revocation.md).
	ErrRevoked                = newReason(ErrInvalidToken, "revoked", "The token was revoked.")
	ErrTokenUsed              = newReason(ErrInvalidToken, "token_used", "The token is single-use and was already used.")
	ErrSingleUseUnsupported   = newReason(ErrInvalidToken, "single_use_unsupported", "The token is single-use, but this server keeps no record of used tokens.")
	errRevocationsUnavailable = newReason(ErrRevocationsUnavailable, "revocations_unavailable", "Single-use tokens cannot be checked right now.")
)

// Error is the error the middleware returns and passes to the error handler.
// errors.Is matches both its category (ErrInvalidToken, ...) and its reason
// (ErrExpired, ...); errors.As finds it. It never holds the token, a key or a
// secret: only fixed texts and, for unavailable keys, the fetch error.
type Error struct {
	// Reason is the stable reason code, for example "expired".
	Reason string
	// Message is one readable sentence, safe to show to clients.
	Message string

	category error
	reason   *Error // the sentinel this error was made from; nil on sentinels
	cause    error
}

func newReason(category error, code, message string) *Error {
	return &Error{Reason: code, Message: message, category: category}
}

// withCause returns a copy of the reason sentinel that also wraps cause.
func (e *Error) withCause(cause error) *Error {
	return &Error{Reason: e.Reason, Message: e.Message, category: e.category, reason: e, cause: cause}
}

// Error returns the reason code and message; it never includes the cause's
// details, which may be long, but errors.Unwrap reaches them.
func (e *Error) Error() string { return "scopedtoken: " + e.Reason + ": " + e.Message }

// Is reports whether target is this error's category or its reason.
func (e *Error) Is(target error) bool {
	return target == e.category || (e.reason != nil && target == e.reason)
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Status returns the HTTP status code for the error's category.
func (e *Error) Status() int { return statusOf(e.category) }

func statusOf(category error) int {
	switch category {
	case ErrMissingToken, ErrInvalidToken:
		return http.StatusUnauthorized
	case ErrInsufficientScope:
		return http.StatusForbidden
	case ErrInvalidRequest:
		return http.StatusBadRequest
	case ErrKeysUnavailable, ErrRevocationsUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusUnauthorized
}

// oauthCode is the RFC 6750 error code, also used as "error" in the JSON body.
func (e *Error) oauthCode() string {
	switch e.category {
	case ErrInsufficientScope:
		return "insufficient_scope"
	case ErrInvalidRequest:
		return "invalid_request"
	case ErrKeysUnavailable, ErrRevocationsUnavailable:
		return "temporarily_unavailable"
	}
	return "invalid_token"
}

// reasons lists every reason sentinel in a stable order, for documentation and
// for precomputing responses in New.
var reasons = []*Error{
	errMissingToken, ErrTokenTooLarge, ErrMalformedToken, ErrDuplicateMember, ErrAmbiguousMember,
	ErrUnsupportedHeader, ErrAlgMismatch, ErrMissingKID, ErrUnknownKID, ErrBadSignature, ErrInvalidClaims,
	ErrMissingExp, ErrExpired, ErrNotYetValid, ErrIssuedInFuture, ErrLifetimeTooLong, ErrBadAudience,
	ErrBadQueryClaim, ErrIssuerMismatch, ErrAudienceMismatch, ErrQueryMismatch, ErrCrossOrigin, ErrCheckFailed, ErrBadPath, ErrBadCredentials, ErrMultipleTokens,
	ErrBadQuery, errKeysUnavailable,
	ErrRevoked, ErrTokenUsed, ErrSingleUseUnsupported, errRevocationsUnavailable,
}

// lookupError converts what a KeySet returned into *Error. An error the
// package does not know (a custom KeySet whose database is down, say) is taken
// as keys being unavailable: the request is refused either way.
func lookupError(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e) && e.category == ErrInvalidToken:
		return e
	case errors.Is(err, ErrUnknownKID):
		return ErrUnknownKID
	}
	return errKeysUnavailable.withCause(err)
}
