package alg

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"math/big"
	"sync"
)

// Verifier checks signatures under one key with one algorithm. Set it up in
// place with Init; it is then immutable and safe for concurrent use. It must
// not be copied after Init.
type Verifier struct {
	spec    *Spec
	rsaKey  *rsa.PublicKey
	ecKey   *ecdsa.PublicKey
	edKey   ed25519.PublicKey
	pssOpts *rsa.PSSOptions
	secret  []byte    // HMAC only: the caller's secret, copied
	hmacs   sync.Pool // of *hmacState, so verification allocates nothing
}

type hmacState struct {
	mac hash.Hash
	sum [sha512.Size]byte
}

// Init checks the key for spec (CheckSecret of secret for HMAC, else
// CheckPublicKey of pub; the other argument is not read) and prepares v to
// verify with it. A secret is copied.
func (v *Verifier) Init(spec *Spec, secret []byte, pub crypto.PublicKey) error {
	v.spec = spec
	if spec.Family == HMAC {
		if err := spec.CheckSecret(secret); err != nil {
			return err
		}
		v.secret = append([]byte(nil), secret...) // the caller's slice may change
		v.hmacs.New = func() any { return &hmacState{mac: hmac.New(spec.newHash, v.secret)} }
		return nil
	}
	if err := spec.CheckPublicKey(pub); err != nil {
		return err
	}
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		v.rsaKey = pub
		if spec.Family == PSS {
			// RFC 7518 §3.5: the salt is as long as the hash. Never auto-detect it.
			v.pssOpts = &rsa.PSSOptions{SaltLength: spec.Hash.Size(), Hash: spec.Hash}
		}
	case *ecdsa.PublicKey:
		v.ecKey = pub
	case ed25519.PublicKey:
		v.edKey = append(ed25519.PublicKey(nil), pub...)
	}
	return nil
}

// PublicKey returns the key's public material, or nil for an HMAC key.
func (v *Verifier) PublicKey() crypto.PublicKey {
	switch {
	case v.rsaKey != nil:
		return v.rsaKey
	case v.ecKey != nil:
		return v.ecKey
	case v.edKey != nil:
		return v.edKey
	}
	return nil
}

// Secret returns a copy of the HMAC secret, or nil for a key with a public
// key. The copy keeps the Verifier immutable.
func (v *Verifier) Secret() []byte {
	if v.secret == nil {
		return nil
	}
	return append([]byte(nil), v.secret...)
}

// SignatureSize is the length of every valid signature under the key, so
// that a signature of another length is refused without decoding it.
func (v *Verifier) SignatureSize() int {
	switch spec := v.spec; spec.Family {
	case HMAC:
		return spec.Hash.Size()
	case RSA, PSS:
		return v.rsaKey.Size()
	case ECDSA:
		return 2 * spec.coordBytes()
	}
	return ed25519.SignatureSize
}

// Verify reports whether sig is a valid signature of signingInput under the
// key with its one algorithm.
func (v *Verifier) Verify(signingInput, sig []byte) bool {
	spec := v.spec
	switch spec.Family {
	case HMAC:
		if len(sig) != spec.Hash.Size() {
			return false
		}
		st := v.hmacs.Get().(*hmacState)
		st.mac.Reset()
		st.mac.Write(signingInput)
		ok := hmac.Equal(st.mac.Sum(st.sum[:0]), sig)
		v.hmacs.Put(st)
		return ok
	case EdDSA:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(v.edKey, signingInput, sig)
	}
	var buf [sha512.Size]byte
	digest := digestInto(spec.Hash, signingInput, &buf)
	switch spec.Family {
	case RSA:
		return rsa.VerifyPKCS1v15(v.rsaKey, spec.Hash, digest, sig) == nil
	case PSS:
		return rsa.VerifyPSS(v.rsaKey, spec.Hash, digest, sig, v.pssOpts) == nil
	case ECDSA:
		size := spec.coordBytes()
		if len(sig) != 2*size {
			return false
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(v.ecKey, digest, r, s)
	}
	return false
}

func digestInto(h crypto.Hash, data []byte, buf *[sha512.Size]byte) []byte {
	switch h {
	case crypto.SHA256:
		*(*[sha256.Size]byte)(buf[:sha256.Size]) = sha256.Sum256(data)
	case crypto.SHA384:
		*(*[sha512.Size384]byte)(buf[:sha512.Size384]) = sha512.Sum384(data)
	default:
		*buf = sha512.Sum512(data)
	}
	return buf[:h.Size()]
}
