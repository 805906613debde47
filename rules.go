package scopedtoken

import (
	"crypto"
	"errors"
	"fmt"

	"github.com/scopedtoken/scopedtoken/internal/rules"
)

// init hands package mint the rules it mints by (see internal/rules), so
// that a token is minted by exactly the rules that verify it.
func init() {
	rules.SigningAlgorithm = signingAlgorithm
	rules.KnownAlgorithm = func(alg string) bool { _, ok := algSpecs[alg]; return ok }
	rules.RegisteredClaim = func(name string) bool {
		for _, r := range claimNames {
			if name == r {
				return true
			}
		}
		return foldsTo([]byte(name), claimNames)
	}
	rules.CheckClaims = func(payload []byte) error {
		s := scanner{data: payload}
		s.skipValue()
		if e := jsonResult(&s); e != nil {
			return errors.New(e.message)
		}
		return nil
	}
	rules.StrictJSON = func(data []byte) bool {
		s := scanner{data: data, exactNames: true}
		s.skipValue()
		return s.err == jsonOK && s.atEnd()
	}
	rules.QueryNameIs = unescapedEquals
}

// signingAlgorithm checks a minting key for alg ("" for DefaultAlgorithm of
// the key) with the checks of NewVerificationKey, and returns the algorithm.
func signingAlgorithm(alg string, secret []byte, key crypto.Signer) (string, error) {
	if alg == "" {
		if key != nil {
			alg = DefaultAlgorithm(key)
		} else {
			alg = DefaultAlgorithm(secret)
		}
		if alg == "" {
			return "", fmt.Errorf("no Algorithm given, and none follows from the key (%s)", keyKind(key))
		}
	}
	spec, ok := algSpecs[alg]
	if !ok {
		return "", fmt.Errorf("unsupported algorithm %q", alg)
	}
	if spec.family == familyHMAC {
		switch {
		case key != nil:
			return "", fmt.Errorf("%s takes a secret, but a private %s was given", alg, keyKind(key))
		case len(secret) < spec.minKey:
			return "", fmt.Errorf("%s secret is %d bytes; at least %d are required", alg, len(secret), spec.minKey)
		}
		return alg, nil
	}
	switch {
	case len(secret) != 0:
		return "", fmt.Errorf("%s needs a private key, but a secret was given", alg)
	case key == nil:
		return "", fmt.Errorf("%s needs a private key", alg)
	}
	if err := checkPublicKey(spec, key.Public()); err != nil {
		return "", err
	}
	return alg, nil
}
