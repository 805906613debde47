package jose

import (
	"encoding/base64"
	"strings"

	"github.com/scopedtoken/scopedtoken/internal/chars"
)

// b64 decodes unpadded base64url and refuses non-zero trailing bits. It skips
// CR and LF even in strict mode, so ValidB64 is what makes decoding strict.
var b64 = base64.RawURLEncoding.Strict()

// Split finds the two dots of a compact JWS: the header is
// token[:headerEnd], the payload token[headerEnd+1:payloadEnd] and the
// signature token[payloadEnd+1:]. ok is false unless there are exactly two.
func Split(token string) (headerEnd, payloadEnd int, ok bool) {
	d1 := strings.IndexByte(token, '.')
	if d1 < 0 {
		return 0, 0, false
	}
	d2 := d1 + 1 + strings.IndexByte(token[d1+1:], '.')
	if d2 == d1 || strings.IndexByte(token[d2+1:], '.') >= 0 {
		return 0, 0, false
	}
	return d1, d2, true
}

// DecodedLen is the most bytes a segment of n characters decodes to.
func DecodedLen(n int) int { return b64.DecodedLen(n) }

// ValidB64 reports whether seg uses only the base64url alphabet.
func ValidB64(seg []byte) bool { return chars.Span(seg, chars.B64URL) == len(seg) }

// WellFormed reports whether seg is non-empty and Decode would decode it,
// without decoding more than its last few characters.
func WellFormed(seg []byte) bool {
	if len(seg) == 0 || !ValidB64(seg) {
		return false
	}
	var tail [3]byte // quanta decode on their own: only the last can be short
	_, err := b64.Decode(tail[:], seg[len(seg)&^3:])
	return err == nil
}

// Decode decodes base64url without padding onto dst[:0] (growing it when it
// is too small), refusing any character outside the alphabet and non-zero
// trailing bits.
func Decode(dst, seg []byte) ([]byte, bool) {
	if !ValidB64(seg) {
		return dst, false
	}
	return DecodeChecked(dst, seg)
}

// DecodeChecked is Decode for a segment that ValidB64 has already accepted.
func DecodeChecked(dst, seg []byte) ([]byte, bool) {
	n := b64.DecodedLen(len(seg))
	if cap(dst) < n {
		dst = make([]byte, 0, n)
	}
	m, err := b64.Decode(dst[:n], seg)
	if err != nil {
		return dst, false
	}
	return dst[:m], true
}
