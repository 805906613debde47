package scopedtoken

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// This file is an outside review's attacks on DPoP (docs/dpop.md): each
// case is a request that must be refused, or a form that must be read as
// the RFCs say. Names start with TestReview.

// reviewRawProof signs a proof of raw header and claims JSON with key.
func reviewRawProof(t *testing.T, alg string, key any, header, claims string) string {
	t.Helper()
	return testkit.SignRaw(t, alg, key, header, claims)
}

// reviewJSON is v in JSON (mustJSON writes jwk members only).
func reviewJSON(t testing.TB, v map[string]any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// reviewClaims is the JSON of valid proof claims for f's GET with f.token,
// with a fresh jti.
func (f *dpopFixture) reviewClaims(t *testing.T) string {
	return reviewJSON(t, testkit.DPoPClaims(http.MethodGet, dpopURL, f.token, testNow))
}

// reviewJWK is f's public key as raw JWK members, without the braces.
func (f *dpopFixture) reviewJWKMembers() (x, y string) {
	b, err := f.key.PublicKey.Bytes() // 0x04 || X || Y, each 32 bytes
	require.NoError(f.t, err)
	return base64.RawURLEncoding.EncodeToString(b[1:33]), base64.RawURLEncoding.EncodeToString(b[33:])
}

// TestReviewDPoPJTIAcrossKeys: a jti is the client's choice. Another
// client using the same jti must neither be refused nor burn this one's
// record; and a replay of one's own jti is refused.
func TestReviewDPoPJTIAcrossKeys(t *testing.T) {
	f := newDPoPFixture(t, nil)
	other := mustP256(t)
	otherToken := f.boundTo(testkit.DPoPThumbprint(t, &other.PublicKey))
	const jti = "same-jti"
	mine := f.proof(func(_, c map[string]any) { c["jti"] = jti })
	c := testkit.DPoPClaims(http.MethodGet, dpopURL, otherToken, testNow)
	c["jti"] = jti
	theirs := testkit.DPoPProof(t, "ES256", other, nil, c)

	assert.Equal(t, http.StatusOK, serve(t, f.m, dpopRequest("DPoP", otherToken, theirs)).code)
	assert.Equal(t, http.StatusOK, serve(t, f.m, dpopRequest("DPoP", f.token, mine)).code, "another key's jti must not use up mine")
	assertDPoPRefused(t, serve(t, f.m, dpopRequest("DPoP", f.token, f.proof(func(_, c map[string]any) { c["jti"] = jti }))),
		"dpop_proof_replayed", "invalid_dpop_proof")
}

// TestReviewDPoPRecordNamespace: a proof's record and a single-use token's
// record live in one store. A proof whose jti is built to look like a
// single-use token's record name must not use that token up, and a
// revocation by jti must not touch a proof.
func TestReviewDPoPRecordNamespace(t *testing.T) {
	f := newDPoPFixture(t, nil)
	once := validClaims()
	once["jti"] = "t1"
	once[SingleUseClaim] = true
	onceToken := hsToken(t, once)
	// The record name of onceToken is "jti:hs:t1"; a proof names itself
	// after it as closely as a client can.
	for _, jti := range []string{"jti:hs:t1", ":jti:hs:t1", "t1", "sha256:" + TokenHash(onceToken)} {
		p := f.proof(func(_, c map[string]any) { c["jti"] = jti })
		require.Equal(t, http.StatusOK, serve(t, f.m, dpopRequest("DPoP", f.token, p)).code, jti)
	}
	assert.Equal(t, http.StatusOK, serve(t, f.m, bearer(dpopPath, onceToken)).code, "a proof's jti used up a single-use token")
	assert.Equal(t, http.StatusUnauthorized, serve(t, f.m, bearer(dpopPath, onceToken)).code)

	require.NoError(t, f.store.Revoke(t.Context(), Revocation{Kind: RevokeID, Value: "p1"}))
	p := f.proof(func(_, c map[string]any) { c["jti"] = "p1" })
	assert.Equal(t, http.StatusOK, serve(t, f.m, dpopRequest("DPoP", f.token, p)).code, "a revoked token jti refused a proof")
}

// TestReviewDPoPSignatureMalleability: (r, n-s) is a second valid ECDSA
// signature of the same proof. It must be refused as a replay: the record
// is keyed by key and jti, not by the proof's bytes.
func TestReviewDPoPSignatureMalleability(t *testing.T) {
	f := newDPoPFixture(t, nil)
	p := f.proof(nil)
	require.Equal(t, http.StatusOK, serve(t, f.m, dpopRequest("DPoP", f.token, p)).code)
	i := strings.LastIndexByte(p, '.')
	sig, err := base64.RawURLEncoding.DecodeString(p[i+1:])
	require.NoError(t, err)
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(elliptic.P256().Params().N, s)
	s.FillBytes(sig[32:])
	twin := p[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
	require.NotEqual(t, p, twin)
	assertDPoPRefused(t, serve(t, f.m, dpopRequest("DPoP", f.token, twin)), "dpop_proof_replayed", "invalid_dpop_proof")
}

// TestReviewDPoPJWKForms: the jwk of a proof, written by an attacker: extra
// members are ignored, private ones refused however they are spelled, the
// coordinates must have the curve's exact size, and duplicate or case-folded
// members are refused.
func TestReviewDPoPJWKForms(t *testing.T) {
	f := newDPoPFixture(t, nil)
	x, y := f.reviewJWKMembers()
	xb, _ := base64.RawURLEncoding.DecodeString(x)
	yb, _ := base64.RawURLEncoding.DecodeString(y)
	padded := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(append([]byte{0}, b...)) }
	ec := func(extra string) string {
		return `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + y + `"` + extra + `}}`
	}
	for _, tc := range []struct {
		name, header string
		status       int
		reason       string
	}{
		{"members reordered", `{"jwk":{"y":"` + y + `","x":"` + x + `","crv":"P-256","kty":"EC"},"alg":"ES256","typ":"dpop+jwt"}`, 200, ""},
		{"kid and use", ec(`,"kid":"k","use":"sig"`), 200, ""},
		{"alg in jwk", ec(`,"alg":"ES256"`), 200, ""},
		{"key_ops", ec(`,"key_ops":["verify"]`), 200, ""},
		{"members reordered, kid, use, alg, key_ops", `{"jwk":{"y":"` + y + `","kid":"k","use":"sig","alg":"ES256","key_ops":["verify"],"x":"` + x + `","crv":"P-256","kty":"EC"},"alg":"ES256","typ":"dpop+jwt"}`, 200, ""},
		{"member names escaped", `{"typ":"dpop+jwt","alg":"ES256","jwk":{"\u006bty":"EC","crv":"P-256","\u0078":"` + x + `","y":"` + y + `"}}`, 200, ""},
		{"values escaped", `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"\u0045C","crv":"P-256","x":"` + x + `","y":"` + y + `"}}`, 200, ""},
		{"private d escaped", ec(`,"\u0064":"AQAB"`), 401, "dpop_proof_header"},
		{"private d null", ec(`,"d":null`), 401, "dpop_proof_header"},
		{"private oth", ec(`,"oth":[]`), 401, "dpop_proof_header"},
		{"x twice", ec(`,"x":"` + x + `"`), 401, "dpop_proof_malformed"},
		{"X beside x", ec(`,"X":"` + x + `"`), 401, "dpop_proof_malformed"},
		{"jwk twice", `{"typ":"dpop+jwt","alg":"ES256","jwk":{},"jwk":{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + y + `"}}`, 401, "dpop_proof_malformed"},
		{"x with a leading zero octet", `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"` + padded(xb) + `","y":"` + y + `"}}`, 401, "dpop_proof_header"},
		{"y with a leading zero octet", `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + padded(yb) + `"}}`, 401, "dpop_proof_header"},
		{"x short", `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"` + base64.RawURLEncoding.EncodeToString(xb[1:]) + `","y":"` + y + `"}}`, 401, "dpop_proof_header"},
		{"x padded base64", `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"` + x + `=","y":"` + y + `"}}`, 401, "dpop_proof_header"},
		{"x std base64", `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"` + base64.RawStdEncoding.EncodeToString(xb) + `","y":"` + y + `"}}`, 0, ""},
		{"kty ec", `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"ec","crv":"P-256","x":"` + x + `","y":"` + y + `"}}`, 401, "dpop_proof_header"},
		{"crv P-384", `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-384","x":"` + x + `","y":"` + y + `"}}`, 401, "dpop_proof_header"},
		{"crv p-256", `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"p-256","x":"` + x + `","y":"` + y + `"}}`, 401, "dpop_proof_header"},
		{"kty OKP on an EC key", `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"OKP","crv":"P-256","x":"` + x + `","y":"` + y + `"}}`, 401, "dpop_proof_header"},
		{"EC with n", ec(`,"n":"AQAB"`), 401, "dpop_proof_header"},
		{"jwk an array", `{"typ":"dpop+jwt","alg":"ES256","jwk":[]}`, 401, "dpop_proof_header"},
		{"typ application/dpop+jwt", `{"typ":"application/dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + y + `"}}`, 401, "dpop_proof_header"},
		{"alg es256", `{"typ":"dpop+jwt","alg":"es256","jwk":{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + y + `"}}`, 401, "dpop_proof_header"},
		{"b64 false", ec(``)[:len(ec(``))-1] + `,"b64":false}`, 401, "dpop_proof_header"},
		{"Typ only", `{"Typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + y + `"}}`, 401, "dpop_proof_header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.status == 0 { // a std-base64 x only differs when it has + or /
				if !strings.ContainsAny(base64.RawStdEncoding.EncodeToString(xb), "+/") {
					t.Skip("this key's x is the same in both alphabets")
				}
				tc.status, tc.reason = 401, "dpop_proof_malformed"
			}
			p := reviewRawProof(t, "ES256", f.key, tc.header, f.reviewClaims(t))
			res := serve(t, f.m, dpopRequest("DPoP", f.token, p))
			if tc.status == 200 {
				if assert.Equal(t, 200, res.code, res.body) {
					assert.Equal(t, f.jkt, res.token.KeyThumbprint())
				}
				return
			}
			assert.Equal(t, 401, res.code)
			assert.Contains(t, []string{tc.reason, "dpop_proof_header", "dpop_proof_malformed"}, res.reason)
		})
	}
}

// TestReviewDPoPEd25519Forms: the OKP jwk: x of exactly 32 bytes, crv
// Ed25519 only, no y, under both alg names; and an Ed25519 proof for a
// token bound to another key's thumbprint.
func TestReviewDPoPEd25519Forms(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	f := newDPoPFixture(t, nil)
	jkt := testkit.DPoPThumbprint(t, pub)
	token := f.boundTo(jkt)
	x := base64.RawURLEncoding.EncodeToString(pub)
	claims := func() string { return reviewJSON(t, testkit.DPoPClaims(http.MethodGet, dpopURL, token, testNow)) }
	for _, tc := range []struct {
		name, alg, jwk string
		ok             bool
	}{
		{"EdDSA", "EdDSA", `{"kty":"OKP","crv":"Ed25519","x":"` + x + `"}`, true},
		{"Ed25519", "Ed25519", `{"kty":"OKP","crv":"Ed25519","x":"` + x + `"}`, true},
		{"x 33 bytes", "EdDSA", `{"kty":"OKP","crv":"Ed25519","x":"` + base64.RawURLEncoding.EncodeToString(append([]byte{0}, pub...)) + `"}`, false},
		{"x 31 bytes", "EdDSA", `{"kty":"OKP","crv":"Ed25519","x":"` + base64.RawURLEncoding.EncodeToString(pub[1:]) + `"}`, false},
		{"crv Ed448", "EdDSA", `{"kty":"OKP","crv":"Ed448","x":"` + x + `"}`, false},
		{"crv X25519", "EdDSA", `{"kty":"OKP","crv":"X25519","x":"` + x + `"}`, false},
		{"no crv", "EdDSA", `{"kty":"OKP","x":"` + x + `"}`, false},
		{"with y", "EdDSA", `{"kty":"OKP","crv":"Ed25519","x":"` + x + `","y":"` + x + `"}`, false},
		{"kty EC", "EdDSA", `{"kty":"EC","crv":"Ed25519","x":"` + x + `"}`, false},
		{"alg ES256 on an OKP key", "ES256", `{"kty":"OKP","crv":"Ed25519","x":"` + x + `"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The signature is always Ed25519: only the header lies.
			p := reviewRawProof(t, "EdDSA", priv, `{"typ":"dpop+jwt","alg":"`+tc.alg+`","jwk":`+tc.jwk+`}`, claims())
			res := serve(t, f.m, dpopRequest("DPoP", token, p))
			if tc.ok {
				assert.Equal(t, http.StatusOK, res.code, res.body)
				return
			}
			assert.Equal(t, http.StatusUnauthorized, res.code)
			assert.True(t, strings.HasPrefix(res.reason, "dpop_proof_"), res.reason)
		})
	}
}

// TestReviewDPoPAlgKeyConfusion: ES256 with a P-384 key (signed ES384 or
// claimed ES256), and a configured ES384 with a P-256 key.
func TestReviewDPoPAlgKeyConfusion(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	f := newDPoPFixture(t, func(c *Config) { c.DPoPAlgorithms = []string{"ES256", "ES384"} })
	token := f.boundTo(testkit.DPoPThumbprint(t, &p384.PublicKey))
	claims := testkit.DPoPClaims(http.MethodGet, dpopURL, token, testNow)
	jwk := mustJSON(t, testkit.DPoPJWK(t, &p384.PublicKey))
	for name, p := range map[string]string{
		"header ES256, P-384 key, ES384 signature": reviewRawProof(t, "ES384", p384, `{"typ":"dpop+jwt","alg":"ES256","jwk":`+jwk+`}`, reviewJSON(t, claims)),
		"ES384 header, P-256 jwk":                  reviewRawProof(t, "ES256", f.key, `{"typ":"dpop+jwt","alg":"ES384","jwk":`+mustJSON(t, testkit.DPoPJWK(t, &f.key.PublicKey))+`}`, f.reviewClaims(t)),
	} {
		t.Run(name, func(t *testing.T) {
			tok := token
			if strings.HasPrefix(name, "ES384 header") {
				tok = f.token
			}
			res := serve(t, f.m, dpopRequest("DPoP", tok, p))
			assert.Equal(t, http.StatusUnauthorized, res.code)
			assert.True(t, strings.HasPrefix(res.reason, "dpop_proof_"), res.reason)
		})
	}
	// The right way round passes: the configuration is not what refuses.
	ok := reviewRawProof(t, "ES384", p384, `{"typ":"dpop+jwt","alg":"ES384","jwk":`+jwk+`}`, reviewJSON(t, testkit.DPoPClaims(http.MethodGet, dpopURL, token, testNow)))
	assert.Equal(t, http.StatusOK, serve(t, f.m, dpopRequest("DPoP", token, ok)).code)
}

// TestReviewDPoPRSAHostileKeys: with RS256 configured, a jwk whose modulus
// is tiny, whose exponent is 1, even, or larger than an int32, refuses the
// proof without a panic (the signature "verifies" trivially with e = 1).
func TestReviewDPoPRSAHostileKeys(t *testing.T) {
	f := newDPoPFixture(t, func(c *Config) { c.DPoPAlgorithms = []string{"RS256"} })
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	n := base64.RawURLEncoding.EncodeToString(rk.N.Bytes())
	for name, e := range map[string]string{"e 1": "AQ", "e 2": "Ag", "e 2^32-1": "_____w", "e 2^31+1": "gAAAAQ"} {
		t.Run(name, func(t *testing.T) {
			jwk := `{"kty":"RSA","n":"` + n + `","e":"` + e + `"}`
			jkt := (&proofKey{kty: "RSA", n: n, e: e}).thumbprint()
			token := f.boundTo(jkt)
			p := reviewRawProof(t, "RS256", rk, `{"typ":"dpop+jwt","alg":"RS256","jwk":`+jwk+`}`,
				reviewJSON(t, testkit.DPoPClaims(http.MethodGet, dpopURL, token, testNow)))
			var res result
			require.NotPanics(t, func() { res = serve(t, f.m, dpopRequest("DPoP", token, p)) })
			assert.Equal(t, http.StatusUnauthorized, res.code)
		})
	}
	t.Run("1024-bit modulus", func(t *testing.T) {
		small, err := rsa.GenerateKey(rand.Reader, 1024)
		require.NoError(t, err)
		jwk := testkit.DPoPJWK(t, &small.PublicKey)
		token := f.boundTo(testkit.DPoPThumbprint(t, &small.PublicKey))
		p := reviewRawProof(t, "RS256", small, `{"typ":"dpop+jwt","alg":"RS256","jwk":`+mustJSON(t, jwk)+`}`,
			reviewJSON(t, testkit.DPoPClaims(http.MethodGet, dpopURL, token, testNow)))
		res := serve(t, f.m, dpopRequest("DPoP", token, p))
		assert.Equal(t, http.StatusUnauthorized, res.code)
		assert.Equal(t, "dpop_proof_header", res.reason)
	})
}

// TestReviewDPoPHTUForms: htu spellings against a fixed DPoPOrigin.
// RFC 3986 §6.2.2 and §6.2.3 equivalents pass; anything naming another
// resource, or ambiguous, is refused.
func TestReviewDPoPHTUForms(t *testing.T) {
	f := newDPoPFixture(t, nil)
	for _, tc := range []struct {
		htu    string
		target string // the request-target; dpopPath when empty
		ok     bool
	}{
		{"https://api.example.com:443" + dpopPath, "", true},
		{"HTTPS://API.EXAMPLE.COM" + dpopPath, "", true},
		{"https://api.example.com:" + dpopPath, "", true},
		{dpopURL + "?q=1#frag", "", true},
		{dpopURL + "#", "", true},
		{"https://api.example.com/v2/accounts/me/%73earch", "", true},
		{dpopURL, "/v2/accounts/me/%73earch", true},
		{dpopURL, "/v2/accounts/me/search?x=%41", true},
		{"https://api.example.com/v2/accounts/me/se%61rch", "/v2/accounts/me/se%61rch", true},
		{"https://api.example.com./" + dpopPath[1:], "", false},
		{"https://api.example.com:0443" + dpopPath, "", false},
		{"https://api.example.com:443:443" + dpopPath, "", false},
		{"https://a@api.example.com" + dpopPath, "", false},
		{"https://:@api.example.com" + dpopPath, "", false},
		{"https://api.example.com%2f" + dpopPath, "", false},
		{"https://api.example.com\\" + dpopPath, "", false},
		{"https://api.example.com" + dpopPath + "/", "", false},
		{"https://api.example.com/v2/accounts/me/./search", "", false},
		{"https://api.example.com/v2/accounts/x/../me/search", "", false},
		{"https://api.example.com//v2/accounts/me/search", "", false},
		{"https://api.example.com/v2/accounts/me%2Fsearch", "", false},
		{"https://api.example.com/V2/accounts/me/search", "", false},
		{"https://api.example.com" + dpopPath + "%20", "", false},
		{"https://api.example.com" + dpopPath + ";x", "", false},
		{"//api.example.com" + dpopPath, "", false},
		{"https:/api.example.com" + dpopPath, "", false},
		{"ws://api.example.com" + dpopPath, "", false},
		{"https://api.example.com" + dpopPath, "/v2/accounts/me/search/", false},
		{"https://api.example.com/v2/accounts/me/search%2F", "/v2/accounts/me/search/", false},
		{" https://api.example.com" + dpopPath, "", false},
		{"https://api.example.com" + dpopPath + " ", "", false},
	} {
		t.Run(tc.htu+" "+tc.target, func(t *testing.T) {
			target := tc.target
			if target == "" {
				target = dpopPath
			}
			p := f.proof(func(_, c map[string]any) { c["htu"] = tc.htu })
			req := httptest.NewRequest(http.MethodGet, target, nil)
			req.Header.Set("Authorization", "DPoP "+f.token)
			req.Header.Set("DPoP", p)
			res := serve(t, f.m, req)
			if tc.ok { // the proof passes; the path rules may still refuse an encoded path (403)
				assert.NotEqual(t, http.StatusUnauthorized, res.code, res.body)
			} else {
				assert.False(t, res.ran)
				assert.Contains(t, []string{"dpop_proof_url", "audience_mismatch", "bad_path"}, res.reason, res.body)
			}
		})
	}
}

// TestReviewDPoPHostFromRequest: without DPoPOrigin the origin comes from
// the request. Only an exact host (case aside) and the default port pass;
// a trailing dot, or another port, names another origin.
func TestReviewDPoPHostFromRequest(t *testing.T) {
	f := newDPoPFixture(t, func(c *Config) { c.DPoPOrigin = "" })
	for _, tc := range []struct {
		host, htu string
		ok        bool
	}{
		{"Example.COM", "http://example.com" + dpopPath, true},
		{"example.com:80", "http://example.com" + dpopPath, true},
		{"example.com.", "http://example.com" + dpopPath, false},
		{"example.com", "http://example.com." + dpopPath, false},
		{"example.com:8080", "http://example.com" + dpopPath, false},
		{"example.com", "http://example.com:8080" + dpopPath, false},
		{"u@example.com", "http://u@example.com" + dpopPath, false},
		{"", "http://" + dpopPath, false},
		{"[::1]", "http://[::1]" + dpopPath, true},
		{"[::1]:80", "http://[::1]" + dpopPath, true},
		{"[::1]", "http://[::1]:8080" + dpopPath, false},
	} {
		t.Run(tc.host+" "+tc.htu, func(t *testing.T) {
			req := dpopRequest("DPoP", f.token, f.proof(func(_, c map[string]any) { c["htu"] = tc.htu }))
			req.Host = tc.host
			res := serve(t, f.m, req)
			if tc.ok {
				assert.Equal(t, http.StatusOK, res.code, res.body)
			} else {
				assertDPoPRefused(t, res, "dpop_proof_url", "invalid_dpop_proof")
			}
		})
	}
}

// TestReviewDPoPTimeEdges: the proof window's edges, either way, with the
// default window of a minute.
func TestReviewDPoPTimeEdges(t *testing.T) {
	f := newDPoPFixture(t, nil)
	for _, tc := range []struct {
		iat string
		ok  bool
	}{
		{itoa(testNow.Add(-time.Minute).Unix()), false},
		{itoa(testNow.Add(-time.Minute + time.Second).Unix()), true},
		{itoa(testNow.Add(-time.Minute).Unix()) + ".5", true},
		{itoa(testNow.Add(time.Minute).Unix()), true},
		{itoa(testNow.Add(time.Minute).Unix()) + ".000000001", false},
		{itoa(testNow.Add(time.Minute + time.Second).Unix()), false},
		{"0", false},
		{"-1", false},
		{"1e300", false},
		{"9223372036854775807", false},
		{itoa(testNow.Unix()) + "e0", true},
		{"null", false},
		{"true", false},
	} {
		t.Run(tc.iat, func(t *testing.T) {
			h := `{"typ":"dpop+jwt","alg":"ES256","jwk":` + mustJSON(t, testkit.DPoPJWK(t, &f.key.PublicKey)) + `}`
			ath := testkit.DPoPClaims("GET", "", f.token, testNow)["ath"].(string)
			c := `{"jti":"` + testkit.RandomID() + `","htm":"GET","htu":"` + dpopURL + `","iat":` + tc.iat + `,"ath":"` + ath + `"}`
			res := serve(t, f.m, dpopRequest("DPoP", f.token, reviewRawProof(t, "ES256", f.key, h, c)))
			if tc.ok {
				assert.Equal(t, http.StatusOK, res.code, res.body)
			} else {
				assert.Equal(t, http.StatusUnauthorized, res.code)
				assert.Contains(t, []string{"dpop_proof_time", "dpop_proof_malformed"}, res.reason)
			}
		})
	}
}

// countingStore counts the store's writes.
type countingStore struct {
	*MemoryRevocations
	mu   sync.Mutex
	keys []string
}

func (s *countingStore) Use(ctx context.Context, key string, until time.Time) error {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	return s.MemoryRevocations.Use(ctx, key, until)
}

// TestReviewDPoPRefusedBeforeRecord: a proof refused for its form, its
// key, its method, URL, time or ath writes nothing to the store (a hostile
// client cannot fill it), and every record is named dpop:JKT:JTI.
func TestReviewDPoPRefusedBeforeRecord(t *testing.T) {
	store := &countingStore{MemoryRevocations: NewMemoryRevocations(fixedClock)}
	f := newDPoPFixture(t, func(c *Config) { c.Revocations = store })
	other := mustP256(t)
	for _, p := range []string{
		strings.Repeat("a", maxProofBytes+1),
		f.proof(func(_, c map[string]any) { c["htm"] = "POST" }),
		f.proof(func(_, c map[string]any) { c["htu"] = dpopOrigin + "/other" }),
		f.proof(func(_, c map[string]any) { c["iat"] = testNow.Add(-time.Hour).Unix() }),
		f.proof(func(_, c map[string]any) { delete(c, "ath") }),
		testkit.DPoPProof(t, "ES256", other, nil, testkit.DPoPClaims(http.MethodGet, dpopURL, f.token, testNow)),
	} {
		assert.Equal(t, http.StatusUnauthorized, serve(t, f.m, dpopRequest("DPoP", f.token, p)).code)
	}
	assert.Empty(t, store.keys)
	require.Equal(t, http.StatusOK, serve(t, f.m, dpopRequest("DPoP", f.token, f.proof(func(_, c map[string]any) { c["jti"] = "j\n:x" }))).code)
	assert.Equal(t, []string{"dpop:" + f.jkt + ":" + sha256B64("j\n:x")}, store.keys)
}

// TestReviewDPoPEverySource: a bound token from the query, a cookie or a
// custom source is refused even with a valid proof and in any mode; so is
// one with Bearer next to a valid proof, and an unbound token with the
// DPoP scheme and a valid proof.
func TestReviewDPoPEverySource(t *testing.T) {
	for _, mode := range []string{"allowed", "required"} {
		f := newDPoPFixture(t, func(c *Config) {
			c.DPoPRequired = mode == "required"
			c.TokenQueryParam = "access_token"
			c.TokenCookie = "tok"
			c.TokenSources = []TokenSource{headerSource{name: "X-Token"}}
			c.CrossOriginProtection = http.NewCrossOriginProtection()
		})
		reqs := map[string]*http.Request{}
		r := httptest.NewRequest(http.MethodGet, dpopPath+"?access_token="+f.token, nil)
		r.Header.Set("DPoP", f.proof(nil))
		reqs["query"] = r
		r = dpopRequest("", "", f.proof(nil))
		r.AddCookie(&http.Cookie{Name: "tok", Value: f.token})
		reqs["cookie"] = r
		r = dpopRequest("", "", f.proof(nil))
		r.Header.Set("X-Token", f.token)
		reqs["custom"] = r
		reqs["bearer with a proof"] = dpopRequest("Bearer", f.token, f.proof(nil))
		reqs["BEARER with a proof"] = dpopRequest("BEARER", f.token, f.proof(nil))
		plainProof := testkit.DPoPProof(t, "ES256", f.key, nil, testkit.DPoPClaims(http.MethodGet, dpopURL, f.plain, testNow))
		reqs["unbound token, DPoP scheme"] = dpopRequest("DPoP", f.plain, plainProof)
		// A DPoP header for the bound token, but the Authorization header
		// carries the unbound one: the proof's ath does not name it.
		reqs["unbound bearer, proof of the bound token"] = dpopRequest("Bearer", f.plain, f.proof(nil))
		for name, req := range reqs {
			t.Run(mode+"/"+name, func(t *testing.T) {
				res := serve(t, f.m, req)
				if name == "unbound bearer, proof of the bound token" && mode == "allowed" {
					assert.Equal(t, http.StatusOK, res.code, "an unbound token stays a bearer token")
					assert.Empty(t, res.token.KeyThumbprint(), "the stray proof must not bind the request")
					return
				}
				assert.False(t, res.ran, res.reason)
				assert.Equal(t, http.StatusUnauthorized, res.code, res.reason)
			})
		}
	}
}

// TestReviewDPoPCachedToken: a bound token the cache holds (after one
// accepted request) is still refused as Bearer, without a proof, with the
// proof of the first request, or with another key's proof.
func TestReviewDPoPCachedToken(t *testing.T) {
	f := newDPoPFixture(t, nil)
	first := f.proof(nil)
	require.Equal(t, http.StatusOK, serve(t, f.m, dpopRequest("DPoP", f.token, first)).code)
	require.NotNil(t, f.m.cacheHit(f.token), "the token must be cached for this test")
	other := mustP256(t)
	for name, req := range map[string]*http.Request{
		"bearer":         dpopRequest("Bearer", f.token),
		"no proof":       dpopRequest("DPoP", f.token),
		"replayed proof": dpopRequest("DPoP", f.token, first),
		"another key":    dpopRequest("DPoP", f.token, testkit.DPoPProof(t, "ES256", other, nil, testkit.DPoPClaims(http.MethodGet, dpopURL, f.token, testNow))),
	} {
		t.Run(name, func(t *testing.T) {
			res := serve(t, f.m, req)
			assert.Equal(t, http.StatusUnauthorized, res.code)
			assert.False(t, res.ran)
		})
	}
	_, err := f.m.Verify(t.Context(), f.token, dpopPath)
	assert.Error(t, err, "Verify of a cached bound token")
}

// TestReviewDPoPATHEncoding: ath is the hash of the exact token sent; the
// hash of the token's claims, of its padded form, in hex or in standard
// base64 is refused.
func TestReviewDPoPATHEncoding(t *testing.T) {
	f := newDPoPFixture(t, nil)
	right := testkit.DPoPClaims("GET", "", f.token, testNow)["ath"].(string)
	for name, ath := range map[string]string{
		"padded":        right + "=",
		"upper case":    strings.ToUpper(right),
		"of the header": testkit.DPoPClaims("GET", "", strings.SplitN(f.token, ".", 2)[0], testNow)["ath"].(string),
		"of DPoP token": testkit.DPoPClaims("GET", "", "DPoP "+f.token, testNow)["ath"].(string),
		"empty":         "",
	} {
		t.Run(name, func(t *testing.T) {
			res := serve(t, f.m, dpopRequest("DPoP", f.token, f.proof(func(_, c map[string]any) { c["ath"] = ath })))
			assertDPoPRefused(t, res, "dpop_proof_ath", "invalid_dpop_proof")
		})
	}
	t.Run("ath a number", func(t *testing.T) {
		res := serve(t, f.m, dpopRequest("DPoP", f.token, f.proof(func(_, c map[string]any) { c["ath"] = 1 })))
		assert.Equal(t, http.StatusUnauthorized, res.code)
	})
}

// TestReviewDPoPConfirmationForms: cnf spellings an issuer's library might
// write. An escaped member name is the same member: the token stays bound
// and is refused as Bearer.
func TestReviewDPoPConfirmationForms(t *testing.T) {
	f := newDPoPFixture(t, nil)
	for _, tc := range []struct{ name, cnf string }{
		{"escaped cnf", `"c\u006ef":{"jkt":"` + f.jkt + `"}`},
		{"escaped jkt", `"cnf":{"j\u006bt":"` + f.jkt + `"}`},
		{"escaped value", `"cnf":{"jkt":"\u` + itoaHex(f.jkt[0]) + f.jkt[1:] + `"}`},
		{"cnf as array", `"cnf":[{"jkt":"` + f.jkt + `"}]`},
		{"cnf null", `"cnf":null`},
		{"cnf twice", `"cnf":{"jkt":"` + f.jkt + `"},"cnf":{"jkt":"` + f.jkt + `"}`},
		{"cnf and Cnf", `"cnf":{"jkt":"` + f.jkt + `"},"Cnf":{}`},
		{"jkt and kid", `"cnf":{"jkt":"` + f.jkt + `","kid":"k"}`},
		{"jkt 44 with padding", `"cnf":{"jkt":"` + f.jkt + `="}`},
		{"JKT", `"cnf":{"JKT":"` + f.jkt + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := hsClaims(t, claimsWith(`,`+tc.cnf))
			res := serve(t, f.m, bearer(dpopPath, token))
			assert.Equal(t, http.StatusUnauthorized, res.code, "a bound (or unreadable) cnf must never pass as Bearer")
			_, err := f.m.VerifyUnused(t.Context(), token, dpopPath)
			if strings.HasPrefix(tc.name, "escaped") {
				require.NoError(t, err)
				p := testkit.DPoPProof(t, "ES256", f.key, nil, testkit.DPoPClaims(http.MethodGet, dpopURL, token, testNow))
				assert.Equal(t, http.StatusOK, serve(t, f.m, dpopRequest("DPoP", token, p)).code)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

func itoaHex(c byte) string {
	const hexDigits = "0123456789abcdef"
	return "00" + string(hexDigits[c>>4]) + string(hexDigits[c&15])
}

// TestReviewDPoPRefusalsLeakNothing: no refusal echoes the token, the proof,
// its jti or the key's coordinates, in the body or any header.
func TestReviewDPoPRefusalsLeakNothing(t *testing.T) {
	f := newDPoPFixture(t, nil)
	x, _ := f.reviewJWKMembers()
	const jti = "secret-jti-0123456789"
	used := f.proof(func(_, c map[string]any) { c["jti"] = jti })
	require.Equal(t, http.StatusOK, serve(t, f.m, dpopRequest("DPoP", f.token, used)).code)
	for name, req := range map[string]*http.Request{
		"replay":     dpopRequest("DPoP", f.token, used),
		"bearer":     dpopRequest("Bearer", f.token, used),
		"bad htu":    dpopRequest("DPoP", f.token, f.proof(func(_, c map[string]any) { c["htu"] = "https://evil.example/" + jti })),
		"two proofs": dpopRequest("DPoP", f.token, used, used),
		"malformed":  dpopRequest("DPoP", f.token, used[:len(used)-3]),
	} {
		t.Run(name, func(t *testing.T) {
			res := serve(t, f.m, req)
			require.Equal(t, http.StatusUnauthorized, res.code)
			all := res.body
			for k, vs := range res.header {
				all += k + strings.Join(vs, " ")
			}
			for _, secret := range []string{f.token, strings.Split(f.token, ".")[2], used, jti, x, "evil.example"} {
				assert.NotContains(t, all, secret)
			}
		})
	}
	_, err := f.m.VerifyDPoPProof(dpopRequest("", "", used))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), jti)
	assert.NotContains(t, err.Error(), used)
}

// TestReviewDPoPTokenEndpointProof: VerifyDPoPProof refuses a proof made
// for an API call (another method or URL), one for its own URL with a
// query-bearing htu of another page only where the path differs, and a
// proof with a private jwk; its record is shared with API proofs.
func TestReviewDPoPTokenEndpointProof(t *testing.T) {
	f := newDPoPFixture(t, nil)
	post := func(target, p string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, target, nil)
		r.Header.Set("DPoP", p)
		return r
	}
	endpoint := dpopOrigin + "/site/tokens"
	apiProof := f.proof(nil)
	_, err := f.m.VerifyDPoPProof(post("/site/tokens?page=/", apiProof))
	assert.ErrorIs(t, err, ErrInvalidDPoPProof)
	getProof := testkit.DPoPProof(t, "ES256", f.key, nil, testkit.DPoPClaims(http.MethodGet, endpoint, "", testNow))
	_, err = f.m.VerifyDPoPProof(post("/site/tokens?page=/", getProof))
	assert.ErrorIs(t, err, ErrInvalidDPoPProof)
	priv := testkit.DPoPProof(t, "ES256", f.key, map[string]any{"jwk": func() map[string]any {
		j := testkit.DPoPJWK(t, &f.key.PublicKey)
		j["d"] = base64.RawURLEncoding.EncodeToString(f.key.D.FillBytes(make([]byte, 32)))
		return j
	}()}, testkit.DPoPClaims(http.MethodPost, endpoint, "", testNow))
	_, err = f.m.VerifyDPoPProof(post("/site/tokens?page=/", priv))
	assert.ErrorIs(t, err, ErrInvalidDPoPProof)
	// One proof, two pages: the query is not part of htu, so the second
	// request is the proof's replay.
	p := testkit.DPoPProof(t, "ES256", f.key, nil, testkit.DPoPClaims(http.MethodPost, endpoint+"?page=/a", "", testNow))
	_, err = f.m.VerifyDPoPProof(post("/site/tokens?page=/a", p))
	require.NoError(t, err)
	_, err = f.m.VerifyDPoPProof(post("/site/tokens?page=/b", p))
	assert.ErrorIs(t, err, errDPoPProofReplayed)
}

// TestReviewDPoPRecordNameHasNoHashTag: redisstore keeps single-use records
// without a Redis Cluster hash tag so that they spread over every master
// (redisstore/keys.go), and refuses a prefix with braces for that reason. A
// proof's jti is the client's choice and goes into the record's name as
// written: "{x}" in it is a hash tag that sends every record of the client
// to the master of its choice. The record's name must carry no brace (a
// hash of the jti, or a jti refused for them).
func TestReviewDPoPRecordNameHasNoHashTag(t *testing.T) {
	store := &countingStore{MemoryRevocations: NewMemoryRevocations(fixedClock)}
	f := newDPoPFixture(t, func(c *Config) { c.Revocations = store })
	for i, jti := range []string{"{slot}", "a{b}c" + testkit.RandomID()} {
		res := serve(t, f.m, dpopRequest("DPoP", f.token, f.proof(func(_, c map[string]any) { c["jti"] = jti })))
		if res.code != http.StatusOK {
			continue // refusing such a jti is a fix too
		}
		require.Len(t, store.keys, i+1)
		assert.NotContains(t, store.keys[i], "{", "a client-chosen hash tag in a record name")
	}
}

// TestReviewDPoPHostFromRequestTrustsClient pins a documented weakness
// (docs/dpop.md, "Behind a proxy"): without DPoPOrigin, htu is compared with
// the client's own Host header. A resource server that received a bound
// token and a fresh proof for itself (htu https://other-rs.example/...) can
// forward both to this one with "Host: other-rs.example", and they pass.
// With DPoPOrigin set, the same request is refused.
func TestReviewDPoPHostFromRequestTrustsClient(t *testing.T) {
	const forwarded = "https://other-rs.example" + dpopPath
	send := func(m *Middleware, token, p string) int {
		req := httptest.NewRequest(http.MethodGet, "https://other-rs.example"+dpopPath, nil) // TLS, Host other-rs.example
		req.Header.Set("Authorization", "DPoP "+token)
		req.Header.Set("DPoP", p)
		return serve(t, m, req).code
	}
	open := newDPoPFixture(t, func(c *Config) { c.DPoPOrigin = "" })
	assert.Equal(t, http.StatusOK, send(open.m, open.token, open.proof(func(_, c map[string]any) { c["htu"] = forwarded })),
		"documented: without DPoPOrigin the client names the origin")
	fixed := newDPoPFixture(t, nil)
	assert.Equal(t, http.StatusUnauthorized, send(fixed.m, fixed.token, fixed.proof(func(_, c map[string]any) { c["htu"] = forwarded })))
}

// TestReviewDPoPConcurrentReplay: one proof sent by many goroutines at once
// (a replay race, with the token cached after the first verification) is
// accepted exactly once; proofs verified in parallel do not mix (the
// scratch buffers are pooled).
func TestReviewDPoPConcurrentReplay(t *testing.T) {
	f := newDPoPFixture(t, nil)
	p := f.proof(nil)
	const n = 32
	codes := make(chan int, 2*n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			codes <- serve(t, f.m, dpopRequest("DPoP", f.token, p)).code
		}()
		go func() {
			defer wg.Done()
			// A fresh proof of its own: always accepted.
			if c := serve(t, f.m, dpopRequest("DPoP", f.token, f.proof(nil))).code; c != http.StatusOK {
				codes <- -c
			}
		}()
	}
	wg.Wait()
	close(codes)
	ok := 0
	for c := range codes {
		require.Positive(t, c, "a fresh proof was refused")
		if c == http.StatusOK {
			ok++
		}
	}
	assert.Equal(t, 1, ok, "the replayed proof must pass exactly once")
}
