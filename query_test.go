package scopedtoken

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQueryBinding covers SPEC §6 in each mode.
func TestQueryBinding(t *testing.T) {
	bound := map[string]any{"experienceKey": "Exp One", "v": []string{"1", "2"}}
	tests := []struct {
		name      string
		mode      QueryMode
		query     map[string]any // the token's claim; nil for none
		rawQuery  string
		code      int
		wantQuery string // RawQuery the next handler sees
	}{
		{name: "override: request value replaced", query: bound, rawQuery: "experienceKey=Other&input=a%20b&v=9",
			code: http.StatusOK, wantQuery: "input=a%20b&experienceKey=Exp+One&v=1&v=2"},
		{name: "override: absent parameters added", query: bound, rawQuery: "input=x",
			code: http.StatusOK, wantQuery: "input=x&experienceKey=Exp+One&v=1&v=2"},
		{name: "override: no query at all", query: bound, rawQuery: "",
			code: http.StatusOK, wantQuery: "experienceKey=Exp+One&v=1&v=2"},
		{name: "override: escaped name is the same parameter", query: bound, rawQuery: "experience%4Bey=Other&v=1&v=2",
			code: http.StatusOK, wantQuery: "experienceKey=Exp+One&v=1&v=2"},
		{name: "override: same values left untouched", query: bound, rawQuery: "z=1&experienceKey=Exp%20One&v=1&v=2",
			code: http.StatusOK, wantQuery: "z=1&experienceKey=Exp%20One&v=1&v=2"},
		{name: "override: extra value of a bound parameter removed", query: bound, rawQuery: "experienceKey=Exp+One&v=1&v=2&v=3",
			code: http.StatusOK, wantQuery: "experienceKey=Exp+One&v=1&v=2"},
		{name: "override: other parameters keep order and encoding", query: bound, rawQuery: "b=%7E&a=1+2&experienceKey=x&c",
			code: http.StatusOK, wantQuery: "b=%7E&a=1+2&c&experienceKey=Exp+One&v=1&v=2"},
		{name: "refuse: different value", mode: QueryRefuse, query: bound, rawQuery: "experienceKey=Other", code: http.StatusForbidden},
		{name: "refuse: fewer values", mode: QueryRefuse, query: bound, rawQuery: "experienceKey=Exp+One&v=1", code: http.StatusForbidden},
		{name: "refuse: more values", mode: QueryRefuse, query: bound, rawQuery: "experienceKey=Exp+One&v=1&v=2&v=3", code: http.StatusForbidden},
		{name: "refuse: same values pass untouched", mode: QueryRefuse, query: bound, rawQuery: "experienceKey=Exp+One&v=1&v=2",
			code: http.StatusOK, wantQuery: "experienceKey=Exp+One&v=1&v=2"},
		{name: "refuse: absent filled in", mode: QueryRefuse, query: bound, rawQuery: "input=x&v=1&v=2",
			code: http.StatusOK, wantQuery: "input=x&experienceKey=Exp+One&v=1&v=2"},
		{name: "leave: URL untouched", mode: QueryLeave, query: bound, rawQuery: "experienceKey=Other",
			code: http.StatusOK, wantQuery: "experienceKey=Other"},
		{name: "semicolon with a query claim", query: bound, rawQuery: "experienceKey=Other;x=1", code: http.StatusBadRequest},
		{name: "bad escape with a query claim", query: bound, rawQuery: "experienceKey=%zz", code: http.StatusBadRequest},
		{name: "bad escape in a name", query: bound, rawQuery: "a%2=1", code: http.StatusBadRequest},
		{name: "leave: semicolon still refused", mode: QueryLeave, query: bound, rawQuery: "a=1;b=2", code: http.StatusBadRequest},
		{name: "semicolon without a query claim passes", rawQuery: "a=1;b=2", code: http.StatusOK, wantQuery: "a=1;b=2"},
		{name: "numbers and booleans bound as JSON text", query: map[string]any{"n": 1.5, "b": true}, rawQuery: "",
			code: http.StatusOK, wantQuery: "b=true&n=1.5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestMiddleware(t, func(c *Config) { c.QueryMode = tc.mode })
			claims := validClaims()
			if tc.query != nil {
				claims["query"] = tc.query
			}
			req := bearer("/v2/accounts/me/search?"+tc.rawQuery, hsToken(t, claims))
			origURL := *req.URL
			res := serve(t, m, req)
			require.Equal(t, tc.code, res.code, res.body)
			assert.Equal(t, origURL, *req.URL, "the caller's URL is never mutated")
			switch tc.code {
			case http.StatusOK:
				assert.Equal(t, tc.wantQuery, res.req.URL.RawQuery)
				assert.Equal(t, res.req.URL.RequestURI(), res.req.RequestURI, "RequestURI follows the rewritten URL")
				if tc.query != nil && tc.mode == QueryOverride {
					for name, vals := range res.token.Query {
						assert.Equal(t, vals, res.req.URL.Query()[name], "r.URL.Query() downstream sees the token's values")
					}
				}
			case http.StatusForbidden:
				assert.Equal(t, "query_mismatch", res.reason)
			case http.StatusBadRequest:
				assert.Equal(t, "bad_query", res.reason)
			}
		})
	}
}

func TestTokenQueryHoldsClaim(t *testing.T) {
	m := newTestMiddleware(t, nil)
	claims := with(func(c map[string]any) {
		c["query"] = map[string]any{"experienceKey": "MySearchExperience", "n": 3, "multi": []any{"a", false}}
	})
	tok, err := m.Verify(t.Context(), hsToken(t, claims), "/v2/accounts/me/search")
	require.NoError(t, err)
	assert.Equal(t, url.Values{"experienceKey": {"MySearchExperience"}, "n": {"3"}, "multi": {"a", "false"}}, tok.Query)
}

// TestFormIsRecomputed: a form parsed before the middleware must not keep the
// request's old value of a bound parameter.
func TestFormIsRecomputed(t *testing.T) {
	m := newTestMiddleware(t, nil)
	claims := with(func(c map[string]any) { c["query"] = map[string]any{"experienceKey": "Bound"} })
	req := bearer("/v2/accounts/me/search?experienceKey=Sent", hsToken(t, claims))
	require.NoError(t, req.ParseForm())
	var seen string
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.FormValue("experienceKey") }))
	h.ServeHTTP(httptest.NewRecorder(), req)
	assert.Equal(t, "Bound", seen)
	assert.Equal(t, "Sent", req.FormValue("experienceKey"), "the caller's request is not changed")
}
