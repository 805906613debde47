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

// TestQueryBinding covers docs/query-claim.md in each mode.
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
		{name: "override: lower-case variant removed", query: bound, rawQuery: "experiencekey=evil&input=x",
			code: http.StatusOK, wantQuery: "input=x&experienceKey=Exp+One&v=1&v=2"},
		{name: "override: upper-case variant removed beside the right values", query: bound, rawQuery: "experienceKey=Exp+One&EXPERIENCEKEY=evil&v=1&v=2",
			code: http.StatusOK, wantQuery: "experienceKey=Exp+One&v=1&v=2"},
		{name: "override: escaped variant removed", query: bound, rawQuery: "%65xperiencekey=evil&V=9",
			code: http.StatusOK, wantQuery: "experienceKey=Exp+One&v=1&v=2"},
		{name: "override: Kelvin sign variant removed", query: bound, rawQuery: "experience%E2%84%AAey=evil",
			code: http.StatusOK, wantQuery: "experienceKey=Exp+One&v=1&v=2"},
		{name: "override: longer names and look-alikes are not variants", query: bound, rawQuery: "experiencekeys=a&experiencek%D0%B5y=b&vv=c",
			code: http.StatusOK, wantQuery: "experiencekeys=a&experiencek%D0%B5y=b&vv=c&experienceKey=Exp+One&v=1&v=2"},
		{name: "refuse: case variant", mode: QueryRefuse, query: bound, rawQuery: "experienceKey=Exp+One&experiencekey=Exp+One&v=1&v=2",
			code: http.StatusForbidden},
		{name: "refuse: case variant alone", mode: QueryRefuse, query: bound, rawQuery: "EXPERIENCEKEY=x", code: http.StatusForbidden},
		{name: "leave: case variant left", mode: QueryLeave, query: bound, rawQuery: "experiencekey=evil",
			code: http.StatusOK, wantQuery: "experiencekey=evil"},
		// A claim whose names fold together is refused before binding
		// (ambiguous_member): no binder could tell which one a handler reads.
		{name: "names differing only in case: the token is refused", query: map[string]any{"k": "1", "K": "2"}, rawQuery: "k=1&K=2",
			code: http.StatusUnauthorized},
		{name: "override: variant of a long name removed", query: map[string]any{strings.Repeat("long", 40): "x"},
			rawQuery: strings.Repeat("LONG", 40) + "=evil&" + strings.Repeat("long", 41) + "=y", code: http.StatusOK,
			wantQuery: strings.Repeat("long", 41) + "=y&" + strings.Repeat("long", 40) + "=x"},
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
		// An unreadable query is refused as such (400) even after a mismatch.
		{name: "refuse: mismatch then a bad escape", mode: QueryRefuse, query: bound, rawQuery: "experienceKey=Other&a=%zz",
			code: http.StatusBadRequest},
		{name: "refuse: mismatch then a semicolon", mode: QueryRefuse, query: bound, rawQuery: "experienceKey=Other&a=1;b=2",
			code: http.StatusBadRequest},
		{name: "leave: semicolon still refused", mode: QueryLeave, query: bound, rawQuery: "a=1;b=2", code: http.StatusBadRequest},
		{name: "semicolon without a query claim passes", rawQuery: "a=1;b=2", code: http.StatusOK, wantQuery: "a=1;b=2"},
		{name: "numbers and booleans bound as JSON text", query: map[string]any{"n": 1.5, "b": true}, rawQuery: "",
			code: http.StatusOK, wantQuery: "b=true&n=1.5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, sent, res := serveQueryClaim(t, tc.mode, tc.query, tc.rawQuery)
			require.Equal(t, tc.code, res.code, res.body)
			assert.Equal(t, sent, *req.URL, "the caller's URL is never mutated")
			switch tc.code {
			case http.StatusOK:
				assert.Equal(t, tc.wantQuery, res.req.URL.RawQuery)
				assert.Equal(t, res.req.URL.RequestURI(), res.req.RequestURI, "RequestURI follows the rewritten URL")
				if tc.query != nil && tc.mode == QueryOverride {
					seen := res.req.URL.Query()
					for name, vals := range res.token.Query().URLValues() {
						assert.Equal(t, vals, seen[name], "r.URL.Query() downstream sees the token's values")
					}
					assertNoCaseVariant(t, seen, res.token.Query().URLValues())
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
	assert.Equal(t, url.Values{"experienceKey": {"MySearchExperience"}, "n": {"3"}, "multi": {"a", "false"}}, tok.Query().URLValues())
	assert.Equal(t, "experienceKey=MySearchExperience&multi=a&multi=false&n=3", tok.Query().Encode())
	assert.Equal(t, "3", tok.Query().Get("n"))
	assert.True(t, tok.Query().Has("multi"))
	assert.False(t, tok.Query().Has("Multi"))
	assert.Equal(t, []string{"experienceKey", "multi", "n"}, tok.Query().Names())
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

// serveQueryClaim sends a GET of the search endpoint with rawQuery through a
// middleware in mode, with a token whose query claim is claim (nil: none). It
// returns the request, a copy of its URL as sent, and the result.
func serveQueryClaim(t *testing.T, mode QueryMode, claim map[string]any, rawQuery string) (*http.Request, url.URL, result) {
	t.Helper()
	m := newTestMiddleware(t, func(c *Config) { c.QueryMode = mode })
	claims := validClaims()
	if claim != nil {
		claims["query"] = claim
	}
	req := bearer("/v2/accounts/me/search?"+rawQuery, hsToken(t, claims))
	sent := *req.URL
	return req, sent, serve(t, m, req)
}

// assertNoCaseVariant checks that seen has no parameter whose name equals a
// bound one under case folding without being one, as case-insensitive binders
// would read it.
func assertNoCaseVariant(t *testing.T, seen, bound url.Values) {
	t.Helper()
	for name := range seen {
		if _, ok := bound[name]; ok {
			continue
		}
		for b := range bound {
			assert.False(t, strings.EqualFold(name, b), "case variant %q of bound %q reaches the handler", name, b)
		}
	}
}
