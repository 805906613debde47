package mint

import (
	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/internal/alg"
	"github.com/scopedtoken/scopedtoken/internal/names"
)

// The middleware never picks an algorithm for a key (a scopedtoken.Key names
// the one it accepts), and it reads every aud entry with its own grammar. The
// side that issues tokens, the CLI and configuration checks need both in
// words: the two functions below are the middleware's own rules
// (docs/minting.md, docs/security.md).

// DefaultAlgorithm is the one algorithm a key is used with when none is
// named: HS256 for a non-empty HMAC secret ([]byte), RS256 for RSA,
// ES256/ES384/ES512 for P-256/P-384/P-521, EdDSA for Ed25519, and ""
// otherwise. key may be a public key, a private key or any crypto.Signer
// (its public half decides). New, token specs and the CLI pick it for keys
// given without one, and a remote JWK without alg (package jwks) accepts
// only this algorithm. An Ed25519 key is bound to the RFC 9864 name
// "Ed25519" only when that alg is named.
func DefaultAlgorithm(key any) string { return alg.Default(key) }

// CheckAudience reports, in words, why entry is not a valid aud path under
// prefix (docs/security.md), or nil when it is. The verdict is the
// middleware's own; prefix "" means scopedtoken.DefaultPrefix. LoadSpecs
// checks the aud of token specs with it.
func CheckAudience(prefix, entry string) error {
	if prefix == "" {
		prefix = scopedtoken.DefaultPrefix
	}
	return names.ParseAud(prefix, entry).Err(prefix, entry)
}
