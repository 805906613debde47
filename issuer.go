package scopedtoken

// Issuer returns the iss that every token verified by this key must carry,
// or "" when the key is bound to no issuer.
func (k *VerificationKey) Issuer() string { return k.issuer }

// checkIssuer refuses a token whose key is bound to an issuer (Key.Issuer,
// jwks.Config.Issuer) unless its iss is exactly that issuer: compared byte
// for byte, case-sensitively, with no normalisation (RFC 7519 §4.1.1 makes
// iss a case-sensitive string; OpenID Connect Core §3.1.3.7 asks for an exact
// match). An absent iss is refused too. It runs once per verification, before
// the result is cached; the cache then trusts the entry only while the lookup
// of its kid returns the same key, whose issuer never changes.
func checkIssuer(v *verified) *Error {
	if want := v.key.issuer; want != "" && v.iss != want {
		return errIssuerMismatch
	}
	return nil
}
