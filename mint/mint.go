package mint

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/internal/alg"
	"github.com/scopedtoken/scopedtoken/internal/chars"
	"github.com/scopedtoken/scopedtoken/internal/jose"
	"github.com/scopedtoken/scopedtoken/internal/strictjson"
)

// Key is a key that mints tokens: its kid, its one algorithm and either
// an HMAC secret (HS*) or a private key (RS*, PS*, ES*, EdDSA, Ed25519).
type Key struct {
	// ID is the kid written into each token's header (the jti, the token's
	// own ID, is Claims.ID).
	ID string
	// Algorithm is the one algorithm the key signs with. Empty means
	// DefaultAlgorithm of the key: HS256 for a secret, RS256 for RSA,
	// ES256/ES384/ES512 by curve, EdDSA for Ed25519 (name Ed25519 to sign
	// with the RFC 9864 algorithm).
	Algorithm  string
	Secret     []byte        // HMAC secret, for HS*
	PrivateKey crypto.Signer // *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey
}

// Config configures a Minter. Only Key is required.
type Config struct {
	Key Key
	// Lifetime is the default time from minting to exp. Default 5 minutes.
	Lifetime time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Verify, when set, checks every minted token with this middleware (at
	// the path of its first aud entry, with Middleware.VerifyUnused so that a
	// single-use token is not used up) before Mint returns it, so a token
	// that the API would refuse is never handed out.
	Verify *scopedtoken.Middleware
}

// DefaultLifetime is the default lifetime of a minted token.
const DefaultLifetime = 5 * time.Minute

// Claims are what a minted token says.
type Claims struct {
	// Audience is one or more API paths (the audience grammar of docs/security.md). Required.
	Audience []string
	// Query binds query parameters; one value is written as a string, several
	// as an array. Names are written in sorted order.
	Query url.Values
	// ExpiresIn overrides the Minter's lifetime; a negative value mints an
	// already expired token (for tests).
	ExpiresIn time.Duration
	// NoExpiry mints a token without exp; only a middleware configured with
	// scopedtoken.Config.AllowMissingExp accepts it.
	NoExpiry bool
	// NotBefore sets nbf when not zero.
	NotBefore           time.Time
	Issuer, Subject, ID string
	// Extra holds any other claims. It may not repeat a registered name.
	Extra map[string]any
	// Once mints a single-use token (the "once" claim, docs/revocation.md):
	// a middleware with scopedtoken.Config.Revocations accepts it once in the whole
	// fleet. It gets a random jti when ID is empty, and needs an expiry.
	Once bool
	// DPoPThumbprint binds the token to a client's key (the cnf.jkt claim,
	// RFC 9449 §6.1): the RFC 7638 SHA-256 thumbprint of its public key,
	// which a token endpoint gets from
	// scopedtoken.Middleware.VerifyDPoPProof. A middleware then accepts the
	// token only with a DPoP proof signed by that key (docs/dpop.md).
	DPoPThumbprint string
}

// Minter mints tokens with one key. It is safe for concurrent use.
type Minter struct {
	key      Key
	lifetime time.Duration
	now      func() time.Time
	verifier *scopedtoken.Middleware
	header   string // encoded, precomputed: it never changes
}

// ErrMint is wrapped by every minting error.
var ErrMint = errors.New("mint: cannot mint")

// New checks the key and builds a Minter. A key without an Algorithm takes
// DefaultAlgorithm of its secret or private key. The key must fit
// its algorithm exactly, as scopedtoken.NewVerificationKey requires of a
// verification key: a secret of at least the hash length for HS*, an RSA key
// of 2048 bits or more for RS*/PS*, the matching curve for ES*, an Ed25519
// key for EdDSA and for its RFC 9864 name Ed25519. Errors name the mismatch
// and never include key material.
func New(cfg Config) (*Minter, error) {
	k := cfg.Key
	if k.ID == "" {
		return nil, fmt.Errorf("%w: the key has no ID (kid)", ErrMint)
	}
	name, err := alg.ForSigning(k.Algorithm, k.Secret, k.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMint, err)
	}
	k.Algorithm = name
	if k.PrivateKey == nil {
		k.Secret = append([]byte(nil), k.Secret...)
	}
	header, _ := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{k.Algorithm, k.ID, "JWT"})
	m := &Minter{key: k, lifetime: cfg.Lifetime, now: cfg.Now, verifier: cfg.Verify,
		header: base64.RawURLEncoding.EncodeToString(header)}
	if m.lifetime <= 0 {
		m.lifetime = DefaultLifetime
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

// Mint returns a signed token for c. With Config.Verify set, the token is
// first checked by that middleware and its error returned instead.
func (m *Minter) Mint(c Claims) (string, error) {
	payload, err := m.payload(c)
	if err != nil {
		return "", err
	}
	input := m.header + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := m.sign([]byte(input))
	if err != nil {
		return "", fmt.Errorf("%w: signing failed: %w", ErrMint, err)
	}
	token := input + "." + base64.RawURLEncoding.EncodeToString(sig)
	if m.verifier != nil {
		if _, err := m.verifier.VerifyUnused(context.Background(), token, c.Audience[0]); err != nil {
			return "", fmt.Errorf("%w: the minted token does not verify: %w", ErrMint, err)
		}
	}
	return token, nil
}

func (m *Minter) payload(c Claims) ([]byte, error) {
	if len(c.Audience) == 0 {
		return nil, fmt.Errorf("%w: at least one audience path is required", ErrMint)
	}
	claims := make(map[string]any, len(c.Extra)+8)
	for name, v := range c.Extra {
		if jose.RegisteredClaim(name) {
			return nil, fmt.Errorf("%w: extra claim %q repeats a registered claim; use its field", ErrMint, name)
		}
		claims[name] = v
	}
	if len(c.Audience) == 1 {
		claims["aud"] = c.Audience[0]
	} else {
		claims["aud"] = c.Audience
	}
	now := m.now()
	claims["iat"] = now.Unix()
	if !c.NoExpiry {
		life := c.ExpiresIn
		if life == 0 {
			life = m.lifetime
		}
		claims["exp"] = now.Add(life).Unix()
	}
	if !c.NotBefore.IsZero() {
		claims["nbf"] = c.NotBefore.Unix()
	}
	if c.Once {
		if c.NoExpiry {
			return nil, fmt.Errorf("%w: a single-use token needs an expiry", ErrMint)
		}
		claims[scopedtoken.SingleUseClaim] = true
		if c.ID == "" {
			c.ID = randomID()
		}
	}
	for name, v := range map[string]string{"iss": c.Issuer, "sub": c.Subject, "jti": c.ID} {
		if v != "" {
			claims[name] = v
		}
	}
	if c.DPoPThumbprint != "" {
		if !validThumbprint(c.DPoPThumbprint) {
			return nil, fmt.Errorf("%w: DPoPThumbprint must be a base64url SHA-256 thumbprint (43 characters)", ErrMint)
		}
		claims["cnf"] = map[string]string{"jkt": c.DPoPThumbprint}
	}
	if len(c.Query) > 0 {
		q := make(map[string]any, len(c.Query))
		names := make([]string, 0, len(c.Query))
		for name := range c.Query {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			switch vals := c.Query[name]; len(vals) {
			case 0:
				return nil, fmt.Errorf("%w: query parameter %q has no value", ErrMint, name)
			case 1:
				q[name] = vals[0]
			default:
				q[name] = vals
			}
		}
		claims["query"] = q
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMint, err)
	}
	// The middleware refuses claims in which one object has two names that
	// fold together (role and ROLE in Extra, or in a nested value), so such a
	// token is not minted at all: the same strict scanner reads it here.
	if e := strictjson.Check(payload, false); e != strictjson.OK {
		return nil, fmt.Errorf("%w: the claims would be refused: the JSON %s", ErrMint, e)
	}
	return payload, nil
}

// validThumbprint reports whether jkt has the form the middleware accepts
// in cnf.jkt: 32 bytes in unpadded base64url.
func validThumbprint(jkt string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(jkt)
	return err == nil && len(b) == 32
}

// randomID returns 128 random bits, base64url: a jti that no other token has.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// sign returns the JWS signature of input with the Minter's key.
func (m *Minter) sign(input []byte) ([]byte, error) {
	return alg.Sign(m.key.Algorithm, m.key.Secret, m.key.PrivateKey, input)
}

// TokenURL returns base with the token added as the jwt query parameter, as
// emailed links carry it. An existing query and fragment are kept; an existing
// jwt parameter is replaced.
func TokenURL(base, token string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("%w: bad base URL: %w", ErrMint, err)
	}
	var kept []string
	for pair := range strings.SplitSeq(u.RawQuery, "&") {
		if name, _, _ := strings.Cut(pair, "="); pair != "" && !chars.UnescapedEquals(name, "jwt") {
			kept = append(kept, pair)
		}
	}
	u.RawQuery = strings.Join(append(kept, "jwt="+url.QueryEscape(token)), "&")
	return u.String(), nil
}
