package scopedtoken

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"sync"
)

// This file is the signature layer: compact JWS syntax, the header, key
// lookup by kid, the alg binding and the signature check. Nothing of the
// payload is read before the signature has verified.

var strictB64 = base64.RawURLEncoding.Strict()

// headerNames are the header members the package reads; a spelling that
// encoding/json would fold onto one of them makes the token invalid.
var headerNames = []string{"alg", "kid", "typ", "crit", "b64"}

// scratch holds the per-verification buffers, reused through a pool so that a
// rejected token costs no allocation.
type scratch struct {
	raw, header, sig []byte
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{raw: make([]byte, 0, 1024), header: make([]byte, 0, 256), sig: make([]byte, 0, 512)}
}}

// jws is a token whose signature has verified.
type jws struct {
	kid     string // set once the header has been read, even on failure
	key     *VerificationKey
	payload []byte // decoded; freshly allocated, safe to keep
}

// verifyJWS checks everything of docs/security.md that concerns the header and
// signature, and returns the verified, decoded payload. The payload is only
// decoded after the signature has verified.
func verifyJWS(ctx context.Context, keys KeySet, token string, maxBytes int) (jws, *Error) {
	if len(token) > maxBytes {
		return jws{}, ErrTokenTooLarge
	}
	d1 := strings.IndexByte(token, '.')
	if d1 < 0 {
		return jws{}, ErrMalformedToken
	}
	d2 := d1 + 1 + strings.IndexByte(token[d1+1:], '.')
	if d2 == d1 || strings.IndexByte(token[d2+1:], '.') >= 0 {
		return jws{}, ErrMalformedToken
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.raw = append(sc.raw[:0], token...)
	raw := sc.raw
	var ok bool
	if sc.header, ok = decodeSegment(sc.header[:0], raw[:d1]); !ok || len(sc.header) == 0 {
		return jws{}, ErrMalformedToken
	}
	if sc.sig, ok = decodeSegment(sc.sig[:0], raw[d2+1:]); !ok || len(sc.sig) == 0 {
		return jws{}, ErrMalformedToken
	}
	payloadSeg := raw[d1+1 : d2]
	if !validSegmentB64(payloadSeg) || len(payloadSeg) == 0 {
		return jws{}, ErrMalformedToken
	}
	alg, kid, e := parseHeader(sc.header)
	if e != nil {
		return jws{}, e
	}
	key, err := keys.LookupKey(ctx, kid)
	if err != nil {
		return jws{kid: kid}, lookupError(err)
	}
	if key == nil || key.id != kid {
		return jws{kid: kid}, ErrUnknownKID // a KeySet that answers wrongly fails closed
	}
	if alg != key.alg {
		return jws{kid: kid}, ErrAlgMismatch
	}
	if !key.verify(raw[:d2], sc.sig) {
		return jws{kid: kid}, ErrBadSignature
	}
	payload, ok := decodeSegment(make([]byte, 0, strictB64.DecodedLen(len(payloadSeg))), payloadSeg)
	if !ok {
		return jws{kid: kid}, ErrMalformedToken
	}
	return jws{kid: kid, key: key, payload: payload}, nil
}

// validSegmentB64 reports whether seg uses only the base64url alphabet. The
// standard decoder skips CR and LF even in strict mode, so this check is what
// makes decoding strict.
func validSegmentB64(seg []byte) bool {
	i := 0
	for ; i+4 <= len(seg); i += 4 { // four bytes per branch
		if charClass[seg[i]]&charClass[seg[i+1]]&charClass[seg[i+2]]&charClass[seg[i+3]]&classB64URL == 0 {
			return false
		}
	}
	for ; i < len(seg); i++ {
		if !isB64URL(seg[i]) {
			return false
		}
	}
	return true
}

func isB64URL(c byte) bool { return charClass[c]&classB64URL != 0 }

// Byte classes of the token syntax checks, looked up in one table: tokens are
// scanned byte by byte on every request, cached or not.
const (
	classB64URL   = 1 << iota // the base64url alphabet
	classB64Token             // also allowed in an RFC 6750 b64token: '.', '~', '+', '/'
)

var charClass = func() (t [256]uint8) {
	for c := range t {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			t[c] = classB64URL | classB64Token
		}
	}
	for _, c := range ".~+/" {
		t[c] = classB64Token
	}
	return t
}()

// decodeSegment decodes base64url without padding, refusing any character
// outside the alphabet and non-zero trailing bits.
func decodeSegment(dst, seg []byte) ([]byte, bool) {
	if !validSegmentB64(seg) {
		return dst, false
	}
	n := strictB64.DecodedLen(len(seg))
	if cap(dst) < n {
		dst = make([]byte, 0, n)
	}
	m, err := strictB64.Decode(dst[:n], seg)
	if err != nil {
		return dst, false
	}
	return dst[:m], true
}

// parseHeader reads the protected header: alg and kid are required strings,
// crit and b64 are refused, typ must say JWT when present, and every other
// member is validated and ignored (jku, x5u, jwk and x5c are never used).
func parseHeader(h []byte) (alg, kid string, e *Error) {
	s := scanner{data: h}
	var it objectIter
	var algB, kidB []byte
	hasAlg, hasKid := false, false
	if !it.begin(&s) {
		return "", "", ErrMalformedToken
	}
	for it.next(&s) {
		switch string(it.name) {
		case "alg":
			hasAlg = s.peek() == '"'
			if hasAlg {
				algB = s.readString()
			} else {
				s.skipValue()
			}
		case "kid":
			hasKid = s.peek() == '"'
			if hasKid {
				kidB = s.readString()
			} else {
				s.skipValue()
			}
		case "typ":
			if s.peek() != '"' {
				return "", "", ErrUnsupportedHeader
			}
			if typ := s.readString(); s.err == jsonOK && !bytes.EqualFold(typ, []byte("JWT")) {
				return "", "", ErrUnsupportedHeader
			}
		case "crit", "b64":
			return "", "", ErrUnsupportedHeader
		default:
			if foldsTo(it.name, headerNames) {
				return "", "", ErrAmbiguousMember
			}
			s.skipValue()
		}
	}
	if e := jsonResult(&s); e != nil {
		return "", "", e
	}
	// An unknown alg (every spelling of "none" included) is refused before any
	// key lookup, so that junk never triggers a key refresh.
	spec, known := algSpecs[string(algB)]
	if !hasAlg || !known {
		return "", "", ErrAlgMismatch
	}
	if !hasKid || len(kidB) == 0 {
		return "", "", ErrMissingKID
	}
	return spec.name, string(kidB), nil
}

// jsonResult turns the scanner's state after a top-level object into an error:
// a syntax error, a duplicate, or trailing data.
func jsonResult(s *scanner) *Error {
	switch {
	case s.err == jsonDuplicate:
		return ErrDuplicateMember
	case s.err != jsonOK || !s.atEnd():
		return ErrMalformedToken
	}
	return nil
}
