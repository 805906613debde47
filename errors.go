package scopedtoken

import (
	"errors"
	"fmt"
	"net/http"
)

// Categories of refusal. Every error the middleware produces matches exactly one
// of them with errors.Is, and the category decides the HTTP status.
var (
	// ErrMissingToken means the request carried no token (401, no error attribute).
	ErrMissingToken = errors.New("scopedtoken: no token")
	// ErrInvalidToken means the token itself was refused: its encoding, header,
	// key, signature or claims (401).
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

// The reason sentinels: one per stable reason code, each inside one category
// (which decides the status). errors.Is matches them for a precise cause, and
// the Reason method of *Error returns the same code as a string for responses
// and logs. The reasons missing_token, keys_unavailable and
// revocations_unavailable have no sentinel of their own: match their
// categories ErrMissingToken, ErrKeysUnavailable and ErrRevocationsUnavailable.
// docs/configuration.md lists every reason with its status and response.
var (
	// ErrTokenTooLarge means the token is longer than Config.MaxTokenBytes, or
	// its header longer than MaxHeaderBytes or holding more than
	// MaxHeaderValues values, and was not parsed further (401 token_too_large).
	ErrTokenTooLarge = newReason(ErrInvalidToken, "token_too_large", "The token, or its header, is larger than the allowed maximum.")
	// ErrMalformedToken means the token is not three strict base64url segments, or
	// its header or claims are not strict JSON objects (401 malformed_token).
	ErrMalformedToken = newReason(ErrInvalidToken, "malformed_token", "The token is not a well-formed compact JWS.")
	// ErrDuplicateMember means a JSON member name is repeated, at any depth, after
	// unescaping (401 duplicate_member).
	ErrDuplicateMember = newReason(ErrInvalidToken, "duplicate_member", "The token repeats a JSON member name.")
	// ErrAmbiguousMember means a member name differs only in case folding from a
	// registered one (EXP, or Kid with the Kelvin sign) or from another name in
	// its object (role and ROLE), which encoding/json would read as one struct
	// field (401 ambiguous_member).
	ErrAmbiguousMember = newReason(ErrInvalidToken, "ambiguous_member", "The token has a member name that differs from a registered one or another in its object only in case.")
	// ErrUnsupportedHeader means the header has crit or b64, or a typ other than
	// JWT (401 unsupported_header).
	ErrUnsupportedHeader = newReason(ErrInvalidToken, "unsupported_header", "The token header uses crit, b64 or an unexpected typ.")
	// ErrAlgMismatch means alg is missing, unknown (none), or not the algorithm of
	// the key its kid names (401 alg_mismatch).
	ErrAlgMismatch = newReason(ErrInvalidToken, "alg_mismatch", "The token alg is missing or is not the algorithm of its key.")
	// ErrMissingKID means the header has no kid, an empty one, or one that is not
	// a string (401 missing_kid).
	ErrMissingKID = newReason(ErrInvalidToken, "missing_kid", "The token header has no kid.")
	// ErrUnknownKID means no key has the token's kid; a KeySet returns an error
	// wrapping it for a kid it does not hold (401 unknown_kid).
	ErrUnknownKID = newReason(ErrInvalidToken, "unknown_kid", "The token kid names no known key.")
	// ErrBadSignature means the signature does not verify with the key its kid
	// names (401 bad_signature).
	ErrBadSignature = newReason(ErrInvalidToken, "bad_signature", "The token signature does not verify.")
	// ErrInvalidClaims means exp, nbf or iat is not a number from 0 to the end of
	// year 9999, or iss, sub or jti is not a string (401 invalid_claims).
	ErrInvalidClaims = newReason(ErrInvalidToken, "invalid_claims", "A registered claim has the wrong type or an out-of-range value.")
	// ErrMissingExp means the token has no exp and Config.AllowMissingExp is false
	// (401 missing_exp).
	ErrMissingExp = newReason(ErrInvalidToken, "missing_exp", "The token has no exp claim.")
	// ErrExpired means now is at or after exp plus the leeway (401 expired).
	ErrExpired = newReason(ErrInvalidToken, "expired", "The token has expired.")
	// ErrNotYetValid means now is before nbf minus the leeway (401 not_yet_valid).
	ErrNotYetValid = newReason(ErrInvalidToken, "not_yet_valid", "The token is not valid yet (nbf).")
	// ErrIssuedInFuture means now is before iat minus the leeway (401
	// issued_in_future).
	ErrIssuedInFuture = newReason(ErrInvalidToken, "issued_in_future", "The token was issued in the future (iat).")
	// ErrLifetimeTooLong means exp is beyond now plus Config.MaxLifetime plus the
	// leeway (401 lifetime_too_long).
	ErrLifetimeTooLong = newReason(ErrInvalidToken, "lifetime_too_long", "The token expires later than the maximum lifetime allows.")
	// ErrBadAudience means aud is missing or empty, or one of its entries breaks
	// the audience grammar (401 bad_audience).
	ErrBadAudience = newReason(ErrInvalidToken, "bad_audience", "The token aud is missing or is not a valid list of API paths.")
	// ErrBadQueryClaim means the query claim is not an object of scalars and non-
	// empty arrays, or exceeds Config.MaxQueryParams or Config.MaxQueryValues (401
	// bad_query_claim).
	ErrBadQueryClaim = newReason(ErrInvalidToken, "bad_query_claim", "The token query claim has a wrong type or exceeds the limits.")
	// ErrIssuerMismatch means the key is bound to an issuer (Key.Issuer,
	// jwks.Config.Issuer) and the token's iss is absent or differs (exact,
	// case-sensitive) (401 issuer_mismatch).
	ErrIssuerMismatch = newReason(ErrInvalidToken, "issuer_mismatch", "The token iss is missing or is not the issuer of its key.")
	// ErrAudienceMismatch means the request path is outside every aud entry of a
	// valid token (403 audience_mismatch).
	ErrAudienceMismatch = newReason(ErrInsufficientScope, "audience_mismatch", "The request path is outside every audience of the token.")
	// ErrQueryMismatch means the request sends another value for a parameter the
	// token binds, or a case variant of its name, under QueryRefuse (403
	// query_mismatch).
	ErrQueryMismatch = newReason(ErrInsufficientScope, "query_mismatch", "The request sends a query parameter value that the token fixes differently.")
	// ErrMeWithoutBusiness means the request path names the business "me" and
	// an aud entry covers it, but the token's key has no business for "me" to
	// stand for (Key.BusinessID, jwks.Config.BusinessID), so Token.BusinessID()
	// would be empty; Config.AllowMeWithoutBusiness accepts such requests
	// (403 me_without_business).
	ErrMeWithoutBusiness = newReason(ErrInsufficientScope, "me_without_business", "The request path says \"me\", but the token's key has no business for it to stand for.")
	// ErrCrossOrigin means a token that the browser may send by itself (from a
	// cookie, or a source treated like one) came with a cross-origin request that
	// has an unsafe method or is a WebSocket handshake (403 cross_origin).
	ErrCrossOrigin = newReason(ErrInsufficientScope, "cross_origin", "A token the browser may send by itself (a cookie) does not authorize a cross-origin request with an unsafe method or a WebSocket handshake.")
	// ErrCheckFailed means Config.Check refused the request with an error that is
	// not an *Error; its text is not shown (403 check_failed).
	ErrCheckFailed = newReason(ErrInsufficientScope, "check_failed", "The request is not allowed for this token.")
	// ErrBadPath means the request path is ambiguous: //, dot segments, %2F, %5C,
	// %2E or encoded control characters (400 bad_path).
	ErrBadPath = newReason(ErrInvalidRequest, "bad_path", "The request path is ambiguous (empty, dot or encoded separator segments).")
	// ErrBadCredentials means the Authorization header says Bearer but is not
	// followed by exactly one space and a b64token (400 bad_credentials).
	ErrBadCredentials = newReason(ErrInvalidRequest, "bad_credentials", "The request's credentials are malformed (not valid Bearer credentials).")
	// ErrMultipleTokens means the request has two Authorization headers, or a
	// token in more than one place (400 multiple_tokens).
	ErrMultipleTokens = newReason(ErrInvalidRequest, "multiple_tokens", "The request carries more than one token or Authorization header.")
	// ErrBadQuery means the token binds parameters and the query string cannot be
	// read unambiguously (a ; separator, a bad escape, too many parameters) (400
	// bad_query).
	ErrBadQuery        = newReason(ErrInvalidRequest, "bad_query", "The request query string cannot be parsed unambiguously.")
	errKeysUnavailable = newReason(ErrKeysUnavailable, "keys_unavailable", "The verification keys cannot be fetched right now.")
	errMissingToken    = newReason(ErrMissingToken, "missing_token", "The request carries no bearer token.")

	// Revocation and single-use tokens (docs/revocation.md).
	// ErrRevoked means Config.Revocations says the token is revoked or cut off
	// (401 revoked).
	ErrRevoked = newReason(ErrInvalidToken, "revoked", "The token was revoked.")
	// ErrTokenUsed means a single-use token was already used somewhere in the
	// fleet (401 token_used).
	ErrTokenUsed = newReason(ErrInvalidToken, "token_used", "The token is single-use and was already used.")
	// ErrSingleUseUnsupported means a single-use token reached a middleware
	// without Config.Revocations (401 single_use_unsupported).
	ErrSingleUseUnsupported   = newReason(ErrInvalidToken, "single_use_unsupported", "The token is single-use, but this server keeps no record of used tokens.")
	errRevocationsUnavailable = newReason(ErrRevocationsUnavailable, "revocations_unavailable", "Single-use tokens cannot be checked right now.")
)

// Error is the error the middleware returns and passes to the error handler.
// errors.Is matches both its category (ErrInvalidToken, ...) and its reason
// (ErrExpired, ...); errors.As finds it. It never holds the token, a key or a
// secret: only fixed texts and, for unavailable keys, the fetch error. Its
// fields are unexported, so that no importer can change the text of a reason
// (whose response New precomputes): read them with Reason and Message, and
// make a refusal of your own with NewError.
type Error struct {
	reason   string
	message  string
	category error
	sentinel *Error // the sentinel this error was made from; nil on sentinels
	cause    error
}

// Reason returns the stable reason code, for example "expired".
func (e *Error) Reason() string { return e.reason }

// Message returns one readable sentence, safe to show to clients.
func (e *Error) Message() string { return e.message }

func newReason(category error, code, message string) *Error {
	return &Error{reason: code, message: message, category: category}
}

// NewError returns a refusal of the API's own making, for Config.Check (or
// a TokenSource) to return: it is answered with the status and RFC 6750 error
// code of category, which is ErrInsufficientScope (403, the usual answer of
// a check: the token is valid but does not allow this request),
// ErrInvalidRequest (400) or ErrInvalidToken (401), and with reason and
// message in the body (message also in the WWW-Authenticate challenge, any
// byte RFC 6750 does not allow there replaced with '?'). errors.Is matches
// the returned error and category. The reason must be a stable code of 1 to
// 64 lowercase ASCII letters, digits and underscores, starting with a letter,
// and none of the package's own (return their sentinels instead); the message
// must not be empty. NewError panics otherwise: like regexp.MustCompile, it
// is meant for the program's own constants, made once.
func NewError(category error, reason, message string) *Error {
	switch category {
	case ErrInsufficientScope, ErrInvalidRequest, ErrInvalidToken:
	default:
		panic("scopedtoken: NewError: the category must be ErrInsufficientScope, ErrInvalidRequest or ErrInvalidToken")
	}
	if !validReasonCode(reason) {
		panic(fmt.Sprintf("scopedtoken: NewError: reason %q is not 1 to 64 lowercase letters, digits and underscores starting with a letter", reason))
	}
	for _, r := range reasons {
		if r.reason == reason {
			panic(fmt.Sprintf("scopedtoken: NewError: reason %q is the package's own: return its sentinel", reason))
		}
	}
	if message == "" {
		panic("scopedtoken: NewError: the message is empty")
	}
	return newReason(category, reason, message)
}

// validReasonCode reports whether code has the form of the package's own
// reason codes, which need no quoting or escaping wherever a code goes: the
// JSON body, a header, a log line, a metric label.
func validReasonCode(code string) bool {
	if len(code) == 0 || len(code) > 64 || code[0] < 'a' || code[0] > 'z' {
		return false
	}
	for i := 0; i < len(code); i++ {
		if c := code[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// withCause returns a copy of the reason sentinel that also wraps cause.
func (e *Error) withCause(cause error) *Error {
	return &Error{reason: e.reason, message: e.message, category: e.category, sentinel: e, cause: cause}
}

// Error returns the reason code and message; it never includes the cause's
// details, which may be long, but errors.Unwrap reaches them.
func (e *Error) Error() string { return "scopedtoken: " + e.reason + ": " + e.message }

// Is reports whether target is this error's category or its reason.
func (e *Error) Is(target error) bool {
	return target == e.category || (e.sentinel != nil && target == e.sentinel)
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
	ErrBadQueryClaim, ErrIssuerMismatch, ErrAudienceMismatch, ErrMeWithoutBusiness, ErrQueryMismatch, ErrCrossOrigin, ErrCheckFailed, ErrBadPath, ErrBadCredentials, ErrMultipleTokens,
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
