package scopedtoken

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// dpopOrigin and dpopPath are where the DPoP tests' requests go.
const (
	dpopOrigin = "https://api.example.com"
	dpopPath   = "/v2/accounts/me/search"
	dpopURL    = dpopOrigin + dpopPath
)

// dpopFixture is a middleware with DPoP allowed and a memory store, a
// client key and a token bound to it.
type dpopFixture struct {
	t     testing.TB
	m     *Middleware
	store *MemoryRevocations
	key   *ecdsa.PrivateKey
	jkt   string
	token string // bound to key
	plain string // unbound
}

func newDPoPFixture(t testing.TB, edit func(*Config)) *dpopFixture {
	t.Helper()
	f := &dpopFixture{t: t, store: NewMemoryRevocations(fixedClock)}
	f.m = newTestMiddleware(t, func(c *Config) {
		c.Revocations = f.store
		c.DPoPAllowed = true
		c.DPoPOrigin = dpopOrigin
		if edit != nil {
			edit(c)
		}
	})
	var err error
	f.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	f.jkt = testkit.DPoPThumbprint(t, &f.key.PublicKey)
	f.token = f.boundTo(f.jkt)
	f.plain = hsToken(t, validClaims())
	return f
}

// boundTo is a valid token whose cnf.jkt is jkt.
func (f *dpopFixture) boundTo(jkt string) string {
	c := validClaims()
	c["cnf"] = map[string]any{"jkt": jkt}
	return hsToken(f.t, c)
}

// proof is a valid proof of f's key for a GET of dpopURL with f.token,
// changed by edit (header and claims).
func (f *dpopFixture) proof(edit func(h, c map[string]any)) string {
	h, c := map[string]any{}, testkit.DPoPClaims(http.MethodGet, dpopURL, f.token, testNow)
	if edit != nil {
		edit(h, c)
	}
	return testkit.DPoPProof(f.t, "ES256", f.key, h, c)
}

// request is a GET of dpopPath with scheme and token in Authorization and
// each proof in a DPoP header.
func dpopRequest(scheme, token string, proofs ...string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, dpopPath, nil)
	if token != "" {
		req.Header.Set("Authorization", scheme+" "+token)
	}
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	return req
}

// assertDPoPRefused checks a refusal answered with a DPoP challenge.
func assertDPoPRefused(t *testing.T, res result, reason, oauth string) {
	t.Helper()
	assert.False(t, res.ran, "the next handler must not run")
	assert.Equal(t, http.StatusUnauthorized, res.code)
	assert.Equal(t, reason, res.reason)
	ch := res.header.Values("WWW-Authenticate")
	if assert.Len(t, ch, 1) {
		assert.True(t, strings.HasPrefix(ch[0], `DPoP realm="api", algs="ES256 EdDSA Ed25519", error="`+oauth+`", error_description="`), ch[0])
	}
	assert.Contains(t, res.body, `"error":"`+oauth+`"`)
}

func TestDPoPAcceptsBoundToken(t *testing.T) {
	f := newDPoPFixture(t, nil)
	res := serve(t, f.m, dpopRequest("DPoP", f.token, f.proof(nil)))
	require.Equal(t, http.StatusOK, res.code, res.body)
	assert.Equal(t, f.jkt, res.token.KeyThumbprint())
	// The scheme's name is case-insensitive (RFC 9110 §11.1).
	res = serve(t, f.m, dpopRequest("dpop", f.token, f.proof(nil)))
	assert.Equal(t, http.StatusOK, res.code, res.body)
	// An unbound token stays a bearer token.
	res = serve(t, f.m, bearer(dpopPath, f.plain))
	assert.Equal(t, http.StatusOK, res.code, res.body)
	assert.Empty(t, res.token.KeyThumbprint())
}

func TestDPoPAlgorithms(t *testing.T) {
	k := genKeys(t)
	for _, tc := range []struct {
		alg  string
		key  crypto.Signer
		algs []string
	}{
		{"ES256", mustP256(t), nil},
		{"EdDSA", k.ed, nil},
		{"Ed25519", k.ed, []string{"Ed25519"}},
		{"RS256", k.rsa, []string{"RS256"}},
		{"PS256", k.rsa, []string{"PS256"}},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			f := newDPoPFixture(t, func(c *Config) { c.DPoPAlgorithms = tc.algs })
			token := f.boundTo(testkit.DPoPThumbprint(t, tc.key.Public()))
			p := testkit.DPoPProof(t, tc.alg, tc.key, nil, testkit.DPoPClaims(http.MethodGet, dpopURL, token, testNow))
			res := serve(t, f.m, dpopRequest("DPoP", token, p))
			assert.Equal(t, http.StatusOK, res.code, res.body)
		})
	}
}

func mustP256(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// TestDPoPProofRules has one refused proof per rule of RFC 9449 §4.3: each
// fails if its rule is removed.
func TestDPoPProofRules(t *testing.T) {
	f := newDPoPFixture(t, nil)
	other := mustP256(t)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	hsJWK := map[string]any{"kty": "oct", "k": testkit.B64(string(testSecret))}
	claims := func(edit func(c map[string]any)) map[string]any {
		c := testkit.DPoPClaims(http.MethodGet, dpopURL, f.token, testNow)
		edit(c)
		return c
	}
	withPrivate := func(member string) string {
		return f.proof(func(h, _ map[string]any) {
			jwk := testkit.DPoPJWK(t, &f.key.PublicKey)
			jwk[member] = "AQAB"
			h["jwk"] = jwk
		})
	}
	rawClaims := func(json string) string {
		h := `{"typ":"dpop+jwt","alg":"ES256","jwk":` + mustJSON(t, testkit.DPoPJWK(t, &f.key.PublicKey)) + `}`
		return testkit.SignRaw(t, "ES256", f.key, h, json)
	}
	ath := testkit.DPoPClaims("GET", "", f.token, testNow)["ath"].(string)
	validFields := `"jti":"a1","htm":"GET","htu":"` + dpopURL + `","iat":` + itoa(testNow.Unix()) + `,"ath":"` + ath + `"`
	for _, tc := range []struct {
		name   string
		proofs []string
		reason string
	}{
		{"no proof", nil, "dpop_proof_missing"},
		{"two proofs", []string{f.proof(nil), f.proof(nil)}, "dpop_proof_multiple"},
		{"too large", []string{f.proof(func(_, c map[string]any) { c["pad"] = strings.Repeat("x", maxProofBytes) })}, "dpop_proof_too_large"},
		{"not a JWS", []string{"not.a-jws"}, "dpop_proof_malformed"},
		{"two segments", []string{"eyJ9.eyJ9"}, "dpop_proof_malformed"},
		{"typ JWT", []string{f.proof(func(h, _ map[string]any) { h["typ"] = "JWT" })}, "dpop_proof_header"},
		{"no typ", []string{f.proof(func(h, _ map[string]any) { h["typ"] = nil })}, "dpop_proof_header"},
		{"alg none", []string{testkit.Unsigned(`{"typ":"dpop+jwt","alg":"none","jwk":`+mustJSON(t, testkit.DPoPJWK(t, &f.key.PublicKey))+`}`, `{"jti":"x","htm":"GET","htu":"`+dpopURL+`","iat":`+itoa(testNow.Unix())+`}`, "")}, "dpop_proof_malformed"},
		{"alg none signed", []string{testkit.Unsigned(`{"typ":"dpop+jwt","alg":"none","jwk":`+mustJSON(t, testkit.DPoPJWK(t, &f.key.PublicKey))+`}`, `{"jti":"x","htm":"GET","htu":"`+dpopURL+`","iat":`+itoa(testNow.Unix())+`}`, "AAAA")}, "dpop_proof_header"},
		{"alg HS256 with a secret jwk", []string{testkit.DPoPProofWithJWK(t, "HS256", testSecret, hsJWK, claims(func(map[string]any) {}))}, "dpop_proof_header"},
		{"alg not accepted (ES384)", []string{f.proof(func(h, _ map[string]any) { h["alg"] = "ES384" })}, "dpop_proof_header"},
		{"alg of another key type", []string{testkit.DPoPProofWithJWK(t, "EdDSA", edKey, testkit.DPoPJWK(t, &f.key.PublicKey), claims(func(map[string]any) {}))}, "dpop_proof_header"},
		{"no jwk", []string{f.proof(func(h, _ map[string]any) { h["jwk"] = nil })}, "dpop_proof_header"},
		{"jwk not an object", []string{f.proof(func(h, _ map[string]any) { h["jwk"] = "key" })}, "dpop_proof_header"},
		{"jwk with d", []string{withPrivate("d")}, "dpop_proof_header"},
		{"jwk with k", []string{withPrivate("k")}, "dpop_proof_header"},
		{"jwk with p", []string{withPrivate("p")}, "dpop_proof_header"},
		{"jwk point off the curve", []string{f.proof(func(h, _ map[string]any) {
			jwk := testkit.DPoPJWK(t, &f.key.PublicKey)
			jwk["y"] = jwk["x"]
			h["jwk"] = jwk
		})}, "dpop_proof_header"},
		{"crit", []string{f.proof(func(h, _ map[string]any) { h["crit"] = []string{"exp"} })}, "dpop_proof_header"},
		{"signed by another key", []string{testkit.DPoPProofWithJWK(t, "ES256", other, testkit.DPoPJWK(t, &f.key.PublicKey), claims(func(map[string]any) {}))}, "dpop_proof_signature"},
		{"key not the token's", []string{testkit.DPoPProof(t, "ES256", other, nil, claims(func(map[string]any) {}))}, "dpop_proof_key"},
		{"htm POST", []string{f.proof(func(_, c map[string]any) { c["htm"] = "POST" })}, "dpop_proof_method"},
		{"htm in lower case", []string{f.proof(func(_, c map[string]any) { c["htm"] = "get" })}, "dpop_proof_method"},
		{"htu of another path", []string{f.proof(func(_, c map[string]any) { c["htu"] = dpopOrigin + "/v2/accounts/me/other" })}, "dpop_proof_url"},
		{"htu of another host", []string{f.proof(func(_, c map[string]any) { c["htu"] = "https://evil.example.com" + dpopPath })}, "dpop_proof_url"},
		{"htu over http", []string{f.proof(func(_, c map[string]any) { c["htu"] = "http://api.example.com" + dpopPath })}, "dpop_proof_url"},
		{"htu of another port", []string{f.proof(func(_, c map[string]any) { c["htu"] = "https://api.example.com:8443" + dpopPath })}, "dpop_proof_url"},
		{"htu with user information", []string{f.proof(func(_, c map[string]any) { c["htu"] = "https://u@api.example.com" + dpopPath })}, "dpop_proof_url"},
		{"htu relative", []string{f.proof(func(_, c map[string]any) { c["htu"] = dpopPath })}, "dpop_proof_url"},
		{"iat too old", []string{f.proof(func(_, c map[string]any) { c["iat"] = testNow.Add(-61 * time.Second).Unix() })}, "dpop_proof_time"},
		{"iat in the future", []string{f.proof(func(_, c map[string]any) { c["iat"] = testNow.Add(61 * time.Second).Unix() })}, "dpop_proof_time"},
		{"no ath", []string{f.proof(func(_, c map[string]any) { delete(c, "ath") })}, "dpop_proof_ath"},
		{"ath of another token", []string{f.proof(func(_, c map[string]any) { c["ath"] = testkit.DPoPClaims("GET", "", f.plain, testNow)["ath"] })}, "dpop_proof_ath"},
		{"no jti", []string{f.proof(func(_, c map[string]any) { delete(c, "jti") })}, "dpop_proof_malformed"},
		{"jti too long", []string{f.proof(func(_, c map[string]any) { c["jti"] = strings.Repeat("j", maxProofJTIBytes+1) })}, "dpop_proof_malformed"},
		{"no iat", []string{f.proof(func(_, c map[string]any) { delete(c, "iat") })}, "dpop_proof_malformed"},
		{"iat a string", []string{f.proof(func(_, c map[string]any) { c["iat"] = itoa(testNow.Unix()) })}, "dpop_proof_malformed"},
		{"htu a number", []string{f.proof(func(_, c map[string]any) { c["htu"] = 1 })}, "dpop_proof_malformed"},
		{"htu twice", []string{rawClaims(`{` + validFields + `,"htu":"https://evil.example.com/"}`)}, "dpop_proof_malformed"},
		{"claims not JSON", []string{rawClaims(`{` + validFields)}, "dpop_proof_malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := serve(t, f.m, dpopRequest("DPoP", f.token, tc.proofs...))
			assertDPoPRefused(t, res, tc.reason, "invalid_dpop_proof")
		})
	}
}

func mustJSON(t testing.TB, v map[string]any) string {
	var b strings.Builder
	b.WriteString("{")
	first := true
	for _, k := range []string{"kty", "crv", "x", "y", "n", "e"} {
		if s, ok := v[k].(string); ok {
			if !first {
				b.WriteString(",")
			}
			first = false
			b.WriteString(`"` + k + `":"` + s + `"`)
		}
	}
	b.WriteString("}")
	return b.String()
}

// FuzzDPoPProof: no proof, however malformed, panics the verifier or
// passes without a signature of the key it names; the seeds are a valid
// proof and its parts.
func FuzzDPoPProof(f *testing.F) {
	fx := newDPoPFixture(f, nil)
	good := fx.proof(nil)
	f.Add(good)
	f.Add(good[:strings.LastIndexByte(good, '.')+1])
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Add("e30.e30.")
	f.Fuzz(func(t *testing.T, p string) {
		r := dpopRequest("DPoP", fx.token, p)
		got, e := fx.m.dpop.readProof(r, fx.token, fx.jkt, testNow)
		if e != nil {
			require.Equal(t, catInvalidDPoPProof, e.category, "a proof is refused as a proof")
			return
		}
		// Accepted: signed by the token's key (only the seed is), for this request.
		require.Equal(t, fx.jkt, got.jkt)
		require.Equal(t, http.MethodGet, got.htm)
		require.NotEmpty(t, got.jti)
	})
}

// TestDPoPAcceptedForms are proofs that name the request in another
// spelling that RFC 3986 §6.2.2 and §6.2.3 make equal, and the window's
// edges.
func TestDPoPAcceptedForms(t *testing.T) {
	f := newDPoPFixture(t, nil)
	for _, tc := range []struct {
		name string
		edit func(c map[string]any)
	}{
		{"htu with query and fragment", func(c map[string]any) { c["htu"] = dpopURL + "?a=1#f" }},
		{"htu host and scheme in upper case", func(c map[string]any) { c["htu"] = "HTTPS://API.Example.COM" + dpopPath }},
		{"htu with the default port", func(c map[string]any) { c["htu"] = "https://api.example.com:443" + dpopPath }},
		{"htu with an encoded unreserved character", func(c map[string]any) { c["htu"] = dpopOrigin + "/v2/accounts/me/se%61rch" }},
		{"iat at the window's past edge", func(c map[string]any) { c["iat"] = testNow.Add(-59 * time.Second).Unix() }},
		{"iat at the window's future edge", func(c map[string]any) { c["iat"] = testNow.Add(59 * time.Second).Unix() }},
		{"a nonce is ignored", func(c map[string]any) { c["nonce"] = "n" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.proof(func(_, c map[string]any) { tc.edit(c) })
			res := serve(t, f.m, dpopRequest("DPoP", f.token, p))
			assert.Equal(t, http.StatusOK, res.code, res.body)
		})
	}
}

func TestDPoPReplayRefused(t *testing.T) {
	f := newDPoPFixture(t, nil)
	p := f.proof(nil)
	require.Equal(t, http.StatusOK, serve(t, f.m, dpopRequest("DPoP", f.token, p)).code)
	assertDPoPRefused(t, serve(t, f.m, dpopRequest("DPoP", f.token, p)), "dpop_proof_replayed", "invalid_dpop_proof")

	// Another instance sharing the store refuses it too.
	m2 := newTestMiddleware(t, func(c *Config) { c.Revocations, c.DPoPAllowed, c.DPoPOrigin = f.store, true, dpopOrigin })
	assertDPoPRefused(t, serve(t, m2, dpopRequest("DPoP", f.token, p)), "dpop_proof_replayed", "invalid_dpop_proof")

	// The record is named by the key and the jti, and lasts as long as the
	// proof could be accepted, with the margin of single-use records.
	rec := &recordingUse{MemoryRevocations: NewMemoryRevocations(fixedClock)}
	g := newDPoPFixture(t, func(c *Config) { c.Revocations = rec })
	p = g.proof(func(_, c map[string]any) { c["jti"] = "j1" })
	require.Equal(t, http.StatusOK, serve(t, g.m, dpopRequest("DPoP", g.token, p)).code)
	assert.Equal(t, "dpop:"+g.jkt+":"+sha256B64("j1"), rec.key, "the jti is recorded hashed")
	assert.True(t, testNow.Add(defaultDPoPProofWindow+singleUseRecordMargin).Equal(rec.until), "until %v", rec.until)
}

// recordingUse keeps the last Use's arguments.
type recordingUse struct {
	*MemoryRevocations
	key   string
	until time.Time
}

func (s *recordingUse) Use(ctx context.Context, key string, until time.Time) error {
	s.key, s.until = key, until
	return s.MemoryRevocations.Use(ctx, key, until)
}

// storeUseFails is a store whose Use cannot tell.
type storeUseFails struct{ *MemoryRevocations }

func (storeUseFails) Use(context.Context, string, time.Time) error { return errors.New("down") }

func TestDPoPModes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*Config)
		req    func(f *dpopFixture) *http.Request
		status int
		reason string
	}{
		{"disabled: a bound bearer token", func(c *Config) { c.DPoPAllowed, c.DPoPOrigin = false, "" },
			func(f *dpopFixture) *http.Request { return bearer(dpopPath, f.token) }, 401, "dpop_unsupported"},
		{"disabled: the DPoP scheme is not read", func(c *Config) { c.DPoPAllowed, c.DPoPOrigin = false, "" },
			func(f *dpopFixture) *http.Request { return dpopRequest("DPoP", f.token, f.proof(nil)) }, 401, "missing_token"},
		{"disabled: an unbound bearer token", func(c *Config) { c.DPoPAllowed, c.DPoPOrigin = false, "" },
			func(f *dpopFixture) *http.Request { return bearer(dpopPath, f.plain) }, 200, ""},
		{"allowed: a bound bearer token", nil,
			func(f *dpopFixture) *http.Request { return bearer(dpopPath, f.token) }, 401, "dpop_scheme_mismatch"},
		{"allowed: a bound bearer token with a valid proof", nil,
			func(f *dpopFixture) *http.Request {
				r := bearer(dpopPath, f.token)
				r.Header.Set("DPoP", f.proof(nil))
				return r
			}, 401, "dpop_scheme_mismatch"},
		{"allowed: a bound token in the query", func(c *Config) { c.TokenQueryParam = "jwt" },
			func(f *dpopFixture) *http.Request { return httptest.NewRequest("GET", dpopPath+"?jwt="+f.token, nil) }, 401, "dpop_scheme_mismatch"},
		{"allowed: an unbound token with the DPoP scheme", nil,
			func(f *dpopFixture) *http.Request { return dpopRequest("DPoP", f.plain, f.proof(nil)) }, 401, "dpop_scheme_mismatch"},
		{"allowed: malformed DPoP credentials", nil,
			func(f *dpopFixture) *http.Request { return dpopRequest("DPoP", "a b", f.proof(nil)) }, 400, "bad_credentials"},
		{"allowed: no store", func(c *Config) { c.Revocations = nil },
			func(f *dpopFixture) *http.Request { return dpopRequest("DPoP", f.token, f.proof(nil)) }, 401, "dpop_unsupported"},
		{"allowed: the store cannot tell", func(c *Config) { c.Revocations = storeUseFails{NewMemoryRevocations(fixedClock)} },
			func(f *dpopFixture) *http.Request { return dpopRequest("DPoP", f.token, f.proof(nil)) }, 503, "revocations_unavailable"},
		{"required: an unbound bearer token", func(c *Config) { c.DPoPRequired = true },
			func(f *dpopFixture) *http.Request { return bearer(dpopPath, f.plain) }, 401, "dpop_required"},
		{"required: a bound token with its proof", func(c *Config) { c.DPoPRequired = true },
			func(f *dpopFixture) *http.Request { return dpopRequest("DPoP", f.token, f.proof(nil)) }, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newDPoPFixture(t, tc.edit)
			res := serve(t, f.m, tc.req(f))
			assert.Equal(t, tc.status, res.code, res.body)
			assert.Equal(t, tc.reason, res.reason)
			assert.Equal(t, tc.status == 200, res.ran)
		})
	}
}

func TestDPoPChallenges(t *testing.T) {
	f := newDPoPFixture(t, nil)
	// A bad token with the DPoP scheme: invalid_token, in a DPoP challenge.
	expired := validClaims()
	expired["exp"] = testNow.Add(-time.Hour).Unix()
	expired["cnf"] = map[string]any{"jkt": f.jkt}
	res := serve(t, f.m, dpopRequest("DPoP", hsToken(t, expired), f.proof(nil)))
	assertDPoPRefused(t, res, "expired", "invalid_token")
	// A bound token sent as Bearer: told to use DPoP.
	assertDPoPRefused(t, serve(t, f.m, bearer(dpopPath, f.token)), "dpop_scheme_mismatch", "invalid_token")
	// Allowed: a bearer request gets both challenges (RFC 9449 §7.2).
	res = serve(t, f.m, bearer(dpopPath, ""))
	assert.Equal(t, []string{`Bearer realm="api"`, `DPoP realm="api", algs="ES256 EdDSA Ed25519"`}, res.header.Values("WWW-Authenticate"))
	// Required: only the DPoP challenge.
	req := newDPoPFixture(t, func(c *Config) { c.DPoPRequired = true })
	res = serve(t, req.m, bearer(dpopPath, ""))
	assert.Equal(t, []string{`DPoP realm="api", algs="ES256 EdDSA Ed25519"`}, res.header.Values("WWW-Authenticate"))
	assert.Equal(t, "missing_token", res.reason)
	// Errors match their category and reason.
	_, err := f.m.Verify(t.Context(), f.token, dpopPath)
	assert.ErrorIs(t, err, ErrInvalidDPoPProof)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "dpop_proof_missing", e.Reason())
}

func TestDPoPVerifyWithoutRequest(t *testing.T) {
	f := newDPoPFixture(t, nil)
	_, err := f.m.Verify(t.Context(), f.token, dpopPath)
	assert.ErrorIs(t, err, errDPoPProofMissing, "Verify has no proof: a bound token is refused")
	tok, err := f.m.VerifyUnused(t.Context(), f.token, dpopPath)
	require.NoError(t, err, "VerifyUnused accepts it where a request with a proof could pass")
	assert.Equal(t, f.jkt, tok.KeyThumbprint())

	off := newTestMiddleware(t, nil)
	_, err = off.VerifyUnused(t.Context(), f.token, dpopPath)
	assert.ErrorIs(t, err, errDPoPUnsupported)
	required := newDPoPFixture(t, func(c *Config) { c.DPoPRequired = true })
	_, err = required.m.VerifyUnused(t.Context(), f.plain, dpopPath)
	assert.ErrorIs(t, err, errDPoPRequired)
}

func TestVerifyDPoPProofTokenEndpoint(t *testing.T) {
	f := newDPoPFixture(t, nil)
	post := func(p string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/site/tokens?page=/x", nil)
		r.Header.Set("DPoP", p)
		return r
	}
	p := testkit.DPoPProof(t, "ES256", f.key, nil, testkit.DPoPClaims(http.MethodPost, dpopOrigin+"/site/tokens", "", testNow))
	jkt, err := f.m.VerifyDPoPProof(post(p))
	require.NoError(t, err)
	assert.Equal(t, f.jkt, jkt)
	_, err = f.m.VerifyDPoPProof(post(p))
	assert.ErrorIs(t, err, errDPoPProofReplayed)
	_, err = f.m.VerifyDPoPProof(post(f.proof(nil)))
	assert.ErrorIs(t, err, errDPoPProofMethod)

	rec := httptest.NewRecorder()
	f.m.WriteError(rec, post(p), err)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `DPoP realm="api", algs="ES256 EdDSA Ed25519", error="invalid_dpop_proof"`)

	_, err = newTestMiddleware(t, nil).VerifyDPoPProof(post(p))
	assert.ErrorIs(t, err, errDPoPUnsupported)
}

// TestDPoPRFCExamples checks the examples of RFC 7638 §3.1 and RFC 9449
// §4.1, §6.1 and §7.1.
func TestDPoPRFCExamples(t *testing.T) {
	rsaKey := proofKey{kty: "RSA", e: "AQAB", n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}
	assert.Equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", rsaKey.thumbprint(), "RFC 7638 §3.1")
	ecKey := proofKey{kty: "EC", crv: "P-256", x: "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs", y: "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}
	assert.Equal(t, "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", ecKey.thumbprint(), "RFC 9449 §6.1")
	assert.Equal(t, "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo", accessTokenHash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"), "RFC 9449 §7.1")

	// The token request's proof of RFC 9449 §4.1 (Figure 3), checked by a
	// token endpoint at its time.
	const rfcProof = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg"
	at := func() time.Time { return time.Unix(1562262616, 0) }
	m := newTestMiddleware(t, func(c *Config) {
		c.Now, c.Revocations, c.DPoPAllowed, c.DPoPOrigin = at, NewMemoryRevocations(at), true, "https://server.example.com"
	})
	r := httptest.NewRequest(http.MethodPost, "/token", nil)
	r.Header.Set("DPoP", rfcProof)
	jkt, err := m.VerifyDPoPProof(r)
	require.NoError(t, err)
	assert.Equal(t, "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", jkt)
}

func TestDPoPConfirmationClaim(t *testing.T) {
	f := newDPoPFixture(t, nil)
	for _, tc := range []struct {
		name, cnf, reason string
	}{
		{"cnf a string", `"cnf":"x"`, "invalid_claims"},
		{"cnf empty", `"cnf":{}`, "invalid_claims"},
		{"cnf of mutual TLS", `"cnf":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}`, "invalid_claims"},
		{"cnf with jkt and another method", `"cnf":{"jkt":"` + f.jkt + `","jwk":{}}`, "invalid_claims"},
		{"jkt too short", `"cnf":{"jkt":"abc"}`, "invalid_claims"},
		{"jkt not base64url", `"cnf":{"jkt":"` + strings.Repeat("+", 43) + `"}`, "invalid_claims"},
		{"jkt a number", `"cnf":{"jkt":1}`, "invalid_claims"},
		{"jkt twice", `"cnf":{"jkt":"` + f.jkt + `","jkt":"` + f.jkt + `"}`, "duplicate_member"},
		{"CNF", `"CNF":{"jkt":"` + f.jkt + `"}`, "ambiguous_member"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := serve(t, f.m, bearer(dpopPath, hsClaims(t, claimsWith(`,`+tc.cnf))))
			assert.Equal(t, http.StatusUnauthorized, res.code)
			assert.Equal(t, tc.reason, res.reason)
		})
	}
}

func TestDPoPConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"HMAC", func(c *Config) { c.DPoPAllowed, c.DPoPAlgorithms = true, []string{"HS256"} }, "symmetric"},
		{"none", func(c *Config) { c.DPoPAllowed, c.DPoPAlgorithms = true, []string{"none"} }, "unsupported algorithm"},
		{"wrong case", func(c *Config) { c.DPoPAllowed, c.DPoPAlgorithms = true, []string{"es256"} }, "case-sensitive"},
		{"twice", func(c *Config) { c.DPoPAllowed, c.DPoPAlgorithms = true, []string{"ES256", "ES256"} }, "twice"},
		{"negative window", func(c *Config) { c.DPoPAllowed, c.DPoPProofWindow = true, -time.Second }, "negative"},
		{"origin with a path", func(c *Config) { c.DPoPAllowed, c.DPoPOrigin = true, "https://api.example.com/v2" }, "origin"},
		{"origin with a query", func(c *Config) { c.DPoPAllowed, c.DPoPOrigin = true, "https://api.example.com/?a" }, "origin"},
		{"origin of another scheme", func(c *Config) { c.DPoPAllowed, c.DPoPOrigin = true, "wss://api.example.com" }, "origin"},
		{"origin without a scheme", func(c *Config) { c.DPoPAllowed, c.DPoPOrigin = true, "api.example.com" }, "origin"},
		{"settings while DPoP is off", func(c *Config) { c.DPoPOrigin = dpopOrigin }, "need DPoPAllowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Keys: testKeySet(t)}
			tc.edit(&cfg)
			_, err := New(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := New(Config{Keys: testKeySet(t), DPoPRequired: true, DPoPOrigin: "https://API.example.com:443/"})
	assert.NoError(t, err)
}

// TestDPoPOriginFromRequest: without DPoPOrigin, htu's scheme and host are
// the request's.
func TestDPoPOriginFromRequest(t *testing.T) {
	f := newDPoPFixture(t, func(c *Config) { c.DPoPOrigin = "" })
	for _, tc := range []struct {
		name, htu string
		tls       bool
		status    int
	}{
		{"http", "http://example.com" + dpopPath, false, 200},
		{"https over TLS", "https://example.com" + dpopPath, true, 200},
		{"https without TLS", "https://example.com" + dpopPath, false, 401},
		{"another host", "http://other.example" + dpopPath, false, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.proof(func(_, c map[string]any) { c["htu"] = tc.htu })
			req := dpopRequest("DPoP", f.token, p) // httptest: Host example.com
			if tc.tls {
				req = httptest.NewRequest(http.MethodGet, "https://example.com"+dpopPath, nil)
				req.Header.Set("Authorization", "DPoP "+f.token)
				req.Header.Set("DPoP", p)
			}
			assert.Equal(t, tc.status, serve(t, f.m, req).code)
		})
	}
}

// TestDPoPPathAsSent: htu names the path the client sent (RequestURI), not
// the one a router rewrote before the middleware.
func TestDPoPPathAsSent(t *testing.T) {
	f := newDPoPFixture(t, func(c *Config) { c.Prefix = "/accounts/" })
	c := validClaims()
	c["aud"] = "/accounts/me/search"
	c["cnf"] = map[string]any{"jkt": f.jkt}
	token := hsToken(t, c)
	p := testkit.DPoPProof(t, "ES256", f.key, nil, testkit.DPoPClaims("GET", dpopURL, token, testNow))
	h := http.StripPrefix("/v2", f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })))
	req := dpopRequest("DPoP", token, p)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}

// sha256B64 is the base64url SHA-256 of s, as a proof's record names its jti.
func sha256B64(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
