package scopedtoken

import "slices"

// Issuers returns a copy of the issuers whose tokens this key accepts, each
// once, Key.Issuer first, or nil when the key is bound to no issuer and so
// accepts any iss.
func (k *VerificationKey) Issuers() []string {
	if k.issuer == "" {
		return nil
	}
	return append([]string{k.issuer}, k.moreIssuers...)
}

// AcceptsIssuer reports whether a token with this iss (after JSON unescaping;
// "" when absent) may be verified by this key: always when the key is bound to
// no issuer; else only when iss is exactly one of Issuers, compared byte for
// byte, case-sensitively, with no normalisation (RFC 7519 §4.1.1 makes iss a
// case-sensitive string; OpenID Connect Core §3.1.3.7 asks for an exact
// match). A bound key never accepts "", so AcceptsIssuer("") is false exactly
// when the key is bound (docs/keys.md, "Several issuers").
func (k *VerificationKey) AcceptsIssuer(iss string) bool {
	return k.issuer == "" || iss == k.issuer || (k.moreIssuers != nil && slices.Contains(k.moreIssuers, iss))
}

// checkIssuer refuses a token whose key is bound to issuers (Key.Issuer,
// Key.Issuers, jwks.Config.Issuer, jwks.Config.Issuers) unless its iss is
// one of them (AcceptsIssuer). An absent iss is refused too. A key with one
// issuer costs one string compare, as before Issuers existed: the list is
// scanned only after that compare fails. It runs once per verification,
// before the result is cached; the cache then trusts the entry only while the
// lookup of its kid returns the same key, whose issuers never change.
func checkIssuer(v *verified) *Error {
	if !v.key.AcceptsIssuer(v.iss) {
		return errIssuerMismatch
	}
	return nil
}
