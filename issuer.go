package scopedtoken

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Issuer returns the iss that every token verified by this key must carry,
// or "" when the key is bound to no issuer.
func (k *VerificationKey) Issuer() string { return k.issuer }

// checkIssuer refuses a token whose key is bound to an issuer (Key.Issuer,
// RemoteConfig.Issuer) unless its iss is exactly that issuer: compared byte
// for byte, case-sensitively, with no normalisation (RFC 7519 §4.1.1 makes
// iss a case-sensitive string; OpenID Connect Core §3.1.3.7 asks for an exact
// match). An absent iss is refused too. It runs once per verification, before
// the result is cached; the cache then trusts the entry only while the lookup
// of its kid returns the same key, whose issuer never changes.
func checkIssuer(v *verified) *Error {
	if want := v.key.issuer; want != "" && v.iss != want {
		return ErrIssuerMismatch
	}
	return nil
}

var (
	errIssuerText  = errors.New("must be valid UTF-8 without control characters")
	errIssuerSpace = errors.New("must not begin or end with white space")
)

// checkIssuerName validates a configured issuer: "" (none), or valid UTF-8
// with no control characters and no leading or trailing white space. A
// token's iss is valid JSON text and so valid UTF-8; an issuer that no token
// could carry, or one with a stray space from a configuration file, is a
// mistake that would refuse every token, so it is reported when the key is
// built instead.
func checkIssuerName(iss string) error {
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
