package scopedtoken

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/strictjson"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// The attack catalogue: one table per family of attack on the token layer.
// Every case goes through the whole middleware and asserts the status, the
// reason code of the JSON body, the WWW-Authenticate challenge, that the token
// is not echoed, and that the next handler never ran.

const attackPath = testkit.Path

// attackCase is one hostile request. token is sent as "Bearer <token>"
// unless req builds the request itself.
type attackCase struct {
	name   string
	token  string
	req    func() *http.Request
	status int
	reason string
}

// runAttacks sends every case through m.
func runAttacks(t *testing.T, m *Middleware, cases []attackCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := bearer(attackPath, tc.token)
			if tc.req != nil {
				req = tc.req()
			}
			res := serve(t, m, req)
			assertRefused(t, res, tc.status, tc.reason)
			if len(tc.token) > 16 {
				assert.NotContains(t, res.body, tc.token, "the token must never be echoed")
				assert.NotContains(t, res.header.Get("WWW-Authenticate"), tc.token)
			}
		})
	}
}

// assertRefused checks a refusal: status, reason, challenge, next not run.
func assertRefused(t *testing.T, res result, status int, reason string) {
	t.Helper()
	assert.False(t, res.ran, "the next handler must not run")
	assert.Equal(t, status, res.code, "status")
	assert.Equal(t, reason, res.reason, "reason")
	challenge := res.header.Get("WWW-Authenticate")
	assert.Len(t, res.header.Values("WWW-Authenticate"), 1)
	errAttr := map[int]string{
		http.StatusUnauthorized:       "invalid_token",
		http.StatusBadRequest:         "invalid_request",
		http.StatusForbidden:          "insufficient_scope",
		http.StatusServiceUnavailable: "temporarily_unavailable",
	}[status]
	if reason == "missing_token" {
		assert.Equal(t, `Bearer realm="api"`, challenge, "no error attribute without a token")
	} else {
		assert.True(t, strings.HasPrefix(challenge, `Bearer realm="api", error="`+errAttr+`", error_description="`), "challenge %q", challenge)
		assert.True(t, strings.HasSuffix(challenge, `"`), "challenge %q", challenge)
	}
	if status == http.StatusServiceUnavailable {
		assert.NotEmpty(t, res.header.Get("Retry-After"))
	}
	var body struct{ Error, Reason, Message string }
	if assert.NoError(t, json.Unmarshal([]byte(res.body), &body)) {
		assert.Equal(t, errAttr, body.Error)
		assert.NotEmpty(t, body.Message)
	}
}

// attackExp is an exp that the fixed clock accepts.
var attackExp = testkit.Exp

// claimsWith returns valid claims JSON with extra members appended.
func claimsWith(extra string) string { return testkit.Claims(extra) }

// hsRaw signs raw header and claims JSON with the test HS256 secret.
func hsRaw(t *testing.T, header, claims string) string {
	return signRaw(t, "HS256", testSecret, header, claims)
}

// hsClaims signs raw claims under the standard HS256 header.
func hsClaims(t *testing.T, claims string) string {
	return hsRaw(t, hsHeader, claims)
}

// unsigned joins header and claims with the given raw signature segment.
func unsigned(header, claims, sig string) string { return testkit.Unsigned(header, claims, sig) }

func attackMiddleware(t *testing.T, edit func(*Config)) *Middleware {
	return newTestMiddleware(t, edit)
}

func TestAttackControl(t *testing.T) {
	m := attackMiddleware(t, nil)
	res := serve(t, m, bearer(attackPath, hsClaims(t, claimsWith(""))))
	require.Equal(t, http.StatusOK, res.code, "the harness must accept a valid token: %s", res.body)
	assert.True(t, res.ran)
}

func TestAttackAlgNone(t *testing.T) {
	m := attackMiddleware(t, nil)
	claims := claimsWith("")
	hmacSig := func(header string) string { // the signature segment alone
		tok := signRaw(t, "HS256", testSecret, header, claims)
		return tok[strings.LastIndexByte(tok, '.')+1:]
	}
	var cases []attackCase
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		h := `{"alg":"` + alg + `","kid":"hs"}`
		cases = append(cases,
			attackCase{name: alg + " empty signature", token: unsigned(h, claims, ""), status: 401, reason: "malformed_token"},
			attackCase{name: alg + " with a signature", token: unsigned(h, claims, "AAAA"), status: 401, reason: "alg_mismatch"},
			attackCase{name: alg + " with the key's HMAC", token: unsigned(h, claims, hmacSig(h)), status: 401, reason: "alg_mismatch"},
		)
	}
	cases = append(cases,
		attackCase{name: "no alg", token: hsRaw(t, `{"kid":"hs"}`, claims), status: 401, reason: "alg_mismatch"},
		attackCase{name: "alg null", token: hsRaw(t, `{"alg":null,"kid":"hs"}`, claims), status: 401, reason: "alg_mismatch"},
		attackCase{name: "alg number", token: hsRaw(t, `{"alg":256,"kid":"hs"}`, claims), status: 401, reason: "alg_mismatch"},
		attackCase{name: "alg array", token: hsRaw(t, `{"alg":["HS256"],"kid":"hs"}`, claims), status: 401, reason: "alg_mismatch"},
		attackCase{name: "alg lower case", token: hsRaw(t, `{"alg":"hs256","kid":"hs"}`, claims), status: 401, reason: "alg_mismatch"},
		attackCase{name: "alg trailing space", token: hsRaw(t, `{"alg":"HS256 ","kid":"hs"}`, claims), status: 401, reason: "alg_mismatch"},
		attackCase{name: "alg with NUL", token: hsRaw(t, `{"alg":"HS256\u0000","kid":"hs"}`, claims), status: 401, reason: "alg_mismatch"},
		attackCase{name: "alg HS512 under an HS256 key", token: signRaw(t, "HS512", append(testSecret, testSecret...), `{"alg":"HS512","kid":"hs"}`, claims), status: 401, reason: "alg_mismatch"},
		attackCase{name: "alg RS256 under a PS256 key", token: signRaw(t, "RS256", genKeys(t).rsa, `{"alg":"RS256","kid":"ps"}`, claims), status: 401, reason: "alg_mismatch"},
		attackCase{name: "alg PS256 under an RS256 key", token: signRaw(t, "PS256", genKeys(t).rsa, `{"alg":"PS256","kid":"rs"}`, claims), status: 401, reason: "alg_mismatch"},
	)
	runAttacks(t, m, cases)
}

// TestAttackKeyConfusion signs HS256 tokens with the public key's bytes as
// the secret and presents them under the asymmetric kid.
func TestAttackKeyConfusion(t *testing.T) {
	m := attackMiddleware(t, nil)
	k := genKeys(t)
	pkix, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	require.NoError(t, err)
	pkcs1 := x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)
	ecDER, err := x509.MarshalPKIXPublicKey(&k.ec.PublicKey)
	require.NoError(t, err)
	edDER, err := x509.MarshalPKIXPublicKey(k.ed.Public())
	require.NoError(t, err)
	secrets := map[string][]byte{
		"RSA PKIX PEM":  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}),
		"RSA PKCS1 PEM": pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1}),
		"RSA PKIX DER":  pkix,
		"RSA PKCS1 DER": pkcs1,
		"RSA modulus":   k.rsa.N.Bytes(),
		"EC PKIX DER":   ecDER,
		"EC PEM":        pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER}),
		"Ed25519 raw":   []byte(k.ed.Public().(ed25519.PublicKey)),
		"Ed25519 DER":   edDER,
	}
	var cases []attackCase
	for name, secret := range secrets {
		for _, kid := range []string{"rs", "ps", "es", "ed"} {
			cases = append(cases, attackCase{
				name:   name + " as HS256 secret under " + kid,
				token:  signRaw(t, "HS256", secret, `{"alg":"HS256","kid":"`+kid+`"}`, claimsWith("")),
				status: 401, reason: "alg_mismatch",
			})
		}
	}
	runAttacks(t, m, cases)
}

// TestAttackWeakSecrets refuses blank, guessable and short HMAC secrets when
// keys are built, and refuses tokens signed with them.
func TestAttackWeakSecrets(t *testing.T) {
	weak := map[string][]byte{
		"empty":    {},
		"nil":      nil,
		"secret":   []byte("secret"),
		"31 bytes": []byte(strings.Repeat("a", 31)),
	}
	for name, secret := range weak {
		t.Run("key build "+name, func(t *testing.T) {
			_, err := StaticKeys(Key{ID: "w", Algorithm: "HS256", Secret: secret})
			assert.ErrorIs(t, err, ErrBadKey)
			_, err = NewMinterForTest(MintConfig{Key: MintKey{ID: "w", Algorithm: "HS256", Secret: secret}})
			assert.ErrorIs(t, err, ErrMintForTest)
		})
	}
	for alg, n := range map[string]int{"HS384": 47, "HS512": 63} {
		_, err := StaticKeys(Key{ID: "w", Algorithm: alg, Secret: make([]byte, n)})
		assert.ErrorIs(t, err, ErrBadKey, alg)
	}
	m := attackMiddleware(t, nil)
	var cases []attackCase
	for name, secret := range weak {
		cases = append(cases, attackCase{name: "token signed with " + name, token: signRaw(t, "HS256", secret, hsHeader, claimsWith("")), status: 401, reason: "bad_signature"})
	}
	runAttacks(t, m, cases)
}

// TestAttackWeakPublicKeys refuses RSA keys that are short, have a bad
// exponent or the ROCA fingerprint, and EC keys off their curve.
func TestAttackWeakPublicKeys(t *testing.T) {
	k := genKeys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	// A modulus with the ROCA structure: the product of two numbers of the
	// form 65537^a mod M for the primorial M, which is all the check reads.
	roca := testkit.ROCALikeModulus()
	offCurve := &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)}
	tests := []struct {
		name string
		key  Key
	}{
		{name: "RSA 1024", key: Key{ID: "w", Algorithm: "RS256", PublicKey: &small.PublicKey}},
		{name: "RSA exponent 1", key: Key{ID: "w", Algorithm: "RS256", PublicKey: &rsa.PublicKey{N: k.rsa.N, E: 1}}},
		{name: "RSA even exponent", key: Key{ID: "w", Algorithm: "RS256", PublicKey: &rsa.PublicKey{N: k.rsa.N, E: 65536}}},
		{name: "RSA ROCA fingerprint", key: Key{ID: "w", Algorithm: "RS256", PublicKey: &rsa.PublicKey{N: roca, E: 65537}}},
		{name: "EC off curve", key: Key{ID: "w", Algorithm: "ES256", PublicKey: offCurve}},
		{name: "EC wrong curve", key: Key{ID: "w", Algorithm: "ES384", PublicKey: &k.ec.PublicKey}},
		{name: "secret for RS256", key: Key{ID: "w", Algorithm: "RS256", Secret: testSecret}},
		{name: "public key for HS256", key: Key{ID: "w", Algorithm: "HS256", PublicKey: &k.rsa.PublicKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := StaticKeys(tt.key)
			assert.ErrorIs(t, err, ErrBadKey)
		})
	}
	_, err = StaticKeys(Key{ID: "fresh", Algorithm: "RS256", PublicKey: &k.rsa.PublicKey})
	assert.NoError(t, err, "a fresh key must not look like ROCA")
}

func TestAttackKidInjection(t *testing.T) {
	m := attackMiddleware(t, nil)
	claims := claimsWith("")
	withKid := func(kidJSON string) string {
		return hsRaw(t, `{"alg":"HS256","kid":`+kidJSON+`}`, claims)
	}
	// long fills the header to exactly MaxHeaderBytes.
	long := strings.Repeat("k", MaxHeaderBytes-len(`{"alg":"HS256","kid":""}`))
	cases := []attackCase{
		{name: "path traversal", token: withKid(`"../../etc/passwd"`), status: 401, reason: "unknown_kid"},
		{name: "absolute path", token: withKid(`"/dev/null"`), status: 401, reason: "unknown_kid"},
		{name: "SQL", token: withKid(`"hs' OR '1'='1"`), status: 401, reason: "unknown_kid"},
		{name: "SQL union", token: withKid(`"x' UNION SELECT 'secret' --"`), status: 401, reason: "unknown_kid"},
		{name: "URL", token: withKid(`"http://attacker.test/key"`), status: 401, reason: "unknown_kid"},
		{name: "very long", token: withKid(`"` + long + `"`), status: 401, reason: "unknown_kid"},
		{name: "one byte over the header limit", token: withKid(`"k` + long + `"`), status: 401, reason: "token_too_large"},
		{name: "too long for the token limit", token: withKid(`"` + strings.Repeat("k", DefaultMaxTokenBytes) + `"`), status: 401, reason: "token_too_large"},
		{name: "number", token: withKid(`1`), status: 401, reason: "missing_kid"},
		{name: "null", token: withKid(`null`), status: 401, reason: "missing_kid"},
		{name: "array", token: withKid(`["hs"]`), status: 401, reason: "missing_kid"},
		{name: "object", token: withKid(`{"kid":"hs"}`), status: 401, reason: "missing_kid"},
		{name: "true", token: withKid(`true`), status: 401, reason: "missing_kid"},
		{name: "empty", token: withKid(`""`), status: 401, reason: "missing_kid"},
		{name: "absent", token: hsRaw(t, `{"alg":"HS256"}`, claims), status: 401, reason: "missing_kid"},
		{name: "NUL suffix", token: withKid(`"hs\u0000"`), status: 401, reason: "unknown_kid"},
		{name: "NUL prefix", token: withKid(`"\u0000hs"`), status: 401, reason: "unknown_kid"},
		{name: "case variant", token: withKid(`"HS"`), status: 401, reason: "unknown_kid"},
		{name: "trailing space", token: withKid(`"hs "`), status: 401, reason: "unknown_kid"},
		{name: "fullwidth", token: withKid(`"ｈｓ"`), status: 401, reason: "unknown_kid"},
		{name: "format string", token: withKid(`"%s%s%n"`), status: 401, reason: "unknown_kid"},
		{name: "CRLF", token: withKid(`"hs\r\nX-Injected: 1"`), status: 401, reason: "unknown_kid"},
	}
	runAttacks(t, m, cases)
}

// TestAttackEmbeddedKeys presents the attacker's key inside the token (jwk,
// x5c) or a URL to it (jku, x5u). None is ever used, and no request is made
// to the URLs, even with a remote key set that refreshes on unknown kids.
func TestAttackEmbeddedKeys(t *testing.T) {
	attacker, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	attackerJWK := fmt.Sprintf(`{"kty":"EC","crv":"P-256","x":%q,"y":%q,"kid":"evil","alg":"ES256","use":"sig"}`,
		base64.RawURLEncoding.EncodeToString(attacker.X.FillBytes(make([]byte, 32))),
		base64.RawURLEncoding.EncodeToString(attacker.Y.FillBytes(make([]byte, 32))))
	evil := testkit.NewJWKSServer(t, []byte(`{"keys":[`+attackerJWK+`]}`))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "evil"},
		NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour)}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &attacker.PublicKey, attacker)
	require.NoError(t, err)
	x5c := `["` + base64.StdEncoding.EncodeToString(certDER) + `"]`

	legit := genKeys(t)
	legitJWKS := testkit.JWKSet(t, testkit.JWK(t, "remote-es", &legit.ec.PublicKey))
	legitSrv := testkit.NewJWKSServer(t, legitJWKS)
	remote := newRemoteSet(t, RemoteSetConfig{URL: legitSrv.URL, MinRefreshInterval: time.Millisecond, RefreshWait: time.Second})
	m := attackMiddleware(t, func(c *Config) { c.Keys = CombineKeys(testKeySet(t), remote) })

	claims := claimsWith("")
	sign := func(kid, extra string) string {
		return signRaw(t, "ES256", attacker, `{"alg":"ES256","kid":"`+kid+`"`+extra+`}`, claims)
	}
	cases := []attackCase{
		{name: "jwk under the legit kid", token: sign("es", `,"jwk":`+attackerJWK), status: 401, reason: "bad_signature"},
		{name: "jwk under the remote kid", token: sign("remote-es", `,"jwk":`+attackerJWK), status: 401, reason: "bad_signature"},
		{name: "jwk under its own kid", token: sign("evil", `,"jwk":`+attackerJWK), status: 401, reason: "unknown_kid"},
		{name: "jku", token: sign("evil", `,"jku":"`+evil.URL+`"`), status: 401, reason: "unknown_kid"},
		{name: "jku under the legit kid", token: sign("es", `,"jku":"`+evil.URL+`"`), status: 401, reason: "bad_signature"},
		{name: "x5u", token: sign("evil", `,"x5u":"`+evil.URL+`/cert.pem"`), status: 401, reason: "unknown_kid"},
		{name: "x5c", token: sign("evil", `,"x5c":`+x5c), status: 401, reason: "unknown_kid"},
		{name: "x5c under the legit kid", token: sign("es", `,"x5c":`+x5c), status: 401, reason: "bad_signature"},
		{name: "x5t and x5c", token: sign("es", `,"x5t":"AAAA","x5c":`+x5c), status: 401, reason: "bad_signature"},
		{name: "all at once", token: sign("evil", `,"jku":"`+evil.URL+`","x5u":"`+evil.URL+`","jwk":`+attackerJWK+`,"x5c":`+x5c), status: 401, reason: "unknown_kid"},
	}
	runAttacks(t, m, cases)
	assert.Zero(t, evil.Hits.Load(), "no request may reach a URL named in a token")
	assert.GreaterOrEqual(t, legitSrv.Hits.Load(), int64(1))
}

// TestAttackSignatureForgery tries empty, null and psychic signatures.
func TestAttackSignatureForgery(t *testing.T) {
	m := attackMiddleware(t, nil)
	claims := claimsWith("")
	n := elliptic.P256().Params().N
	nBytes := n.FillBytes(make([]byte, 32))
	esHeader := `{"alg":"ES256","kid":"es"}`
	rs := func(r, s []byte) string {
		return base64.RawURLEncoding.EncodeToString(append(append([]byte{}, r...), s...))
	}
	zero, one := make([]byte, 32), big.NewInt(1).FillBytes(make([]byte, 32))
	nMinus1 := new(big.Int).Sub(n, big.NewInt(1)).FillBytes(make([]byte, 32))
	valid := signRaw(t, "ES256", genKeys(t).ec, esHeader, claims)
	validSig, _ := base64.RawURLEncoding.DecodeString(valid[strings.LastIndexByte(valid, '.')+1:])
	// r and s as ASN.1 DER, the X.509 form that JWS does not use.
	der := func() string {
		r, s := new(big.Int).SetBytes(validSig[:32]), new(big.Int).SetBytes(validSig[32:])
		b, err := asn1Marshal(r, s)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(b)
	}()
	// s replaced by n - s: the malleable twin of a valid signature.
	twin := func() string {
		s := new(big.Int).SetBytes(validSig[32:])
		return rs(validSig[:32], new(big.Int).Sub(n, s).FillBytes(make([]byte, 32)))
	}()
	cases := []attackCase{
		{name: "no signature segment", token: b64(hsHeader) + "." + b64(claims), status: 401, reason: "malformed_token"},
		{name: "empty HS256 signature", token: unsigned(hsHeader, claims, ""), status: 401, reason: "malformed_token"},
		{name: "one zero byte", token: unsigned(hsHeader, claims, "AA"), status: 401, reason: "bad_signature"},
		{name: "32 zero bytes", token: unsigned(hsHeader, claims, rs(zero, nil)), status: 401, reason: "bad_signature"},
		{name: "HS256 truncated", token: func() string { tk := hsClaims(t, claims); return tk[:len(tk)-3] }(), status: 401, reason: "bad_signature"},
		{name: "ES256 r=s=0", token: unsigned(esHeader, claims, rs(zero, zero)), status: 401, reason: "bad_signature"},
		{name: "ES256 r=s=n", token: unsigned(esHeader, claims, rs(nBytes, nBytes)), status: 401, reason: "bad_signature"},
		{name: "ES256 r=0 s=n", token: unsigned(esHeader, claims, rs(zero, nBytes)), status: 401, reason: "bad_signature"},
		{name: "ES256 r=s=1", token: unsigned(esHeader, claims, rs(one, one)), status: 401, reason: "bad_signature"},
		{name: "ES256 r=s=n-1", token: unsigned(esHeader, claims, rs(nMinus1, nMinus1)), status: 401, reason: "bad_signature"},
		{name: "ES256 r=s=0 short", token: unsigned(esHeader, claims, "AA"), status: 401, reason: "bad_signature"},
		{name: "ES256 DER form", token: unsigned(esHeader, claims, der), status: 401, reason: "bad_signature"},
		{name: "ES256 valid plus a byte", token: unsigned(esHeader, claims, rs(validSig, []byte{0})), status: 401, reason: "bad_signature"},
		{name: "RS256 zero", token: unsigned(`{"alg":"RS256","kid":"rs"}`, claims, rs(make([]byte, 256), nil)), status: 401, reason: "bad_signature"},
		{name: "EdDSA zero", token: unsigned(`{"alg":"EdDSA","kid":"ed"}`, claims, rs(make([]byte, 64), nil)), status: 401, reason: "bad_signature"},
		{name: "signature of another token", token: valid[:strings.IndexByte(valid, '.')] + "." + b64(claimsWith(`,"x":1`)) + valid[strings.LastIndexByte(valid, '.'):], status: 401, reason: "bad_signature"},
	}
	runAttacks(t, m, cases)
	// The malleable twin (r, n-s) is a valid ECDSA signature of the same
	// claims, so it is accepted; both forms are verified on their own in the
	// cache, and revocation names a token without jti by its signing input, so
	// the twin is the same token there (TestRevocationECDSATwin).
	res := serve(t, m, bearer(attackPath, unsigned(esHeader, claims, twin)))
	assert.Equal(t, http.StatusOK, res.code, "ECDSA (r, n-s) is a valid signature of the same claims")
}

func TestAttackClaimTypes(t *testing.T) {
	m := attackMiddleware(t, nil)
	c := func(body string) string { return hsClaims(t, body) }
	aud := fmt.Sprintf("%q", attackPath)
	exp := fmt.Sprint(attackExp)
	cases := []attackCase{
		{name: "exp string", token: c(`{"aud":` + aud + `,"exp":"` + exp + `"}`), status: 401, reason: "invalid_claims"},
		{name: "exp null", token: c(`{"aud":` + aud + `,"exp":null}`), status: 401, reason: "invalid_claims"},
		{name: "exp true", token: c(`{"aud":` + aud + `,"exp":true}`), status: 401, reason: "invalid_claims"},
		{name: "exp array", token: c(`{"aud":` + aud + `,"exp":[` + exp + `]}`), status: 401, reason: "invalid_claims"},
		{name: "exp object", token: c(`{"aud":` + aud + `,"exp":{"v":` + exp + `}}`), status: 401, reason: "invalid_claims"},
		{name: "exp negative", token: c(`{"aud":` + aud + `,"exp":-1}`), status: 401, reason: "invalid_claims"},
		{name: "exp huge", token: c(`{"aud":` + aud + `,"exp":1e300}`), status: 401, reason: "invalid_claims"},
		{name: "exp past year 9999", token: c(`{"aud":` + aud + `,"exp":253402300800}`), status: 401, reason: "invalid_claims"},
		{name: "exp 20 digits", token: c(`{"aud":` + aud + `,"exp":99999999999999999999}`), status: 401, reason: "invalid_claims"},
		{name: "exp plus sign", token: c(`{"aud":` + aud + `,"exp":+` + exp + `}`), status: 401, reason: "invalid_claims"},
		{name: "exp leading zero", token: c(`{"aud":` + aud + `,"exp":0` + exp + `}`), status: 401, reason: "malformed_token"},
		{name: "exp NaN", token: c(`{"aud":` + aud + `,"exp":NaN}`), status: 401, reason: "invalid_claims"},
		{name: "exp hex", token: c(`{"aud":` + aud + `,"exp":0x7fffffff}`), status: 401, reason: "malformed_token"},
		{name: "nbf string", token: hsClaims(t, claimsWith(`,"nbf":"0"`)), status: 401, reason: "invalid_claims"},
		{name: "iat object", token: hsClaims(t, claimsWith(`,"iat":{}`)), status: 401, reason: "invalid_claims"},
		{name: "aud number", token: c(`{"aud":42,"exp":` + exp + `}`), status: 401, reason: "bad_audience"},
		{name: "aud object", token: c(`{"aud":{"path":` + aud + `},"exp":` + exp + `}`), status: 401, reason: "bad_audience"},
		{name: "aud null", token: c(`{"aud":null,"exp":` + exp + `}`), status: 401, reason: "bad_audience"},
		{name: "aud empty array", token: c(`{"aud":[],"exp":` + exp + `}`), status: 401, reason: "bad_audience"},
		{name: "aud array with a number", token: c(`{"aud":[` + aud + `,1],"exp":` + exp + `}`), status: 401, reason: "bad_audience"},
		{name: "aud nested array", token: c(`{"aud":[[` + aud + `]],"exp":` + exp + `}`), status: 401, reason: "bad_audience"},
		{name: "aud empty string", token: c(`{"aud":"","exp":` + exp + `}`), status: 401, reason: "bad_audience"},
		{name: "aud missing", token: c(`{"exp":` + exp + `}`), status: 401, reason: "bad_audience"},
		{name: "aud dot segment", token: c(`{"aud":"/v2/accounts/me/../x","exp":` + exp + `}`), status: 401, reason: "bad_audience"},
		{name: "aud percent-encoded", token: c(`{"aud":"/v2/accounts/me/se%61rch","exp":` + exp + `}`), status: 401, reason: "bad_audience"},
		{name: "aud without endpoint", token: c(`{"aud":"/v2/accounts/me","exp":` + exp + `}`), status: 401, reason: "bad_audience"},
		// '*' is a pchar: the entry names a business called "*", literally,
		// and covers nothing else. There are no wildcards.
		{name: "aud wildcard", token: c(`{"aud":"/v2/accounts/*/search","exp":` + exp + `}`), status: 403, reason: "audience_mismatch"},
		{name: "aud one bad entry among good", token: c(`{"aud":[` + aud + `,"/v2/accounts/me//x"],"exp":` + exp + `}`), status: 401, reason: "bad_audience"},
		{name: "query array", token: hsClaims(t, claimsWith(`,"query":["a","b"]`)), status: 401, reason: "bad_query_claim"},
		{name: "query string", token: hsClaims(t, claimsWith(`,"query":"a=b"`)), status: 401, reason: "bad_query_claim"},
		{name: "query null", token: hsClaims(t, claimsWith(`,"query":null`)), status: 401, reason: "bad_query_claim"},
		{name: "query nested object", token: hsClaims(t, claimsWith(`,"query":{"a":{"b":"c"}}`)), status: 401, reason: "bad_query_claim"},
		{name: "query null value", token: hsClaims(t, claimsWith(`,"query":{"a":null}`)), status: 401, reason: "bad_query_claim"},
		{name: "query empty array value", token: hsClaims(t, claimsWith(`,"query":{"a":[]}`)), status: 401, reason: "bad_query_claim"},
		{name: "query nested array value", token: hsClaims(t, claimsWith(`,"query":{"a":[["b"]]}`)), status: 401, reason: "bad_query_claim"},
		{name: "query object in array", token: hsClaims(t, claimsWith(`,"query":{"a":[{"b":1}]}`)), status: 401, reason: "bad_query_claim"},
		{name: "query null in array", token: hsClaims(t, claimsWith(`,"query":{"a":["b",null]}`)), status: 401, reason: "bad_query_claim"},
		{name: "query empty name", token: hsClaims(t, claimsWith(`,"query":{"":"b"}`)), status: 401, reason: "bad_query_claim"},
		{name: "iss number", token: hsClaims(t, claimsWith(`,"iss":1`)), status: 401, reason: "invalid_claims"},
		{name: "sub null", token: hsClaims(t, claimsWith(`,"sub":null`)), status: 401, reason: "invalid_claims"},
		{name: "jti array", token: hsClaims(t, claimsWith(`,"jti":["a"]`)), status: 401, reason: "invalid_claims"},
		{name: "claims array", token: c(`[` + claimsWith("") + `]`), status: 401, reason: "malformed_token"},
		{name: "claims null", token: c(`null`), status: 401, reason: "malformed_token"},
		{name: "claims string", token: c(`"` + attackPath + `"`), status: 401, reason: "malformed_token"},
		{name: "claims empty object", token: c(`{}`), status: 401, reason: "bad_audience"},
		{name: "claims trailing data", token: c(claimsWith("") + `x`), status: 401, reason: "malformed_token"},
		{name: "claims two objects", token: hsClaims(t, claimsWith("")+claimsWith("")), status: 401, reason: "malformed_token"},
		{name: "claims trailing comma", token: c(strings.TrimSuffix(claimsWith(""), "}") + `,}`), status: 401, reason: "malformed_token"},
		{name: "claims single quotes", token: c(`{'aud':` + aud + `}`), status: 401, reason: "malformed_token"},
		{name: "claims comment", token: c(`/*x*/` + claimsWith("")), status: 401, reason: "malformed_token"},
		{name: "claims BOM", token: c("\ufeff" + claimsWith("")), status: 401, reason: "malformed_token"},
		{name: "claims too deep", token: hsClaims(t, claimsWith(`,"x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40))), status: 401, reason: "malformed_token"},
		{name: "header array", token: hsRaw(t, `[`+hsHeader+`]`, claimsWith("")), status: 401, reason: "malformed_token"},
		{name: "header empty", token: hsRaw(t, ``, claimsWith("")), status: 401, reason: "malformed_token"},
		{name: "header trailing data", token: hsRaw(t, hsHeader+`{}`, claimsWith("")), status: 401, reason: "malformed_token"},
	}
	runAttacks(t, m, cases)
}

func TestAttackDuplicateMembers(t *testing.T) {
	m := attackMiddleware(t, nil)
	h := func(header string) string { return hsRaw(t, header, claimsWith("")) }
	later := fmt.Sprint(attackExp + 1e6)
	cases := []attackCase{
		{name: "header alg twice", token: h(`{"alg":"HS256","alg":"none","kid":"hs"}`), status: 401, reason: "duplicate_member"},
		{name: "header kid twice", token: h(`{"alg":"HS256","kid":"hs","kid":"rs"}`), status: 401, reason: "duplicate_member"},
		{name: "header escaped alg", token: h(`{"alg":"HS256","\u0061lg":"none","kid":"hs"}`), status: 401, reason: "duplicate_member"},
		{name: "header escaped kid twice", token: h(`{"alg":"HS256","kid":"hs","\u006b\u0069\u0064":"rs"}`), status: 401, reason: "duplicate_member"},
		{name: "header nested duplicate", token: h(`{"alg":"HS256","kid":"hs","x":{"a":1,"a":2}}`), status: 401, reason: "duplicate_member"},
		{name: "header ALG", token: h(`{"alg":"HS256","ALG":"none","kid":"hs"}`), status: 401, reason: "ambiguous_member"},
		{name: "header Kid", token: h(`{"alg":"HS256","Kid":"rs","kid":"hs"}`), status: 401, reason: "ambiguous_member"},
		{name: "header Kelvin kid", token: h(`{"alg":"HS256","kid":"hs","\u212Aid":"rs"}`), status: 401, reason: "ambiguous_member"},
		{name: "header raw Kelvin kid", token: h(`{"alg":"HS256","kid":"hs","` + "\u212a" + `id":"rs"}`), status: 401, reason: "ambiguous_member"},
		{name: "header CRIT", token: h(`{"alg":"HS256","kid":"hs","CRIT":["exp"]}`), status: 401, reason: "ambiguous_member"},
		{name: "header Typ", token: h(`{"alg":"HS256","kid":"hs","Typ":"JWT"}`), status: 401, reason: "ambiguous_member"},
		{name: "claims exp twice", token: hsClaims(t, claimsWith(`,"exp":`+later)), status: 401, reason: "duplicate_member"},
		{name: "claims aud twice", token: hsClaims(t, claimsWith(`,"aud":"/v2/accounts/me/admin"`)), status: 401, reason: "duplicate_member"},
		{name: "claims escaped exp", token: hsClaims(t, claimsWith(`,"\u0065xp":`+later)), status: 401, reason: "duplicate_member"},
		{name: "claims escaped aud", token: hsClaims(t, claimsWith(`,"\u0061\u0075\u0064":"/v2/accounts/me/admin"`)), status: 401, reason: "duplicate_member"},
		{name: "claims escaped slash in name", token: hsClaims(t, claimsWith(`,"a/b":1,"a\/b":2`)), status: 401, reason: "duplicate_member"},
		{name: "claims nested duplicate", token: hsClaims(t, claimsWith(`,"x":{"y":[{"a":1,"a":2}]}`)), status: 401, reason: "duplicate_member"},
		{name: "claims query duplicate", token: hsClaims(t, claimsWith(`,"query":{"a":"1","a":"2"}`)), status: 401, reason: "duplicate_member"},
		{name: "claims query escaped duplicate", token: hsClaims(t, claimsWith(`,"query":{"a":"1","\u0061":"2"}`)), status: 401, reason: "duplicate_member"},
		{name: "claims EXP", token: hsClaims(t, claimsWith(`,"EXP":`+later)), status: 401, reason: "ambiguous_member"},
		{name: "claims Aud", token: hsClaims(t, claimsWith(`,"Aud":"/v2/accounts/me/admin"`)), status: 401, reason: "ambiguous_member"},
		{name: "claims QUERY", token: hsClaims(t, claimsWith(`,"QUERY":{"a":"b"}`)), status: 401, reason: "ambiguous_member"},
		{name: "claims long s sub", token: hsClaims(t, claimsWith(`,"sub":"a","\u017Fub":"b"`)), status: 401, reason: "ambiguous_member"},
		{name: "claims long s alone", token: hsClaims(t, claimsWith(`,"\u017Fub":"b"`)), status: 401, reason: "ambiguous_member"},
		{name: "claims Kelvin in a name", token: hsClaims(t, claimsWith(`,"jt\u0130":"b"`)), status: 0, reason: ""},
		{name: "claims ISS", token: hsClaims(t, claimsWith(`,"ISS":"b"`)), status: 401, reason: "ambiguous_member"},
		{name: "claims nbF", token: hsClaims(t, claimsWith(`,"nbF":0`)), status: 401, reason: "ambiguous_member"},
		{name: "claims iAt", token: hsClaims(t, claimsWith(`,"iAt":0`)), status: 401, reason: "ambiguous_member"},
		{name: "claims JTI", token: hsClaims(t, claimsWith(`,"JTI":"x"`)), status: 401, reason: "ambiguous_member"},
	}
	// U+0130 (dotted capital I) does not fold to "i" in encoding/json, so
	// "jtİ" is just another claim: allowed. It is the control that shows the
	// folding check is not a blanket refusal of non-ASCII names.
	var refusals []attackCase
	for _, tc := range cases {
		if tc.status == 0 {
			res := serve(t, m, bearer(attackPath, tc.token))
			assert.Equal(t, http.StatusOK, res.code, tc.name)
			continue
		}
		refusals = append(refusals, tc)
	}
	runAttacks(t, m, refusals)
}

// TestAttackCaseFoldedClaims refuses claims with two names in one object, at
// any depth, that encoding/json's case folding merges (it also takes the
// Kelvin sign for K and the long s for S): decoding them into a struct with
// DecodeClaims would let the later value win, whichever the issuer meant.
func TestAttackCaseFoldedClaims(t *testing.T) {
	var premise struct {
		Role string `json:"role"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"role":"user","ROLE":"admin"}`), &premise))
	require.Equal(t, "admin", premise.Role, "encoding/json merges case variants into one field")

	m := attackMiddleware(t, nil)
	var many strings.Builder // enough members that names are looked up in a map
	for i := range strictjson.SmallNames + 8 {
		fmt.Fprintf(&many, `,"m%d":%d`, i, i)
	}
	var clashing strings.Builder // names of one fingerprint (length, first and last byte), enough to move to a map (more than 4)
	for i := range 8 {
		fmt.Fprintf(&clashing, `,"x%cy":%d`, 'a'+i, i)
	}
	c := func(extra string) string { return hsClaims(t, claimsWith(extra)) }
	cases := []attackCase{
		{name: "role and ROLE", token: c(`,"role":"user","ROLE":"admin"`)},
		{name: "ROLE before role", token: c(`,"ROLE":"admin","role":"user"`)},
		{name: "mixed case", token: c(`,"role":"user","rOlE":"admin"`)},
		{name: "nested object", token: c(`,"a":{"x":1,"X":2}`)},
		{name: "deeply nested object", token: c(`,"a":{"b":{"c":{"tenant":"t1","Tenant":"t2"}}}`)},
		{name: "object inside an array", token: c(`,"a":[{"x":1},{"y":1,"Y":2}]`)},
		{name: "object inside nested arrays", token: c(`,"a":[[1,{"x":1,"X":2}]]`)},
		{name: "Kelvin sign escaped", token: c(`,"key":"a","\u212Aey":"b"`)},
		{name: "Kelvin sign raw", token: c(`,"key":"a","` + "\u212a" + `ey":"b"`)},
		{name: "Kelvin sign and K", token: c(`,"\u212Aey":"b","Key":"a"`)},
		{name: "long s escaped", token: c(`,"scope":"read","\u017Fcope":"admin"`)},
		{name: "long s raw", token: c(`,"scope":"read","` + "\u017f" + `cope":"admin"`)},
		{name: "long s and S", token: c(`,"\u017Fcope":"admin","SCOPE":"read"`)},
		{name: "escaped lower case", token: c(`,"r\u006Fle":"user","ROLE":"admin"`)},
		{name: "escaped upper case", token: c(`,"role":"user","\u0052\u004F\u004C\u0045":"admin"`)},
		{name: "non-ASCII letters", token: c(`,"\u00e9t\u00e9":"a","\u00c9T\u00c9":"b"`)},
		{name: "query parameter names", token: c(`,"query":{"page":"1","Page":"2"}`)},
		{name: "large object", token: c(many.String() + `,"M3":0`)},
		{name: "large nested object", token: c(`,"a":{"z":0` + many.String() + `,"Z":1}`)},
		{name: "names of one fingerprint", token: c(clashing.String() + `,"XBY":0`)},
		{name: "names of one fingerprint, variant first", token: c(`,"XBY":0` + clashing.String())},
	}
	for i := range cases {
		cases[i].status, cases[i].reason = http.StatusUnauthorized, "ambiguous_member"
	}
	cases = append(cases,
		attackCase{name: "large object exact duplicate", token: c(many.String() + `,"m3":0`), status: http.StatusUnauthorized, reason: "duplicate_member"},
		attackCase{name: "names of one fingerprint, exact duplicate", token: c(clashing.String() + `,"xby":0`), status: http.StatusUnauthorized, reason: "duplicate_member"})
	runAttacks(t, m, cases)

	// Names that encoding/json keeps apart, or that live in different objects.
	for _, tc := range []struct{ name, extra string }{
		{"sibling objects", `,"a":{"x":1},"b":{"X":2}`},
		{"different depths", `,"x":1,"a":{"X":2,"b":{"x":3}}`},
		{"array elements", `,"a":[{"x":1},{"x":2},{"X":3}]`},
		{"after a nested object ends", `,"a":{"role":1},"ROLE":2`},
		{"after a large object ends", `,"a":{"z":0` + many.String() + `},"Z":1`},
		{"dotless i", `,"r\u0131le":"a","rile":"b"`},
		{"dotted capital I", `,"\u0130d":"a","id":"b"`},
		{"accented letter", `,"role":"a","r\u00f4le":"b"`},
		{"large object", many.String()},
		{"names of one fingerprint", clashing.String()},
	} {
		res := serve(t, m, bearer(attackPath, c(tc.extra)))
		if assert.Equal(t, http.StatusOK, res.code, "%s: %s", tc.name, res.body) {
			var all map[string]any
			assert.NoError(t, res.token.DecodeClaims(&all), tc.name)
		}
	}
}

func TestAttackEncoding(t *testing.T) {
	m := attackMiddleware(t, nil)
	qm := attackMiddleware(t, func(c *Config) { c.TokenQueryParam = "jwt" })
	valid := hsClaims(t, claimsWith(""))
	d1, d2 := strings.IndexByte(valid, '.'), strings.LastIndexByte(valid, '.')
	hSeg, pSeg, sSeg := valid[:d1], valid[d1+1:d2], valid[d2+1:]
	// flipTrailing changes the unused low bits of a segment's last character.
	flipTrailing := func(seg string) string {
		const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		i := strings.IndexByte(alpha, seg[len(seg)-1])
		return seg[:len(seg)-1] + string(alpha[i|1])
	}
	require.NotEqual(t, 0, len(sSeg)%4, "a 32-byte signature has trailing bits")
	std := func(s string) string { return strings.NewReplacer("-", "+", "_", "/").Replace(s) }
	// A payload whose encoding contains '-' or '_', so the standard alphabet
	// differs from it.
	var alt string
	for i := 0; ; i++ {
		alt = hsClaims(t, claimsWith(fmt.Sprintf(`,"p":"%d>>>???"`, i)))
		if strings.ContainsAny(alt[:strings.LastIndexByte(alt, '.')], "-_") {
			break
		}
	}
	headerReq := func(value string) func() *http.Request {
		return func() *http.Request {
			r := bearer(attackPath, "")
			r.Header["Authorization"] = []string{value}
			return r
		}
	}
	cases := []attackCase{
		{name: "lone high surrogate in claims", token: hsClaims(t, claimsWith(`,"x":"\ud800"`)), status: 401, reason: "malformed_token"},
		{name: "lone low surrogate in claims", token: hsClaims(t, claimsWith(`,"x":"\udc00"`)), status: 401, reason: "malformed_token"},
		{name: "reversed surrogates", token: hsClaims(t, claimsWith(`,"x":"\udc00\ud800"`)), status: 401, reason: "malformed_token"},
		{name: "high surrogate then letter", token: hsClaims(t, claimsWith(`,"x":"\ud800a"`)), status: 401, reason: "malformed_token"},
		{name: "lone surrogate in a name", token: hsClaims(t, claimsWith(`,"\ud800":1`)), status: 401, reason: "malformed_token"},
		{name: "lone surrogate in header", token: hsRaw(t, `{"alg":"HS256","kid":"hs","x":"\udfff"}`, claimsWith("")), status: 401, reason: "malformed_token"},
		{name: "invalid UTF-8 in claims", token: hsClaims(t, claimsWith(`,"x":"`+"\xff"+`"`)), status: 401, reason: "malformed_token"},
		{name: "invalid UTF-8 in a name", token: hsClaims(t, claimsWith(`,"`+"\xc3"+`":1`)), status: 401, reason: "malformed_token"},
		{name: "overlong slash", token: hsClaims(t, claimsWith(`,"x":"`+"\xc0\xaf"+`"`)), status: 401, reason: "malformed_token"},
		{name: "UTF-8 surrogate", token: hsClaims(t, claimsWith(`,"x":"`+"\xed\xa0\x80"+`"`)), status: 401, reason: "malformed_token"},
		{name: "invalid UTF-8 in header", token: hsRaw(t, `{"alg":"HS256","kid":"hs`+"\xfe"+`"}`, claimsWith("")), status: 401, reason: "malformed_token"},
		{name: "raw control character", token: hsClaims(t, claimsWith(`,"x":"a`+"\x01"+`"`)), status: 401, reason: "malformed_token"},
		{name: "bad escape", token: hsClaims(t, claimsWith(`,"x":"\x41"`)), status: 401, reason: "malformed_token"},
		{name: "padding on signature", token: valid + "=", status: 401, reason: "malformed_token"},
		{name: "double padding on signature", token: valid + "==", status: 401, reason: "malformed_token"},
		{name: "padding inside the token", token: hSeg + "=." + pSeg + "." + sSeg, status: 400, reason: "bad_credentials"},
		{name: "standard alphabet", token: std(alt), status: 401, reason: "malformed_token"},
		{name: "plus in signature", token: hSeg + "." + pSeg + "." + sSeg[:5] + "+" + sSeg[6:], status: 401, reason: "malformed_token"},
		{name: "slash in payload", token: hSeg + "." + pSeg[:3] + "/" + pSeg[4:] + "." + sSeg, status: 401, reason: "malformed_token"},
		{name: "tilde", token: hSeg + "~." + pSeg + "." + sSeg, status: 401, reason: "malformed_token"},
		{name: "trailing bits in signature", token: hSeg + "." + pSeg + "." + flipTrailing(sSeg), status: 401, reason: "malformed_token"},
		{name: "impossible length", token: hSeg + "." + pSeg + "." + sSeg + "AA", status: 401, reason: "malformed_token"},
		{name: "four segments", token: valid + ".AAAA", status: 401, reason: "malformed_token"},
		{name: "five segments (JWE shape)", token: hSeg + ".." + pSeg + "." + sSeg + ".AAAA", status: 401, reason: "malformed_token"},
		{name: "two segments", token: hSeg + "." + pSeg, status: 401, reason: "malformed_token"},
		{name: "one segment", token: hSeg, status: 401, reason: "malformed_token"},
		{name: "dots only", token: "..", status: 401, reason: "malformed_token"},
		{name: "empty payload", token: hSeg + ".." + sSeg, status: 401, reason: "malformed_token"},
		{name: "space inside", req: headerReq("Bearer " + hSeg + " ." + pSeg + "." + sSeg), status: 400, reason: "bad_credentials"},
		{name: "newline inside", req: headerReq("Bearer " + hSeg + "\n." + pSeg + "." + sSeg), status: 400, reason: "bad_credentials"},
		{name: "CR inside", req: headerReq("Bearer " + hSeg + "." + pSeg[:4] + "\r" + pSeg[4:] + "." + sSeg), status: 400, reason: "bad_credentials"},
		// No space: the scheme is "Bearer\t<token>", another scheme, so it
		// counts as no token.
		{name: "tab after scheme", req: headerReq("Bearer\t" + valid), status: 401, reason: "missing_token"},
		{name: "two spaces after scheme", req: headerReq("Bearer  " + valid), status: 400, reason: "bad_credentials"},
		{name: "trailing space", req: headerReq("Bearer " + valid + " "), status: 400, reason: "bad_credentials"},
		{name: "empty credentials", req: headerReq("Bearer "), status: 400, reason: "bad_credentials"},
		{name: "scheme only", req: headerReq("Bearer"), status: 400, reason: "bad_credentials"},
		{name: "two Authorization headers", req: func() *http.Request {
			r := bearer(attackPath, valid)
			r.Header.Add("Authorization", "Bearer "+valid)
			return r
		}, status: 400, reason: "multiple_tokens"},
		{name: "other scheme", req: headerReq("Basic " + valid), status: 401, reason: "missing_token"},
	}
	runAttacks(t, m, cases)

	// Through the query parameter the token is taken as written: whitespace
	// arrives percent-encoded and fails the strict alphabet.
	queryCases := []attackCase{
		{name: "query: encoded newline", req: func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "http://api.test"+attackPath+"?jwt="+hSeg+"%0A."+pSeg+"."+sSeg, nil)
		}, status: 401, reason: "malformed_token"},
		{name: "query: encoded token", req: func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "http://api.test"+attackPath+"?jwt="+strings.ReplaceAll(valid, ".", "%2E"), nil)
		}, status: 401, reason: "malformed_token"},
		{name: "query: plus as space", req: func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "http://api.test"+attackPath+"?jwt="+hSeg+"+."+pSeg+"."+sSeg, nil)
		}, status: 401, reason: "malformed_token"},
		{name: "query: twice", req: func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "http://api.test"+attackPath+"?jwt="+valid+"&jwt="+valid, nil)
		}, status: 400, reason: "multiple_tokens"},
		{name: "query and header", req: func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "http://api.test"+attackPath+"?jwt="+valid, nil)
			r.Header.Set("Authorization", "Bearer "+valid)
			return r
		}, status: 400, reason: "multiple_tokens"},
	}
	runAttacks(t, qm, queryCases)

	// The signature layer on its own: the standard decoder skips CR and LF,
	// so these must be refused by the alphabet check.
	for _, tok := range []string{hSeg + "\n." + pSeg + "." + sSeg, hSeg + "." + pSeg + "\r\n." + sSeg, hSeg + "." + pSeg + "." + sSeg[:4] + "\n" + sSeg[4:], " " + valid} {
		_, e := verifyJWS(context.Background(), testKeySet(t), tok, DefaultMaxTokenBytes, nil)
		assert.Equal(t, ErrMalformedToken, e, "%q", tok)
	}
}

func TestAttackHeaderParameters(t *testing.T) {
	m := attackMiddleware(t, nil)
	h := func(extra string) string { return hsRaw(t, `{"alg":"HS256","kid":"hs"`+extra+`}`, claimsWith("")) }
	cases := []attackCase{
		{name: "crit", token: h(`,"crit":["exp"]`), status: 401, reason: "unsupported_header"},
		{name: "crit empty", token: h(`,"crit":[]`), status: 401, reason: "unsupported_header"},
		{name: "crit b64", token: h(`,"crit":["b64"],"b64":false`), status: 401, reason: "unsupported_header"},
		{name: "b64 false", token: h(`,"b64":false`), status: 401, reason: "unsupported_header"},
		{name: "b64 true", token: h(`,"b64":true`), status: 401, reason: "unsupported_header"},
		{name: "escaped crit", token: h(`,"\u0063rit":["x"]`), status: 401, reason: "unsupported_header"},
		{name: "typ JWE", token: h(`,"typ":"JWE"`), status: 401, reason: "unsupported_header"},
		{name: "typ at+jwt", token: h(`,"typ":"at+jwt"`), status: 401, reason: "unsupported_header"},
		{name: "typ number", token: h(`,"typ":1`), status: 401, reason: "unsupported_header"},
		{name: "typ null", token: h(`,"typ":null`), status: 401, reason: "unsupported_header"},
		{name: "enc (JWE header)", token: h(`,"enc":"A256GCM"`), status: 0},
		{name: "zip", token: h(`,"zip":"DEF"`), status: 0},
		{name: "typ lower case jwt", token: h(`,"typ":"jwt"`), status: 0},
	}
	// enc and zip are JWE parameters with no meaning in a JWS: ignored, and
	// the token is otherwise valid. typ is compared without case (RFC 7515 §4.1.9).
	var refusals []attackCase
	for _, tc := range cases {
		if tc.status == 0 {
			res := serve(t, m, bearer(attackPath, tc.token))
			assert.Equal(t, http.StatusOK, res.code, tc.name)
			continue
		}
		refusals = append(refusals, tc)
	}
	runAttacks(t, m, refusals)
}

// TestAttackSize checks the MaxTokenBytes boundary: a valid token of exactly
// the limit passes, one byte more is refused before parsing.
func TestAttackSize(t *testing.T) {
	m := attackMiddleware(t, nil)
	// sized pads a claim and a header member until the token is n bytes.
	sized := func(n int) string {
		enc := base64.RawURLEncoding.EncodedLen
		for pad := n*3/4 - 200; pad < n; pad++ {
			claims := claimsWith(`,"p":"` + strings.Repeat("x", pad) + `"`)
			for k := 0; k < 4; k++ {
				header := `{"alg":"HS256","kid":"hs","x":"` + strings.Repeat("y", k) + `"}`
				if enc(len(header))+1+enc(len(claims))+1+enc(32) == n {
					return hsRaw(t, header, claims)
				}
			}
		}
		t.Fatalf("no token of %d bytes", n)
		return ""
	}
	exact := sized(DefaultMaxTokenBytes)
	require.Len(t, exact, DefaultMaxTokenBytes)
	res := serve(t, m, bearer(attackPath, exact))
	assert.Equal(t, http.StatusOK, res.code, "a token of exactly MaxTokenBytes is accepted")
	over := sized(DefaultMaxTokenBytes + 1)
	require.Len(t, over, DefaultMaxTokenBytes+1)
	runAttacks(t, m, []attackCase{
		{name: "one byte over", token: over, status: 401, reason: "token_too_large"},
		{name: "a megabyte of junk", token: strings.Repeat("A", 1<<20), status: 401, reason: "token_too_large"},
		{name: "a megabyte of dots", token: strings.Repeat(".", 1<<20), status: 401, reason: "token_too_large"},
	})
	small := attackMiddleware(t, func(c *Config) { c.MaxTokenBytes = 100 })
	runAttacks(t, small, []attackCase{{name: "configured limit", token: hsClaims(t, claimsWith("")), status: 401, reason: "token_too_large"}})
}

// TestAttackHeaderLimits checks the bounds on the header, which is read before
// the signature: MaxHeaderBytes and MaxHeaderValues pass exactly, one more is
// refused, whatever the token's length.
func TestAttackHeaderLimits(t *testing.T) {
	m := attackMiddleware(t, nil)
	open := `{"alg":"HS256","kid":"hs"`
	padded := func(n int) string { // a header of n bytes
		return open + `,"p":"` + strings.Repeat("x", n-len(open)-len(`,"p":""}`)) + `"}`
	}
	// Headers of n values in all: the header's alg and kid and then members,
	// array elements, or arrays nested in one another.
	members := func(n int) string {
		var b strings.Builder
		for i := 2; i < n; i++ {
			fmt.Fprintf(&b, `,"m%d":0`, i)
		}
		return open + b.String() + "}"
	}
	elements := func(n int) string { return open + `,"x":[` + strings.Repeat("0,", n-4) + `0]}` }
	nested := func(n int) string { return open + `,"x":` + strings.Repeat(`[`, n-2) + strings.Repeat(`]`, n-2) + `}` }
	require.Len(t, padded(MaxHeaderBytes), MaxHeaderBytes)
	for _, tc := range []struct{ name, header string }{
		{"header of MaxHeaderBytes", padded(MaxHeaderBytes)},
		{"MaxHeaderValues members", members(MaxHeaderValues)},
		{"MaxHeaderValues with array elements", elements(MaxHeaderValues)},
		{"MaxHeaderValues nested", nested(MaxHeaderValues)},
	} {
		res := serve(t, m, bearer(attackPath, hsRaw(t, tc.header, claimsWith(""))))
		assert.Equal(t, http.StatusOK, res.code, "%s: %s", tc.name, res.body)
	}
	runAttacks(t, m, []attackCase{
		{name: "one byte over MaxHeaderBytes", token: hsRaw(t, padded(MaxHeaderBytes+1), claimsWith("")), status: 401, reason: "token_too_large"},
		{name: "one member over MaxHeaderValues", token: hsRaw(t, members(MaxHeaderValues+1), claimsWith("")), status: 401, reason: "token_too_large"},
		{name: "one element over MaxHeaderValues", token: hsRaw(t, elements(MaxHeaderValues+1), claimsWith("")), status: 401, reason: "token_too_large"},
		{name: "one level over MaxHeaderValues", token: hsRaw(t, nested(MaxHeaderValues+1), claimsWith("")), status: 401, reason: "token_too_large"},
		{name: "many members and a bad signature", token: unsigned(members(4*MaxHeaderValues), claimsWith(""), "AAAA"), status: 401, reason: "token_too_large"},
	})
}

// TestAttackSpecTokenRules covers the remaining token rules of docs/security.md one by one.
func TestAttackSpecTokenRules(t *testing.T) {
	now := testNow.Unix()
	aud := fmt.Sprintf("%q", attackPath)
	c := func(format string, args ...any) string { return hsClaims(t, fmt.Sprintf(format, args...)) }
	m := attackMiddleware(t, nil)
	noLeeway := attackMiddleware(t, func(c *Config) { c.Leeway = -1 })
	lifetime := attackMiddleware(t, func(c *Config) { c.MaxLifetime = time.Hour })
	allowNoExp := attackMiddleware(t, func(c *Config) { c.AllowMissingExp = true })
	tooMany := `,"query":{` + func() string {
		var b []string
		for i := 0; i <= DefaultMaxQueryParams; i++ {
			b = append(b, fmt.Sprintf(`"p%d":"v"`, i))
		}
		return strings.Join(b, ",")
	}() + `}`
	tooManyValues := `,"query":{"a":[` + strings.TrimSuffix(strings.Repeat(`"v",`, DefaultMaxQueryValues+1), ",") + `]}`
	refusals := []struct {
		m     *Middleware
		cases []attackCase
	}{
		{m, []attackCase{
			{name: "exp required", token: c(`{"aud":%s}`, aud), status: 401, reason: "missing_exp"},
			{name: "expired beyond leeway", token: c(`{"aud":%s,"exp":%d}`, aud, now-31), status: 401, reason: "expired"},
			{name: "expired fraction beyond leeway", token: c(`{"aud":%s,"exp":%d.5}`, aud, now-31), status: 401, reason: "expired"},
			{name: "exp zero", token: c(`{"aud":%s,"exp":0}`, aud), status: 401, reason: "expired"},
			{name: "nbf in the future", token: c(`{"aud":%s,"exp":%d,"nbf":%d}`, aud, now+600, now+31), status: 401, reason: "not_yet_valid"},
			{name: "iat in the future", token: c(`{"aud":%s,"exp":%d,"iat":%d}`, aud, now+600, now+31), status: 401, reason: "issued_in_future"},
			{name: "too many query parameters", token: hsClaims(t, claimsWith(tooMany)), status: 401, reason: "bad_query_claim"},
			{name: "too many query values", token: hsClaims(t, claimsWith(tooManyValues)), status: 401, reason: "bad_query_claim"},
			{name: "path outside aud", token: c(`{"aud":"/v2/accounts/me/searchx","exp":%d}`, now+60), status: 403, reason: "audience_mismatch"},
			{name: "aud of another business", token: c(`{"aud":"/v2/accounts/42/search","exp":%d}`, now+60), status: 403, reason: "audience_mismatch"},
		}},
		{noLeeway, []attackCase{
			{name: "no leeway: exp now", token: c(`{"aud":%s,"exp":%d}`, aud, now), status: 401, reason: "expired"},
			{name: "no leeway: nbf a second ahead", token: c(`{"aud":%s,"exp":%d,"nbf":%d}`, aud, now+60, now+1), status: 401, reason: "not_yet_valid"},
			{name: "no leeway: iat a second ahead", token: c(`{"aud":%s,"exp":%d,"iat":%d}`, aud, now+60, now+1), status: 401, reason: "issued_in_future"},
		}},
		{lifetime, []attackCase{
			{name: "lifetime too long", token: c(`{"aud":%s,"exp":%d}`, aud, now+3600+31), status: 401, reason: "lifetime_too_long"},
			{name: "far future exp", token: c(`{"aud":%s,"exp":253402300799}`, aud), status: 401, reason: "lifetime_too_long"},
		}},
	}
	for _, group := range refusals {
		runAttacks(t, group.m, group.cases)
	}
	accepted := []struct {
		name  string
		m     *Middleware
		token string
	}{
		{"expired within leeway", m, c(`{"aud":%s,"exp":%d}`, aud, now-29)},
		{"fractional exp", m, c(`{"aud":%s,"exp":%d.999999999}`, aud, now+60)},
		{"exponent exp", m, c(`{"aud":%s,"exp":%de0}`, aud, now+60)},
		{"exp at year 9999", m, c(`{"aud":%s,"exp":253402300799}`, aud)},
		{"nbf within leeway", m, c(`{"aud":%s,"exp":%d,"nbf":%d}`, aud, now+60, now+29)},
		{"no exp when allowed", allowNoExp, c(`{"aud":%s}`, aud)},
		{"query scalars and arrays", m, hsClaims(t, claimsWith(`,"query":{"a":"x","b":1.5,"c":true,"d":["x",2,false]}`))},
		{"other claims kept", m, hsClaims(t, claimsWith(`,"iss":"i","sub":"s","jti":"j","custom":{"deep":[1,{"x":null}]}`))},
		{"aud array", m, c(`{"aud":["/v2/accounts/me/other",%s],"exp":%d}`, aud, now+60)},
		{"aud trailing slash", m, c(`{"aud":%q,"exp":%d}`, attackPath+"/", now+60)},
		{"whitespace in JSON", m, c(" {\r\n\t\"aud\" : %s ,\n\"exp\" : %d }\n ", aud, now+60)},
		{"escaped values", m, c(`{"aud":"\/v2\/accounts\/me\/search","exp":%d,"x":"\ud83d\ude00"}`, now+60)},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			res := serve(t, tt.m, bearer(attackPath, tt.token))
			assert.Equal(t, http.StatusOK, res.code, res.body)
			assert.True(t, res.ran)
		})
	}
}

// TestAttackKeysUnavailable: an unknown kid with a key set that cannot be
// fetched is 503 with Retry-After, never a pass.
func TestAttackKeysUnavailable(t *testing.T) {
	m := attackMiddleware(t, func(c *Config) { c.Keys = failingKeys{} })
	runAttacks(t, m, []attackCase{{name: "keys down", token: hsClaims(t, claimsWith("")), status: 503, reason: "keys_unavailable"}})
	// A KeySet that returns a key under another kid fails closed.
	wrong := attackMiddleware(t, func(c *Config) { c.Keys = wrongKidKeys{testKeySet(t)} })
	runAttacks(t, wrong, []attackCase{{name: "key set answers with another kid", token: hsClaims(t, claimsWith("")), status: 401, reason: "unknown_kid"}})
}

type failingKeys struct{}

func (failingKeys) LookupKey(context.Context, string) (*VerificationKey, error) {
	return nil, fmt.Errorf("database down")
}

type wrongKidKeys struct{ KeySet }

func (w wrongKidKeys) LookupKey(ctx context.Context, _ string) (*VerificationKey, error) {
	return w.KeySet.LookupKey(ctx, "biz")
}

// asn1Marshal encodes an ECDSA signature as DER.
func asn1Marshal(r, s *big.Int) ([]byte, error) {
	return asn1.Marshal(struct{ R, S *big.Int }{r, s})
}

// TestAttackRawPathCharacters: paths given to Verify directly (not from
// r.URL.EscapedPath) may hold raw control characters, spaces or backslashes;
// they are refused like their encoded forms. Found by FuzzPathMatching.
func TestAttackRawPathCharacters(t *testing.T) {
	m := attackMiddleware(t, nil)
	tok := hsClaims(t, claimsWith(""))
	for _, p := range []string{attackPath + "/\x00", attackPath + "/a\x1fb", attackPath + "/\x7f", attackPath + "/a b",
		attackPath + `/..\admin`, attackPath + "\\", attackPath + "/\t", attackPath + "\n"} {
		_, err := m.Verify(context.Background(), tok, p)
		assert.ErrorIs(t, err, ErrBadPath, "%q", p)
	}
	// "//" is an empty segment even at the root (found by FuzzPathMatching).
	assert.False(t, checkPath("//"))
	assert.True(t, checkPath("/"))
	res := serve(t, m, bearer("//", tok))
	assertRefused(t, res, http.StatusBadRequest, "bad_path")
	_, err := m.Verify(context.Background(), tok, attackPath+"/caf\xc3\xa9")
	assert.NoError(t, err, "raw non-ASCII bytes are not ambiguous")
}

// TestAttackDPoP is the thief of a DPoP-bound token (docs/dpop.md): from a
// log, a proxy or a script in the page, with or without proofs the client
// sent, but without the client's private key.
func TestAttackDPoP(t *testing.T) {
	f := newDPoPFixture(t, nil)
	thief := mustP256(t)
	captured := f.proof(nil)
	require.Equal(t, http.StatusOK, serve(t, f.m, dpopRequest("DPoP", f.token, captured)).code, "the client's own request")
	otherInstance := newTestMiddleware(t, func(c *Config) { c.Revocations, c.DPoPAllowed, c.DPoPOrigin = f.store, true, dpopOrigin })
	// The malleable twin (r, n-s) of the captured proof's ECDSA signature is
	// a valid signature of the same claims: the record names the jti, not
	// the proof's bytes, so the twin is the same proof.
	seg := strings.LastIndexByte(captured, '.')
	sig, err := base64.RawURLEncoding.DecodeString(captured[seg+1:])
	require.NoError(t, err)
	n := elliptic.P256().Params().N
	s := new(big.Int).Sub(n, new(big.Int).SetBytes(sig[32:]))
	twin := captured[:seg+1] + base64.RawURLEncoding.EncodeToString(append(sig[:32:32], s.FillBytes(make([]byte, 32))...))
	post := func(p string) *http.Request {
		r := dpopRequest("DPoP", f.token, p)
		r.Method = http.MethodPost
		return r
	}
	otherPath := func(p string) *http.Request {
		r := dpopRequest("DPoP", f.token, p)
		r.URL.Path, r.RequestURI = "/v2/accounts/me/other", "/v2/accounts/me/other"
		return r
	}
	for _, tc := range []struct {
		name   string
		m      *Middleware
		req    *http.Request
		reason string
		oauth  string
	}{
		{"the token alone, as Bearer", f.m, bearer(dpopPath, f.token), "dpop_scheme_mismatch", "invalid_token"},
		{"the token alone, as DPoP", f.m, dpopRequest("DPoP", f.token), "dpop_proof_missing", "invalid_dpop_proof"},
		{"a proof by the thief's own key", f.m, dpopRequest("DPoP", f.token, testkit.DPoPProof(t, "ES256", thief, nil,
			testkit.DPoPClaims("GET", dpopURL, f.token, testNow))), "dpop_proof_key", "invalid_dpop_proof"},
		{"the thief's key in the client's jwk", f.m, dpopRequest("DPoP", f.token, testkit.DPoPProofWithJWK(t, "ES256", thief,
			testkit.DPoPJWK(t, &f.key.PublicKey), testkit.DPoPClaims("GET", dpopURL, f.token, testNow))), "dpop_proof_signature", "invalid_dpop_proof"},
		{"the captured proof replayed", f.m, dpopRequest("DPoP", f.token, captured), "dpop_proof_replayed", "invalid_dpop_proof"},
		{"the captured proof on another instance", otherInstance, dpopRequest("DPoP", f.token, captured), "dpop_proof_replayed", "invalid_dpop_proof"},
		{"the captured proof's ECDSA twin (r, n-s)", f.m, dpopRequest("DPoP", f.token, twin), "dpop_proof_replayed", "invalid_dpop_proof"},
		{"a captured proof for another method", f.m, post(f.proof(nil)), "dpop_proof_method", "invalid_dpop_proof"},
		{"a captured proof for another path", f.m, otherPath(f.proof(nil)), "dpop_proof_url", "invalid_dpop_proof"},
		{"a captured proof for another token", f.m, dpopRequest("DPoP", f.token, f.proof(func(_, c map[string]any) {
			another := validClaims()
			another["sub"], another["cnf"] = "another", map[string]any{"jkt": f.jkt}
			c["ath"] = testkit.DPoPClaims("GET", "", hsToken(t, another), testNow)["ath"]
		})), "dpop_proof_ath", "invalid_dpop_proof"},
		{"a proof made ahead of time", f.m, dpopRequest("DPoP", f.token, f.proof(func(_, c map[string]any) {
			c["iat"] = testNow.Add(time.Hour).Unix()
		})), "dpop_proof_time", "invalid_dpop_proof"},
		{"an unsigned proof (alg none)", f.m, dpopRequest("DPoP", f.token, testkit.Unsigned(
			`{"typ":"dpop+jwt","alg":"none","jwk":`+mustJSON(t, testkit.DPoPJWK(t, &f.key.PublicKey))+`}`, `{}`, "AA")), "dpop_proof_header", "invalid_dpop_proof"},
		{"an HMAC proof keyed by the token", f.m, dpopRequest("DPoP", f.token, testkit.DPoPProofWithJWK(t, "HS256", []byte(f.token),
			map[string]any{"kty": "oct", "k": testkit.B64(f.token)}, testkit.DPoPClaims("GET", dpopURL, f.token, testNow))), "dpop_proof_header", "invalid_dpop_proof"},
		{"a huge proof", f.m, dpopRequest("DPoP", f.token, strings.Repeat("a", maxProofBytes+1)), "dpop_proof_too_large", "invalid_dpop_proof"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := serve(t, tc.m, tc.req)
			assertDPoPRefused(t, res, tc.reason, tc.oauth)
			assert.NotContains(t, res.body, f.token, "the token must never be echoed")
		})
	}
}
