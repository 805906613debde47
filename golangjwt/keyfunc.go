package golangjwt

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scopedtoken/scopedtoken"
)

// Keyfunc returns a jwt.Keyfunc that finds a token's key in keys by its kid
// and returns it only when the token may be verified with it: the rules are
// those of the package documentation, and each refusal wraps a reason
// sentinel of package scopedtoken (ErrUnsupportedHeader, ErrMissingKID,
// ErrAlgMismatch, ErrIssuerMismatch, ErrMissingExp, ErrInvalidClaims for an
// exp, or a bound key's iss, of the wrong type), or is the error of
// keys.LookupKey (ErrUnknownKID, or one wrapping ErrKeysUnavailable). ctx
// bounds the lookups: a remote set fetches for a kid it does not hold and
// waits for that fetch at most its RefreshWait or until ctx ends, so pass the
// request's context. Keyfunc panics when keys is nil, as a configuration that
// can never verify a token.
func Keyfunc(ctx context.Context, keys scopedtoken.KeySet) jwt.Keyfunc {
	if keys == nil {
		panic("golangjwt: Keyfunc needs a KeySet")
	}
	return func(t *jwt.Token) (any, error) {
		vk, err := lookup(ctx, keys, t)
		if err != nil {
			return nil, err
		}
		if pss, ok := strictPSS[vk.Algorithm()]; ok {
			// golang-jwt verifies PS* signatures with any salt length
			// (rsa.PSSSaltLengthAuto); RFC 7518 §3.5 fixes the salt to the
			// hash size, and the middleware holds signatures to that. The
			// parser verifies with t.Method after this function returns
			// (golang-jwt v5.3.1, pinned by jwks/deps_test.go), so the
			// method is swapped for one that verifies with the fixed salt.
			t.Method = pss
		}
		if pub := vk.PublicKey(); pub != nil {
			return pub, nil
		}
		return vk.Secret(), nil
	}
}

// lookup applies the rules of Keyfunc to t and returns its key.
func lookup(ctx context.Context, keys scopedtoken.KeySet, t *jwt.Token) (*scopedtoken.VerificationKey, error) {
	if err := checkHeader(t.Header); err != nil {
		return nil, err
	}
	if err := refuseBound(t.Raw); err != nil {
		return nil, err
	}
	kid, ok := t.Header["kid"].(string)
	if !ok || kid == "" {
		return nil, scopedtoken.ErrMissingKID
	}
	vk, err := keys.LookupKey(ctx, kid)
	if err != nil {
		return nil, err
	}
	if vk == nil || vk.ID() != kid {
		return nil, scopedtoken.ErrUnknownKID // a buggy set: fail closed, as the middleware does
	}
	// golang-jwt chose t.Method by the header's alg; both must name the
	// key's one algorithm (docs/security.md, "one algorithm per key").
	if alg, _ := t.Header["alg"].(string); alg != vk.Algorithm() || t.Method == nil || t.Method.Alg() != alg {
		return nil, scopedtoken.ErrAlgMismatch
	}
	if !vk.AcceptsIssuer("") {
		// The key is bound to issuers (a bound key never accepts an absent
		// iss), and the middleware's rule applies: iss exactly one of them.
		// The claims are not verified yet, but golang-jwt checks the
		// signature over them before it accepts the token: a refusal here is
		// safe, and an iss that passes is then covered by the signature.
		switch iss, err := t.Claims.GetIssuer(); {
		case err != nil:
			return nil, scopedtoken.ErrInvalidClaims
		case !vk.AcceptsIssuer(iss):
			return nil, scopedtoken.ErrIssuerMismatch
		}
	}
	// golang-jwt treats exp as optional unless the parser has
	// WithExpirationRequired; the middleware requires it by default, and a
	// parser built without ParserOptions must not decide otherwise silently.
	switch exp, err := t.Claims.GetExpirationTime(); {
	case err != nil:
		return nil, scopedtoken.ErrInvalidClaims
	case exp == nil:
		return nil, scopedtoken.ErrMissingExp
	}
	return vk, nil
}

// errBound refuses a DPoP-bound token: golang-jwt checks no proof, so it
// would take a stolen bound token as a bearer token (RFC 9449 §7.1;
// docs/dpop.md).
var errBound = fmt.Errorf("%w: the token is bound to a DPoP key (cnf), whose proof golang-jwt cannot check", scopedtoken.ErrInvalidToken)

// refuseBound refuses a token whose payload has a cnf member, in any
// spelling encoding/json would read as cnf. It reads the payload itself:
// parsed into a claims type without cnf (jwt.RegisteredClaims), the member
// is gone from t.Claims. A payload it cannot read is refused too (fail
// closed; golang-jwt has already parsed it when a Keyfunc runs).
func refuseBound(raw string) error {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return errBound
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errBound
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(payload, &members) != nil {
		return errBound
	}
	for name := range members {
		if strings.EqualFold(name, "cnf") {
			return errBound
		}
	}
	return nil
}

// checkHeader refuses what the middleware refuses in a header and golang-jwt
// ignores: crit (RFC 7515 §4.1.11: a recipient must refuse extensions it
// does not understand), b64 (RFC 7797 changes the signing input) and a typ
// other than JWT.
func checkHeader(h map[string]any) error {
	_, crit := h["crit"]
	_, b64 := h["b64"]
	if crit || b64 {
		return scopedtoken.ErrUnsupportedHeader
	}
	if typ, ok := h["typ"]; ok {
		if s, isString := typ.(string); !isString || !strings.EqualFold(s, "JWT") {
			return scopedtoken.ErrUnsupportedHeader
		}
	}
	return nil
}

// strictPSS are golang-jwt's PS* methods, verifying with the salt length of
// RFC 7518 §3.5 (the hash size) only.
var strictPSS = map[string]*jwt.SigningMethodRSAPSS{
	"PS256": fixedSalt(jwt.SigningMethodPS256),
	"PS384": fixedSalt(jwt.SigningMethodPS384),
	"PS512": fixedSalt(jwt.SigningMethodPS512),
}

// fixedSalt copies m without its VerifyOptions, so that it verifies with
// its Options: the salt as long as the hash.
func fixedSalt(m *jwt.SigningMethodRSAPSS) *jwt.SigningMethodRSAPSS {
	return &jwt.SigningMethodRSAPSS{
		SigningMethodRSA: m.SigningMethodRSA,
		Options:          &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash},
	}
}
