// Package names holds the syntax of the names that both scopedtoken and its
// jwks package check: path segments (every segment of an aud path, and a
// key's business ID, which stands in one), the business word "me", and the
// issuer a key may be bound to. The rules are described in docs/security.md
// and docs/keys.md.
package names

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/scopedtoken/scopedtoken/internal/chars"
)

// Me is the business word that stands for the key's own business.
const Me = "me"

// ValidSegment reports whether seg is a non-empty pchar segment without
// percent-encoding (RFC 3986 §3.3) that is not a dot segment.
func ValidSegment(seg string) bool {
	if seg == "" || seg == "." || seg == ".." {
		return false
	}
	for i := 0; i < len(seg); i++ {
		if !chars.IsPchar(seg[i]) {
			return false
		}
	}
	return true
}

// ValidBusiness reports whether b may be a key's business: a valid segment
// other than Me, which stands for the business and cannot be one.
func ValidBusiness(b string) bool {
	return b != Me && ValidSegment(b)
}

var (
	errIssuerText  = errors.New("must be valid UTF-8 without control characters")
	errIssuerSpace = errors.New("must not begin or end with white space")
	errIssuerEmpty = errors.New("must not hold an empty issuer")
)

// CheckIssuer validates a configured issuer: "" (none), or valid UTF-8 with
// no control characters and no leading or trailing white space. A token's iss
// is valid JSON text and so valid UTF-8; an issuer that no token could carry,
// or one with a stray space from a configuration file, is a mistake that
// would refuse every token, so it is reported when the key (or the key set)
// is built instead. The error reads after the name of the field, as in
// "Issuer must not begin or end with white space".
func CheckIssuer(iss string) error {
	if iss == "" {
		return nil
	}
	if !utf8.ValidString(iss) || strings.IndexFunc(iss, unicode.IsControl) >= 0 {
		return errIssuerText
	}
	if strings.TrimSpace(iss) != iss {
		return errIssuerSpace
	}
	return nil
}

// Issuers validates a configured issuer (one, "" for none) and a list of
// further issuers (more) with CheckIssuer, and returns every issuer once, in
// the order given, one first: nil when there is none. An empty string in more
// is refused, since it would read as "no binding" in a list meant to bind. The
// error names the field, as in "Issuers[1] must not begin or end with white
// space" (the fields are Issuer and Issuers in both scopedtoken.Key and
// jwks.Config).
func Issuers(one string, more []string) ([]string, error) {
	if err := CheckIssuer(one); err != nil {
		return nil, fmt.Errorf("%s %w", "Issuer", err) // the field's name, not a sentence: it keeps its capital
	}
	var all []string
	if one != "" {
		all = append(all, one)
	}
	for i, iss := range more {
		if iss == "" {
			return nil, fmt.Errorf("%s[%d] %w", "Issuers", i, errIssuerEmpty)
		}
		if err := CheckIssuer(iss); err != nil {
			return nil, fmt.Errorf("%s[%d] %w", "Issuers", i, err)
		}
		if !slices.Contains(all, iss) {
			all = append(all, iss)
		}
	}
	return all, nil
}

// Aud is the outcome of ParseAud: the business and tail of a valid aud entry,
// or the first fault of an invalid one. It is a plain value, so that checking
// a token's aud allocates nothing; Err puts the fault in words.
type Aud struct {
	Business string
	Tail     string // endpoint and optional path, without a trailing '/'
	fault    audFault
	seg      string // the faulty segment
	char     byte   // the byte of seg that is not a pchar
}

type audFault uint8

const (
	audOK audFault = iota
	audNoPrefix
	audTooShort
	audEmptySegment
	audDotSegment
	audBadChar
)

// ParseAud checks one aud entry against the audience grammar of
// docs/security.md: prefix, then at least a business and an endpoint segment,
// each segment non-empty, not "." or "..", and made of RFC 3986 pchar without
// percent-encoding. One trailing '/' is ignored. It is the one statement of
// the grammar: the middleware reads token aud claims with it, and
// mint.CheckAudience (for token specs and the CLI) explains its faults with
// Aud.Err.
func ParseAud(prefix, raw string) Aud {
	rest, ok := strings.CutPrefix(raw, prefix)
	if !ok {
		return Aud{fault: audNoPrefix}
	}
	rest = strings.TrimSuffix(rest, "/")
	business, tail, ok := strings.Cut(rest, "/")
	if !ok {
		return Aud{fault: audTooShort}
	}
	if a := checkAudSegment(business); a.fault != audOK {
		return a
	}
	for seg := range strings.SplitSeq(tail, "/") {
		if a := checkAudSegment(seg); a.fault != audOK {
			return a
		}
	}
	return Aud{Business: business, Tail: tail}
}

func checkAudSegment(seg string) Aud {
	switch seg {
	case "":
		return Aud{fault: audEmptySegment}
	case ".", "..":
		return Aud{fault: audDotSegment, seg: seg}
	}
	for i := 0; i < len(seg); i++ {
		if !chars.IsPchar(seg[i]) {
			return Aud{fault: audBadChar, seg: seg, char: seg[i]}
		}
	}
	return Aud{}
}

// OK reports whether the entry fits the grammar.
func (a Aud) OK() bool { return a.fault == audOK }

// Err says, in words, why entry (the raw aud entry given to ParseAud with
// prefix) does not fit the grammar, or returns nil when it does.
func (a Aud) Err(prefix, entry string) error {
	switch a.fault {
	case audOK:
		return nil
	case audNoPrefix:
		return fmt.Errorf("aud %q does not start with %q", entry, prefix)
	case audTooShort:
		return fmt.Errorf("aud %q needs a business and an endpoint after %q, as in %q", entry, prefix, prefix+Me+"/search")
	case audEmptySegment:
		return fmt.Errorf("aud %q has an empty segment", entry)
	case audDotSegment:
		return fmt.Errorf("aud %q has the dot segment %q", entry, a.seg)
	}
	return fmt.Errorf("aud %q: segment %q holds %q, which an aud path may not contain (percent-encoding included)", entry, a.seg, a.char)
}

// ValidPrefix reports whether p may be the path prefix of aud entries
// (scopedtoken.Config.Prefix, mint.SpecsConfig.Prefix): it starts and ends
// with '/' and holds only valid segments.
func ValidPrefix(p string) bool {
	if len(p) < 2 || p[0] != '/' || p[len(p)-1] != '/' {
		return false
	}
	for seg := range strings.SplitSeq(p[1:len(p)-1], "/") {
		if !ValidSegment(seg) {
			return false
		}
	}
	return true
}

// PlainFileName reports whether a key ID can name the files of its key as it
// is (docs/minting.md): 1 to 200 ASCII letters, digits, '-', '_' and '.',
// not starting with '.', so that it can never be a path, a hidden file or a
// name some file system reads differently. The CLI writes keys under such
// names and mint.DirKeySource reads them.
func PlainFileName(s string) bool {
	if s == "" || s[0] == '.' || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
