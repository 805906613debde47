// Package jwssign computes JWS signatures (RFC 7515 §5.1, with the algorithms
// of RFC 7518 §3 and RFC 8037, and Ed25519 of RFC 9864) for the minting code
// of scopedtoken and for scopedtokentest, which signs unusual headers and
// claims with the same code. It checks nothing about the key beyond what
// signing needs: callers validate keys first (mint.New).
package jwssign

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// Sign returns the signature of signingInput ("header.payload") with alg:
// an HMAC of secret for HS*, or key's signature for RS*, PS*, ES* (as the
// fixed-size R || S of RFC 7518 §3.4), EdDSA and Ed25519. Only the
// crypto.Signer interface is used, so a key held in an HSM or a cloud KMS
// signs as well as one in memory.
func Sign(alg string, secret []byte, key crypto.Signer, signingInput []byte) ([]byte, error) {
	if alg == "EdDSA" || alg == "Ed25519" {
		if key == nil {
			return nil, errNoKey
		}
		return key.Sign(rand.Reader, signingInput, crypto.Hash(0))
	}
	h, ok := hashes[alg]
	switch {
	case !ok:
		return nil, fmt.Errorf("unsupported algorithm %q", alg)
	case alg[:2] == "HS":
		mac := hmac.New(h.New, secret)
		mac.Write(signingInput)
		return mac.Sum(nil), nil
	case key == nil:
		return nil, errNoKey
	}
	d := h.New()
	d.Write(signingInput)
	digest := d.Sum(nil)
	switch alg[:2] {
	case "RS":
		return key.Sign(rand.Reader, digest, h)
	case "PS":
		return key.Sign(rand.Reader, digest, &rsa.PSSOptions{SaltLength: h.Size(), Hash: h})
	}
	return ecdsaSign(key, digest, h, ecSizes[alg])
}

var hashes = map[string]crypto.Hash{
	"HS256": crypto.SHA256, "HS384": crypto.SHA384, "HS512": crypto.SHA512,
	"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512,
	"PS256": crypto.SHA256, "PS384": crypto.SHA384, "PS512": crypto.SHA512,
	"ES256": crypto.SHA256, "ES384": crypto.SHA384, "ES512": crypto.SHA512,
}

// ecSizes is the size in bytes of R and of S for each ECDSA algorithm: the
// size of its curve's order (RFC 7518 §3.4).
var ecSizes = map[string]int{"ES256": 32, "ES384": 48, "ES512": 66}

var errNoKey = errors.New("no private key")

// ecdsaSign converts the signer's ASN.1 signature to R || S, each size bytes.
func ecdsaSign(key crypto.Signer, digest []byte, h crypto.Hash, size int) ([]byte, error) {
	der, err := key.Sign(rand.Reader, digest, h)
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) > 0 {
		return nil, errors.New("the signer returned a malformed ECDSA signature")
	}
	if rs.R.Sign() <= 0 || rs.S.Sign() <= 0 || rs.R.BitLen() > 8*size || rs.S.BitLen() > 8*size {
		return nil, errors.New("the signer returned an ECDSA signature out of range")
	}
	sig := make([]byte, 2*size)
	rs.R.FillBytes(sig[:size])
	rs.S.FillBytes(sig[size:])
	return sig, nil
}
