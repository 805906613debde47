package scopedtoken

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// Token is a verified token as one request sees it. It is read through its
// methods, which hand out copies: the verification result behind it is shared
// by every request that presents the same token (through the cache), and
// nothing a handler does with a Token changes what another request sees. A
// Token costs a request two words, so that a cached request allocates no
// more than the context that carries it. The zero Token is empty.
type Token struct {
	v     *verified // shared and never written
	entry int32     // the aud entry that covers the request's path (see BusinessID)
}

// noClaims stands for the claims of the zero Token.
var noClaims = &verified{key: &VerificationKey{}}

// claims returns what the token says, never nil.
func (t *Token) claims() *verified {
	if t.v == nil {
		return noClaims
	}
	return t.v
}

// KeyID returns the kid of the key that verified the token.
func (t *Token) KeyID() string { return t.claims().key.id }

// Algorithm returns the JWS algorithm the token was verified with (its key's
// only one).
func (t *Token) Algorithm() string { return t.claims().key.alg }

// BusinessID returns the business this request acts for: the business its
// path names, or the key's for "me". It is "" only under
// Config.AllowMeWithoutBusiness (docs/security.md).
func (t *Token) BusinessID() string {
	if t.v == nil {
		return ""
	}
	return t.v.businessOf(int(t.entry))
}

// Audience returns the token's aud entries, as written in the token, in a
// new slice.
func (t *Token) Audience() []string {
	aud := t.claims().aud
	if len(aud) == 0 {
		return nil
	}
	out := make([]string, len(aud))
	for i := range aud {
		out[i] = aud[i].raw
	}
	return out
}

// Query returns the token's query claim, read-only; it is empty when the
// token has none.
func (t *Token) Query() QueryClaim {
	if q := &t.claims().query; len(q.names) > 0 {
		return QueryClaim{q}
	}
	return QueryClaim{}
}

// ExpiresAt returns the exp claim, or the zero time when the token has none.
func (t *Token) ExpiresAt() time.Time { return t.claims().exp.time() }

// NotBefore returns the nbf claim, or the zero time when the token has none.
func (t *Token) NotBefore() time.Time { return t.claims().nbf.time() }

// IssuedAt returns the iat claim, or the zero time when the token has none.
func (t *Token) IssuedAt() time.Time { return t.claims().iat.time() }

// Issuer returns the iss claim, or "". Key.Issuer and jwks.Config.Issuer
// name the iss a key requires; scopedtokentest.Issuer is a test's minter.
func (t *Token) Issuer() string { return t.claims().iss }

// Subject returns the sub claim, or "".
func (t *Token) Subject() string { return t.claims().sub }

// ID returns the jti claim, or "": the token's own ID. The kid, the ID of
// the key that verified it (Key.ID), is KeyID.
func (t *Token) ID() string { return t.claims().jti }

// DecodeClaims unmarshals the token's claims (all of them, registered and
// custom) into v with encoding/json. The claims were checked strictly before the
// token was accepted, so whatever v is, encoding/json reads them the one way
// the issuer wrote them: no object in them, at any depth (inside arrays too),
// repeats a member name, and none has two names that encoding/json's
// case-insensitive matching of struct fields would take for the same field
// ("role" and "ROLE", or "key" and "\u212Aey" with the Kelvin sign); such a
// token is refused with ErrAmbiguousMember.
func (t *Token) DecodeClaims(v any) error {
	var claims []byte
	if t.v != nil {
		claims = []byte(t.v.claims) // a copy: the shared claims are never written
	}
	return json.Unmarshal(claims, v)
}

type contextKey struct{}

// FromContext returns the verified token that the middleware put into the
// request context, or false when there is none (the middleware did not run, or
// the request was a CORS preflight let through without a token).
func FromContext(ctx context.Context) (*Token, bool) {
	t, ok := ctx.Value(contextKey{}).(*Token)
	return t, ok && t != nil
}

// QueryClaim is a read-only view of a token's query claim: the parameters it
// binds and their values, in the order the token wrote them. It is shared by
// every request that presents the same token, so it hands out copies only:
// nothing a handler does with them changes what another request sees. The
// zero QueryClaim is the empty claim of a token that has none.
type QueryClaim struct {
	q *boundQuery
}

// Len returns the number of parameters the claim binds.
func (c QueryClaim) Len() int {
	if c.q == nil {
		return 0
	}
	return len(c.q.names)
}

// index returns the position of name in the claim, or -1.
func (c QueryClaim) index(name string) int {
	if c.q == nil {
		return -1
	}
	return c.q.exact([]byte(name)) // a handler's call, not the request path
}

// Has reports whether the claim binds the parameter name (exactly, as
// url.Values.Has).
func (c QueryClaim) Has(name string) bool { return c.index(name) >= 0 }

// Get returns the first value the claim binds to name, or "" (as
// url.Values.Get).
func (c QueryClaim) Get(name string) string {
	if i := c.index(name); i >= 0 && len(c.q.values[i]) > 0 {
		return c.q.values[i][0]
	}
	return ""
}

// Values returns a copy of the values the claim binds to name, or nil.
func (c QueryClaim) Values(name string) []string {
	if i := c.index(name); i >= 0 {
		return slices.Clone(c.q.values[i])
	}
	return nil
}

// Names returns the names the claim binds, in claim order, in a new slice.
func (c QueryClaim) Names() []string {
	if c.q == nil {
		return nil
	}
	return slices.Clone(c.q.names)
}

// URLValues returns the claim as a new url.Values that the caller owns, or nil
// when it is empty.
func (c QueryClaim) URLValues() url.Values {
	if c.Len() == 0 {
		return nil
	}
	out := make(url.Values, len(c.q.names))
	for i, name := range c.q.names {
		out[name] = slices.Clone(c.q.values[i])
	}
	return out
}

// Encode returns the claim query-escaped, name=value pairs joined by '&' in
// claim order: what the middleware appends to a request's query.
func (c QueryClaim) Encode() string {
	if c.q == nil {
		return ""
	}
	return c.q.encoded
}

// String formats the claim as fmt formats the url.Values URLValues returns.
func (c QueryClaim) String() string { return fmt.Sprint(c.URLValues()) }

// MarshalJSON encodes the claim as a JSON object of arrays of strings, as a
// url.Values would be; an empty claim is null.
func (c QueryClaim) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.URLValues())
}

// requestState is everything a passing request needs, in one allocation: the
// context that carries the token, the token, and the URL the next handler
// sees when the query is rewritten.
type requestState struct {
	context.Context
	tok Token
	url url.URL
}

// Value returns the request's token for the package's key and defers to the
// parent context otherwise, so cancellation and other values pass through.
func (s *requestState) Value(key any) any {
	if _, ok := key.(contextKey); ok {
		return &s.tok
	}
	return s.Context.Value(key)
}

// newRequestState returns the state of one request whose path v.aud[entry]
// covers.
func newRequestState(parent context.Context, v *verified, entry int) *requestState {
	return &requestState{Context: parent, tok: Token{v: v, entry: int32(entry)}}
}

// KeyThumbprint returns the cnf.jkt claim of a DPoP-bound token: the RFC
// 7638 thumbprint of the key whose proof came with the request
// (docs/dpop.md); "" for a bearer token.
func (t *Token) KeyThumbprint() string { return t.claims().boundKey() }
