package scopedtoken

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"sync"
	"sync/atomic"
)

// This file is the signature layer: compact JWS syntax, the header, key
// lookup by kid, the alg binding and the signature check. Nothing of the
// payload is read before the signature has verified, and the JSON read
// before it is bounded by MaxHeaderBytes and MaxHeaderValues rather than by
// MaxTokenBytes, so that a token nobody signed costs little to refuse.

// MaxHeaderBytes is the most bytes a token's protected header may have once
// decoded, and MaxHeaderValues the most JSON values it may hold (members and
// array elements, at any depth). A token over either is refused with
// ErrTokenTooLarge before its signature is checked. A header of alg, kid and
// typ takes 3 values and under 100 bytes; one that also embeds a jwk or an
// x5c chain (never used) still fits, unless the certificates are large.
const (
	MaxHeaderBytes  = 1024
	MaxHeaderValues = 32
)

// MaxHeaderValues may not exceed smallNames (this fails to compile if it
// does): then no object of a header needs a map, and the names of a whole
// header fit in scratch.names, so that reading a header never allocates.
var _ [smallNames - MaxHeaderValues]struct{}

var strictB64 = base64.RawURLEncoding.Strict()

// headerNames are the header members the package reads; a spelling that
// encoding/json would fold onto one of them makes the token invalid.
var headerNames = []string{"alg", "kid", "typ", "crit", "b64"}

// scratch holds the per-verification buffers, reused through a pool so that a
// rejected token costs no allocation. The header, the strings unescaped from
// it and its member names fit in them whatever the header says; names also
// serves the claims (it holds no pointer, so it keeps no token alive).
type scratch struct {
	raw, header, headerStrings, sig, payload []byte
	names                                    []seenName
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{raw: make([]byte, 0, 1024), header: make([]byte, 0, MaxHeaderBytes),
		headerStrings: make([]byte, 0, MaxHeaderBytes), sig: make([]byte, 0, 512), payload: make([]byte, 0, 1024),
		names: make([]seenName, 0, smallNames)}
}}

// jws is a token whose signature has verified.
type jws struct {
	kid     string // set once the header has been read, even on failure
	key     *VerificationKey
	payload string // decoded
}

// verifyJWS checks everything of docs/security.md that concerns the header and
// signature, and returns the verified, decoded payload. The payload is only
// decoded after the signature has verified.
func verifyJWS(ctx context.Context, keys KeySet, token string, maxBytes int) (jws, *Error) {
	return verifyJWSWith(ctx, keys, token, maxBytes, nil)
}

// verifyJWSWith is verifyJWS with a memo of headers already read (nil: none).
func verifyJWSWith(ctx context.Context, keys KeySet, token string, maxBytes int, headers *headerMemo) (jws, *Error) {
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
	if strictB64.DecodedLen(d1) > MaxHeaderBytes {
		return jws{}, ErrTokenTooLarge
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.raw = append(sc.raw[:0], token...)
	raw := sc.raw
	var ok bool
	h, known := headers.get(raw[:d1])
	if !known {
		if sc.header, ok = decodeSegment(sc.header[:0], raw[:d1]); !ok || len(sc.header) == 0 {
			return jws{}, ErrMalformedToken
		}
	}
	// The signature is checked for its encoding here, and decoded once the key
	// says how long it must be.
	sigSeg := raw[d2+1:]
	if !wellFormedSegment(sigSeg) {
		return jws{}, ErrMalformedToken
	}
	payloadSeg := raw[d1+1 : d2]
	if !validSegmentB64(payloadSeg) || len(payloadSeg) == 0 {
		return jws{}, ErrMalformedToken
	}
	if !known {
		var e *Error
		if h.alg, h.kid, e = parseHeader(sc.header, sc); e != nil {
			return jws{}, e
		}
	}
	alg, kid := h.alg, h.kid
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
	if strictB64.DecodedLen(len(sigSeg)) != signatureSize(key) {
		return jws{kid: kid}, ErrBadSignature
	}
	if sc.sig, ok = decodeCheckedSegment(sc.sig[:0], sigSeg); !ok { // checked by wellFormedSegment
		return jws{kid: kid}, ErrMalformedToken
	}
	if !key.verify(raw[:d2], sc.sig) {
		return jws{kid: kid}, ErrBadSignature
	}
	if sc.payload, ok = decodeCheckedSegment(sc.payload[:0], payloadSeg); !ok { // checked above
		return jws{kid: kid}, ErrMalformedToken
	}
	if !known {
		headers.put(token[:d1], h) // only the header of a token that verified
	}
	// One string of the payload: the claims' strings are substrings of it.
	return jws{kid: kid, key: key, payload: string(sc.payload)}, nil
}

// parsedHeader is what parseHeader read from a header.
type parsedHeader struct{ alg, kid string }

// headerMemo remembers what parseHeader read from the encoded headers of
// tokens that verified, so that the header every token of an issuer shares
// is decoded and parsed once rather than per verification. The result of
// parseHeader is a function of the encoded header alone, so a header found
// here reads exactly as parsing it again would; the key lookup, the alg
// binding and the signature check still run for every token. It holds at
// most maxHeaderMemo headers, and only of tokens that verified, so tokens
// nobody signed cannot fill it; a hit writes no shared memory.
type headerMemo struct {
	known atomic.Pointer[map[string]parsedHeader] // never written once published
	mu    sync.Mutex                              // serialises writers
}

const maxHeaderMemo = 16

func (hm *headerMemo) get(encoded []byte) (parsedHeader, bool) {
	if hm == nil {
		return parsedHeader{}, false
	}
	if m := hm.known.Load(); m != nil {
		h, ok := (*m)[string(encoded)]
		return h, ok
	}
	return parsedHeader{}, false
}

func (hm *headerMemo) put(encoded string, h parsedHeader) {
	if hm == nil {
		return
	}
	hm.mu.Lock()
	defer hm.mu.Unlock()
	var cur map[string]parsedHeader
	if m := hm.known.Load(); m != nil {
		cur = *m
	}
	if _, ok := cur[encoded]; ok || len(cur) >= maxHeaderMemo {
		return
	}
	next := make(map[string]parsedHeader, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	next[strings.Clone(encoded)] = h
	hm.known.Store(&next)
}

// signatureSize is the length of every valid signature under key, so that a
// signature of another length is refused without decoding it.
func signatureSize(key *VerificationKey) int {
	switch spec := key.spec; spec.family {
	case familyHMAC:
		return spec.hash.Size()
	case familyRSA, familyPSS:
		return key.rsaKey.Size()
	case familyECDSA:
		return 2 * ((spec.curve.Params().BitSize + 7) / 8)
	}
	return ed25519.SignatureSize
}

// validSegmentB64 reports whether seg uses only the base64url alphabet. The
// standard decoder skips CR and LF even in strict mode, so this check is what
// makes decoding strict.
func validSegmentB64(seg []byte) bool { return classSpan(seg, classB64URL) == len(seg) }

// classSpan returns the length of the longest prefix of s whose bytes are all
// of class c.
func classSpan[T string | []byte](s T, c uint8) int {
	i := 0
	for ; i+4 <= len(s); i += 4 { // four bytes per branch
		q := s[i : i+4] // one bounds check for the four
		if charClass[q[0]]&charClass[q[1]]&charClass[q[2]]&charClass[q[3]]&c == 0 {
			break
		}
	}
	for i < len(s) && charClass[s[i]]&c != 0 {
		i++
	}
	return i
}

func isB64URL(c byte) bool { return charClass[c]&classB64URL != 0 }

// Byte classes of the token, path and query syntax checks, looked up in one
// table: tokens, paths and queries are scanned byte by byte on every request,
// cached or not.
const (
	classB64URL       = 1 << iota // the base64url alphabet
	classB64Token                 // also allowed in an RFC 6750 b64token: '.', '~', '+', '/'
	classPathPlain                // a path byte checkPath passes over: not '/', '%', '\', a control or a space
	classQuerySpecial             // a query byte cutPair stops at: '&', '=', ';' or '%'
	classPlainSegment             // a path byte url.URL.EscapedPath leaves as it is, but '/'
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
	for _, c := range "&=;%" {
		t[c] |= classQuerySpecial
	}
	for c := range t {
		if c > ' ' && c != 0x7f && c != '/' && c != '%' && c != '\\' {
			t[c] |= classPathPlain
		}
		if t[c]&classB64URL != 0 {
			t[c] |= classPlainSegment
		}
	}
	for _, c := range ".~$&+,:;=@" { // RFC 3986 unreserved and the sub-delims net/url keeps in paths
		t[c] |= classPlainSegment
	}
	return t
}()

// wellFormedSegment reports whether seg is non-empty and decodeSegment would
// decode it, without decoding more than its last few characters.
func wellFormedSegment(seg []byte) bool {
	if len(seg) == 0 || !validSegmentB64(seg) {
		return false
	}
	var tail [3]byte // quanta decode on their own: only the last can be short
	_, err := strictB64.Decode(tail[:], seg[len(seg)&^3:])
	return err == nil
}

// decodeSegment decodes base64url without padding, refusing any character
// outside the alphabet and non-zero trailing bits.
func decodeSegment(dst, seg []byte) ([]byte, bool) {
	if !validSegmentB64(seg) {
		return dst, false
	}
	return decodeCheckedSegment(dst, seg)
}

// decodeCheckedSegment is decodeSegment for a segment that validSegmentB64
// has already accepted.
func decodeCheckedSegment(dst, seg []byte) ([]byte, bool) {
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
// It works in sc's buffers when sc is not nil, and then does not allocate.
//
// Names are compared exactly, and each is checked against the names read here
// under encoding/json's folding; other names' case variants are not looked
// for, since nothing reads them, and folding every name of a token nobody has
// signed yet would cost a Unicode lookup per rune.
func parseHeader(h []byte, sc *scratch) (alg, kid string, e *Error) {
	s := scanner{data: h, exactNames: true, maxValues: MaxHeaderValues}
	if sc != nil {
		s.arena, s.names = sc.headerStrings[:0], sc.names[:0]
	}
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
// that of the scan, or trailing data.
func jsonResult(s *scanner) *Error {
	if e := s.err.refusal(); e != nil {
		return e
	}
	if !s.atEnd() {
		return ErrMalformedToken
	}
	return nil
}

// refusal is the reason a token is refused for a scanner error, or nil.
func (e jsonError) refusal() *Error {
	switch e {
	case jsonOK:
		return nil
	case jsonDuplicate:
		return ErrDuplicateMember
	case jsonAmbiguous:
		return ErrAmbiguousMember
	case jsonTooLarge:
		return ErrTokenTooLarge
	}
	return ErrMalformedToken
}
