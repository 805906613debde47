// Package golangjwt lets programs that already parse tokens with
// github.com/golang-jwt/jwt/v5 take their keys from any scopedtoken.KeySet:
// scopedtoken.StaticKeys, a remote set of package
// github.com/scopedtoken/scopedtoken/jwks, or both joined by
// scopedtoken.CombineKeys.
//
// [Keyfunc] applies the key rules of the middleware's key lookup before
// golang-jwt checks the signature: the header must name a kid (a non-empty
// string), the header alg must be the one algorithm of that kid's key (so
// alg none, and an HMAC alg with an RSA public key as its secret, are
// refused), a key bound to an issuer accepts only tokens whose iss is exactly
// that issuer, exp must be present, and crit, b64 and a typ other than JWT
// are refused. It hands golang-jwt the key in the type each algorithm takes:
// []byte for HS*, *rsa.PublicKey for RS* and PS*, *ecdsa.PublicKey for ES*
// and ed25519.PublicKey for EdDSA. Refusals wrap the reason sentinels of
// package scopedtoken (scopedtoken.ErrAlgMismatch, ...), so errors.Is tells
// them apart through golang-jwt's errors.
//
// golang-jwt then verifies the signature and the time claims;
// [ParserOptions] sets its parser to the middleware's defaults (exp
// required, iat checked, 30 seconds of leeway, strict base64url).
//
// What golang-jwt does not check, with or without this package: whether the
// request path is inside the token's aud (the scoped path rules), the query
// claim, the business that "me" stands for, the maximum lifetime,
// revocation and single-use tokens, DPoP proofs (so a DPoP-bound token, one
// with a cnf claim, is refused: a bearer token it is not), the token size
// limits, and the strict
// JSON of docs/security.md (repeated members, names that differ only in
// case). A token that this package lets through is a well-signed token from
// a trusted key, not a token scoped to the request; only the middleware
// (scopedtoken.Middleware.Handler or Verify) checks that.
// docs/golang-jwt.md in the repository says more.
package golangjwt
