package scopedtoken

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAudienceGrammar(t *testing.T) {
	tests := []struct {
		name  string
		entry string
		valid bool
	}{
		{name: "business and endpoint", entry: "/v2/accounts/me/search", valid: true},
		{name: "named business", entry: "/v2/accounts/42/search", valid: true},
		{name: "optional path", entry: "/v2/accounts/me/search/vertical/faq", valid: true},
		{name: "one trailing slash", entry: "/v2/accounts/me/search/", valid: true},
		{name: "every pchar", entry: "/v2/accounts/me/a-._~!$&'()*+,;=:@Z9", valid: true},
		{name: "no endpoint", entry: "/v2/accounts/me", valid: false},
		{name: "no endpoint, trailing slash", entry: "/v2/accounts/me/", valid: false},
		{name: "two trailing slashes", entry: "/v2/accounts/me/search//", valid: false},
		{name: "empty business", entry: "/v2/accounts//search", valid: false},
		{name: "empty segment", entry: "/v2/accounts/me//search", valid: false},
		{name: "dot segment", entry: "/v2/accounts/me/./search", valid: false},
		{name: "dot-dot segment", entry: "/v2/accounts/me/search/..", valid: false},
		{name: "percent-encoding", entry: "/v2/accounts/me/se%61rch", valid: false},
		{name: "space", entry: "/v2/accounts/me/se arch", valid: false},
		{name: "backslash", entry: "/v2/accounts/me/search\\x", valid: false},
		{name: "non-ASCII", entry: "/v2/accounts/me/séarch", valid: false},
		{name: "query in entry", entry: "/v2/accounts/me/search?x=1", valid: false},
		{name: "wrong prefix", entry: "/v3/accounts/me/search", valid: false},
		{name: "prefix in other case", entry: "/V2/accounts/me/search", valid: false},
		{name: "relative", entry: "v2/accounts/me/search", valid: false},
		{name: "absolute URL", entry: "https://api.test/v2/accounts/me/search", valid: false},
		{name: "empty", entry: "", valid: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ok := parseAudEntry(DefaultPrefix, tc.entry)
			assert.Equal(t, tc.valid, ok)
			// Through the middleware: a malformed entry invalidates the token.
			m := newTestMiddleware(t, nil)
			_, err := m.Verify(t.Context(), hsToken(t, with(func(c map[string]any) { c["aud"] = tc.entry })), "/v2/accounts/me/search")
			if tc.valid {
				assert.NotErrorIs(t, err, ErrBadAudience)
			} else {
				assert.ErrorIs(t, err, ErrBadAudience)
			}
		})
	}
}

func TestRequestPathRules(t *testing.T) {
	tests := []struct {
		name string
		path string
		code int
	}{
		{name: "covered", path: "/v2/accounts/me/search", code: http.StatusOK},
		{name: "one trailing slash", path: "/v2/accounts/me/search/", code: http.StatusOK},
		{name: "below the endpoint", path: "/v2/accounts/me/search/faq", code: http.StatusOK},
		{name: "encoded ordinary character below", path: "/v2/accounts/me/search/%41", code: http.StatusOK},
		{name: "empty segment", path: "/v2/accounts/me//search", code: http.StatusBadRequest},
		{name: "two trailing slashes", path: "/v2/accounts/me/search//", code: http.StatusBadRequest},
		{name: "dot segment", path: "/v2/accounts/me/./search", code: http.StatusBadRequest},
		{name: "dot-dot segment", path: "/v2/accounts/me/search/../answers", code: http.StatusBadRequest},
		{name: "trailing dot-dot", path: "/v2/accounts/me/search/..", code: http.StatusBadRequest},
		{name: "encoded slash", path: "/v2/accounts/me/search%2Fx", code: http.StatusBadRequest},
		{name: "encoded slash lower case", path: "/v2/accounts/me/search%2fx", code: http.StatusBadRequest},
		{name: "encoded backslash", path: "/v2/accounts/me/search%5Cx", code: http.StatusBadRequest},
		{name: "encoded backslash lower case", path: "/v2/accounts/me/search%5cx", code: http.StatusBadRequest},
		{name: "encoded dot", path: "/v2/accounts/me/search/%2E%2E", code: http.StatusBadRequest},
		{name: "encoded dot lower case", path: "/v2/accounts/me/search/%2e", code: http.StatusBadRequest},
		{name: "encoded NUL", path: "/v2/accounts/me/search/%00", code: http.StatusBadRequest},
		{name: "encoded unit separator", path: "/v2/accounts/me/search/%1F", code: http.StatusBadRequest},
		{name: "encoded DEL", path: "/v2/accounts/me/search/%7f", code: http.StatusBadRequest},
		{name: "encoded newline", path: "/v2/accounts/me/search/%0A", code: http.StatusBadRequest},
		{name: "raw backslash (escaped by net/url)", path: "/v2/accounts/me/search\\x", code: http.StatusBadRequest},
		{name: "double encoding is only a percent", path: "/v2/accounts/me/search/%252e", code: http.StatusOK},
		{name: "outside: similar endpoint", path: "/v2/accounts/me/searchx", code: http.StatusForbidden},
		{name: "outside: other endpoint", path: "/v2/accounts/me/answers", code: http.StatusForbidden},
		{name: "outside: case differs", path: "/v2/accounts/me/Search", code: http.StatusForbidden},
		{name: "outside: encoded letter", path: "/v2/accounts/me/se%61rch", code: http.StatusForbidden},
		{name: "outside: parent", path: "/v2/accounts/me", code: http.StatusForbidden},
		{name: "outside: root", path: "/", code: http.StatusForbidden},
		{name: "outside: other prefix", path: "/v3/accounts/me/search", code: http.StatusForbidden},
		{name: "outside: semicolon parameter", path: "/v2/accounts/me/search;x=1", code: http.StatusForbidden},
	}
	m := newTestMiddleware(t, nil)
	token := hsToken(t, validClaims())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := serve(t, m, bearer(tc.path, token))
			assert.Equal(t, tc.code, res.code, res.body)
			assert.Equal(t, tc.code == http.StatusOK, res.ran)
			switch tc.code {
			case http.StatusBadRequest:
				assert.Equal(t, "bad_path", res.reason)
				assert.Contains(t, res.header.Get("WWW-Authenticate"), `error="invalid_request"`)
			case http.StatusForbidden:
				assert.Equal(t, "audience_mismatch", res.reason)
				assert.Contains(t, res.header.Get("WWW-Authenticate"), `error="insufficient_scope"`)
			}
		})
	}
}

// TestCheckOrder: authentication comes first, then the path (400), then the
// scope (403).
func TestCheckOrder(t *testing.T) {
	m := newTestMiddleware(t, nil)
	good := hsToken(t, validClaims())
	expired := hsToken(t, with(func(c map[string]any) { c["exp"] = testNow.Add(-time.Hour).Unix() }))
	tests := []struct {
		name   string
		path   string
		token  string
		code   int
		reason string
	}{
		{name: "no token, bad path", path: "/v2/accounts/me/../search", code: http.StatusUnauthorized, reason: "missing_token"},
		{name: "invalid token, bad path", path: "/v2/accounts/me/%2e%2e/search", token: expired, code: http.StatusUnauthorized, reason: "expired"},
		{name: "invalid token, outside", path: "/v2/accounts/me/answers", token: expired, code: http.StatusUnauthorized, reason: "expired"},
		{name: "valid token, bad path", path: "/v2/accounts/me/answers/%2F", token: good, code: http.StatusBadRequest, reason: "bad_path"},
		{name: "valid token, outside", path: "/v2/accounts/me/answers", token: good, code: http.StatusForbidden, reason: "audience_mismatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := bearer("/", tc.token)
			req.URL.Path, req.URL.RawPath = "", ""
			req.URL.Opaque = ""
			req.URL, _ = req.URL.Parse(tc.path)
			res := serve(t, m, req)
			assert.Equal(t, tc.code, res.code)
			assert.Equal(t, tc.reason, res.reason)
			assert.False(t, res.ran)
		})
	}
}

// TestBusinessRules covers the business segment rules of docs/security.md and
// Token.BusinessID(), for keys with and without a business.
func TestBusinessRules(t *testing.T) {
	tests := []struct {
		name     string
		kid      string // "biz" has business 42; "hs" has none
		aud      string
		path     string
		allowed  bool
		business string
	}{
		{name: "key business: me covers me", kid: "biz", aud: "/v2/accounts/me/search", path: "/v2/accounts/me/search", allowed: true, business: "42"},
		{name: "key business: me covers B", kid: "biz", aud: "/v2/accounts/me/search", path: "/v2/accounts/42/search", allowed: true, business: "42"},
		{name: "key business: B covers me", kid: "biz", aud: "/v2/accounts/42/search", path: "/v2/accounts/me/search", allowed: true, business: "42"},
		{name: "key business: B covers B", kid: "biz", aud: "/v2/accounts/42/search", path: "/v2/accounts/42/search", allowed: true, business: "42"},
		{name: "key business: me does not cover another", kid: "biz", aud: "/v2/accounts/me/search", path: "/v2/accounts/43/search"},
		{name: "key business: me does not cover a longer ID", kid: "biz", aud: "/v2/accounts/me/search", path: "/v2/accounts/420/search"},
		{name: "key business: me does not cover a zero-padded ID", kid: "biz", aud: "/v2/accounts/me/search", path: "/v2/accounts/042/search"},
		{name: "key business: me does not cover an encoded ID", kid: "biz", aud: "/v2/accounts/me/search", path: "/v2/accounts/4%32/search"},
		{name: "key business: another business covers nothing", kid: "biz", aud: "/v2/accounts/43/search", path: "/v2/accounts/43/search"},
		{name: "key business: another business does not cover me", kid: "biz", aud: "/v2/accounts/43/search", path: "/v2/accounts/me/search"},
		{name: "no key business: me covers me", kid: "hs", aud: "/v2/accounts/me/search", path: "/v2/accounts/me/search", allowed: true, business: ""},
		{name: "no key business: me does not cover a name", kid: "hs", aud: "/v2/accounts/me/search", path: "/v2/accounts/42/search"},
		{name: "no key business: a name covers itself", kid: "hs", aud: "/v2/accounts/42/search", path: "/v2/accounts/42/search", allowed: true, business: "42"},
		{name: "no key business: a name does not cover me", kid: "hs", aud: "/v2/accounts/42/search", path: "/v2/accounts/me/search"},
		{name: "no key business: a name does not cover its prefix", kid: "hs", aud: "/v2/accounts/42/search", path: "/v2/accounts/4/search"},
		{name: "business names compare case-sensitively", kid: "hs", aud: "/v2/accounts/Acme/search", path: "/v2/accounts/acme/search"},
	}
	m := newTestMiddleware(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header := `{"alg":"HS256","kid":"` + tc.kid + `"}`
			token := signRaw(t, "HS256", testSecret, header, claimsJSON(t, with(func(c map[string]any) { c["aud"] = tc.aud })))
			res := serve(t, m, bearer(tc.path, token))
			if !tc.allowed {
				assert.Equal(t, http.StatusForbidden, res.code)
				assert.False(t, res.ran)
				return
			}
			require.Equal(t, http.StatusOK, res.code, res.body)
			require.NotNil(t, res.token)
			assert.Equal(t, tc.business, res.token.BusinessID())
		})
	}
}

// TestMeWithoutBusiness: by default, a path that says "me" is refused (403,
// me_without_business) when the token's key has no business, since the handler
// would get an empty Token.BusinessID(); Config.AllowMeWithoutBusiness accepts
// it, and a key with a business or a path naming its business is unaffected.
func TestMeWithoutBusiness(t *testing.T) {
	tests := []struct {
		name     string
		allow    bool
		kid      string // "biz" has business 42; "hs" has none
		aud      string
		path     string
		reason   string // "" when allowed
		business string
	}{
		{name: "default: me refused", kid: "hs", aud: "/v2/accounts/me/search", path: "/v2/accounts/me/search", reason: "me_without_business"},
		{name: "default: me with a deeper path refused", kid: "hs", aud: "/v2/accounts/me/search", path: "/v2/accounts/me/search/x", reason: "me_without_business"},
		{name: "default: uncovered path stays audience_mismatch", kid: "hs", aud: "/v2/accounts/me/search", path: "/v2/accounts/me/answers", reason: "audience_mismatch"},
		{name: "default: named business accepted", kid: "hs", aud: "/v2/accounts/42/search", path: "/v2/accounts/42/search", business: "42"},
		{name: "default: key with business accepted", kid: "biz", aud: "/v2/accounts/me/search", path: "/v2/accounts/me/search", business: "42"},
		{name: "opt-in: me accepted with no business", allow: true, kid: "hs", aud: "/v2/accounts/me/search", path: "/v2/accounts/me/search", business: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestMiddleware(t, func(c *Config) { c.AllowMeWithoutBusiness = tc.allow })
			header := `{"alg":"HS256","kid":"` + tc.kid + `"}`
			token := signRaw(t, "HS256", testSecret, header, claimsJSON(t, with(func(c map[string]any) { c["aud"] = tc.aud })))
			res := serve(t, m, bearer(tc.path, token))
			if tc.reason != "" {
				assert.Equal(t, http.StatusForbidden, res.code)
				assert.Equal(t, tc.reason, res.reason)
				assert.False(t, res.ran)
				_, err := m.Verify(context.Background(), token, tc.path)
				if tc.reason == "me_without_business" {
					assert.ErrorIs(t, err, ErrMeWithoutBusiness)
					assert.ErrorIs(t, err, ErrInsufficientScope)
				}
				return
			}
			require.Equal(t, http.StatusOK, res.code, res.body)
			require.NotNil(t, res.token)
			assert.Equal(t, tc.business, res.token.BusinessID())
			tok, err := m.Verify(context.Background(), token, tc.path)
			require.NoError(t, err)
			assert.Equal(t, tc.business, tok.BusinessID())
		})
	}
}

// TestCustomPrefix: the prefix applies to both aud entries and paths.
func TestCustomPrefix(t *testing.T) {
	m := newTestMiddleware(t, func(c *Config) { c.Prefix = "/api/tenants/" })
	token := hsToken(t, with(func(c map[string]any) { c["aud"] = "/api/tenants/me/search" }))
	assert.Equal(t, http.StatusOK, serve(t, m, bearer("/api/tenants/me/search", token)).code)
	assert.Equal(t, http.StatusForbidden, serve(t, m, bearer("/v2/accounts/me/search", token)).code)
	_, err := m.Verify(t.Context(), hsToken(t, validClaims()), "/api/tenants/me/search")
	assert.ErrorIs(t, err, ErrBadAudience, "an entry with the default prefix is malformed under another prefix")
}

// TestCheckPathEveryBytePair: checkPath passes over the bytes of
// chars.PathPlain with one lookup each (internal/chars tests the class); so
// every byte value, alone or beside any other, must get the answer of
// checkPathModel.
func TestCheckPathEveryBytePair(t *testing.T) {
	for c := range 256 {
		for d := range 256 {
			for _, p := range []string{"/" + string([]byte{byte(c), byte(d)}), "/a" + string([]byte{byte(c)}) + "/" + string([]byte{byte(d)}) + "b/"} {
				if checkPath(p) != checkPathModel(p) {
					t.Fatalf("checkPath(%q) = %v", p, checkPath(p))
				}
			}
		}
	}
}

// TestRequestPathIsEscapedPath: without a RawPath, requestPath is
// url.URL.EscapedPath, whichever bytes the path holds ("*" included, which
// EscapedPath leaves alone), and it says a path is checked only when
// checkPath accepts it.
func TestRequestPathIsEscapedPath(t *testing.T) {
	paths := []string{"", "*", "/", "//", "/a/", "/a//", "/v2/accounts/me/search", "/v2/accounts/me/search/", "/a b", "/a%b",
		"/é", "/a?b", "/a#b", "/a*b", "/a!b", "/.", "/..", "/a/./b", "/a/../b", "/.a/..b/...", "/a/.", "/a/../"}
	for c := range 256 {
		for _, d := range []byte{'a', '/', '.', '%', ' ', 0xc3} {
			paths = append(paths, "/"+string([]byte{byte(c), d}), "/abcd"+string([]byte{d, byte(c)})+"efgh",
				"/"+string([]byte{d, byte(c)}), "/a/"+string([]byte{byte(c)})+"/")
		}
	}
	checked := 0
	for _, p := range paths {
		u := &url.URL{Path: p}
		require.Empty(t, u.RawPath)
		got, ok := requestPath(u)
		if want := u.EscapedPath(); got != want {
			t.Fatalf("requestPath(%q) = %q, want %q", p, got, want)
		}
		if ok {
			checked++
			if !checkPath(got) {
				t.Fatalf("requestPath(%q) says checked, checkPath refuses it", p)
			}
		}
	}
	assert.Greater(t, checked, 200, "the one-pass check takes the usual paths")
}

// FuzzCheckPlainPath: a path checkPlainPath accepts is its own escaped form
// and passes checkPath.
func FuzzCheckPlainPath(f *testing.F) {
	for _, p := range []string{"/", "//", "/a", "/a/", "/a//b", "/./a", "/a/..", "/a/.../b", "/a%2Fb", "/a b", "/v2/accounts/me/search",
		"/v2/accounts/42/search/x;y=z", "/é", "*", ""} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !checkPlainPath(p) {
			return
		}
		if !checkPath(p) {
			t.Fatalf("checkPlainPath(%q) but not checkPath", p)
		}
		if e := (&url.URL{Path: p}).EscapedPath(); e != p {
			t.Fatalf("checkPlainPath(%q) but EscapedPath is %q", p, e)
		}
	})
}

// FuzzCheckPath: checkPath accepts exactly the paths checkPathModel does.
func FuzzCheckPath(f *testing.F) {
	for _, p := range []string{"/", "//", "/a", "/a/", "/a//b", "/./a", "/a/..", "/a/.../b", "/%2e", "/%2E%2E", "/a%2Fb", "/a%5cb",
		"/a%5Cb", "/a\\b", "/a b", "/a%20b", "/a%7f", "/a\x7f", "/a%1F", "/a%", "/a%2", "/a%zz", "/%e2%80%ae", "/\xff", "a", "",
		"/v2/accounts/me/search", "/v2/accounts/42/search/x?y", "/a%2/b", "/a%/2b"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if got, want := checkPath(p), checkPathModel(p); got != want {
			t.Fatalf("checkPath(%q) = %v, want %v", p, got, want)
		}
	})
}

// checkPathModel is the 400 rule of docs/security.md read segment by
// segment: the path starts with '/', and every segment (a trailing '/'
// aside) is neither empty nor a dot segment, holds no space, control byte,
// DEL or '\', and escapes, as two hex digits, no '/', '\', '.', control byte
// or DEL.
func checkPathModel(p string) bool {
	if p == "/" {
		return true
	}
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for seg := range strings.SplitSeq(strings.TrimSuffix(p[1:], "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for i := 0; i < len(seg); i++ {
			switch c := seg[i]; {
			case c == '%':
				if i+2 >= len(seg) {
					return false
				}
				b, err := strconv.ParseUint(seg[i+1:i+3], 16, 8)
				if err != nil || b == '/' || b == '\\' || b == '.' || b < 0x20 || b == 0x7f {
					return false
				}
				i += 2
			case c <= ' ' || c == 0x7f || c == '\\':
				return false
			}
		}
	}
	return true
}
