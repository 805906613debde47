package scopedtokentest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"time"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/internal/alg"
)

// MintOption changes one thing about a minted token.
type MintOption func(*mintSpec)

// mintSpec is everything Mint needs to know. Claims and header fields are
// assembled as maps so that options can set any member, registered or not,
// to any JSON value.
type mintSpec struct {
	signKID   string
	aud       []string
	query     url.Values
	exp       time.Time
	expiresIn time.Duration
	noExp     bool
	nbf, iat  time.Time
	noIat     bool
	iss       string
	sub       string
	jti       string
	once      bool
	claims    map[string]any // set last, overriding everything above
	header    map[string]any // set last, overriding alg, kid and typ
	rawHeader []byte
	rawClaims []byte
	noSig     bool
	transform func(claims []byte) []byte // hostile: changes claims after signing
	wrongKey  bool                       // hostile: sign with a fresh key of the same alg
}

// omitted is the type of Omit.
type omitted struct{}

// Omit, given as the value to Claim or Header, removes that member from the
// token, for example Claim("aud", Omit) or Header("kid", Omit).
var Omit any = omitted{}

// SignWith signs with the issuer's key kid (see AddKey, HMACKeyID), which
// also becomes the header's kid. Default: the current asymmetric key (KeyID).
func SignWith(kid string) MintOption { return func(s *mintSpec) { s.signKID = kid } }

// Audience sets the aud paths (one is written as a string, several as an
// array; none, an empty array). Default: the issuer's (see WithAudience).
func Audience(paths ...string) MintOption {
	return func(s *mintSpec) { s.aud = append([]string{}, paths...) }
}

// Query adds a parameter to the query claim; one value is written as a
// string, several as an array.
func Query(name string, values ...string) MintOption {
	return func(s *mintSpec) {
		if s.query == nil {
			s.query = url.Values{}
		}
		s.query[name] = append(s.query[name], values...)
	}
}

// ExpiresIn sets exp to the issuer's now plus d (negative: in the past).
// Default DefaultLifetime.
func ExpiresIn(d time.Duration) MintOption { return func(s *mintSpec) { s.expiresIn = d } }

// ExpiresAt sets exp to t.
func ExpiresAt(t time.Time) MintOption { return func(s *mintSpec) { s.exp = t } }

// NoExpiry leaves exp out.
func NoExpiry() MintOption { return func(s *mintSpec) { s.noExp = true } }

// NotBefore sets nbf to t. Default: no nbf.
func NotBefore(t time.Time) MintOption { return func(s *mintSpec) { s.nbf = t } }

// IssuedAt sets iat to t. Default: the issuer's now.
func IssuedAt(t time.Time) MintOption { return func(s *mintSpec) { s.iat = t } }

// NoIssuedAt leaves iat out.
func NoIssuedAt() MintOption { return func(s *mintSpec) { s.noIat = true } }

// IssuerClaim sets iss.
func IssuerClaim(iss string) MintOption { return func(s *mintSpec) { s.iss = iss } }

// Subject sets sub.
func Subject(sub string) MintOption { return func(s *mintSpec) { s.sub = sub } }

// JWTID sets jti.
func JWTID(jti string) MintOption { return func(s *mintSpec) { s.jti = jti } }

// Once makes the token single-use (scopedtoken.SingleUseClaim), with a random
// jti unless JWTID sets one (Claim("jti", Omit) mints one without).
func Once() MintOption { return func(s *mintSpec) { s.once = true } }

// Claim sets the claim name to value (any value encoding/json can write), or
// removes it when value is Omit. It is applied after every other claim option,
// so it can also replace a registered claim with a wrong type, as in
// Claim("exp", "tomorrow").
func Claim(name string, value any) MintOption {
	return func(s *mintSpec) {
		if s.claims == nil {
			s.claims = map[string]any{}
		}
		s.claims[name] = value
	}
}

// Header sets the header member name to value, or removes it when value is
// Omit. The signature is still made with the signing key's own algorithm.
func Header(name string, value any) MintOption {
	return func(s *mintSpec) {
		if s.header == nil {
			s.header = map[string]any{}
		}
		s.header[name] = value
	}
}

// KeyID writes kid into the header instead of the signing key's kid. The
// token is still signed by the signing key, so a verifier that knows kid
// sees a bad signature: a hostile token. To sign with another key, use
// SignWith.
func KeyID(kid string) MintOption { return Header("kid", kid) }

// Alg writes alg into the header instead of the signing key's algorithm; the
// signature is still made with the key's own algorithm.
func Alg(alg string) MintOption { return Header("alg", alg) }

// RawHeader uses header, byte for byte, as the JSON of the protected header;
// every other header option is ignored.
func RawHeader(header []byte) MintOption {
	return func(s *mintSpec) { s.rawHeader = append([]byte(nil), header...) }
}

// RawClaims uses claims, byte for byte, as the JSON of the payload; every
// other claim option is ignored.
func RawClaims(claims []byte) MintOption {
	return func(s *mintSpec) { s.rawClaims = append([]byte(nil), claims...) }
}

// Mint returns a signed token: by default signed by the current asymmetric
// key, with aud DefaultAudience (or WithAudience's), iat the issuer's now and
// exp DefaultLifetime later. It calls t.Fatal when the token cannot be built.
func (i *Issuer) Mint(opts ...MintOption) string {
	i.t.Helper()
	tok, err := i.TryMint(opts...)
	if err != nil {
		i.t.Fatal(err)
	}
	return tok
}

// TryMint is Mint returning its error instead of calling t.Fatal, for
// goroutines other than the test's (parallel clients, benchmarks' workers).
func (i *Issuer) TryMint(opts ...MintOption) (string, error) {
	var s mintSpec
	for _, o := range opts {
		o(&s)
	}
	tok, err := i.build(&s)
	if err != nil {
		return "", fmt.Errorf("scopedtokentest: %w", err)
	}
	return tok, nil
}

// Claims returns the claims Mint would write for opts, as JSON, for tests that
// compare them with what a handler sees.
func (i *Issuer) Claims(opts ...MintOption) []byte {
	i.t.Helper()
	var s mintSpec
	for _, o := range opts {
		o(&s)
	}
	b, err := i.claimsJSON(&s)
	if err != nil {
		i.t.Fatalf("scopedtokentest: %v", err)
	}
	return b
}

func (i *Issuer) build(s *mintSpec) (string, error) {
	k, err := i.signer(s.signKID)
	if err != nil {
		return "", err
	}
	header := s.rawHeader
	if header == nil {
		h := map[string]any{"alg": k.alg, "kid": k.kid, "typ": "JWT"}
		setMembers(h, s.header)
		if header, err = json.Marshal(h); err != nil {
			return "", fmt.Errorf("header: %w", err)
		}
	}
	claims, err := i.claimsJSON(s)
	if err != nil {
		return "", err
	}
	input := b64(header) + "." + b64(claims)
	if s.noSig {
		return input + ".", nil
	}
	if s.wrongKey {
		if k, err = generateKey(k.alg); err != nil {
			return "", err
		}
	}
	sig, err := alg.Sign(k.alg, k.secret, k.private, []byte(input))
	if err != nil {
		return "", fmt.Errorf("signing with %s: %w", k.alg, err)
	}
	if s.transform != nil {
		input = b64(header) + "." + b64(s.transform(claims))
	}
	return input + "." + b64(sig), nil
}

func (i *Issuer) claimsJSON(s *mintSpec) ([]byte, error) {
	if s.rawClaims != nil {
		return s.rawClaims, nil
	}
	now := i.now()
	c := map[string]any{}
	aud := s.aud
	if aud == nil {
		aud = i.audience
	}
	if len(aud) == 1 {
		c["aud"] = aud[0]
	} else {
		c["aud"] = aud
	}
	if !s.noIat {
		c["iat"] = unix(now)
		if !s.iat.IsZero() {
			c["iat"] = unix(s.iat)
		}
	}
	if !s.noExp {
		switch {
		case !s.exp.IsZero():
			c["exp"] = unix(s.exp)
		case s.expiresIn != 0:
			c["exp"] = unix(now.Add(s.expiresIn))
		default:
			c["exp"] = unix(now.Add(DefaultLifetime))
		}
	}
	if !s.nbf.IsZero() {
		c["nbf"] = unix(s.nbf)
	}
	jti := s.jti
	if s.once {
		c[scopedtoken.SingleUseClaim] = true
		if jti == "" {
			jti = randomID()
		}
	}
	for name, v := range map[string]string{"iss": s.iss, "sub": s.sub, "jti": jti} {
		if v != "" {
			c[name] = v
		}
	}
	if len(s.query) > 0 {
		q := make(map[string]any, len(s.query))
		for name, vals := range s.query {
			if len(vals) == 1 {
				q[name] = vals[0]
			} else {
				q[name] = vals
			}
		}
		c["query"] = q
	}
	setMembers(c, s.claims)
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	return b, nil
}

// setMembers applies overrides to m; Omit removes a member.
func setMembers(m, overrides map[string]any) {
	maps.Copy(m, overrides)
	for name, v := range overrides {
		if _, omit := v.(omitted); omit {
			delete(m, name)
		}
	}
}

// unix writes whole seconds, as real issuers do; a fraction would be valid but
// unusual.
func unix(t time.Time) int64 { return t.Unix() }

// randomID returns 128 random bits, base64url.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return b64(b[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
