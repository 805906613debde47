package testkit

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// DPoPJWK returns the public JWK of pub (RFC 7517, made by the jwkset
// module) without kid or use, as a DPoP proof carries it.
func DPoPJWK(t testing.TB, pub any) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(JWK(t, "", pub), &m))
	delete(m, "kid")
	delete(m, "use")
	return m
}

// DPoPThumbprint is the RFC 7638 SHA-256 thumbprint of pub, computed apart
// from the middleware's code: encoding/json writes the required members of
// the jwkset JWK in sorted order without white space.
func DPoPThumbprint(t testing.TB, pub any) string {
	t.Helper()
	jwk := DPoPJWK(t, pub)
	required := map[string]any{"kty": jwk["kty"]}
	members := map[any][]string{"EC": {"crv", "x", "y"}, "OKP": {"crv", "x"}, "RSA": {"e", "n"}}[jwk["kty"]]
	require.NotEmpty(t, members, "key type %v", jwk["kty"])
	for _, name := range members {
		required[name] = jwk[name]
	}
	canonical, err := json.Marshal(required)
	require.NoError(t, err)
	sum := sha256.Sum256(canonical)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// DPoPClaims returns the claims of a proof for method and uri at iat, with
// a random jti and, when token is not empty, its ath.
func DPoPClaims(method, uri, token string, iat time.Time) map[string]any {
	c := map[string]any{"jti": RandomID(), "htm": method, "htu": uri, "iat": iat.Unix()}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		c["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return c
}

// DPoPProof signs a proof of claims under name with key. Its header is
// typ dpop+jwt, alg name and jwk the key's public JWK, changed by header:
// a member there replaces the default one, and a nil value removes it.
func DPoPProof(t testing.TB, name string, key crypto.Signer, header, claims map[string]any) string {
	t.Helper()
	h := map[string]any{"typ": "dpop+jwt", "alg": name, "jwk": DPoPJWK(t, key.Public())}
	for k, v := range header {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	hj, err := json.Marshal(h)
	require.NoError(t, err)
	cj, err := json.Marshal(claims)
	require.NoError(t, err)
	return SignRaw(t, name, key, string(hj), string(cj))
}

// RandomID is 128 random bits in base64url.
func RandomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// DPoPProofWithJWK signs a proof of claims under name with key (a secret
// []byte or a crypto.Signer), whose header carries jwk: a proof whose key
// is not the one that signed it, or a secret one.
func DPoPProofWithJWK(t testing.TB, name string, key any, jwk, claims map[string]any) string {
	t.Helper()
	hj, err := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": name, "jwk": jwk})
	require.NoError(t, err)
	cj, err := json.Marshal(claims)
	require.NoError(t, err)
	return SignRaw(t, name, key, string(hj), string(cj))
}
