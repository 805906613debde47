package scopedtoken

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/scopedtoken/scopedtoken/internal/alg"
	"github.com/scopedtoken/scopedtoken/internal/jose"
	"github.com/scopedtoken/scopedtoken/internal/strictjson"
)

// This file checks one DPoP proof (RFC 9449 §4.3) up to, not including, the
// record of its jti (dpop.go): its size, its JWS syntax and header, its key
// and signature, then its claims against the request. As for tokens
// (jws.go), nothing of the payload is read before the signature verifies,
// and the JSON read before it is bounded.

// maxProofBytes bounds the DPoP header, checked before anything is decoded.
// A proof signed with a 4096-bit RSA key, whose jwk and signature are its
// largest parts, takes about 2,100 bytes; an ES256 proof about 600.
const maxProofBytes = 4096

// maxProofJTIBytes bounds the proof's jti, which names the replay record.
// RFC 9449 §4.2 asks for 96 bits of randomness: 16 base64url characters.
const maxProofJTIBytes = 256

// maxProofValues bounds the JSON values of the proof's header and claims.
// The largest proof (an RSA jwk) has nine.
const maxProofValues = strictjson.SmallNames

// proof is what a verified proof says.
type proof struct {
	jkt, jti, htm, htu, ath string
	iat                     numericDate
	hasAth                  bool
}

// readProof returns the proof that r carries, verified against its own key,
// and checks it names r: htm, htu, the iat window and, when token is not
// empty, ath. want, when not empty, is the thumbprint the proof's key must
// have: the cnf.jkt of the token it comes with.
func (d *dpopConfig) readProof(r *http.Request, token, want string, now time.Time) (proof, *Error) {
	hdrs := r.Header["Dpop"]
	switch {
	case len(hdrs) == 0:
		return proof{}, errDPoPProofMissing
	case len(hdrs) > 1:
		return proof{}, errDPoPProofMultiple
	case len(hdrs[0]) > maxProofBytes:
		return proof{}, errDPoPProofTooLarge
	}
	p, e := d.verifyProofJWS(hdrs[0], want)
	if e != nil {
		return proof{}, e
	}
	switch {
	case p.htm != r.Method: // methods are case-sensitive (RFC 9110 §9.1)
		return proof{}, errDPoPProofMethod
	case !d.htuMatches(p.htu, r):
		return proof{}, errDPoPProofURL
	case !d.inWindow(p.iat, now):
		return proof{}, errDPoPProofTime
	case token != "" && (!p.hasAth || p.ath != accessTokenHash(token)):
		return proof{}, errDPoPProofATH
	}
	return p, nil
}

// inWindow reports whether now is within the proof window of iat, either
// way: the clocks of clients are not the server's (docs/dpop.md).
func (d *dpopConfig) inWindow(iat numericDate, now time.Time) bool {
	t := iat.time()
	return !now.Before(t.Add(-d.window)) && now.Before(t.Add(d.window))
}

// accessTokenHash is the ath of a proof that comes with token: the
// base64url SHA-256 of its ASCII form (RFC 9449 §4.2).
func accessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// verifyProofJWS checks the compact JWS of a proof: its header (typ
// dpop+jwt, an accepted alg, a public jwk of that alg's kind, no crit),
// the key's thumbprint against want, the signature, then reads the claims.
func (d *dpopConfig) verifyProofJWS(compact, want string) (proof, *Error) {
	d1, d2, ok := jose.Split(compact)
	if !ok {
		return proof{}, errDPoPProofMalformed
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.raw = append(sc.raw[:0], compact...)
	raw := sc.raw
	sigSeg, payloadSeg := raw[d2+1:], raw[d1+1:d2]
	if sc.header, ok = jose.Decode(sc.header[:0], raw[:d1]); !ok || !jose.WellFormed(sigSeg) ||
		!jose.ValidB64(payloadSeg) || len(payloadSeg) == 0 {
		return proof{}, errDPoPProofMalformed
	}
	spec, key, e := d.readProofHeader(sc)
	if e != nil {
		return proof{}, e
	}
	pub, ok := key.publicKey(spec)
	if !ok {
		return proof{}, errDPoPProofHeader
	}
	var p proof
	p.jkt = key.thumbprint()
	if want != "" && p.jkt != want {
		return proof{}, errDPoPProofKey // before the signature: no work for another key's proof
	}
	var v alg.Verifier
	if v.Init(spec, nil, pub) != nil { // a weak RSA key, a point off its curve
		return proof{}, errDPoPProofHeader
	}
	if jose.DecodedLen(len(sigSeg)) != v.SignatureSize() {
		return proof{}, errDPoPProofSignature
	}
	if sc.sig, ok = jose.DecodeChecked(sc.sig[:0], sigSeg); !ok || !v.Verify(raw[:d2], sc.sig) {
		return proof{}, errDPoPProofSignature
	}
	if sc.payload, ok = jose.DecodeChecked(sc.payload[:0], payloadSeg); !ok {
		return proof{}, errDPoPProofMalformed
	}
	if e := readProofClaims(sc, &p); e != nil {
		return proof{}, e
	}
	return p, nil
}

// readProofHeader reads the decoded header in sc.header.
func (d *dpopConfig) readProofHeader(sc *scratch) (*alg.Spec, proofKey, *Error) {
	s := strictjson.Scanner{Data: sc.header, Arena: sc.headerStrings[:0], Names: sc.names[:0], MaxValues: maxProofValues}
	var it strictjson.Object
	var typ, name string
	var key proofKey
	hasKey, extension := false, false
	if !it.Begin(&s) {
		return nil, key, errDPoPProofMalformed
	}
	for it.Next(&s) {
		switch string(it.Name) {
		case "typ":
			typ, _ = readProofString(&s)
		case "alg":
			name, _ = readProofString(&s)
		case "jwk":
			var ok bool
			if key, ok = readProofKey(&s); !ok && s.Err() == strictjson.OK {
				return nil, key, errDPoPProofHeader
			}
			hasKey = true
		case "crit", "b64": // no extension is understood (RFC 7515 §4.1.11, RFC 7797)
			extension = true
			s.SkipValue()
		default:
			s.SkipValue()
		}
	}
	if s.Finish() != strictjson.OK {
		return nil, key, errDPoPProofMalformed
	}
	spec := d.algs[name]
	if typ != "dpop+jwt" || spec == nil || !hasKey || key.private || extension {
		return nil, key, errDPoPProofHeader
	}
	return spec, key, nil
}

// readProofClaims reads the decoded claims in sc.payload into p: jti, htm,
// htu and iat are required, ath is read when present; any other claim
// (nonce included, docs/dpop.md) is ignored.
func readProofClaims(sc *scratch, p *proof) *Error {
	s := strictjson.Scanner{Data: sc.payload, Arena: sc.headerStrings[:0], Names: sc.names[:0], MaxValues: maxProofValues}
	var it strictjson.Object
	if !it.Begin(&s) {
		return errDPoPProofMalformed
	}
	typed := true
	for it.Next(&s) {
		ok := true
		switch string(it.Name) {
		case "jti":
			p.jti, ok = readProofString(&s)
		case "htm":
			p.htm, ok = readProofString(&s)
		case "htu":
			p.htu, ok = readProofString(&s)
		case "ath":
			p.ath, ok = readProofString(&s)
			p.hasAth = true
		case "iat":
			var e *Error
			p.iat, e = parseDate(&s)
			ok = e == nil
		default:
			s.SkipValue()
		}
		typed = typed && ok
	}
	if s.Finish() != strictjson.OK || !typed || p.jti == "" || len(p.jti) > maxProofJTIBytes ||
		p.htm == "" || p.htu == "" || !p.iat.set {
		return errDPoPProofMalformed
	}
	return nil
}

// readProofString reads a string member; false when it is another type.
func readProofString(s *strictjson.Scanner) (string, bool) {
	if s.Peek() != '"' {
		s.SkipValue()
		return "", false
	}
	return s.ReadText(), true
}
