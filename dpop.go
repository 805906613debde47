package scopedtoken

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/scopedtoken/scopedtoken/internal/alg"
	"github.com/scopedtoken/scopedtoken/internal/jose"
	"github.com/scopedtoken/scopedtoken/internal/strictjson"
)

// This file binds tokens to keys with DPoP (RFC 9449, docs/dpop.md): the
// configuration New checks, where a request's token and proof meet, the
// record of each proof's jti in Config.Revocations, and the token
// endpoint's check (VerifyDPoPProof). The proof itself is dpopproof.go's.

// defaultDPoPProofWindow is how far from its iat a DPoP proof is accepted,
// either way, when Config.DPoPProofWindow is zero.
const defaultDPoPProofWindow = time.Minute

// defaultDPoPAlgorithms are the proof algorithms accepted when
// Config.DPoPAlgorithms is empty: ECDSA P-256, which every browser's
// WebCrypto makes, and Ed25519 under both its names (EdDSA, and Ed25519 of
// RFC 9864, which panva's dpop writes).
var defaultDPoPAlgorithms = []string{"ES256", "EdDSA", "Ed25519"}

// dpopConfig is the DPoP part of a Middleware, built once by New; nil when
// DPoP is off.
type dpopConfig struct {
	required bool
	algs     map[string]*alg.Spec
	algNames string // the algs of the challenge, space-separated
	window   time.Duration
	origin   string // normalized; "" takes it from each request
	// The refusals with a DPoP challenge, and with both a Bearer and a
	// DPoP challenge (a bearer request where DPoP is allowed), per reason.
	dpopResponses, bothResponses map[*Error]*response
}

// newDPoP checks the DPoP fields of cfg; nil, nil when DPoP is off.
func newDPoP(cfg *Config, realm string, retryAfter int) (*dpopConfig, error) {
	if !cfg.DPoPAllowed && !cfg.DPoPRequired {
		if len(cfg.DPoPAlgorithms) > 0 || cfg.DPoPProofWindow != 0 || cfg.DPoPOrigin != "" {
			// A setting that would do nothing is a mistake made here.
			return nil, errors.New("scopedtoken: Config.DPoPAlgorithms, DPoPProofWindow and DPoPOrigin need DPoPAllowed or DPoPRequired")
		}
		return nil, nil
	}
	d := &dpopConfig{required: cfg.DPoPRequired, algs: map[string]*alg.Spec{}, window: cfg.DPoPProofWindow}
	names := cfg.DPoPAlgorithms
	if len(names) == 0 {
		names = defaultDPoPAlgorithms
	}
	for _, name := range names {
		spec, ok := alg.Lookup(name)
		switch {
		case !ok:
			return nil, fmt.Errorf("scopedtoken: Config.DPoPAlgorithms: %w", alg.Unsupported(name))
		case spec.Family == alg.HMAC:
			// RFC 9449 §4.2: a proof's alg is asymmetric; a shared secret
			// would bind the token to whoever else holds it.
			return nil, fmt.Errorf("scopedtoken: Config.DPoPAlgorithms: %s is symmetric; a DPoP proof needs an asymmetric algorithm", name)
		case d.algs[name] != nil:
			return nil, fmt.Errorf("scopedtoken: Config.DPoPAlgorithms names %s twice", name)
		}
		d.algs[name] = spec
	}
	d.algNames = strings.Join(names, " ")
	switch {
	case d.window == 0:
		d.window = defaultDPoPProofWindow
	case d.window < 0:
		return nil, errors.New("scopedtoken: Config.DPoPProofWindow must not be negative")
	}
	if cfg.DPoPOrigin != "" {
		var err error
		if d.origin, err = parseDPoPOrigin(cfg.DPoPOrigin); err != nil {
			return nil, err
		}
	}
	d.buildResponses(realm, retryAfter)
	return d, nil
}

// checkBinding applies the token's binding, or its lack, to the request
// that carries it (docs/dpop.md, "Modes"): a bound token needs the DPoP
// scheme and a valid proof, an unbound one the Bearer scheme (and is
// refused when DPoP is required). Without DPoP and without a bound token it
// costs two compares.
func (m *Middleware) checkBinding(r *http.Request, token string, v *verified, src tokenSource) *Error {
	if v.jkt == nil && m.dpop == nil {
		return nil
	}
	return m.checkBindingSlow(r, token, v, src)
}

func (m *Middleware) checkBindingSlow(r *http.Request, token string, v *verified, src tokenSource) *Error {
	d := m.dpop
	if d == nil {
		return errDPoPUnsupported // a bound token, and DPoP off: never accepted as a bearer token
	}
	dpopScheme, jkt := src == fromHeader && usesDPoPScheme(r), v.boundKey()
	switch {
	case !dpopScheme && jkt != "":
		return errDPoPSchemeMismatch // a stolen bound token sent as Bearer (RFC 9449 §7.2)
	case !dpopScheme && d.required:
		return errDPoPRequired
	case !dpopScheme:
		return nil
	case jkt == "":
		return errDPoPSchemeMismatch
	case m.revocations == nil:
		return errDPoPUnsupported // replays could not be told apart
	}
	_, e := m.checkProof(r, token, jkt)
	return e
}

// checkProof verifies the request's proof (for token, "" at a token
// endpoint) and records its jti, so that no instance sharing the store
// accepts it again while it could be accepted: until iat plus the window,
// and a margin for clocks (docs/dpop.md, "Replay"). It returns the
// thumbprint of the proof's key.
func (m *Middleware) checkProof(r *http.Request, token, want string) (string, *Error) {
	p, e := m.dpop.readProof(r, token, want, m.now())
	if e != nil {
		return "", e
	}
	last := p.iat.time().Add(m.dpop.window)
	// The key's thumbprint is part of the record's name: a jti is chosen by
	// the client, and another client's jti must not use up this one's. The
	// jti goes in hashed: a client must not choose what the store sees (a
	// Redis Cluster hash tag such as "{x}" would pick the master of all its
	// records), and every name has one length.
	err := m.revocations.Use(r.Context(), proofRecordName(p.jkt, p.jti), useRecordUntil(last))
	switch {
	case errors.Is(err, errTokenUsed):
		return "", errDPoPProofReplayed
	case err != nil:
		return "", errRevocationsUnavailable.withCause(err)
	case !m.now().Before(last):
		// The window closed during the store's round trip: the record may
		// already be gone elsewhere (as useOnceSlow does for tokens).
		return "", errDPoPProofTime
	}
	return p.jkt, nil
}

// bindingWithoutRequest is checkBinding for Verify and VerifyUnused, which
// have no request and so no proof: Verify refuses a bound token, and
// VerifyUnused accepts it where a request with a proof could be accepted.
func (m *Middleware) bindingWithoutRequest(v *verified, use bool) *Error {
	switch {
	case v.jkt == nil && m.dpop != nil && m.dpop.required:
		return errDPoPRequired
	case v.jkt == nil:
		return nil
	case m.dpop == nil || m.revocations == nil:
		return errDPoPUnsupported
	case use:
		return errDPoPProofMissing
	}
	return nil
}

// VerifyDPoPProof checks the DPoP proof of r as a token endpoint does
// before it issues a bound token (RFC 9449 §5, docs/dpop.md): one DPoP
// header holding a proof of an accepted algorithm, signed by the public key
// it carries, for r's method and URI, within the proof window, and never
// seen before by any instance sharing Config.Revocations, where its jti is
// recorded. It returns the RFC 7638 thumbprint of the proof's key, which
// the token to issue names as its cnf.jkt (mint.Claims.DPoPThumbprint).
// r carries no access token, so the proof has no ath to check. Errors are
// *Error values: ErrInvalidDPoPProof for a bad proof, ErrRevocationsUnavailable
// when the store cannot record it, ErrInvalidToken (reason
// dpop_unsupported) when DPoP is off or Config.Revocations is not set.
// WriteError answers them with a DPoP challenge.
func (m *Middleware) VerifyDPoPProof(r *http.Request) (string, error) {
	if m.dpop == nil || m.revocations == nil {
		return "", errDPoPUnsupported
	}
	jkt, e := m.checkProof(r, "", "")
	if e != nil {
		return "", e
	}
	return jkt, nil
}

// usesDPoPScheme reports whether r's one Authorization header has the DPoP
// scheme, in any case (RFC 9110 §11.1).
func usesDPoPScheme(r *http.Request) bool {
	if r == nil {
		return false
	}
	h := r.Header["Authorization"]
	return len(h) == 1 && len(h[0]) > len("DPoP ") && h[0][len("DPoP")] == ' ' && strings.EqualFold(h[0][:len("DPoP")], "DPoP")
}

// boundKey is the token's cnf.jkt, or "" when it is not bound.
func (v *verified) boundKey() string {
	if v.jkt == nil {
		return ""
	}
	return *v.jkt
}

// parseConfirmation reads the cnf claim (RFC 7800 §3.1) of a token: an
// object with exactly one member, jkt, an RFC 7638 SHA-256 thumbprint in
// base64url (43 characters, RFC 9449 §6.1). Any other confirmation method
// (x5t#S256 of mutual TLS, jwk, kid, ...) binds the token to something this
// middleware cannot check, so the token is refused rather than taken as a
// bearer token.
func parseConfirmation(s *strictjson.Scanner) (*string, *Error) {
	if s.Peek() != '{' {
		return nil, errInvalidClaims
	}
	var it strictjson.Object
	it.Begin(s)
	jkt := ""
	for it.Next(s) {
		if string(it.Name) != "jkt" || s.Peek() != '"' {
			return nil, errInvalidClaims
		}
		jkt = s.ReadText()
	}
	if s.Err() != strictjson.OK {
		return nil, refusal(jose.FaultOf(s.Err()))
	}
	if len(jkt) != 43 || !jose.WellFormed([]byte(jkt)) {
		return nil, errInvalidClaims
	}
	return &jkt, nil
}

// proofRecordName is the name under which a proof's jti is recorded:
// "dpop:" + the key's thumbprint + ":" + the base64url SHA-256 of the jti.
func proofRecordName(jkt, jti string) string {
	sum := sha256.Sum256([]byte(jti))
	return "dpop:" + jkt + ":" + base64.RawURLEncoding.EncodeToString(sum[:])
}
