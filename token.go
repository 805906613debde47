package scopedtoken

import (
	"context"
	"encoding/json"
	"net/url"
	"time"
)

// Token is a verified token as one request sees it. Each request gets its own
// *Token: a handler that changes it affects no other request, even when the
// verification result came from the cache.
type Token struct {
	KeyID      string
	Algorithm  string
	BusinessID string     // the business this request acts for; "" only under Config.AllowMeWithoutBusiness (docs/security.md)
	Audience   []string   // the aud entries, as written in the token
	Query      url.Values // the query claim; nil when the token has none
	ExpiresAt  time.Time  // zero when the token has no exp
	NotBefore  time.Time  // zero when the token has no nbf
	IssuedAt   time.Time  // zero when the token has no iat
	Issuer     string
	Subject    string
	ID         string // the jti claim

	claims []byte // shared and never written: DecodeClaims unmarshals from it
}

// DecodeClaims unmarshals the token's claims (all of them, registered and
// custom) into v with encoding/json. The claims were checked strictly before the
// token was accepted, so whatever v is, encoding/json reads them the one way
// the issuer wrote them: no object in them, at any depth (inside arrays too),
// repeats a member name, and none has two names that encoding/json's
// case-insensitive matching of struct fields would take for the same field
// ("role" and "ROLE", or "key" and "\u212Aey" with the Kelvin sign); such a
// token is refused with ErrAmbiguousMember.
func (t *Token) DecodeClaims(v any) error {
	return json.Unmarshal(t.claims, v)
}

type contextKey struct{}

// FromContext returns the verified token that the middleware put into the
// request context, or false when there is none (the middleware did not run, or
// the request was a CORS preflight let through without a token).
func FromContext(ctx context.Context) (*Token, bool) {
	t, ok := ctx.Value(contextKey{}).(*Token)
	return t, ok && t != nil
}

// requestState is everything a passing request needs, in one allocation: the
// context that carries the token, the token, and small aud and query backing
// arrays. A rewritten URL is allocated apart, so that the common request whose
// query needs no change does not pay for the room.
type requestState struct {
	context.Context
	tok    Token
	aud    [1]string // sized so the whole state fits the 288-byte size class
	values [2]string
}

// Value returns the request's token for the package's key and defers to the
// parent context otherwise, so cancellation and other values pass through.
func (s *requestState) Value(key any) any {
	if _, ok := key.(contextKey); ok {
		return &s.tok
	}
	return s.Context.Value(key)
}

// newRequestState copies what v says into a fresh Token for one request.
func newRequestState(parent context.Context, v *verified, business string) *requestState {
	s := &requestState{Context: parent}
	t := &s.tok
	t.KeyID = v.key.id
	t.Algorithm = v.key.alg
	t.BusinessID = business
	t.ExpiresAt = v.exp.time()
	t.NotBefore = v.nbf.time()
	t.IssuedAt = v.iat.time()
	t.Issuer, t.Subject, t.ID = v.iss, v.sub, v.jti
	t.claims = v.claims
	if len(v.audRaw) <= len(s.aud) {
		t.Audience = s.aud[:copy(s.aud[:], v.audRaw):len(v.audRaw)]
	} else {
		t.Audience = append([]string(nil), v.audRaw...)
	}
	if q := &v.query; len(q.names) > 0 {
		backing := s.values[:0:len(s.values)]
		if q.nvalues > len(s.values) {
			backing = make([]string, 0, q.nvalues)
		}
		t.Query = make(url.Values, len(q.names))
		for i, name := range q.names {
			start := len(backing)
			backing = append(backing, q.values[i]...)
			t.Query[name] = backing[start:len(backing):len(backing)]
		}
	}
	return s
}
