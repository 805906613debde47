package scopedtoken

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/scopedtoken/scopedtoken/internal/jose"
	"github.com/scopedtoken/scopedtoken/internal/sizeclass"
	"github.com/scopedtoken/scopedtoken/internal/strictjson"
)

// SingleUseClaim is the claim that makes a token single-use: "once": true.
// It is inside the signed payload, so nobody can add or remove it without the
// signing key. Any value other than true or false makes the token invalid.
const SingleUseClaim = jose.SingleUse

// Revocations is the revocation state that every instance of a service
// shares (docs/revocation.md), as the middleware reads it: Config.Revocations
// takes it. A store also writes it (RevocationStore): NewMemoryRevocations
// keeps it in one process; the redisstore module shares it through Redis.
// Implementations must be safe for concurrent use.
type Revocations interface {
	// Revoked reports whether the token that c describes was revoked by its
	// ID or hash, or was issued before a cutoff of one of its businesses, its
	// subject or its key. It runs on the request path and must answer from
	// local memory, never over the network.
	Revoked(c *RevocationCheck) bool
	// Version returns a number that changes (after the change is visible to
	// Revoked) whenever a revocation or cutoff is added. The middleware asks
	// Revoked again for a token only when Version differs from the last time
	// it found the token not revoked. A store that cannot tell returns a
	// different number on every call.
	Version() uint64
	// Use records that the single-use token identified by key was used, as
	// one atomic operation across every instance: exactly one call per key
	// succeeds until the record expires at until. It returns ErrTokenUsed
	// when the key was used before, and any other error when it cannot tell
	// (the request is then refused with 503: a replay cannot be ruled out).
	Use(ctx context.Context, key string, until time.Time) error
}

// RevocationStore is the revocation state as a store holds it: what the
// middleware reads (Revocations) and the writing side, which the middleware
// never calls, for the code that revokes tokens (an admin endpoint, the
// scopedtoken command's revoke). MemoryRevocations and the redisstore
// module's Store implement it.
type RevocationStore interface {
	Revocations
	// Revoke records r and makes it visible to Revoked on every instance.
	Revoke(ctx context.Context, r Revocation) error
}

// RevocationKind says what a Revocation names.
type RevocationKind int

// The kinds of revocation: one token, or a cutoff of everything of a
// business, a subject or a key issued before a time.
const (
	RevokeID       RevocationKind = iota + 1 // Value is the token's jti
	RevokeHash                               // Value is TokenHash of a token, with or without jti
	CutoffBusiness                           // Value is a business ID
	CutoffSubject                            // Value is a sub claim
	CutoffKey                                // Value is a kid
)

var revocationKindNames = [...]string{RevokeID: "jti", RevokeHash: "sha256", CutoffBusiness: "business", CutoffSubject: "subject", CutoffKey: "kid"}

// valid reports whether k is one of the kinds above.
func (k RevocationKind) valid() bool { return k >= RevokeID && k <= CutoffKey }

// String returns the kind's stable name: jti, sha256, business, subject or
// kid. Stores use it in their keys.
func (k RevocationKind) String() string {
	if !k.valid() {
		return fmt.Sprintf("RevocationKind(%d)", int(k))
	}
	return revocationKindNames[k]
}

// MarshalText returns the kind's String; an unknown kind is an error, so that
// no store or JSON document records a name UnmarshalText would refuse.
func (k RevocationKind) MarshalText() ([]byte, error) {
	if !k.valid() {
		return nil, fmt.Errorf("scopedtoken: unknown revocation kind %d", int(k))
	}
	return []byte(revocationKindNames[k]), nil
}

// UnmarshalText sets k to the kind whose String is text, exactly (jti,
// sha256, business, subject or kid): a RevocationKind reads itself with
// encoding/json and flag.TextVar, and stores read their keys with it.
func (k *RevocationKind) UnmarshalText(text []byte) error {
	for kind := RevokeID; kind <= CutoffKey; kind++ {
		if revocationKindNames[kind] == string(text) {
			*k = kind
			return nil
		}
	}
	return fmt.Errorf("scopedtoken: unknown revocation kind %q", text)
}

// IsCutoff reports whether the kind cuts off every token issued before a time
// rather than naming one token.
func (k RevocationKind) IsCutoff() bool { return k >= CutoffBusiness && k <= CutoffKey }

// Revocation is one entry of the revocation state.
type Revocation struct {
	Kind  RevocationKind
	Value string
	// IssuedBefore is the cutoff time, for cutoff kinds: tokens whose iat is
	// before it (compared at whole seconds, rounded up, since iat has whole
	// seconds) are refused, and so are tokens without iat. Zero means now.
	IssuedBefore time.Time
	// Until is when the entry may be forgotten: for one token, its exp plus
	// the servers' leeway; for a cutoff, when every token issued before it has
	// expired. Zero keeps the entry for ever.
	Until time.Time
}

// Validate checks that r names something and that its times make sense.
// Any non-empty value is valid, control characters included: a jti or sub
// that the middleware accepts must be revocable as it is (docs/revocation.md),
// so stores hold values as opaque bytes and whoever prints one quotes it.
func (r Revocation) Validate() error {
	if _, err := r.Kind.MarshalText(); err != nil {
		return err // an unknown kind
	}
	switch {
	case r.Value == "":
		return fmt.Errorf("scopedtoken: a %s revocation needs a value", r.Kind)
	case !r.Kind.IsCutoff() && !r.IssuedBefore.IsZero():
		return fmt.Errorf("scopedtoken: a %s revocation has no cutoff time", r.Kind)
	}
	return nil
}

// CutoffSeconds returns the cutoff as Unix seconds, rounded up: a token whose
// iat is below it is refused. Rounding up refuses a token issued in the same
// second as the cutoff, since iat cannot tell which came first.
func (r Revocation) CutoffSeconds(now time.Time) int64 {
	t := r.IssuedBefore
	if t.IsZero() {
		t = now
	}
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return sec
}

// TokenHash returns the name of a token in the revocation state, for a
// RevokeHash and for the single-use record of a token without jti: the
// unpadded base64url SHA-256 of its signing input, the header and payload
// segments without the signature. The signature is left out because an ECDSA
// signature (r, s) has a second valid form (r, n-s) that anyone holding the
// token can compute: a hash of the whole token would let that twin past a
// revocation by hash or a single-use record. A signing input that verified
// under a kid says the same claims whatever valid signature comes with it.
func TokenHash(token string) string {
	if i := strings.LastIndexByte(token, '.'); i >= 0 {
		token = token[:i]
	}
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TokenRevocation returns the revocation of one token: by its jti when it has
// one, otherwise by TokenHash, kept until its exp plus DefaultLeeway (for
// ever when it has no exp). It reads the claims without verifying the
// signature, which is safe since a revocation can only refuse tokens; but it
// reads strictly, so that a revocation is never recorded under a name no
// token has: the token must be a compact JWS of three non-empty base64url
// segments whose header the middleware would read (a JSON object with a
// known alg and a kid) and whose payload is a JSON object. Anything else,
// such as a token still carrying "Bearer " or a header name, is refused. The
// errors never quote the input, which is a credential.
func TokenRevocation(token string) (Revocation, error) {
	if strings.ContainsAny(token, " \t\r\n:=") {
		return Revocation{}, errors.New(`scopedtoken: not a compact JWS: it holds a space, a colon or an '=' (strip "Bearer ", "Authorization:" or "jwt=" first)`)
	}
	d1, d2, ok := jose.Split(token)
	if !ok {
		return Revocation{}, errors.New("scopedtoken: not a compact JWS (three dot-separated parts)")
	}
	h, okH := jose.Decode(nil, []byte(token[:d1]))
	if !okH || !jose.WellFormed([]byte(token[d2+1:])) || d2 == d1+1 {
		return Revocation{}, errors.New("scopedtoken: a part of the token is not unpadded base64url")
	}
	if _, f := jose.ParseHeader(h, nil, nil); f != jose.OK {
		return Revocation{}, fmt.Errorf("scopedtoken: the token header is not one the middleware accepts (%s)", refusal(f).reason)
	}
	claimsJSON, okP := jose.Decode(nil, []byte(token[d1+1:d2]))
	if !okP {
		return Revocation{}, errors.New("scopedtoken: the token payload is not unpadded base64url")
	}
	var claims struct {
		ID  *string      `json:"jti"`
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(claimsJSON, &claims); err != nil {
		return Revocation{}, errors.New("scopedtoken: the token payload is not a JSON object with a string jti and a numeric exp")
	}
	r := Revocation{Kind: RevokeHash, Value: TokenHash(token)}
	if claims.ID != nil && *claims.ID != "" {
		r = Revocation{Kind: RevokeID, Value: *claims.ID}
	}
	if claims.Exp != nil {
		d, ok := numericDateOf([]byte(claims.Exp.String()))
		if !ok {
			return Revocation{}, errors.New("scopedtoken: the token exp is out of range")
		}
		r.Until = d.time().Add(DefaultLeeway)
	}
	return r, r.Validate()
}

// RevocationCheck describes a verified token to Revocations.Revoked: every
// name a revocation can give it. The middleware builds it once per verified
// token and shares it between requests; a store must not change it.
type RevocationCheck struct {
	ID         string    // the jti; "" when the token has none
	Hash       string    // TokenHash of the token, with or without a jti
	KeyID      string    // the kid
	Subject    string    // the sub claim; "" when none
	Businesses []string  // the key's business, or else those named in aud
	IssuedAt   time.Time // zero when the token has no iat: before every cutoff
}

// revocationInfo is what revocation needs of one verified token, computed the
// first time the token is checked and kept with its cache entry.
type revocationInfo struct {
	check       RevocationCheck
	useKey      string        // the single-use record's name: jti:KID:ID or sha256:HASH
	clearAt     atomic.Uint64 // 1 + the Version at which it was last found not revoked; 0: never
	used        atomic.Bool   // a single-use token that Use found used, or used here
	businessBuf [1]string
}

// newRevocationInfo names the verified token v, whose compact form is token.
// Its businesses are the key's, or, for a key without one, those its aud
// entries name ("me" names none).
func newRevocationInfo(token string, v *verified) *revocationInfo {
	ri := &revocationInfo{}
	c := &ri.check
	c.ID, c.KeyID, c.Subject, c.IssuedAt = v.jti, v.key.id, v.sub, v.iat.time()
	// The hash is computed even for a token with a jti, so that a
	// RevokeHash of any accepted token takes effect (once per cached token).
	c.Hash = TokenHash(token)
	if c.ID != "" {
		// A jti is unique per issuer only (RFC 7519 §4.1.7): the record is
		// the key's, so that a token signed with another key (another
		// tenant's) cannot use up a link by carrying its jti. The hash
		// covers the header, and so the kid, already.
		ri.useKey = RevokeID.String() + ":" + c.KeyID + ":" + c.ID
	} else {
		ri.useKey = RevokeHash.String() + ":" + c.Hash
	}
	c.Businesses = ri.businessBuf[:0]
	if v.key.business != "" {
		c.Businesses = append(c.Businesses, v.key.business)
		return ri
	}
	for _, a := range v.aud {
		if a.business != meSegment && !containsString(c.Businesses, a.business) {
			c.Businesses = append(c.Businesses, a.business)
		}
	}
	return ri
}

// heapBytes is the heap that ri holds on its own, for the cache's byte
// bound: the struct, the names it builds and the businesses once they
// outgrow the inline room. ID, KeyID, Subject and the businesses are shared
// with the token and its key.
func (ri *revocationInfo) heapBytes() int {
	n := sizeclass.Object(int(unsafe.Sizeof(*ri))) + sizeclass.String(len(ri.useKey)) + sizeclass.String(len(ri.check.Hash))
	if cap(ri.check.Businesses) > len(ri.businessBuf) {
		n += sizeclass.Object(cap(ri.check.Businesses) * int(unsafe.Sizeof("")))
	}
	return n
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkRevocation refuses a revoked or cut-off token, and a single-use token
// that this middleware cannot enforce. It runs on every request, cached or
// not; on a cache hit with unchanged revocation state it costs two atomic
// loads.
func (m *Middleware) checkRevocation(v *verified, token string) *Error {
	if !v.once && m.revocations == nil {
		return nil // the usual case, small enough to be inlined into the request path
	}
	return m.checkRevocationSlow(v, token)
}

// checkRevocationSlow is checkRevocation for a single-use token or with
// Config.Revocations set.
func (m *Middleware) checkRevocationSlow(v *verified, token string) *Error {
	if v.once && !v.exp.set {
		return errMissingExp // a used-token record could never be forgotten
	}
	if m.revocations == nil {
		if v.once {
			return errSingleUseUnsupported
		}
		return nil
	}
	ri := v.rev.Load()
	if ri == nil {
		ri = newRevocationInfo(token, v)
		if !v.rev.CompareAndSwap(nil, ri) {
			ri = v.rev.Load()
		}
	}
	if v.once && ri.used.Load() {
		// Known to be used: refused before Config.Check and without asking
		// the store again, so that replays reaching this instance run no
		// hook (docs/revocation.md, "Single use and Check").
		return errTokenUsed
	}
	version := m.revocations.Version() + 1 // read before Revoked: a later change forces a new check
	if ri.clearAt.Load() == version {
		return nil
	}
	if m.revocations.Revoked(&ri.check) {
		return errRevoked
	}
	ri.clearAt.Store(version)
	return nil
}

// useOnce consumes a single-use token, last before the next handler, so that
// a request refused for its path or query does not use it up.
func (m *Middleware) useOnce(ctx context.Context, v *verified) *Error {
	if !v.once {
		return nil // inlined into the request path
	}
	return m.useOnceSlow(ctx, v)
}

// useOnceSlow records the use of the single-use token v in the store.
func (m *Middleware) useOnceSlow(ctx context.Context, v *verified) *Error {
	ri := v.rev.Load()
	last := v.exp.time().Add(m.leeway) // the token is accepted while now is before it
	err := m.revocations.Use(ctx, ri.useKey, useRecordUntil(last))
	switch {
	case err == nil:
		ri.used.Store(true)
		// The clock was read before the path, the query, Check and the
		// store's round trip: a request that passed it just before the end
		// is refused if the end has come since, so that the record is
		// certain to outlive every moment this token was accepted.
		if !m.now().Before(last) {
			return errExpired
		}
		return nil
	case errors.Is(err, errTokenUsed):
		ri.used.Store(true)
		return errTokenUsed
	}
	return errRevocationsUnavailable.withCause(err)
}

// singleUseRecordMargin is how long a single-use record outlives the last
// moment its token can be accepted (exp plus the leeway): room for the
// clocks of instances, and of Redis, to disagree (docs/revocation.md).
const singleUseRecordMargin = time.Minute

// useRecordUntil is when the record of a single-use token accepted until
// last may be forgotten: singleUseRecordMargin later, rounded up to the
// second.
func useRecordUntil(last time.Time) time.Time {
	t := last.Add(singleUseRecordMargin)
	if r := t.Truncate(time.Second); r.Before(t) {
		return r.Add(time.Second)
	}
	return t
}

// parseSingleUse reads the single-use claim: true or false, nothing else.
func parseSingleUse(s *strictjson.Scanner) (bool, *Error) {
	switch s.Peek() {
	case 't':
		if s.ReadLiteral("true") {
			return true, nil
		}
	case 'f':
		if s.ReadLiteral("false") {
			return false, nil
		}
	default:
		return false, errInvalidClaims
	}
	return false, errMalformedToken
}
