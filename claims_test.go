package scopedtoken

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// with returns validClaims changed by edit.
func with(edit func(c map[string]any)) map[string]any {
	c := validClaims()
	edit(c)
	return c
}

// TestTokenRules covers the token rules of docs/security.md rule by rule through the HTTP middleware: each
// case names the rule it breaks and the reason it must be refused with. Every
// case asserts that the next handler never ran.
func TestTokenRules(t *testing.T) {
	exp := testNow.Add(time.Minute).Unix()
	valid := func(t *testing.T) string { return hsToken(t, validClaims()) }
	raw := func(header, claims string) func(t *testing.T) string {
		return func(t *testing.T) string { return signRaw(t, "HS256", testSecret, header, claims) }
	}
	claims := func(c string) func(t *testing.T) string { return raw(hsHeader, c) }
	edited := func(edit func(c map[string]any)) func(t *testing.T) string {
		return func(t *testing.T) string { return hsToken(t, with(edit)) }
	}
	validClaimsJSON := `{"aud":"/v2/accounts/me/search","exp":` + itoa(exp) + `}`
	tests := []struct {
		name   string
		token  func(t *testing.T) string
		config func(*Config)
		reason string // "" means the token must pass
	}{
		{name: "valid token passes", token: valid},
		// Compact serialization and strict base64url.
		{name: "two segments", token: func(t *testing.T) string { return cut(valid(t), 2) }, reason: "malformed_token"},
		{name: "four segments", token: func(t *testing.T) string { return valid(t) + ".AAAA" }, reason: "malformed_token"},
		{name: "padding in signature", token: func(t *testing.T) string { return valid(t) + "=" }, reason: "malformed_token"},
		{name: "standard alphabet in signature", token: func(t *testing.T) string { return swapLast(valid(t), "+") }, reason: "malformed_token"},
		{name: "slash in header", token: func(t *testing.T) string { return "/" + valid(t)[1:] }, reason: "malformed_token"},
		{name: "non-zero trailing bits", token: func(t *testing.T) string { return flipTrailingBits(t, valid(t)) }, reason: "malformed_token"},
		{name: "empty signature", token: func(t *testing.T) string { return cut(valid(t), 2) + "." }, reason: "malformed_token"},
		{name: "empty payload", token: func(t *testing.T) string {
			p := strings.Split(valid(t), ".")
			return p[0] + ".." + p[2]
		}, reason: "malformed_token"},
		{name: "longer than MaxTokenBytes", token: edited(func(c map[string]any) { c["pad"] = strings.Repeat("x", 9000) }), reason: "token_too_large"},
		{name: "custom MaxTokenBytes", token: valid, config: func(c *Config) { c.MaxTokenBytes = 64 }, reason: "token_too_large"},
		// Header.
		{name: "header not an object", token: raw(`["alg","HS256"]`, validClaimsJSON), reason: "malformed_token"},
		{name: "header trailing data", token: raw(hsHeader+`x`, validClaimsJSON), reason: "malformed_token"},
		{name: "alg missing", token: raw(`{"kid":"hs"}`, validClaimsJSON), reason: "alg_mismatch"},
		{name: "alg none", token: raw(`{"alg":"none","kid":"hs"}`, validClaimsJSON), reason: "alg_mismatch"},
		{name: "alg in other case", token: raw(`{"alg":"hs256","kid":"hs"}`, validClaimsJSON), reason: "alg_mismatch"},
		{name: "alg not a string", token: raw(`{"alg":256,"kid":"hs"}`, validClaimsJSON), reason: "alg_mismatch"},
		{name: "alg of another family than the key", token: raw(`{"alg":"HS384","kid":"hs"}`, validClaimsJSON), reason: "alg_mismatch"},
		{name: "kid missing", token: raw(`{"alg":"HS256"}`, validClaimsJSON), reason: "missing_kid"},
		{name: "kid empty", token: raw(`{"alg":"HS256","kid":""}`, validClaimsJSON), reason: "missing_kid"},
		{name: "kid not a string", token: raw(`{"alg":"HS256","kid":7}`, validClaimsJSON), reason: "missing_kid"},
		{name: "kid unknown", token: raw(`{"alg":"HS256","kid":"nope"}`, validClaimsJSON), reason: "unknown_kid"},
		{name: "crit present", token: raw(`{"alg":"HS256","kid":"hs","crit":["exp"]}`, validClaimsJSON), reason: "unsupported_header"},
		{name: "b64 present", token: raw(`{"alg":"HS256","kid":"hs","b64":true}`, validClaimsJSON), reason: "unsupported_header"},
		{name: "typ not JWT", token: raw(`{"alg":"HS256","kid":"hs","typ":"at+jwt"}`, validClaimsJSON), reason: "unsupported_header"},
		{name: "typ in lower case passes", token: raw(`{"alg":"HS256","kid":"hs","typ":"jwt"}`, validClaimsJSON)},
		{name: "jku, x5u, jwk, x5c are ignored", token: raw(`{"alg":"HS256","kid":"hs","jku":"http://evil.test/k","x5u":"http://evil.test/c","jwk":{"kty":"oct","k":"AAAA"},"x5c":["AAAA"]}`, validClaimsJSON)},
		{name: "duplicate header member", token: raw(`{"alg":"HS256","kid":"hs","kid":"hs"}`, validClaimsJSON), reason: "duplicate_member"},
		{name: "duplicate header member after unescaping", token: raw(`{"alg":"HS256","kid":"hs","\u006bid":"hs"}`, validClaimsJSON), reason: "duplicate_member"},
		{name: "duplicate in nested header object", token: raw(`{"alg":"HS256","kid":"hs","x":{"a":1,"a":2}}`, validClaimsJSON), reason: "duplicate_member"},
		{name: "header name in other case", token: raw(`{"alg":"HS256","kid":"hs","Kid":"other"}`, validClaimsJSON), reason: "ambiguous_member"},
		{name: "header name with Kelvin sign", token: raw(`{"alg":"HS256","kid":"hs","\u212aid":"other"}`, validClaimsJSON), reason: "ambiguous_member"},
		{name: "header ALG upper case", token: raw(`{"alg":"HS256","kid":"hs","ALG":"none"}`, validClaimsJSON), reason: "ambiguous_member"},
		{name: "lone surrogate escape", token: raw(`{"alg":"HS256","kid":"hs","x":"\ud800"}`, validClaimsJSON), reason: "malformed_token"},
		{name: "invalid UTF-8", token: raw("{\"alg\":\"HS256\",\"kid\":\"hs\",\"x\":\"\xff\"}", validClaimsJSON), reason: "malformed_token"},
		// Signature.
		{name: "bad signature", token: func(t *testing.T) string {
			return signRaw(t, "HS256", []byte(strings.Repeat("k", 32)), hsHeader, validClaimsJSON)
		}, reason: "bad_signature"},
		{name: "payload changed after signing", token: func(t *testing.T) string {
			p := strings.Split(valid(t), ".")
			return p[0] + "." + b64(strings.Replace(validClaimsJSON, "search", "answer", 1)) + "." + p[2]
		}, reason: "bad_signature"},
		// Claims: JSON strictness.
		{name: "claims not an object", token: claims(`"x"`), reason: "malformed_token"},
		{name: "claims trailing comma", token: claims(`{"aud":"/v2/accounts/me/search","exp":` + itoa(exp) + `,}`), reason: "malformed_token"},
		{name: "duplicate claim", token: claims(`{"aud":"/v2/accounts/me/search","exp":` + itoa(exp) + `,"exp":9999999999}`), reason: "duplicate_member"},
		{name: "duplicate claim after unescaping", token: claims(`{"aud":"/v2/accounts/me/search","exp":` + itoa(exp) + `,"\u0065xp":9999999999}`), reason: "duplicate_member"},
		{name: "duplicate in nested claim", token: claims(`{"aud":"/v2/accounts/me/search","exp":` + itoa(exp) + `,"ctx":{"a":{"b":1,"b":2}}}`), reason: "duplicate_member"},
		{name: "duplicate inside query", token: claims(`{"aud":"/v2/accounts/me/search","exp":` + itoa(exp) + `,"query":{"a":"1","a":"2"}}`), reason: "duplicate_member"},
		{name: "claim in other case", token: claims(`{"aud":"/v2/accounts/me/search","exp":` + itoa(exp) + `,"EXP":9999999999}`), reason: "ambiguous_member"},
		{name: "claim with long s", token: claims(`{"aud":"/v2/accounts/me/search","exp":` + itoa(exp) + `,"i\u017fs":"x"}`), reason: "ambiguous_member"},
		{name: "Query in other case", token: claims(`{"aud":"/v2/accounts/me/search","exp":` + itoa(exp) + `,"Query":{"a":"1"}}`), reason: "ambiguous_member"},
		{name: "claims lone surrogate", token: claims(`{"aud":"/v2/accounts/me/search","exp":` + itoa(exp) + `,"x":"\udc00"}`), reason: "malformed_token"},
		{name: "claims invalid UTF-8", token: claims("{\"aud\":\"/v2/accounts/me/search\",\"exp\":" + itoa(exp) + ",\"x\":\"\xc3\x28\"}"), reason: "malformed_token"},
		{name: "nesting too deep", token: claims(`{"aud":"/v2/accounts/me/search","exp":` + itoa(exp) + `,"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`), reason: "malformed_token"},
		// Claims: dates.
		{name: "exp missing", token: edited(func(c map[string]any) { delete(c, "exp") }), reason: "missing_exp"},
		{name: "exp missing but allowed", token: edited(func(c map[string]any) { delete(c, "exp") }), config: func(c *Config) { c.AllowMissingExp = true }},
		{name: "exp as string", token: edited(func(c map[string]any) { c["exp"] = itoa(exp) }), reason: "invalid_claims"},
		{name: "exp null", token: edited(func(c map[string]any) { c["exp"] = nil }), reason: "invalid_claims"},
		{name: "exp negative", token: edited(func(c map[string]any) { c["exp"] = -1 }), reason: "invalid_claims"},
		{name: "exp after year 9999", token: edited(func(c map[string]any) { c["exp"] = 253402300800 }), reason: "invalid_claims"},
		{name: "exp with a fraction passes", token: edited(func(c map[string]any) { c["exp"] = float64(exp) + 0.5 })},
		{name: "exp in exponent form passes", token: claims(`{"aud":"/v2/accounts/me/search","exp":` + itoa(exp/1000) + `.5e3}`)},
		{name: "exp past beyond leeway", token: edited(func(c map[string]any) { c["exp"] = testNow.Add(-31 * time.Second).Unix() }), reason: "expired"},
		{name: "exp past within leeway passes", token: edited(func(c map[string]any) { c["exp"] = testNow.Add(-29 * time.Second).Unix() })},
		{name: "exp now with no leeway", token: edited(func(c map[string]any) { c["exp"] = testNow.Unix() }), config: func(c *Config) { c.Leeway = -1 }, reason: "expired"},
		{name: "nbf future beyond leeway", token: edited(func(c map[string]any) { c["nbf"] = testNow.Add(31 * time.Second).Unix() }), reason: "not_yet_valid"},
		{name: "nbf future within leeway passes", token: edited(func(c map[string]any) { c["nbf"] = testNow.Add(29 * time.Second).Unix() })},
		{name: "nbf as string", token: edited(func(c map[string]any) { c["nbf"] = "0" }), reason: "invalid_claims"},
		{name: "iat future beyond leeway", token: edited(func(c map[string]any) { c["iat"] = testNow.Add(time.Minute).Unix() }), reason: "issued_in_future"},
		{name: "iat as bool", token: edited(func(c map[string]any) { c["iat"] = true }), reason: "invalid_claims"},
		{name: "beyond maximum lifetime", token: edited(func(c map[string]any) { c["exp"] = testNow.Add(2 * time.Hour).Unix() }), config: func(c *Config) { c.MaxLifetime = time.Hour }, reason: "lifetime_too_long"},
		{name: "within maximum lifetime passes", token: valid, config: func(c *Config) { c.MaxLifetime = time.Hour }},
		// Claims: aud.
		{name: "aud missing", token: edited(func(c map[string]any) { delete(c, "aud") }), reason: "bad_audience"},
		{name: "aud empty array", token: edited(func(c map[string]any) { c["aud"] = []string{} }), reason: "bad_audience"},
		{name: "aud number", token: edited(func(c map[string]any) { c["aud"] = 1 }), reason: "bad_audience"},
		{name: "aud array with a number", token: edited(func(c map[string]any) { c["aud"] = []any{"/v2/accounts/me/search", 1} }), reason: "bad_audience"},
		{name: "aud array with one bad entry", token: edited(func(c map[string]any) { c["aud"] = []string{"/v2/accounts/me/search", "/v2/accounts/me/../x"} }), reason: "bad_audience"},
		{name: "aud array passes", token: edited(func(c map[string]any) { c["aud"] = []string{"/v2/accounts/me/answers", "/v2/accounts/me/search"} })},
		// Claims: query.
		{name: "query null", token: edited(func(c map[string]any) { c["query"] = nil }), reason: "bad_query_claim"},
		{name: "query array", token: edited(func(c map[string]any) { c["query"] = []string{"a"} }), reason: "bad_query_claim"},
		{name: "query value null", token: edited(func(c map[string]any) { c["query"] = map[string]any{"a": nil} }), reason: "bad_query_claim"},
		{name: "query value object", token: edited(func(c map[string]any) { c["query"] = map[string]any{"a": map[string]any{"b": "c"}} }), reason: "bad_query_claim"},
		{name: "query value empty array", token: edited(func(c map[string]any) { c["query"] = map[string]any{"a": []string{}} }), reason: "bad_query_claim"},
		{name: "query value nested array", token: edited(func(c map[string]any) { c["query"] = map[string]any{"a": []any{[]string{"b"}}} }), reason: "bad_query_claim"},
		{name: "query empty name", token: edited(func(c map[string]any) { c["query"] = map[string]any{"": "b"} }), reason: "bad_query_claim"},
		{name: "query too many parameters", token: edited(func(c map[string]any) { c["query"] = map[string]any{"a": "1", "b": "2", "c": "3"} }), config: func(c *Config) { c.MaxQueryParams = 2 }, reason: "bad_query_claim"},
		{name: "query too many values", token: edited(func(c map[string]any) { c["query"] = map[string]any{"a": []string{"1", "2", "3"}} }), config: func(c *Config) { c.MaxQueryValues = 2 }, reason: "bad_query_claim"},
		{name: "query scalars and arrays pass", token: edited(func(c map[string]any) {
			c["query"] = map[string]any{"a": "x", "b": 1.5, "c": true, "d": []any{"y", 2, false}}
		})},
		// Other claims.
		{name: "iss not a string", token: edited(func(c map[string]any) { c["iss"] = 1 }), reason: "invalid_claims"},
		{name: "sub not a string", token: edited(func(c map[string]any) { c["sub"] = []string{"x"} }), reason: "invalid_claims"},
		{name: "jti not a string", token: edited(func(c map[string]any) { c["jti"] = false }), reason: "invalid_claims"},
		{name: "custom claims of any type pass", token: edited(func(c map[string]any) { c["ctx"] = map[string]any{"a": []any{1, "b", nil}} })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestMiddleware(t, tc.config)
			res := serve(t, m, bearer("/v2/accounts/me/search", tc.token(t)))
			if tc.reason == "" {
				assert.Equal(t, http.StatusOK, res.code, res.body)
				assert.True(t, res.ran)
				return
			}
			assert.Equal(t, http.StatusUnauthorized, res.code)
			assert.Equal(t, tc.reason, res.reason)
			assert.False(t, res.ran, "the next handler must not run")
			assert.Contains(t, res.header.Get("WWW-Authenticate"), `error="invalid_token"`)
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// cut keeps the first n dot-separated segments of a token.
func cut(token string, n int) string {
	return strings.Join(strings.Split(token, ".")[:n], ".")
}

// swapLast replaces the last character of the token.
func swapLast(token, c string) string { return token[:len(token)-1] + c }

// flipTrailingBits changes the unused low bits of the signature's last
// character, which a lenient decoder would ignore.
func flipTrailingBits(t *testing.T, token string) string {
	t.Helper()
	sig := token[strings.LastIndexByte(token, '.')+1:]
	require.Equal(t, 3, len(sig)%4, "HS256 signature: 32 bytes leave 2 spare bits in the last character")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, sig[len(sig)-1])
	return token[:len(token)-1] + string(alphabet[i^1])
}

// TestDatesAreExact checks the boundaries of exp, nbf and iat with fractions,
// on the Verify API.
func TestDatesAreExact(t *testing.T) {
	m := newTestMiddleware(t, func(c *Config) { c.Leeway = -1 })
	now := float64(testNow.Unix())
	tests := []struct {
		name   string
		claims map[string]any
		want   error
	}{
		{name: "exp a half second ahead", claims: with(func(c map[string]any) { c["exp"] = now + 0.5 })},
		{name: "exp a half second ago", claims: with(func(c map[string]any) { c["exp"] = now - 0.5 }), want: ErrExpired},
		{name: "nbf now", claims: with(func(c map[string]any) { c["nbf"] = now })},
		{name: "nbf a half second ahead", claims: with(func(c map[string]any) { c["nbf"] = now + 0.5 }), want: ErrNotYetValid},
		{name: "iat a half second ahead", claims: with(func(c map[string]any) { c["iat"] = now + 0.5 }), want: ErrIssuedInFuture},
		{name: "exp at the last second of 9999", claims: with(func(c map[string]any) { c["exp"] = 253402300799 })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := m.Verify(t.Context(), hsToken(t, tc.claims), "/v2/accounts/me/search")
			if tc.want == nil {
				require.NoError(t, err)
				assert.NotNil(t, tok)
				return
			}
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, ErrInvalidToken)
		})
	}
}

// TestStrictBase64Whitespace: encoding/base64 skips CR and LF even in strict
// mode; a token with either inside a segment must still be refused. Such a
// token cannot pass the Bearer syntax, so this goes through Verify.
func TestStrictBase64Whitespace(t *testing.T) {
	m := newTestMiddleware(t, nil)
	token := hsToken(t, validClaims())
	dots := []int{strings.IndexByte(token, '.'), strings.LastIndexByte(token, '.')}
	for _, ws := range []string{"\n", "\r", "\r\n"} {
		for _, at := range []int{4, dots[0] + 4, dots[1] + 4} {
			bad := token[:at] + ws + token[at:]
			_, err := m.Verify(t.Context(), bad, "/v2/accounts/me/search")
			assert.ErrorIs(t, err, ErrMalformedToken, "whitespace %q at %d", ws, at)
		}
	}
}

// TestDecodeClaimsCustom decodes ordinary custom claims, with names repeated
// across objects and differing in case between them, which the folding check
// must let through.
func TestDecodeClaimsCustom(t *testing.T) {
	m := newTestMiddleware(t, nil)
	claims := with(func(c map[string]any) {
		c["role"] = "user"
		c["tenant"] = map[string]any{"id": "t1", "Plan": "pro", "role": "owner"}
		c["grants"] = []any{map[string]any{"Role": "viewer", "on": "a"}, map[string]any{"role": "editor", "on": "b"}}
		c["\u00e9tage"] = 3
		c["Scopes"] = []string{"read", "write"}
	})
	tok, err := m.Verify(t.Context(), hsToken(t, claims), "/v2/accounts/me/search")
	require.NoError(t, err)
	type grant struct {
		Role string
		On   string
	}
	var custom struct {
		Role   string `json:"role"`
		Tenant struct {
			ID   string `json:"id"`
			Plan string `json:"plan"`
			Role string `json:"role"`
		} `json:"tenant"`
		Grants []grant   `json:"grants"`
		Etage  int       `json:"\u00e9tage"`
		Scopes []string  `json:"scopes"`
		Exp    float64   `json:"exp"`
		Aud    string    `json:"aud"`
		Extra  *struct{} `json:"extra"`
	}
	require.NoError(t, tok.DecodeClaims(&custom))
	assert.Equal(t, "user", custom.Role)
	assert.Equal(t, "t1", custom.Tenant.ID)
	assert.Equal(t, "pro", custom.Tenant.Plan, "a name in another case than the field's is still read")
	assert.Equal(t, "owner", custom.Tenant.Role)
	assert.Equal(t, []grant{{Role: "viewer", On: "a"}, {Role: "editor", On: "b"}}, custom.Grants)
	assert.Equal(t, 3, custom.Etage)
	assert.Equal(t, []string{"read", "write"}, custom.Scopes)
	assert.Equal(t, float64(testNow.Add(time.Minute).Unix()), custom.Exp)
	assert.Equal(t, "/v2/accounts/me/search", custom.Aud)
	assert.Nil(t, custom.Extra)
}

// TestCheckTimesBoundaries: exp, nbf, iat and MaxLifetime are compared with
// the leeway as docs/configuration.md says (a token expires at exp+leeway, is
// valid from nbf-leeway, may be issued up to leeway in the future, and may
// expire at most MaxLifetime+leeway from now), to the nanosecond, as
// checkTimesModel computes it with time.Time: for the default, no (0 and
// negative Config.Leeway), tiny and huge leeways, maximum lifetimes up to the
// largest New accepts, claims present or absent, at instants with nanosecond
// fractions, with a monotonic clock reading, and in years 0 and 9999.
func TestCheckTimesBoundaries(t *testing.T) {
	nows := []time.Time{
		testNow,
		testNow.Add(123456789 * time.Nanosecond),
		time.Now(), // carries a monotonic reading
		time.Now().Add(-time.Hour),
		time.Unix(maxUnixSeconds, 999999999),
		time.Unix(maxUnixSeconds-1, 1),
		time.Unix(0, 0),
		time.Date(9999, 12, 31, 23, 59, 59, 1, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 999999999, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 1, time.FixedZone("", -3600)),
	}
	leeways := []time.Duration{-time.Hour, -1, 0, 1, time.Second, DefaultLeeway, 1<<63 - 1}
	date := func(t time.Time) numericDate {
		return numericDate{sec: t.Unix(), nsec: int32(t.Nanosecond()), set: true}
	}
	check := func(m *Middleware, now time.Time, v *verified) {
		if got, want := m.checkTimes(v, now), checkTimesModel(m.leeway, m.maxLifetime, v, now); got != want {
			t.Fatalf("leeway %v max lifetime %v now %v exp %v nbf %v iat %v: %v, want %v",
				m.leeway, m.maxLifetime, now, v.exp.time(), v.nbf.time(), v.iat.time(), got, want)
		}
	}
	for _, configured := range leeways {
		m, err := New(Config{Keys: staticKeys{}, Leeway: configured})
		require.NoError(t, err)
		leeway := m.leeway
		offsets := []time.Duration{-leeway - 1, -leeway, -leeway + 1, -1, 0, 1, leeway - 1, leeway, leeway + 1}
		for _, now := range nows {
			for _, dExp := range offsets {
				for _, dNbf := range offsets {
					for _, dIat := range offsets {
						check(m, now, &verified{exp: date(now.Add(dExp)), nbf: date(now.Add(dNbf)), iat: date(now.Add(dIat))})
					}
				}
			}
		}
		lifetimes := []time.Duration{1, time.Second, time.Hour, 100 * 365 * 24 * time.Hour, 1<<63 - 1 - leeway - 1, 1<<63 - 1 - leeway}
		for _, lifetime := range lifetimes {
			if lifetime <= 0 || lifetime > 1<<63-1-leeway {
				continue // the huge leeway leaves no room
			}
			m, err := New(Config{Keys: staticKeys{}, Leeway: configured, MaxLifetime: lifetime})
			require.NoError(t, err, "the largest MaxLifetime+Leeway is accepted: leeway %v lifetime %v", configured, lifetime)
			limit := lifetime + leeway
			for _, now := range nows {
				for _, dExp := range []time.Duration{-leeway, 0, 1, leeway, leeway + 1, lifetime} {
					for _, edge := range []time.Duration{-1, 0, 1} {
						exp := date(now.Add(dExp).Add(edge))
						if dExp == lifetime {
							exp = date(now.Add(limit).Add(edge))
						}
						check(m, now, &verified{exp: exp})
						check(m, now, &verified{exp: exp, nbf: date(now.Add(leeway).Add(edge)), iat: date(now.Add(leeway).Add(-edge))})
						check(m, now, &verified{nbf: exp, iat: exp}) // no exp: no lifetime to check
						check(m, now, &verified{exp: exp, nbf: date(now.Add(leeway).Add(edge))})
						check(m, now, &verified{exp: exp, iat: date(now.Add(leeway).Add(edge))})
					}
				}
			}
		}
	}
}

// checkTimesModel is checkTimes with time.Time arithmetic, as the package
// computed it before it compared integers.
func checkTimesModel(leeway, maxLifetime time.Duration, v *verified, now time.Time) *Error {
	switch {
	case v.exp.set && !now.Before(v.exp.time().Add(leeway)):
		return ErrExpired
	case v.nbf.set && now.Add(leeway).Before(v.nbf.time()):
		return ErrNotYetValid
	case v.iat.set && now.Add(leeway).Before(v.iat.time()):
		return ErrIssuedInFuture
	case maxLifetime > 0 && v.exp.set && v.exp.time().After(now.Add(maxLifetime+leeway)):
		return ErrLifetimeTooLong
	}
	return nil
}
