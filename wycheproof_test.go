package scopedtoken

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/jose"
	"github.com/scopedtoken/scopedtoken/internal/strictjson"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// These tests run the whole verification against C2SP Wycheproof's JWS and
// JWK files (the raw-signature files test internal/alg's Verifier, in its own
// tests). Every case of every file is either run or skipped with a counted
// reason, and the number of cases run is asserted, so that a vector file that
// changes shape cannot make the tests pass by running nothing.

type wpJWSFile struct {
	TestGroups []struct {
		Comment string          `json:"comment"`
		Private json.RawMessage `json:"private"`
		Public  json.RawMessage `json:"public"`
		Tests   []wpJWSCase     `json:"tests"`
	} `json:"testGroups"`
}

type wpJWSCase struct {
	TcID    int             `json:"tcId"`
	Comment string          `json:"comment"`
	JWS     json.RawMessage `json:"jws"`
	Result  string          `json:"result"`
	Flags   []string        `json:"flags"`
}

// wpJWK is the part of a JWK the tests read directly (symmetric keys only;
// public keys go through the remote key set's own conversion).
type wpJWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	K   string `json:"k"`
}

// wpDecision overrides Wycheproof's verdict for one case, with the reason.
type wpDecision struct {
	accept bool
	why    string
}

// wpJWSDecisions are the cases where the package deliberately differs from
// the file's label, each decided explicitly.
var wpJWSDecisions = map[int]wpDecision{
	// "emptyPayload" cases are valid JWS, but a JWT's payload is a JSON object:
	// the signature layer refuses an empty payload segment outright.
	259: {false, "empty payload cannot be a JWT claims set"},
	264: {false, "empty payload cannot be a JWT claims set"},
	268: {false, "empty payload cannot be a JWT claims set"},
	272: {false, "empty payload cannot be a JWT claims set"},
	320: {false, "empty payload cannot be a JWT claims set"},
	325: {false, "empty payload cannot be a JWT claims set"},
	// RFC 7520 Figure 20 is a PS384 token, but the JWK carries alg PS256. A JWK
	// with alg accepts only that alg (docs/security.md), so the token is refused.
	346: {false, "JWK alg PS256 binds the key; a PS384 token is an alg mismatch"},
	350: {false, "JWK alg PS256 binds the key; a PS384 token is an alg mismatch"},
	// RFC 7520 Figure 27 with a JWK whose alg is "ES521", which is not an
	// algorithm name: the key is refused at conversion, so its kid is unknown.
	347: {false, `JWK alg "ES521" is not a JWS algorithm; the key is never used`},
	351: {false, `JWK alg "ES521" is not a JWS algorithm; the key is never used`},
	// 367 and 370 claim to test padding, but the bytes are identical to the
	// valid 357 (the padding was lost when the vector was generated): the
	// token is valid and is accepted.
	367: {true, "byte-identical to valid tcId 357"},
	370: {true, "byte-identical to valid tcId 357"},
	// 372 and 373 contain '?' inside a segment yet are labelled valid (some
	// decoders skip unknown characters). Decoding is strict: refused.
	372: {false, "'?' is outside the base64url alphabet"},
	373: {false, "'?' is outside the base64url alphabet"},
}

// wpJWSReasons pins the refusal reason of a few cases that show the rule at
// work rather than just any refusal.
var wpJWSReasons = map[int]*Error{
	16:  ErrMalformedToken, // alg none with an empty signature
	31:  ErrAlgMismatch,    // HS256 under an EC kid: symmetric confusion
	32:  ErrBadSignature,   // embedded attacker jwk is ignored
	341: ErrMalformedToken, // none, no kid, empty signature
	342: ErrMalformedToken, // NONE, empty signature
	346: ErrAlgMismatch,    // see wpJWSDecisions
	332: ErrAlgMismatch,    // RS256 token under a PS512 key
	338: ErrAlgMismatch,    // PS256 token under a PS512 key
	372: ErrMalformedToken, // '?'
	// 374 changes the payload's unused bits after signing: the signature
	// covers the encoded text, so it fails first. 375 is signed over the
	// badly encoded text: the signature holds and strict decoding refuses it.
	374: ErrBadSignature,
	375: ErrMalformedToken,
}

// wpGroupKeys builds the key set of one JWS group: a public JWK goes through
// the remote key set (fetch, jwkset parsing and jwks.Set.convert), a
// symmetric one through StaticKeys, since remote sets never take oct keys.
// refused reports a key refused at validation.
func wpGroupKeys(t *testing.T, public, private json.RawMessage) (ks KeySet, refused error) {
	t.Helper()
	if len(public) > 0 && string(public) != "null" {
		return hostileRemoteSet(t, []byte(`{"keys":[`+string(public)+`]}`)), nil
	}
	var j wpJWK
	require.NoError(t, json.Unmarshal(private, &j))
	require.Equal(t, "oct", j.Kty, "a group without a public key must have a symmetric one")
	secret, err := base64.RawURLEncoding.DecodeString(j.K)
	require.NoError(t, err)
	ks, err = StaticKeys(Key{ID: j.Kid, Algorithm: j.Alg, Secret: secret})
	return ks, err
}

func TestWycheproofJWS(t *testing.T) {
	var f wpJWSFile
	testkit.Wycheproof(t, "json_web_signature_test.json", &f)
	var tally testkit.Tally
	for _, g := range f.TestGroups {
		ks, keyErr := wpGroupKeys(t, g.Public, g.Private)
		require.NoError(t, keyErr, "group %s: every JWS group key is valid", g.Comment)
		for _, tc := range g.Tests {
			var token string
			require.NoError(t, json.Unmarshal(tc.JWS, &token))
			if strings.HasPrefix(token, "{") {
				// JSON serialization is not a compact JWS; the package has no
				// parser for it, so these cases cannot reach any code.
				tally.Skip("JSON serialization (compact only)")
				continue
			}
			want := tc.Result == "valid"
			if d, ok := wpJWSDecisions[tc.TcID]; ok {
				want = d.accept
			}
			tally.Run++
			j, e := verifyJWS(context.Background(), ks, token, DefaultMaxTokenBytes, nil)
			if want {
				if assert.Nil(t, e, "tcId %d (%s): must verify", tc.TcID, tc.Comment) {
					assert.NotNil(t, j.key, "tcId %d", tc.TcID)
				}
				continue
			}
			if !assert.NotNil(t, e, "tcId %d (%s): must be refused", tc.TcID, tc.Comment) {
				continue
			}
			assert.Nil(t, j.key, "tcId %d: a refusal returns no key", tc.TcID)
			assert.True(t, errors.Is(e, ErrInvalidToken) || errors.Is(e, ErrKeysUnavailable), "tcId %d: %v", tc.TcID, e)
			if reason, ok := wpJWSReasons[tc.TcID]; ok {
				assert.ErrorIs(t, e, reason, "tcId %d (%s)", tc.TcID, tc.Comment)
			}
		}
	}
	tally.Report(t, 400, map[string]int{"JSON serialization (compact only)": 1})
}

type wpJWKFile struct {
	TestGroups []struct {
		Comment string          `json:"comment"`
		Private json.RawMessage `json:"private"`
		Public  json.RawMessage `json:"public"`
		Tests   []wpJWSCase     `json:"tests"`
	} `json:"testGroups"`
}

// wpJWKKeyRefused are the json_web_key cases whose key itself is unusable:
// wrong use, ROCA, 1024 bits, exponent 1, an alg that does not fit the curve or
// is no algorithm, an off-curve point, the wrong curve, the wrong kty.
var wpJWKKeyRefused = map[int]bool{6: true, 7: true, 8: true, 9: true, 19: true, 20: true, 21: true, 22: true, 23: true, 24: true}

// TestWycheproofJWK feeds every key set of json_web_key_test.json through the
// remote key set exactly as a JWKS endpoint would serve it, and verifies the
// case's token against the result. Symmetric sets are also built as static
// keys, since that is the only way the package takes an HMAC key.
func TestWycheproofJWK(t *testing.T) {
	var f wpJWKFile
	testkit.Wycheproof(t, "json_web_key_test.json", &f)
	var remote, static testkit.Tally
	for _, g := range f.TestGroups {
		set := g.Public
		if len(set) == 0 || string(set) == "null" {
			set = g.Private // symmetric sets have no public form
		}
		var parsed struct{ Keys []wpJWK }
		require.NoError(t, json.Unmarshal(set, &parsed))
		allOct, anyOct := true, false
		for _, k := range parsed.Keys {
			allOct = allOct && k.Kty == "oct"
			anyOct = anyOct || k.Kty == "oct"
		}
		rs := hostileRemoteSet(t, set)
		for _, tc := range g.Tests {
			var token string
			require.NoError(t, json.Unmarshal(tc.JWS, &token))
			want := tc.Result == "valid"

			// Remote path: oct keys are never taken from a remote set
			// (docs/security.md), so a token for one is refused even when Wycheproof calls it
			// valid (2, 13, 14, 15); for every other set the label applies.
			remote.Run++
			_, e := verifyJWS(context.Background(), rs, token, DefaultMaxTokenBytes, nil)
			if want && !anyOct {
				assert.Nil(t, e, "tcId %d (%s): remote set must accept", tc.TcID, tc.Comment)
			} else {
				assert.NotNil(t, e, "tcId %d (%s): remote set must refuse", tc.TcID, tc.Comment)
			}
			if wpJWKKeyRefused[tc.TcID] {
				// Some of these tokens are refused for other reasons too (an
				// empty payload): the key itself must not be in the set.
				_, err := rs.LookupKey(context.Background(), parsed.Keys[0].Kid)
				assert.Error(t, err, "tcId %d (%s): the key must be refused", tc.TcID, tc.Comment)
			}

			// Static path, for sets made only of symmetric keys. A mixed set
			// (tcId 1) cannot be a static configuration mistake in the same
			// sense: each static key is configured on its own.
			if !allOct {
				if anyOct {
					static.Skip("mixed symmetric/asymmetric set (remote path only)")
				}
				continue
			}
			static.Run++
			keys := make([]Key, 0, len(parsed.Keys))
			for _, k := range parsed.Keys {
				secret, err := base64.RawURLEncoding.DecodeString(k.K)
				require.NoError(t, err)
				keys = append(keys, Key{ID: k.Kid, Algorithm: k.Alg, Secret: secret})
			}
			ks, err := StaticKeys(keys...)
			if err != nil {
				// Short or empty secrets, AES algorithms and duplicate kids
				// are refused when the keys are built.
				assert.False(t, want, "tcId %d (%s): key validation refused a valid set: %v", tc.TcID, tc.Comment, err)
				assert.ErrorIs(t, err, ErrBadKey)
				if k := parsed.Keys[0].K; len(k) >= 8 {
					assert.NotContains(t, err.Error(), k[:8], "key material in an error")
				}
				continue
			}
			_, e = verifyJWS(context.Background(), ks, token, DefaultMaxTokenBytes, nil)
			if want {
				assert.Nil(t, e, "tcId %d (%s): static keys must accept", tc.TcID, tc.Comment)
			} else {
				assert.NotNil(t, e, "tcId %d (%s): static keys must refuse", tc.TcID, tc.Comment)
			}
		}
	}
	t.Log("remote path:")
	remote.Report(t, 26, nil)
	t.Log("static path:")
	static.Report(t, 14, map[string]int{"mixed symmetric/asymmetric set (remote path only)": 1})
}

// rfc7515A1 is the HS256 example of RFC 7515 Appendix A.1: no kid, a header
// with CRLF, exp 1300819380.
const (
	rfc7515A1Token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfc7515A1Key   = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
)

func TestWycheproofRFC7515A1(t *testing.T) {
	secret, err := base64.RawURLEncoding.DecodeString(rfc7515A1Key)
	require.NoError(t, err)
	vk, err := NewVerificationKey(Key{ID: "rfc7515", Algorithm: "HS256", Secret: secret})
	require.NoError(t, err)
	parts := strings.Split(rfc7515A1Token, ".")
	require.Len(t, parts, 3)

	t.Run("signature verifies", func(t *testing.T) {
		sig, ok := jose.Decode(nil, []byte(parts[2]))
		require.True(t, ok)
		assert.True(t, vk.v.Verify([]byte(parts[0]+"."+parts[1]), sig))
		sig[0] ^= 1
		assert.False(t, vk.v.Verify([]byte(parts[0]+"."+parts[1]), sig))
	})

	t.Run("header parses but has no kid", func(t *testing.T) {
		h, ok := jose.Decode(nil, []byte(parts[0]))
		require.True(t, ok)
		_, f := jose.ParseHeader(h, nil, nil)
		assert.Equal(t, ErrMissingKID, refusal(f))
	})

	t.Run("missing kid refused by the middleware", func(t *testing.T) {
		ks, err := StaticKeys(Key{ID: "rfc7515", Algorithm: "HS256", Secret: secret})
		require.NoError(t, err)
		m, err := New(Config{Keys: ks, Now: func() time.Time { return time.Unix(1300819379, 0) }, Leeway: -1})
		require.NoError(t, err)
		res := serve(t, m, bearer("/v2/accounts/me/search", rfc7515A1Token))
		assert.Equal(t, http.StatusUnauthorized, res.code)
		assert.Equal(t, "missing_kid", res.reason)
		assert.False(t, res.ran)
	})

	t.Run("expiry", func(t *testing.T) {
		payload, ok := jose.Decode(nil, []byte(parts[1]))
		require.True(t, ok)
		// The claims have no aud, so parseClaims refuses them; read exp the
		// way parseClaims does and apply the clock check to it.
		var v verified
		s := strictjson.Scanner{Data: payload}
		var it strictjson.Object
		require.True(t, it.Begin(&s))
		for it.Next(&s) {
			if string(it.Name) == "exp" {
				var e *Error
				v.exp, e = parseDate(&s)
				require.Nil(t, e)
				continue
			}
			s.SkipValue()
		}
		require.Equal(t, strictjson.OK, s.Finish())
		require.True(t, v.exp.set)
		m, err := New(Config{Keys: staticKeys{}, Leeway: -1})
		require.NoError(t, err)
		assert.Nil(t, m.checkTimes(&v, time.Unix(1300819379, 0)), "valid one second before exp")
		assert.Equal(t, ErrExpired, m.checkTimes(&v, time.Unix(1300819380, 0)), "expired at exp with no leeway")
	})
}
