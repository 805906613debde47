// Package alg is the one table of the JWS algorithms that scopedtoken
// supports (RFC 7518 §3, RFC 8037 and the fully-specified Ed25519 of
// RFC 9864): for each its family, hash and curve, the checks a key must pass
// to be used with it (docs/security.md and docs/keys.md), the algorithm a key
// is used with when none is named, the signature (Sign) and its check
// (Verifier). Verification, minting (package mint), the remote key set
// (package jwks) and scopedtokentest all take their algorithms from here, so
// that a key the middleware would refuse is refused everywhere.
package alg
