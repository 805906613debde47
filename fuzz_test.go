package scopedtoken

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scopedtoken/scopedtoken/internal/jose"
	"github.com/scopedtoken/scopedtoken/internal/names"
)

// Fuzz targets. Seeds are in the code (f.Add) and under testdata/fuzz/; run
// them all with scripts/fuzz.sh. Without -fuzz, go test runs the seeds.

// fuzzSeedTokens are tokens of every shape the package meets.
func fuzzSeedTokens(t testing.TB) []string {
	k := genKeys(t)
	claims := claimsJSON(t, validClaims())
	return []string{
		hsToken(t, validClaims()),
		signRaw(t, "RS256", k.rsa, `{"alg":"RS256","kid":"rs"}`, claims),
		signRaw(t, "PS256", k.rsa, `{"alg":"PS256","kid":"ps"}`, claims),
		signRaw(t, "ES256", k.ec, `{"alg":"ES256","kid":"es"}`, claims),
		signRaw(t, "EdDSA", k.ed, `{"alg":"EdDSA","kid":"ed"}`, claims),
		signRaw(t, "HS256", testSecret, `{"alg":"HS256","kid":"biz"}`, claimsJSON(t, map[string]any{
			"aud": []string{"/v2/accounts/42/search/x", "/v2/accounts/me/q"}, "exp": testNow.Add(time.Minute).Unix(),
			"query": map[string]any{"experienceKey": "X", "n": []any{1, true, "a"}}})),
		b64(`{"alg":"none","kid":"hs"}`) + "." + b64(claims) + ".",
		"..", "", "a.b.c", rfc7515A1Token,
	}
}

// FuzzVerifyJWS feeds arbitrary strings to the signature layer and the whole
// verification. Nothing may panic, and a token that passes must have been
// signed by the key its kid names.
func FuzzVerifyJWS(f *testing.F) {
	for _, tok := range fuzzSeedTokens(f) {
		f.Add(tok)
	}
	ks := testKeySet(f)
	m, err := New(Config{Keys: ks, Now: fixedClock, CacheSize: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		j, e := verifyJWS(context.Background(), ks, token, DefaultMaxTokenBytes, nil)
		if e == nil {
			if j.key == nil || len(j.kid) == 0 || j.payload == "" {
				t.Fatalf("accepted without key or payload: %+v", j)
			}
			i := strings.LastIndexByte(token, '.')
			sig, ok := jose.Decode(nil, []byte(token[i+1:]))
			if !ok || !j.key.v.Verify([]byte(token[:i]), sig) {
				t.Fatalf("accepted a token whose signature does not verify")
			}
		}
		if _, e := m.Verify(context.Background(), token, attackPath); e != nil {
			var pe *Error
			if !asError(e, &pe) {
				t.Fatalf("error is not *Error: %v", e)
			}
		}
	})
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	*target = e
	return ok
}

// FuzzClaims signs arbitrary header and claims JSON with the HS256 test key,
// so fuzzing reaches the JSON scanner and the claim rules. Property: whatever
// the package accepts, encoding/json reads the same way (alg, kid, aud, exp,
// query), so no second parser can disagree about what a token says.
func FuzzClaims(f *testing.F) {
	f.Add(hsHeader, claimsWith(""))
	f.Add(`{"alg":"HS256","kid":"hs"}`, claimsWith(`,"query":{"a":"b","c":[1,true]},"iss":"x"`))
	f.Add(`{"kid":"hs","alg":"HS256","x":{"a":[1,2]}}`, fmt.Sprintf(`{"aud":["/v2/accounts/me/a","/v2/accounts/me/b/c"],"exp":%d.5,"nbf":0}`, attackExp))
	f.Add(`{"alg":"HS256","kid":"hs","\u212Aid":"x"}`, claimsWith(`,"\u0065xp":1`))
	f.Add(hsHeader, claimsWith(`,"x":"\ud83d\ude00\u00e9"`))
	m, err := New(Config{Keys: testKeySet(f), Now: fixedClock, CacheSize: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header, claims string) {
		token := signRaw(t, "HS256", testSecret, header, claims)
		tok, e := m.Verify(context.Background(), token, attackPath)
		if e != nil {
			return
		}
		var h struct {
			Alg, Kid string
			Crit     any
			B64      any
		}
		if err := json.Unmarshal([]byte(header), &h); err != nil {
			t.Fatalf("header accepted but encoding/json refuses it: %v", err)
		}
		if h.Alg != "HS256" || h.Kid != "hs" || h.Crit != nil || h.B64 != nil {
			t.Fatalf("encoding/json reads the header differently: %+v", h)
		}
		var c struct {
			Aud   any
			Exp   *float64
			Query map[string]any
		}
		if err := json.Unmarshal([]byte(claims), &c); err != nil {
			t.Fatalf("claims accepted but encoding/json refuses them: %v", err)
		}
		aud := jsonAud(t, c.Aud)
		if !reflect.DeepEqual(aud, tok.Audience()) {
			t.Fatalf("aud: encoding/json %q, package %q", aud, tok.Audience())
		}
		if c.Exp == nil || tok.ExpiresAt().IsZero() {
			t.Fatalf("exp: encoding/json %v, package %v", c.Exp, tok.ExpiresAt())
		}
		// Unix and Nanosecond, not UnixNano, which overflows after year 2262.
		if d := *c.Exp - (float64(tok.ExpiresAt().Unix()) + float64(tok.ExpiresAt().Nanosecond())/1e9); d > 1e-3 || d < -1e-3 {
			t.Fatalf("exp: encoding/json %v, package %v", *c.Exp, tok.ExpiresAt())
		}
		if len(c.Query) != tok.Query().Len() {
			t.Fatalf("query: encoding/json %v, package %v", c.Query, tok.Query())
		}
		for name := range c.Query {
			if !tok.Query().Has(name) {
				t.Fatalf("query name %q: encoding/json has it, the package does not", name)
			}
		}
	})
}

// jsonAud is the aud claim as encoding/json decoded it into an any: a
// string or an array of strings.
func jsonAud(t *testing.T, x any) []string {
	t.Helper()
	var aud []string
	switch a := x.(type) {
	case string:
		aud = []string{a}
	case []any:
		for _, v := range a {
			aud = append(aud, v.(string))
		}
	default:
		t.Fatalf("aud read as %T", x)
	}
	return aud
}

// FuzzParseAudEntry checks the aud grammar: an accepted entry is the prefix,
// a valid business and endpoint, and is itself a request path that passes
// checkPath and is covered by itself.
func FuzzParseAudEntry(f *testing.F) {
	for _, s := range []string{"/v2/accounts/me/search", "/v2/accounts/me/search/", "/v2/accounts/42/a/b/c",
		"/v2/accounts/me", "/v2/accounts//x", "/v2/accounts/me/./x", "/v2/accounts/me/%2e", "/v2/accounts/me/a~b!$&'()*+,;=:@",
		"/v2/accounts/me/search//", "v2/accounts/me/x", "/v2/accounts/me/\u00e9"} {
		f.Add(s)
	}
	vk, err := NewVerificationKey(Key{ID: "k", Algorithm: "HS256", Secret: testSecret})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		e, ok := parseAudEntry(DefaultPrefix, raw)
		if !ok {
			return
		}
		rebuilt := DefaultPrefix + e.business + "/" + e.tail
		if raw != rebuilt && raw != rebuilt+"/" {
			t.Fatalf("entry %q parsed as business %q tail %q", raw, e.business, e.tail)
		}
		segs := strings.Split(e.business+"/"+e.tail, "/")
		if len(segs) < 2 {
			t.Fatalf("entry %q has no endpoint", raw)
		}
		for _, s := range segs {
			if !names.ValidSegment(s) || strings.ContainsAny(s, "%/\\") {
				t.Fatalf("entry %q has a bad segment %q", raw, s)
			}
		}
		if !checkPath(raw) {
			t.Fatalf("an accepted aud entry %q is not a valid request path", raw)
		}
		v := &verified{key: vk, aud: []audEntry{e}}
		if _, ok := v.authorize(DefaultPrefix, raw); !ok {
			t.Fatalf("entry %q does not cover itself", raw)
		}
	})
}

// FuzzPathMatching checks checkPath and authorize against a plain oracle: an
// allowed path is unambiguous, and its segments start with the entry's, the
// business compared by the rules of docs/security.md.
func FuzzPathMatching(f *testing.F) {
	seeds := [][3]string{
		{"/v2/accounts/me/search", "/v2/accounts/me/search/x", ""},
		{"/v2/accounts/me/search", "/v2/accounts/me/searchx", ""},
		{"/v2/accounts/me/search", "/v2/accounts/42/search", "42"},
		{"/v2/accounts/42/search", "/v2/accounts/me/search/", "42"},
		{"/v2/accounts/42/search", "/v2/accounts/43/search", ""},
		{"/v2/accounts/me/search", "/v2/accounts/me/search/%2e%2e/admin", ""},
		{"/v2/accounts/me/search", "/v2/accounts/me/search/%252e", ""},
		{"/v2/accounts/me/search", "/v2/accounts/me//search", ""},
		{"/v2/accounts/me/search", "/v2/accounts/me/search/..", ""},
		{"/v2/accounts/me/search", "/v2/accounts/me/Search", ""},
		{"/v2/accounts/me/search", "/v2/accounts/me/search%2F..", ""},
		{"/v2/accounts/me/search", "/v2/accounts/me/search/%5C", ""},
		{"/v2/accounts/me/search", "/v2/accounts/me/search/%zz", ""},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, aud, path, business string) {
		if business != "" && !names.ValidBusiness(business) {
			return
		}
		e, ok := parseAudEntry(DefaultPrefix, aud)
		if !ok {
			return
		}
		vk, err := NewVerificationKey(Key{ID: "k", Algorithm: "HS256", Secret: testSecret, BusinessID: business})
		if err != nil {
			t.Fatal(err)
		}
		if !checkPath(path) {
			return
		}
		// An accepted path is unambiguous: no empty or dot segments, and no
		// escape that decodes to a separator, a dot or a control character.
		trimmed := strings.TrimSuffix(path, "/")
		for i, seg := range strings.Split(trimmed, "/") {
			if i == 0 {
				if seg != "" {
					t.Fatalf("path %q does not start with /", path)
				}
				continue
			}
			dec, err := url.PathUnescape(seg)
			if err != nil || seg == "" || dec == "." || dec == ".." || strings.ContainsAny(dec, "/\\") {
				t.Fatalf("checkPath accepted %q with segment %q", path, seg)
			}
			for _, r := range dec {
				if r < 0x20 || r == 0x7f {
					t.Fatalf("checkPath accepted %q with a control character", path)
				}
			}
		}
		v := &verified{key: vk, aud: []audEntry{e}}
		got, allowed := v.authorize(DefaultPrefix, path)
		want := oracleCovers(strings.TrimSuffix(aud, "/"), trimmed, business)
		if allowed != want {
			t.Fatalf("aud %q path %q business %q: authorize %v, oracle %v", aud, path, business, allowed, want)
		}
		if allowed {
			reqBusiness := strings.SplitN(strings.TrimPrefix(trimmed, DefaultPrefix), "/", 2)[0]
			wantBiz := business
			if wantBiz == "" && reqBusiness != meSegment {
				wantBiz = reqBusiness
			}
			if got := v.businessOf(got); got != wantBiz {
				t.Fatalf("business %q, want %q", got, wantBiz)
			}
		}
	})
}

// oracleCovers is the audience rules of docs/security.md written plainly: segment lists, business first.
func oracleCovers(aud, path, keyBusiness string) bool {
	a := strings.Split(strings.TrimPrefix(aud, DefaultPrefix), "/")
	if !strings.HasPrefix(path, DefaultPrefix) {
		return false
	}
	p := strings.Split(strings.TrimPrefix(path, DefaultPrefix), "/")
	if len(p) < len(a) {
		return false
	}
	same := func(entry, req string) bool {
		if keyBusiness == "" {
			return entry == req
		}
		return (entry == meSegment || entry == keyBusiness) && (req == meSegment || req == keyBusiness)
	}
	if !same(a[0], p[0]) {
		return false
	}
	for i := 1; i < len(a); i++ {
		if a[i] != p[i] {
			return false
		}
	}
	return true
}

// FuzzMiddleware sends signed tokens with fuzzed claims to fuzzed paths and
// queries through the whole middleware. Properties: no panic; no 5xx but 503;
// a request is never allowed when its path is outside every aud entry.
func FuzzMiddleware(f *testing.F) {
	f.Add(claimsWith(""), "/v2/accounts/me/search", "a=b", false)
	f.Add(claimsWith(`,"query":{"experienceKey":"X","n":[1,2]}`), "/v2/accounts/me/search/x/", "experienceKey=Y&z=1", false)
	f.Add(fmt.Sprintf(`{"aud":["/v2/accounts/me/a","/v2/accounts/42/b"],"exp":%d}`, attackExp), "/v2/accounts/42/a", "", true)
	f.Add(claimsWith(""), "/v2/accounts/me/search/%2e%2e", "a;b", false)
	f.Add(claimsWith(`,"query":{"a b":"c&d"}`), "/v2/accounts/me/search", "a+b=x&a%20b=y", false)
	f.Add(claimsWith(`,"query":{"experienceKey":"X","k":"1"}`), "/v2/accounts/me/search", "EXPERIENCEkey=Y&%E2%84%AA=2", false)
	m, err := New(Config{Keys: testKeySet(f), Now: fixedClock, TokenQueryParam: "jwt"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, claims, path, rawQuery string, biz bool) {
		u, err := url.Parse("http://api.test" + path)
		if err != nil || u.Host != "api.test" {
			return
		}
		u.RawQuery = rawQuery
		kid := "hs"
		if biz {
			kid = "biz"
		}
		token := signRaw(t, "HS256", testSecret, `{"alg":"HS256","kid":"`+kid+`"}`, claims)
		req := httptest.NewRequest(http.MethodGet, "http://api.test/", nil)
		req.URL, req.RequestURI = u, u.RequestURI()
		req.Header.Set("Authorization", "Bearer "+token)
		var seen *Token
		var seenURL *url.URL
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen, _ = FromContext(r.Context())
			seenURL = r.URL
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 401, 403, 503:
		default:
			t.Fatalf("status %d", rec.Code)
		}
		if rec.Code != 200 {
			if seen != nil {
				t.Fatalf("refused with %d but the handler ran", rec.Code)
			}
			return
		}
		if seen == nil {
			t.Fatal("allowed without a token in the context")
		}
		p := strings.TrimSuffix(u.EscapedPath(), "/")
		business := ""
		if biz {
			business = "42"
		}
		covered := false
		for _, a := range seen.Audience() {
			covered = covered || oracleCovers(strings.TrimSuffix(a, "/"), p, business)
		}
		if !covered {
			t.Fatalf("allowed %q outside aud %q", u.EscapedPath(), seen.Audience())
		}
		q := seenURL.Query()
		bound := seen.Query().URLValues()
		for name, want := range bound {
			if !reflect.DeepEqual(q[name], want) {
				t.Fatalf("query %q: handler sees %q, token binds %q", name, q[name], want)
			}
		}
		for name := range q {
			for b := range bound {
				if _, exact := bound[name]; !exact && strings.EqualFold(name, b) {
					t.Fatalf("case variant %q of bound %q reaches the handler", name, b)
				}
			}
		}
	})
}
