package scopedtoken

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// accessTokenSource is a custom source reading the token from the query
// parameter access_token, which its WithoutToken removes from the URL and the
// RequestURI (a copy; the caller's request is never changed).
type accessTokenSource struct{}

func (accessTokenSource) FindToken(r *http.Request) (string, bool, error) {
	vs := r.URL.Query()["access_token"]
	switch len(vs) {
	case 0:
		return "", false, nil
	case 1:
		return vs[0], true, nil
	}
	return "", false, ErrMultipleTokens
}

func (accessTokenSource) WithoutToken(r *http.Request) *http.Request {
	var kept []string
	for _, pair := range strings.Split(r.URL.RawQuery, "&") {
		if name, _, _ := strings.Cut(pair, "="); name != "access_token" && pair != "" {
			kept = append(kept, pair)
		}
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.RawQuery = strings.Join(kept, "&")
	r2.URL = &u
	r2.RequestURI = u.RequestURI()
	return r2
}

// movingSource finds the token in X-Token and, in WithoutToken, also points
// the URL to another account: the handler's path must be covered too.
type movingSource struct{ to string }

func (movingSource) FindToken(r *http.Request) (string, bool, error) {
	v := r.Header.Get("X-Token")
	return v, v != "", nil
}

func (s movingSource) WithoutToken(r *http.Request) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Header.Del("X-Token")
	r2.URL.Path = s.to
	r2.RequestURI = r2.URL.RequestURI()
	return r2
}

// TestCustomSourceQueryRewriteKeepsTokenOut: when the token binds query
// parameters, the handler's URL is rebuilt from the request the custom source
// cleaned, so the token it removed never comes back (in RawQuery, the URL or
// RequestURI, and from there in access logs), and the bound parameters are
// still enforced on what the handler sees.
func TestCustomSourceQueryRewriteKeepsTokenOut(t *testing.T) {
	bound := hsToken(t, with(func(c map[string]any) { c["query"] = map[string]any{"experienceKey": "Exp One"} }))
	unbound := hsToken(t, validClaims())
	tests := []struct {
		name     string
		mode     QueryMode
		token    string
		rawQuery string // "T" stands for the token
		code     int
		reason   string
		want     url.Values // the handler's query
	}{
		{name: "bound parameter missing: filled in", token: bound, rawQuery: "access_token=T&page=2", code: http.StatusOK,
			want: url.Values{"page": {"2"}, "experienceKey": {"Exp One"}}},
		{name: "token last", token: bound, rawQuery: "page=2&access_token=T", code: http.StatusOK,
			want: url.Values{"page": {"2"}, "experienceKey": {"Exp One"}}},
		{name: "token alone", token: bound, rawQuery: "access_token=T", code: http.StatusOK,
			want: url.Values{"experienceKey": {"Exp One"}}},
		{name: "override: another value replaced", token: bound, rawQuery: "experienceKey=Other&access_token=T&page=2", code: http.StatusOK,
			want: url.Values{"page": {"2"}, "experienceKey": {"Exp One"}}},
		{name: "override: a case variant removed", token: bound, rawQuery: "access_token=T&EXPERIENCEKEY=Other", code: http.StatusOK,
			want: url.Values{"experienceKey": {"Exp One"}}},
		{name: "matching already", token: bound, rawQuery: "experienceKey=Exp+One&access_token=T", code: http.StatusOK,
			want: url.Values{"experienceKey": {"Exp One"}}},
		{name: "refuse: missing is filled in", mode: QueryRefuse, token: bound, rawQuery: "access_token=T&page=2", code: http.StatusOK,
			want: url.Values{"page": {"2"}, "experienceKey": {"Exp One"}}},
		{name: "refuse: another value", mode: QueryRefuse, token: bound, rawQuery: "access_token=T&experienceKey=Other",
			code: http.StatusForbidden, reason: "query_mismatch"},
		{name: "refuse: a case variant", mode: QueryRefuse, token: bound, rawQuery: "experienceKey=Exp+One&ExperienceKey=x&access_token=T",
			code: http.StatusForbidden, reason: "query_mismatch"},
		{name: "refuse: matching", mode: QueryRefuse, token: bound, rawQuery: "access_token=T&experienceKey=Exp%20One", code: http.StatusOK,
			want: url.Values{"experienceKey": {"Exp One"}}},
		{name: "leave: only the source's cleaning", mode: QueryLeave, token: bound, rawQuery: "access_token=T&experienceKey=Other", code: http.StatusOK,
			want: url.Values{"experienceKey": {"Other"}}},
		{name: "no query claim", token: unbound, rawQuery: "access_token=T&page=2", code: http.StatusOK,
			want: url.Values{"page": {"2"}}},
		{name: "a bad query is still refused", token: bound, rawQuery: "access_token=T&page=%zz", code: http.StatusBadRequest, reason: "bad_query"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestMiddleware(t, func(c *Config) {
				c.TokenSources = []TokenSource{accessTokenSource{}}
				c.QueryMode = tc.mode
			})
			rawQuery := strings.ReplaceAll(tc.rawQuery, "T", tc.token)
			req := httptest.NewRequest(http.MethodGet, "/v2/accounts/me/search?"+rawQuery, nil)
			require.Contains(t, req.RequestURI, tc.token, "precondition: the token is in the caller's URL")
			res := serve(t, m, req)
			assert.Equal(t, tc.code, res.code, res.body)
			assert.Equal(t, tc.reason, res.reason)
			assert.Equal(t, rawQuery, req.URL.RawQuery, "the caller's request is never changed")
			assert.NotContains(t, res.body, tc.token)
			if tc.code != http.StatusOK {
				assertRefused(t, res, tc.code, tc.reason)
				return
			}
			require.True(t, res.ran)
			require.NotNil(t, res.token)
			got := res.req
			for where, s := range map[string]string{"RawQuery": got.URL.RawQuery, "URL": got.URL.String(), "RequestURI": got.RequestURI} {
				assert.NotContains(t, s, tc.token, "the token is out of the handler's %s", where)
				assert.NotContains(t, s, "access_token", "the token is out of the handler's %s", where)
			}
			assert.Equal(t, tc.want, got.URL.Query())
			assert.Equal(t, got.URL.RequestURI(), got.RequestURI, "RequestURI agrees with the URL")
			assert.Equal(t, "/v2/accounts/me/search", got.URL.Path)
			assert.Equal(t, tc.want.Get("experienceKey"), got.FormValue("experienceKey"), "the form is read from the new URL")
			assert.Empty(t, got.FormValue("access_token"))
		})
	}
}

// TestCustomSourceChangedPathIsAuthorized: a source whose WithoutToken points
// the URL elsewhere cannot take the request outside the token's aud.
func TestCustomSourceChangedPathIsAuthorized(t *testing.T) {
	good := hsToken(t, validClaims()) // aud /v2/accounts/me/search
	tests := []struct {
		name   string
		to     string
		code   int
		reason string
	}{
		{name: "outside aud", to: "/v2/accounts/me/admin", code: http.StatusForbidden, reason: "audience_mismatch"},
		{name: "a bad path", to: "/v2/accounts/me/search/../admin", code: http.StatusBadRequest, reason: "bad_path"},
		{name: "inside aud", to: "/v2/accounts/me/search/more", code: http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestMiddleware(t, func(c *Config) { c.TokenSources = []TokenSource{movingSource{to: tc.to}} })
			req := httptest.NewRequest(http.MethodGet, "/v2/accounts/me/search?page=2", nil)
			req.Header.Set("X-Token", good)
			res := serve(t, m, req)
			assert.Equal(t, tc.code, res.code, res.body)
			if tc.code != http.StatusOK {
				assertRefused(t, res, tc.code, tc.reason)
				return
			}
			require.True(t, res.ran)
			assert.Equal(t, tc.to, res.req.URL.Path)
		})
	}
}

// BenchmarkCustomSourceRewriteCached is a cached token from a custom query
// source whose query claim the request does not carry: the source cleans
// the URL, then the middleware rewrites the cleaned query.
func BenchmarkCustomSourceRewriteCached(b *testing.B) {
	tok := hsToken(b, with(func(c map[string]any) { c["query"] = map[string]any{"experienceKey": "Exp One"} }))
	h := newTestMiddleware(b, func(c *Config) { c.TokenSources = []TokenSource{accessTokenSource{}} }).
		Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	benchServe(b, h, httptest.NewRequest(http.MethodGet, "/v2/accounts/me/search?access_token="+tok+"&page=2", nil))
}
