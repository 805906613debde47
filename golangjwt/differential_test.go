package golangjwt_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
	"github.com/scopedtoken/scopedtoken/mint"
)

// keyReasons are the middleware's refusals for the key, the algorithm, the
// signature, the header parameters and the time claims: golang-jwt with the
// Keyfunc and ParserOptions must refuse every token the middleware refuses
// for one of them. The other refusals (the scoped path and query rules, the
// strict JSON, the size limits) are the middleware's alone
// (docs/golang-jwt.md).
var keyReasons = map[string]bool{
	"malformed_token": true, "unsupported_header": true, "alg_mismatch": true, "missing_kid": true,
	"unknown_kid": true, "bad_signature": true, "issuer_mismatch": true, "missing_exp": true,
	"expired": true, "not_yet_valid": true, "issued_in_future": true, "keys_unavailable": true,
}

// TestDifferentialMiddleware: for tokens minted by package mint with every
// key of the set, and hostile variants of each (other algorithms, with the
// public key as an HMAC secret, alg none, kids missing, foreign or of
// another type, other issuers, header parameters, changed claims and
// signatures, stray base64 bits), golang-jwt with the Keyfunc never accepts
// a token that the middleware refuses for a key, algorithm, signature,
// header or time reason; and both accept the minted tokens.
func TestDifferentialMiddleware(t *testing.T) {
	ks := keySet(t)
	m, err := scopedtoken.New(scopedtoken.Config{Keys: ks, Now: clock})
	require.NoError(t, err)
	refused := map[string]int{} // by middleware reason, for the count below
	for _, f := range fixtures(t) {
		minted := f.mint(t, mint.Claims{Subject: "s", Query: map[string][]string{"experienceKey": {"x"}}})
		_, err := m.Verify(t.Context(), minted, testkit.Path)
		require.NoError(t, err, "%s: the middleware accepts the minted token", f.kid)
		_, err = parse(ks, minted)
		if f.alg == "Ed25519" {
			assert.ErrorIs(t, err, jwt.ErrTokenUnverifiable, "golang-jwt v5.3.1 has no method for Ed25519")
		} else {
			assert.NoError(t, err, "%s: golang-jwt accepts the minted token", f.kid)
		}
		for name, tok := range hostile(t, f, minted) {
			_, mwErr := m.Verify(t.Context(), tok, testkit.Path)
			var refusal *scopedtoken.Error
			if !errors.As(mwErr, &refusal) || !keyReasons[refusal.Reason()] {
				continue
			}
			refused[refusal.Reason()]++
			_, err := parse(ks, tok)
			assert.Error(t, err, "%s/%s: the middleware refuses it (%s), golang-jwt accepted it", f.kid, name, refusal.Reason())
		}
	}
	t.Logf("hostile tokens refused by the middleware, by reason: %v", refused)
	for _, reason := range []string{"malformed_token", "unsupported_header", "alg_mismatch", "missing_kid", "unknown_kid",
		"bad_signature", "issuer_mismatch", "missing_exp", "expired", "not_yet_valid", "issued_in_future"} {
		assert.Positive(t, refused[reason], "no hostile token exercised %s", reason)
	}
}

// hostile returns variants of minted, a valid token of f, by name.
func hostile(t *testing.T, f fixture, minted string) map[string]string {
	parts := strings.Split(minted, ".")
	require.Len(t, parts, 3)
	var header, claims map[string]any
	decodeSegment(t, parts[0], &header)
	decodeSegment(t, parts[1], &claims)
	// resign signs the edited header and claims with f's key under the
	// header's alg when golang-jwt can, with the public key's DER as an
	// HMAC secret for HS* and an asymmetric key, and keeps the minted
	// signature otherwise.
	resign := func(h, c map[string]any) string {
		input := encodeSegment(t, h) + "." + encodeSegment(t, c)
		alg, _ := h["alg"].(string)
		key := f.signer
		if signer, ok := key.(crypto.Signer); ok && strings.HasPrefix(alg, "HS") {
			der, err := x509.MarshalPKIXPublicKey(signer.Public())
			require.NoError(t, err)
			key = der
		}
		if method := jwt.GetSigningMethod(alg); method != nil {
			if sig, err := method.Sign(input, key); err == nil {
				return input + "." + base64.RawURLEncoding.EncodeToString(sig)
			}
		}
		return input + "." + parts[2]
	}
	with := func(m map[string]any, edits map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		for k, v := range edits {
			if v == nil {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
		return out
	}
	now := testkit.Now
	sig := parts[2]
	variants := map[string]string{
		"claims changed, signature kept":  parts[0] + "." + encodeSegment(t, with(claims, map[string]any{"exp": now.Add(24 * time.Hour).Unix()})) + "." + sig,
		"signature flipped":               parts[0] + "." + parts[1] + "." + flipFirst(sig),
		"signature cut":                   parts[0] + "." + parts[1] + "." + sig[:len(sig)-4],
		"signature empty":                 parts[0] + "." + parts[1] + ".",
		"stray bits in the signature":     parts[0] + "." + parts[1] + "." + strayBits(sig),
		"alg none, no signature":          encodeSegment(t, with(header, map[string]any{"alg": "none"})) + "." + parts[1] + ".",
		"kid removed":                     resign(with(header, map[string]any{"kid": nil}), claims),
		"kid empty":                       resign(with(header, map[string]any{"kid": ""}), claims),
		"kid a number":                    resign(with(header, map[string]any{"kid": 7}), claims),
		"kid unknown":                     resign(with(header, map[string]any{"kid": "nobody"}), claims),
		"crit":                            resign(with(header, map[string]any{"crit": []string{"exp"}}), claims),
		"b64 false":                       resign(with(header, map[string]any{"b64": false}), claims),
		"typ at+jwt":                      resign(with(header, map[string]any{"typ": "at+jwt"}), claims),
		"iss removed":                     resign(header, with(claims, map[string]any{"iss": nil})),
		"iss of another issuer":           resign(header, with(claims, map[string]any{"iss": "https://evil.example"})),
		"iss of a second accepted issuer": resign(header, with(claims, map[string]any{"iss": secondIssuer})),
		"exp removed":                     resign(header, with(claims, map[string]any{"exp": nil})),
		"expired":                         resign(header, with(claims, map[string]any{"exp": now.Add(-time.Hour).Unix()})),
		"not valid yet":                   resign(header, with(claims, map[string]any{"nbf": now.Add(time.Hour).Unix(), "exp": now.Add(2 * time.Hour).Unix()})),
		"issued in the future":            resign(header, with(claims, map[string]any{"iat": now.Add(time.Hour).Unix(), "exp": now.Add(2 * time.Hour).Unix()})),
	}
	for _, alg := range jwt.GetAlgorithms() {
		variants["alg "+alg] = resign(with(header, map[string]any{"alg": alg}), claims)
	}
	for _, other := range fixtures(t) {
		variants["kid of "+other.kid] = resign(with(header, map[string]any{"kid": other.kid}), claims)
	}
	if f.alg == "PS256" {
		raw, err := json.Marshal(header)
		require.NoError(t, err)
		rawClaims, err := json.Marshal(claims)
		require.NoError(t, err)
		variants["PSS without salt"] = signPSS(t, f.signer.(*rsa.PrivateKey), string(raw), string(rawClaims), 0)
	}
	return variants
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, v))
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// flipFirst changes the first character of a segment, and so its first
// decoded byte.
func flipFirst(seg string) string {
	c := byte('A')
	if seg[0] == 'A' {
		c = 'B'
	}
	return string(c) + seg[1:]
}

// strayBits sets the lowest unused bit of the last character of a segment
// whose length leaves some (the same bytes in another spelling), or returns
// it unchanged.
func strayBits(seg string) string {
	if len(seg)%4 == 0 {
		return seg
	}
	return seg[:len(seg)-1] + string(b64Alphabet[indexB64(seg[len(seg)-1])|1])
}
