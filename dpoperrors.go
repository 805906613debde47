package scopedtoken

import (
	"net/http"
)

// This file holds the refusals of DPoP (RFC 9449 §7.1, docs/dpop.md) and
// their challenges. A bad proof is answered 401 with the error code
// invalid_dpop_proof, a bad token with invalid_token, both in a DPoP
// challenge that lists the accepted algorithms.

var catInvalidDPoPProof = &category{"scopedtoken: invalid DPoP proof", http.StatusUnauthorized, "invalid_dpop_proof"}

// ErrInvalidDPoPProof is the category of a refused DPoP proof (401, error
// invalid_dpop_proof, RFC 9449 §7.1): missing, repeated, too large,
// malformed, of an algorithm or key not accepted, with a bad signature, for
// another key, method or URI, outside the proof window, without the access
// token's hash, or replayed. Reason tells which (docs/dpop.md lists them).
var ErrInvalidDPoPProof error = catInvalidDPoPProof

// The DPoP reasons. They have no exported sentinels of their own (the root
// package's budget of names, docs/migrating.md): match their category with
// errors.Is and their code with Reason.
var (
	errDPoPProofMissing   = newReason(catInvalidDPoPProof, "dpop_proof_missing", "The request has no DPoP header with a proof.")
	errDPoPProofMultiple  = newReason(catInvalidDPoPProof, "dpop_proof_multiple", "The request has more than one DPoP header.")
	errDPoPProofTooLarge  = newReason(catInvalidDPoPProof, "dpop_proof_too_large", "The DPoP proof is larger than the allowed maximum.")
	errDPoPProofMalformed = newReason(catInvalidDPoPProof, "dpop_proof_malformed", "The DPoP proof is not a compact JWS of strict JSON with string jti, htm and htu and a numeric iat.")
	errDPoPProofHeader    = newReason(catInvalidDPoPProof, "dpop_proof_header", "The DPoP proof header needs typ dpop+jwt, an accepted alg, a public jwk of that alg and no crit.")
	errDPoPProofSignature = newReason(catInvalidDPoPProof, "dpop_proof_signature", "The DPoP proof signature does not verify with its jwk.")
	errDPoPProofKey       = newReason(catInvalidDPoPProof, "dpop_proof_key", "The DPoP proof is signed by a key other than the one the token is bound to.")
	errDPoPProofMethod    = newReason(catInvalidDPoPProof, "dpop_proof_method", "The DPoP proof htm is not the request method.")
	errDPoPProofURL       = newReason(catInvalidDPoPProof, "dpop_proof_url", "The DPoP proof htu is not the request URI.")
	errDPoPProofTime      = newReason(catInvalidDPoPProof, "dpop_proof_time", "The DPoP proof iat is outside the accepted window.")
	errDPoPProofATH       = newReason(catInvalidDPoPProof, "dpop_proof_ath", "The DPoP proof ath is missing or is not the hash of the access token.")
	errDPoPProofReplayed  = newReason(catInvalidDPoPProof, "dpop_proof_replayed", "The DPoP proof was already used.")
	errDPoPSchemeMismatch = newReason(catInvalidToken, "dpop_scheme_mismatch", "A DPoP-bound token needs the DPoP authorization scheme and a proof; an unbound token the Bearer scheme.")
	errDPoPRequired       = newReason(catInvalidToken, "dpop_required", "The token is not DPoP-bound, and this server accepts only DPoP-bound tokens.")
	errDPoPUnsupported    = newReason(catInvalidToken, "dpop_unsupported", "The token is DPoP-bound, but this server does not verify DPoP proofs.")
)

// dpopReasons lists the DPoP reasons; they join reasons, so that New
// precomputes their responses and NewError keeps their codes.
var dpopReasons = []*Error{
	errDPoPProofMissing, errDPoPProofMultiple, errDPoPProofTooLarge, errDPoPProofMalformed, errDPoPProofHeader,
	errDPoPProofSignature, errDPoPProofKey, errDPoPProofMethod, errDPoPProofURL, errDPoPProofTime, errDPoPProofATH,
	errDPoPProofReplayed, errDPoPSchemeMismatch, errDPoPRequired, errDPoPUnsupported,
}

func init() { reasons = append(reasons, dpopReasons...) }

// isDPoPReason reports whether e is one of dpopReasons.
func isDPoPReason(e *Error) bool {
	for _, r := range dpopReasons {
		if e == r {
			return true
		}
	}
	return false
}

// buildResponses precomputes both sets of responses of d.
func (d *dpopConfig) buildResponses(realm string, retryAfter int) {
	d.dpopResponses = make(map[*Error]*response, len(reasons))
	d.bothResponses = make(map[*Error]*response, len(reasons))
	for _, e := range reasons {
		d.dpopResponses[e], d.bothResponses[e] = d.buildDPoPResponses(e, realm, retryAfter)
	}
}

// buildDPoPResponses makes e's response with a DPoP challenge (RFC 9449
// §7.1) and with a Bearer and a DPoP challenge (RFC 9449 §7.2), from its
// Bearer response.
func (d *dpopConfig) buildDPoPResponses(e *Error, realm string, retryAfter int) (dpopOnly, both *response) {
	bearer := buildResponse(e, realm, retryAfter)
	challenge := `DPoP realm=` + quote(realm) + `, algs=` + quote(d.algNames)
	plain := challenge
	if e != errMissingToken {
		challenge += `, error=` + quote(e.oauthCode()) + `, error_description=` + quote(descriptionSafe(e.message))
	}
	dpopOnly, both = new(response), new(response)
	*dpopOnly, *both = *bearer, *bearer
	dpopOnly.wwwAuthenticate = []string{challenge}
	both.wwwAuthenticate = []string{bearer.wwwAuthenticate[0], plain}
	return dpopOnly, both
}

// response returns the response of e to r: a
// DPoP challenge where DPoP is required, for a DPoP refusal and for a
// request with the DPoP scheme; else the Bearer challenge followed by a
// plain DPoP one, which tells a client that it may use DPoP.
func (d *dpopConfig) response(r *http.Request, e *Error, realm string, retryAfter int) *response {
	key := reasonOf(e)
	dpopOnly, both := d.dpopResponses[key], d.bothResponses[key]
	if dpopOnly == nil { // a refusal of the user's own making
		dpopOnly, both = d.buildDPoPResponses(e, realm, retryAfter)
	}
	if d.required || isDPoPReason(key) || usesDPoPScheme(r) {
		return dpopOnly
	}
	return both
}
