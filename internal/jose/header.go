package jose

import (
	"bytes"
	"slices"

	"github.com/scopedtoken/scopedtoken/internal/alg"
	"github.com/scopedtoken/scopedtoken/internal/strictjson"
)

// MaxHeaderBytes is the most bytes a protected header may have once decoded,
// and MaxHeaderValues the most JSON values it may hold (members and array
// elements, at any depth); package scopedtoken exports both. A header of
// alg, kid and typ takes 3 values and under 100 bytes.
const (
	MaxHeaderBytes  = 1024
	MaxHeaderValues = 32
)

// MaxHeaderValues may not exceed strictjson.SmallNames (this fails to
// compile if it does): then no object of a header needs a map, and the names
// of a whole header fit in the room a caller lends, so that reading a header
// never allocates.
var _ [strictjson.SmallNames - MaxHeaderValues]struct{}

// HeaderNames are the header parameters the middleware reads; a spelling
// that encoding/json would fold onto one of them makes the token invalid.
var HeaderNames = []string{"alg", "kid", "typ", "crit", "b64"}

// SingleUse is the claim of a single-use token (docs/revocation.md).
const SingleUse = "once"

// ClaimNames are the claims the middleware reads; a spelling that
// encoding/json would fold onto one of them makes the token invalid.
var ClaimNames = []string{"aud", "exp", "nbf", "iat", "query", "iss", "sub", "jti", SingleUse, "cnf"}

// RegisteredClaim reports whether name is one of ClaimNames, or differs from
// one only by encoding/json's case folding.
func RegisteredClaim(name string) bool {
	return slices.Contains(ClaimNames, name) || strictjson.FoldsTo([]byte(name), ClaimNames)
}

// Header is what ParseHeader reads from a protected header.
type Header struct{ Alg, Kid string }

// Fault is why a header or the claims are refused, or OK.
type Fault uint8

// The faults, each of which the middleware answers with its own reason.
const (
	OK          Fault = iota
	Malformed         // not strictly valid JSON, not an object, or trailing data
	Duplicate         // a member name repeated
	Ambiguous         // a member name folded onto another or onto a registered one
	TooLarge          // more values than MaxHeaderValues
	Unsupported       // crit, b64, or a typ other than JWT
	UnknownAlg        // alg missing, not a string, or not supported
	NoKID             // kid missing, empty or not a string
)

// FaultOf is the fault of a JSON scan that ended with e.
func FaultOf(e strictjson.Error) Fault {
	switch e {
	case strictjson.OK:
		return OK
	case strictjson.Duplicate:
		return Duplicate
	case strictjson.Ambiguous:
		return Ambiguous
	case strictjson.TooLarge:
		return TooLarge
	}
	return Malformed
}

// ParseHeader reads the decoded protected header h: alg and kid are required
// strings, alg one of package alg's (every spelling of "none" is refused
// here, before any key lookup, so that junk never triggers a key refresh),
// crit and b64 are refused, typ must say JWT in any case when present, and
// every other member is validated and ignored (jku, x5u, jwk and x5c are
// never used). The header's strings are unescaped into arena and its member
// names kept in names, whose room it reuses: with arena of MaxHeaderBytes
// and names of MaxHeaderValues it allocates nothing but the kid. Alg is the
// table's own string.
//
// Names are compared exactly, and each is checked against HeaderNames under
// encoding/json's folding; other names' case variants are not looked for,
// since nothing reads them, and folding every name of a token nobody has
// signed yet would cost a Unicode lookup per rune.
func ParseHeader(h, arena []byte, names []strictjson.Name) (Header, Fault) {
	s := strictjson.Scanner{Data: h, ExactNames: true, MaxValues: MaxHeaderValues, Arena: arena[:0], Names: names[:0]}
	var it strictjson.Object
	var algB, kidB []byte
	hasAlg, hasKid := false, false
	if !it.Begin(&s) {
		return Header{}, Malformed
	}
	for it.Next(&s) {
		switch string(it.Name) {
		case "alg":
			hasAlg = s.Peek() == '"'
			if hasAlg {
				algB = s.ReadString()
			} else {
				s.SkipValue()
			}
		case "kid":
			hasKid = s.Peek() == '"'
			if hasKid {
				kidB = s.ReadString()
			} else {
				s.SkipValue()
			}
		case "typ":
			if s.Peek() != '"' {
				return Header{}, Unsupported
			}
			if typ := s.ReadString(); s.Err() == strictjson.OK && !bytes.EqualFold(typ, []byte("JWT")) {
				return Header{}, Unsupported
			}
		case "crit", "b64":
			return Header{}, Unsupported
		default:
			if strictjson.FoldsTo(it.Name, HeaderNames) {
				return Header{}, Ambiguous
			}
			s.SkipValue()
		}
	}
	if f := FaultOf(s.Finish()); f != OK {
		return Header{}, f
	}
	spec, known := alg.LookupBytes(algB)
	if !hasAlg || !known {
		return Header{}, UnknownAlg
	}
	if !hasKid || len(kidB) == 0 {
		return Header{}, NoKID
	}
	return Header{Alg: spec.Name, Kid: string(kidB)}, OK
}
