// Package rules carries rules of package scopedtoken to package mint, which
// must mint by exactly the rules the middleware verifies by (docs/minting.md)
// without the root package exporting them: the key checks of each algorithm,
// the registered claim names, the strict JSON reading of docs/security.md and
// the jwt query parameter name.
//
// Package scopedtoken sets the functions in its init. Package mint imports
// scopedtoken, so they are set before mint can call them; nothing else may
// set them.
package rules

import "crypto"

var (
	// SigningAlgorithm checks a minting key: the secret (HS*) or the private
	// key's public half, as NewVerificationKey checks a verification key. An
	// empty alg means DefaultAlgorithm of the key. It returns the algorithm.
	// Errors name the mismatch and never include key material.
	SigningAlgorithm func(alg string, secret []byte, key crypto.Signer) (string, error)

	// KnownAlgorithm reports whether the middleware supports alg.
	KnownAlgorithm func(alg string) bool

	// RegisteredClaim reports whether name is a claim the middleware reads
	// (aud, exp, nbf, iat, query, iss, sub, jti, once), or differs from one
	// only by the case folding of encoding/json.
	RegisteredClaim func(name string) bool

	// CheckClaims returns why the middleware would refuse payload, a JSON
	// claims object (a repeated or case-folded member name, too deep, ...),
	// or nil.
	CheckClaims func(payload []byte) error

	// StrictJSON reports whether data is one strictly valid JSON value with
	// no member name repeated exactly.
	StrictJSON func(data []byte) bool

	// QueryNameIs reports whether the raw (still escaped) query parameter
	// name decodes to want, as the middleware decodes names.
	QueryNameIs func(raw, want string) bool
)
