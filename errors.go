package scopedtoken

import (
	"errors"
	"fmt"
	"net/http"
)

// category is a class of refusal: its text, HTTP status and RFC 6750 error
// code. The middleware compares with these unexported values, never with the
// exported variables, so that an importer who assigns to ErrInvalidToken (a
// variable, as io.EOF is) changes no status or response.
type category struct {
	text   string
	status int
	oauth  string
}

// Error returns the category"s text.
func (c *category) Error() string { return c.text }

var (
	catMissingToken           = &category{"scopedtoken: no token", http.StatusUnauthorized, "invalid_token"}
	catInvalidToken           = &category{"scopedtoken: invalid token", http.StatusUnauthorized, "invalid_token"}
	catInsufficientScope      = &category{"scopedtoken: insufficient scope", http.StatusForbidden, "insufficient_scope"}
	catInvalidRequest         = &category{"scopedtoken: invalid request", http.StatusBadRequest, "invalid_request"}
	catKeysUnavailable        = &category{"scopedtoken: keys unavailable", http.StatusServiceUnavailable, "temporarily_unavailable"}
	catRevocationsUnavailable = &category{"scopedtoken: revocations unavailable", http.StatusServiceUnavailable, "temporarily_unavailable"}
)

// Categories of refusal. Every error the middleware produces matches exactly one
// of them with errors.Is, and the category decides the HTTP status.
var (
	// ErrMissingToken means the request carried no token (401, no error attribute).
	ErrMissingToken error = catMissingToken
	// ErrInvalidToken means the token itself was refused: its encoding, header,
	// key, signature or claims (401).
	ErrInvalidToken error = catInvalidToken
	// ErrInsufficientScope means a valid token does not cover the request (403).
	ErrInsufficientScope error = catInsufficientScope
	// ErrInvalidRequest means the request itself is malformed (400).
	ErrInvalidRequest error = catInvalidRequest
	// ErrKeysUnavailable means no key could be fetched for the token (503).
	ErrKeysUnavailable error = catKeysUnavailable
	// ErrRevocationsUnavailable means the revocation store could not record
	// the use of a single-use token (503).
	ErrRevocationsUnavailable error = catRevocationsUnavailable
)

// The reason sentinels as the middleware returns them. The exported variables
// below hold the same pointers; the request path uses these, so that an
// importer assigning to an exported one changes nothing the middleware does.
var (
	errTokenTooLarge        = newReason(catInvalidToken, "token_too_large", "The token, or its header, is larger than the allowed maximum.")
	errMalformedToken       = newReason(catInvalidToken, "malformed_token", "The token is not a well-formed compact JWS.")
	errDuplicateMember      = newReason(catInvalidToken, "duplicate_member", "The token repeats a JSON member name.")
	errAmbiguousMember      = newReason(catInvalidToken, "ambiguous_member", "The token has a member name that differs from a registered one or another in its object only in case.")
	errUnsupportedHeader    = newReason(catInvalidToken, "unsupported_header", "The token header uses crit, b64 or an unexpected typ.")
	errAlgMismatch          = newReason(catInvalidToken, "alg_mismatch", "The token alg is missing or is not the algorithm of its key.")
	errMissingKID           = newReason(catInvalidToken, "missing_kid", "The token header has no kid.")
	errUnknownKID           = newReason(catInvalidToken, "unknown_kid", "The token kid names no known key.")
	errBadSignature         = newReason(catInvalidToken, "bad_signature", "The token signature does not verify.")
	errInvalidClaims        = newReason(catInvalidToken, "invalid_claims", "A registered claim has the wrong type or an out-of-range value.")
	errMissingExp           = newReason(catInvalidToken, "missing_exp", "The token has no exp claim.")
	errExpired              = newReason(catInvalidToken, "expired", "The token has expired.")
	errNotYetValid          = newReason(catInvalidToken, "not_yet_valid", "The token is not valid yet (nbf).")
	errIssuedInFuture       = newReason(catInvalidToken, "issued_in_future", "The token was issued in the future (iat).")
	errLifetimeTooLong      = newReason(catInvalidToken, "lifetime_too_long", "The token expires later than the maximum lifetime allows.")
	errBadAudience          = newReason(catInvalidToken, "bad_audience", "The token aud is missing or is not a valid list of API paths.")
	errBadQueryClaim        = newReason(catInvalidToken, "bad_query_claim", "The token query claim has a wrong type or exceeds the limits.")
	errIssuerMismatch       = newReason(catInvalidToken, "issuer_mismatch", "The token iss is missing or is not the issuer of its key.")
	errAudienceMismatch     = newReason(catInsufficientScope, "audience_mismatch", "The request path is outside every audience of the token.")
	errQueryMismatch        = newReason(catInsufficientScope, "query_mismatch", "The request sends a query parameter value that the token fixes differently.")
	errMeWithoutBusiness    = newReason(catInsufficientScope, "me_without_business", "The request path says \"me\", but the token's key has no business for it to stand for.")
	errCrossOrigin          = newReason(catInsufficientScope, "cross_origin", "A token the browser may send by itself (a cookie) does not authorize a cross-origin request with an unsafe method or a WebSocket handshake.")
	errCheckFailed          = newReason(catInsufficientScope, "check_failed", "The request is not allowed for this token.")
	errBadPath              = newReason(catInvalidRequest, "bad_path", "The request path is ambiguous (empty, dot or encoded separator segments).")
	errBadCredentials       = newReason(catInvalidRequest, "bad_credentials", "The request's credentials are malformed (not valid Bearer credentials).")
	errMultipleTokens       = newReason(catInvalidRequest, "multiple_tokens", "The request carries more than one token or Authorization header.")
	errBadQuery             = newReason(catInvalidRequest, "bad_query", "The request query string cannot be parsed unambiguously.")
	errRevoked              = newReason(catInvalidToken, "revoked", "The token was revoked.")
	errTokenUsed            = newReason(catInvalidToken, "token_used", "The token is single-use and was already used.")
	errSingleUseUnsupported = newReason(catInvalidToken, "single_use_unsupported", "The token is single-use, but this server keeps no record of used tokens.")
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
	ErrTokenTooLarge = errTokenTooLarge
	// ErrMalformedToken means the token is not three strict base64url segments, or
	// its header or claims are not strict JSON objects (401 malformed_token).
	ErrMalformedToken = errMalformedToken
	// ErrDuplicateMember means a JSON member name is repeated, at any depth, after
	// unescaping (401 duplicate_member).
	ErrDuplicateMember = errDuplicateMember
	// ErrAmbiguousMember means a member name differs only in case folding from a
	// registered one (EXP, or Kid with the Kelvin sign) or from another name in
	// its object (role and ROLE), which encoding/json would read as one struct
	// field (401 ambiguous_member).
	ErrAmbiguousMember = errAmbiguousMember
	// ErrUnsupportedHeader means the header has crit or b64, or a typ other than
	// JWT (401 unsupported_header).
	ErrUnsupportedHeader = errUnsupportedHeader
	// ErrAlgMismatch means alg is missing, unknown (none), or not the algorithm of
	// the key its kid names (401 alg_mismatch).
	ErrAlgMismatch = errAlgMismatch
	// ErrMissingKID means the header has no kid, an empty one, or one that is not
	// a string (401 missing_kid).
	ErrMissingKID = errMissingKID
	// ErrUnknownKID means no key has the token's kid; a KeySet returns an error
	// wrapping it for a kid it does not hold (401 unknown_kid). It is the
	// verifying side's; minting's, a KeySource without the signing key, is
	// mint.ErrKeyNotFound.
	ErrUnknownKID = errUnknownKID
	// ErrBadSignature means the signature does not verify with the key its kid
	// names (401 bad_signature).
	ErrBadSignature = errBadSignature
	// ErrInvalidClaims means exp, nbf or iat is not a number from 0 to the end of
	// year 9999, or iss, sub or jti is not a string (401 invalid_claims).
	ErrInvalidClaims = errInvalidClaims
	// ErrMissingExp means the token has no exp and Config.AllowMissingExp is false
	// (401 missing_exp).
	ErrMissingExp = errMissingExp
	// ErrExpired means now is at or after exp plus the leeway (401 expired).
	ErrExpired = errExpired
	// ErrNotYetValid means now is before nbf minus the leeway (401 not_yet_valid).
	ErrNotYetValid = errNotYetValid
	// ErrIssuedInFuture means now is before iat minus the leeway (401
	// issued_in_future).
	ErrIssuedInFuture = errIssuedInFuture
	// ErrLifetimeTooLong means exp is beyond now plus Config.MaxLifetime plus the
	// leeway (401 lifetime_too_long).
	ErrLifetimeTooLong = errLifetimeTooLong
	// ErrBadAudience means aud is missing or empty, or one of its entries breaks
	// the audience grammar (401 bad_audience).
	ErrBadAudience = errBadAudience
	// ErrBadQueryClaim means the query claim is not an object of scalars and non-
	// empty arrays, or exceeds Config.MaxQueryParams or Config.MaxQueryValues (401
	// bad_query_claim).
	ErrBadQueryClaim = errBadQueryClaim
	// ErrIssuerMismatch means the key is bound to issuers (Key.Issuer and
	// Key.Issuers, jwks.Config.Issuer and jwks.Config.Issuers) and the
	// token's iss is absent or none of them (exact, case-sensitive) (401
	// issuer_mismatch).
	ErrIssuerMismatch = errIssuerMismatch
	// ErrAudienceMismatch means the request path is outside every aud entry of a
	// valid token (403 audience_mismatch).
	ErrAudienceMismatch = errAudienceMismatch
	// ErrQueryMismatch means the request sends another value for a parameter the
	// token binds, or a case variant of its name, under QueryRefuse (403
	// query_mismatch).
	ErrQueryMismatch = errQueryMismatch
	// ErrMeWithoutBusiness means the request path names the business "me" and
	// an aud entry covers it, but the token's key has no business for "me" to
	// stand for (Key.BusinessID, jwks.Config.BusinessID), so Token.BusinessID()
	// would be empty; Config.AllowMeWithoutBusiness accepts such requests
	// (403 me_without_business).
	ErrMeWithoutBusiness = errMeWithoutBusiness
	// ErrCrossOrigin means a token that the browser may send by itself (from a
	// cookie, or a source treated like one) came with a cross-origin request that
	// has an unsafe method or is a WebSocket handshake (403 cross_origin).
	ErrCrossOrigin = errCrossOrigin
	// ErrCheckFailed means Config.Check refused the request with an error that is
	// not an *Error; its text is not shown (403 check_failed).
	ErrCheckFailed = errCheckFailed
	// ErrBadPath means the request path is ambiguous: //, dot segments, %2F, %5C,
	// %2E or encoded control characters (400 bad_path).
	ErrBadPath = errBadPath
	// ErrBadCredentials means the Authorization header says Bearer (or DPoP,
	// where DPoP is on) but is not followed by exactly one space and a
	// b64token (400 bad_credentials).
	ErrBadCredentials = errBadCredentials
	// ErrMultipleTokens means the request has two Authorization headers, or a
	// token in more than one place (400 multiple_tokens).
	ErrMultipleTokens = errMultipleTokens
	// ErrBadQuery means the token binds parameters and the query string cannot be
	// read unambiguously (a ; separator, a bad escape, too many parameters) (400
	// bad_query).
	ErrBadQuery        = errBadQuery
	errKeysUnavailable = newReason(catKeysUnavailable, "keys_unavailable", "The verification keys cannot be fetched right now.")
	errMissingToken    = newReason(catMissingToken, "missing_token", "The request carries no bearer token.")

	// Revocation and single-use tokens (docs/revocation.md).
	// ErrRevoked means Config.Revocations says the token is revoked or cut off
	// (401 revoked).
	ErrRevoked = errRevoked
	// ErrTokenUsed means a single-use token was already used somewhere in the
	// fleet (401 token_used).
	ErrTokenUsed = errTokenUsed
	// ErrSingleUseUnsupported means a single-use token reached a middleware
	// without Config.Revocations (401 single_use_unsupported).
	ErrSingleUseUnsupported   = errSingleUseUnsupported
	errRevocationsUnavailable = newReason(catRevocationsUnavailable, "revocations_unavailable", "Single-use tokens cannot be checked right now.")
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
	category *category // nil only in an Error that NewError did not make
	sentinel *Error    // the sentinel this error was made from; nil on sentinels
	cause    error
}

// Reason returns the stable reason code, for example "expired".
func (e *Error) Reason() string { return e.reason }

// Message returns one readable sentence, safe to show to clients.
func (e *Error) Message() string { return e.message }

func newReason(category *category, code, message string) *Error {
	return &Error{reason: code, message: message, category: category}
}

// NewError returns a refusal of the API's own making, for Config.Check (or
// a TokenSource) to return: it is answered with the status and RFC 6750 error
// code of class, which is ErrInsufficientScope (403, the usual answer of
// a check: the token is valid but does not allow this request),
// ErrInvalidRequest (400) or ErrInvalidToken (401), and with reason and
// message in the body (message also in the WWW-Authenticate challenge, any
// byte RFC 6750 does not allow there replaced with '?'). errors.Is matches
// the returned error and class. The reason must be a stable code of 1 to
// 64 lowercase ASCII letters, digits and underscores, starting with a letter,
// and none of the package's own (return their sentinels instead); the message
// must not be empty. NewError panics otherwise: like regexp.MustCompile, it
// is meant for the program's own constants, made once.
func NewError(class error, reason, message string) *Error {
	c, _ := class.(*category)
	switch c {
	case catInsufficientScope, catInvalidRequest, catInvalidToken:
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
	return newReason(c, reason, message)
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
	return (e.category != nil && target == error(e.category)) || (e.sentinel != nil && target == e.sentinel)
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Status returns the HTTP status code for the error's category.
func (e *Error) Status() int {
	if e.category == nil {
		return http.StatusUnauthorized
	}
	return e.category.status
}

// oauthCode is the RFC 6750 error code, also used as "error" in the JSON body.
func (e *Error) oauthCode() string {
	if e.category == nil {
		return "invalid_token"
	}
	return e.category.oauth
}

// reasons lists every reason sentinel in a stable order, for documentation and
// for precomputing responses in New.
var reasons = []*Error{
	errMissingToken, errTokenTooLarge, errMalformedToken, errDuplicateMember, errAmbiguousMember,
	errUnsupportedHeader, errAlgMismatch, errMissingKID, errUnknownKID, errBadSignature, errInvalidClaims,
	errMissingExp, errExpired, errNotYetValid, errIssuedInFuture, errLifetimeTooLong, errBadAudience,
	errBadQueryClaim, errIssuerMismatch, errAudienceMismatch, errMeWithoutBusiness, errQueryMismatch, errCrossOrigin, errCheckFailed, errBadPath, errBadCredentials, errMultipleTokens,
	errBadQuery, errKeysUnavailable,
	errRevoked, errTokenUsed, errSingleUseUnsupported, errRevocationsUnavailable,
}

// lookupError converts what a KeySet returned into *Error. An error the
// package does not know (a custom KeySet whose database is down, say) is taken
// as keys being unavailable: the request is refused either way.
func lookupError(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e) && e.category == catInvalidToken:
		return e
	case errors.Is(err, errUnknownKID):
		return errUnknownKID
	}
	return errKeysUnavailable.withCause(err)
}
