package scopedtokentest

import (
	"encoding/json"
	"time"
)

// Builders of hostile tokens: each is a token a correct verifier refuses, for
// testing that a handler (and its middleware configuration) refuses it too.
// They take the same options as Mint, applied before the builder's own change.
// The expected refusal of each, with the middleware's default Config, is
// given as the scopedtoken reason sentinel.

// WrongAudiencePath is the aud of WrongAudience tokens: a well-formed path
// that no real request should fall under.
const WrongAudiencePath = "/v2/accounts/me/scopedtokentest-wrong-audience"

// ExpiredAgo is how long before the issuer's now an Expired token expired:
// far beyond any sensible leeway.
const ExpiredAgo = 10 * time.Minute

// Expired mints a token that expired ExpiredAgo before the issuer's now
// (ErrExpired).
func (i *Issuer) Expired(opts ...MintOption) string {
	i.t.Helper()
	now := i.now()
	return i.Mint(append(opts, IssuedAt(now.Add(-ExpiredAgo-DefaultLifetime)), ExpiresAt(now.Add(-ExpiredAgo)))...)
}

// WrongAudience mints a valid token whose only aud is WrongAudiencePath, so it
// covers no other path (ErrAudienceMismatch, 403).
func (i *Issuer) WrongAudience(opts ...MintOption) string {
	i.t.Helper()
	return i.Mint(append(opts, Audience(WrongAudiencePath))...)
}

// WrongKey mints a token whose header names the signing key's kid (a kid the
// verifier knows) but whose signature is made by a freshly generated key of
// the same algorithm (ErrBadSignature).
func (i *Issuer) WrongKey(opts ...MintOption) string {
	i.t.Helper()
	return i.Mint(append(opts, func(s *mintSpec) { s.wrongKey = true })...)
}

// AlgNone mints the classic unsecured JWS: header alg "none" with the signing
// key's kid and an empty signature segment (refused as ErrMalformedToken,
// since a JWS with an empty signature is not well-formed; Mint(Alg("none"))
// makes one with a signature, refused as ErrAlgMismatch).
func (i *Issuer) AlgNone(opts ...MintOption) string {
	i.t.Helper()
	return i.Mint(append(opts, Alg("none"), func(s *mintSpec) { s.noSig = true })...)
}

// Tampered mints a valid token and then changes its payload, keeping the
// original signature: exp moves a day later, as an attacker extending a
// token's life would do (ErrBadSignature).
func (i *Issuer) Tampered(opts ...MintOption) string {
	i.t.Helper()
	return i.Mint(append(opts, func(s *mintSpec) { s.transform = extendExpiry })...)
}

// UnknownKID mints a token signed by the issuer's key but naming a kid that
// no key has (ErrUnknownKID).
func (i *Issuer) UnknownKID(opts ...MintOption) string {
	i.t.Helper()
	return i.Mint(append(opts, KeyID("unknown-"+randomString(8)))...)
}

// extendExpiry returns claims with exp a day later (or a day after the epoch
// when it has none). Claims that are not a JSON object get a trailing space:
// any change of the signed bytes must break the signature.
func extendExpiry(claims []byte) []byte {
	var c map[string]any
	if json.Unmarshal(claims, &c) != nil {
		return append(append([]byte(nil), claims...), ' ')
	}
	exp, _ := c["exp"].(float64)
	c["exp"] = int64(exp) + int64(24*time.Hour/time.Second)
	b, _ := json.Marshal(c)
	return b
}
