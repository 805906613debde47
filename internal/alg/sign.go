package alg

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

// ForSigning checks a minting key for the algorithm name ("" for Default of
// the key) with the checks a verification key of that algorithm passes, and
// returns the algorithm: a secret (HS*) of at least the hash's size and no
// private key, or a private key (no secret) whose public half passes
// CheckPublicKey. Errors name the mismatch and never include key material.
func ForSigning(name string, secret []byte, key crypto.Signer) (string, error) {
	if name == "" {
		if key != nil {
			name = Default(key)
		} else {
			name = Default(secret)
		}
		if name == "" {
			return "", fmt.Errorf("no Algorithm given, and none follows from the key (%s)", keyKind(key))
		}
	}
	spec, ok := specs[name]
	if !ok {
		return "", Unsupported(name)
	}
	if spec.Family == HMAC {
		if key != nil {
			return "", fmt.Errorf("%s takes a secret, but a private %s was given", name, keyKind(key))
		}
		if err := spec.CheckSecret(secret); err != nil {
			return "", err
		}
		return name, nil
	}
	switch {
	case len(secret) != 0:
		return "", fmt.Errorf("%s needs a private key, but a secret was given", name)
	case key == nil:
		return "", fmt.Errorf("%s needs a private key", name)
	}
	if err := spec.CheckPublicKey(key.Public()); err != nil {
		return "", err
	}
	return name, nil
}

// Sign returns the JWS signature (RFC 7515 §5.1) of signingInput
// ("header.payload") under the algorithm name: an HMAC of secret for HS*, or
// key's signature for RS*, PS*, ES* (as the fixed-size R || S of RFC 7518
// §3.4), EdDSA and Ed25519. Only the crypto.Signer interface is used, so a
// key held in an HSM or a cloud KMS signs as well as one in memory. It
// checks nothing about the key beyond what signing needs: callers check keys
// first (ForSigning), except tests that sign what a minter would refuse.
func Sign(name string, secret []byte, key crypto.Signer, signingInput []byte) ([]byte, error) {
	spec, ok := specs[name]
	switch {
	case !ok:
		return nil, Unsupported(name)
	case spec.Family == HMAC:
		mac := hmac.New(spec.newHash, secret)
		mac.Write(signingInput)
		return mac.Sum(nil), nil
	case key == nil:
		return nil, errNoKey
	case spec.Family == EdDSA:
		return key.Sign(rand.Reader, signingInput, crypto.Hash(0))
	}
	h := spec.Hash
	d := h.New()
	d.Write(signingInput)
	digest := d.Sum(nil)
	switch spec.Family {
	case RSA:
		return key.Sign(rand.Reader, digest, h)
	case PSS:
		return key.Sign(rand.Reader, digest, &rsa.PSSOptions{SaltLength: h.Size(), Hash: h})
	}
	return ecdsaSign(key, digest, h, spec.coordBytes())
}

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
