package scopedtokentest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"

	"github.com/scopedtoken/scopedtoken/internal/alg"
)

// DPoPKey is a client's DPoP key (RFC 9449, docs/dpop.md): it makes the
// proofs that a middleware with Config.DPoPAllowed or DPoPRequired asks of
// the tokens bound to it (see Bind), and hostile ones.
type DPoPKey struct {
	t   testing.TB
	alg string
	key crypto.Signer
	jwk map[string]any // public members only
	jkt string
	now func() time.Time
}

// NewDPoPKey generates a client key for alg: ES256 (the default for "",
// what a browser's WebCrypto makes), ES384, ES512, EdDSA, Ed25519, RS256 or
// PS256 (2048 bits). Proofs are issued at now() (time.Now when nil). It
// calls t.Fatal when the key cannot be made.
func NewDPoPKey(t testing.TB, name string, now func() time.Time) *DPoPKey {
	t.Helper()
	if name == "" {
		name = "ES256"
	}
	if now == nil {
		now = time.Now
	}
	spec, ok := alg.Lookup(name)
	var key crypto.Signer
	var err error
	switch {
	case !ok || spec.Family == alg.HMAC:
		t.Fatalf("scopedtokentest: NewDPoPKey: %q is not an asymmetric algorithm", name)
	case spec.Family == alg.ECDSA:
		key, err = ecdsa.GenerateKey(spec.Curve, rand.Reader)
	case spec.Family == alg.EdDSA:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		key, err = rsa.GenerateKey(rand.Reader, alg.MinRSABits)
	}
	if err != nil {
		t.Fatalf("scopedtokentest: NewDPoPKey: %v", err)
	}
	k := &DPoPKey{t: t, alg: name, key: key, now: now}
	if k.jwk, err = publicJWK(key.Public()); err != nil {
		t.Fatalf("scopedtokentest: NewDPoPKey: %v", err)
	}
	k.jkt = thumbprint(k.jwk)
	return k
}

// publicJWK is the RFC 7517 form of pub (made by the jwkset module) with
// only the members RFC 7638 hashes.
func publicJWK(pub crypto.PublicKey) (map[string]any, error) {
	j, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{})
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(j.Marshal())
	if err != nil {
		return nil, err
	}
	var all map[string]any
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, name := range []string{"kty", "crv", "x", "y", "n", "e"} {
		if v, ok := all[name]; ok {
			out[name] = v
		}
	}
	return out, nil
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of a JWK holding only its
// required members: encoding/json writes a map's keys sorted, without
// white space (RFC 7638 §3.3).
func thumbprint(jwk map[string]any) string {
	canonical, _ := json.Marshal(jwk) // strings only: cannot fail
	sum := sha256.Sum256(canonical)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Thumbprint returns the key's RFC 7638 thumbprint: the cnf.jkt of the
// tokens bound to it, and what scopedtoken.Middleware.VerifyDPoPProof
// returns for its proofs.
func (k *DPoPKey) Thumbprint() string { return k.jkt }

// Algorithm returns the key's proof algorithm.
func (k *DPoPKey) Algorithm() string { return k.alg }

// Public returns the public key.
func (k *DPoPKey) Public() crypto.PublicKey { return k.key.Public() }

// Bind mints the token bound to the key: its cnf is {"jkt": Thumbprint()}.
func (k *DPoPKey) Bind() MintOption { return BoundTo(k.jkt) }

// BoundTo mints a token bound to the key of thumbprint jkt (the cnf.jkt
// claim); any string, for hostile tokens.
func BoundTo(jkt string) MintOption { return Claim("cnf", map[string]any{"jkt": jkt}) }

// ProofOption changes one thing about a DPoP proof.
type ProofOption func(*proofSpec)

type proofSpec struct {
	iat      time.Time
	claims   map[string]any
	header   map[string]any
	signer   *DPoPKey
	private  bool
	unsigned bool
}

// ProofIssuedAt sets the proof's iat (default: the key's now), for a proof
// too old or made ahead of time.
func ProofIssuedAt(t time.Time) ProofOption { return func(s *proofSpec) { s.iat = t } }

// ProofClaim sets the proof's claim name (jti, htm, htu, iat, ath, ...) to
// value, or removes it when value is Omit.
func ProofClaim(name string, value any) ProofOption {
	return func(s *proofSpec) { s.claims[name] = value }
}

// ProofHeader sets the proof's header member name (typ, alg, jwk, crit,
// ...) to value, or removes it when value is Omit; the signature is still
// made with the key's own algorithm.
func ProofHeader(name string, value any) ProofOption {
	return func(s *proofSpec) { s.header[name] = value }
}

// ProofSignedBy signs the proof with other's key while its header carries
// this key's jwk: a forgery by someone who knows only the public key.
func ProofSignedBy(other *DPoPKey) ProofOption { return func(s *proofSpec) { s.signer = other } }

// ProofPrivateJWK puts the private key into the jwk as well (its d member,
// or p for RSA): a proof the middleware refuses, since a key sent along is
// no longer the client's alone.
func ProofPrivateJWK() ProofOption { return func(s *proofSpec) { s.private = true } }

// ProofUnsigned makes an unsigned proof: alg none and an empty signature.
func ProofUnsigned() ProofOption { return func(s *proofSpec) { s.unsigned = true } }

// Proof returns a DPoP proof of the key for a request with method to uri
// (its query and fragment are ignored by the verifier) carrying token ("":
// none, as at a token endpoint; otherwise the proof's ath is its hash), with
// a fresh jti and iat the key's now, changed by opts. It calls t.Fatal when
// the proof cannot be made.
func (k *DPoPKey) Proof(method, uri, token string, opts ...ProofOption) string {
	k.t.Helper()
	s := proofSpec{iat: k.now(), signer: k, header: map[string]any{}, claims: map[string]any{}}
	for _, o := range opts {
		o(&s)
	}
	claims := map[string]any{"jti": randomID(), "htm": method, "htu": uri, "iat": s.iat.Unix()}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	setMembers(claims, s.claims)
	jwk := maps.Clone(k.jwk)
	if s.private {
		jwk["d"] = base64.RawURLEncoding.EncodeToString([]byte("private"))
	}
	h := map[string]any{"typ": "dpop+jwt", "alg": k.alg, "jwk": jwk}
	if s.unsigned {
		h["alg"] = "none"
	}
	setMembers(h, s.header)
	proof, err := s.sign(h, claims)
	if err != nil {
		k.t.Fatalf("scopedtokentest: Proof: %v", err)
	}
	return proof
}

// sign joins header and claims and signs them with s.signer's key, or
// leaves the signature empty when s.unsigned.
func (s *proofSpec) sign(header, claims map[string]any) (string, error) {
	hj, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cj, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(hj) + "." + base64.RawURLEncoding.EncodeToString(cj)
	if s.unsigned {
		return input + ".", nil
	}
	sig, err := alg.Sign(s.signer.alg, nil, s.signer.key, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
