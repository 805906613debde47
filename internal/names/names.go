// Package names holds the syntax of the names that both scopedtoken and its
// jwks package check: path segments (every segment of an aud path, and a
// key's business ID, which stands in one), the business word "me", and the
// issuer a key may be bound to. The rules are described in docs/security.md
// and docs/keys.md.
package names

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
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
		if !IsPchar(seg[i]) {
			return false
		}
	}
	return true
}

// IsPchar reports whether c is an RFC 3986 pchar other than '%': unreserved,
// a sub-delim, ':' or '@'.
func IsPchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0
}

// ValidBusiness reports whether b may be a key's business: a valid segment
// other than Me, which stands for the business and cannot be one.
func ValidBusiness(b string) bool {
	return b != Me && ValidSegment(b)
}

var (
	errIssuerText  = errors.New("must be valid UTF-8 without control characters")
	errIssuerSpace = errors.New("must not begin or end with white space")
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
