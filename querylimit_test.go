package scopedtoken

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pairs returns n parameters "a=1" joined by '&'.
func pairs(n int) string {
	return strings.TrimSuffix(strings.Repeat("a=1&", n), "&")
}

// TestQueryParamLimit: net/url parses no query of more than 10,000
// parameters (GODEBUG urlmaxqueryparams), so with a query claim such a query,
// as sent or as rewritten, is refused rather than bound where the handler
// cannot read it.
func TestQueryParamLimit(t *testing.T) {
	bound := map[string]any{"experienceKey": "Exp One", "v": []string{"1", "2"}}
	const boundPairs = "experienceKey=Exp+One&v=1&v=2"
	tests := []struct {
		name     string
		mode     QueryMode
		query    map[string]any
		rawQuery string
		code     int
	}{
		{name: "at the limit, already bound", query: bound, rawQuery: pairs(9997) + "&" + boundPairs, code: http.StatusOK},
		{name: "over the limit, already bound", query: bound, rawQuery: pairs(9998) + "&" + boundPairs, code: http.StatusBadRequest},
		{name: "over the limit once rewritten", query: bound, rawQuery: pairs(9998), code: http.StatusBadRequest},
		{name: "at the limit once rewritten", query: bound, rawQuery: pairs(9997) + "&experienceKey=x", code: http.StatusOK},
		{name: "empty pairs count as net/url counts them", query: bound, rawQuery: strings.Repeat("&", 10000), code: http.StatusBadRequest},
		{name: "refuse mode", mode: QueryRefuse, query: bound, rawQuery: pairs(10001), code: http.StatusBadRequest},
		{name: "leave mode", mode: QueryLeave, query: bound, rawQuery: pairs(10001), code: http.StatusBadRequest},
		{name: "no query claim: not read", rawQuery: pairs(10001), code: http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, res := serveQueryClaim(t, tc.mode, tc.query, tc.rawQuery)
			require.Equal(t, tc.code, res.code, res.body)
			if tc.code == http.StatusBadRequest {
				assert.Equal(t, "bad_query", res.reason)
				return
			}
			if tc.query != nil {
				_, err := url.ParseQuery(res.req.URL.RawQuery)
				require.NoError(t, err, "net/url reads what the handler gets")
				assert.Equal(t, []string{"Exp One"}, res.req.URL.Query()["experienceKey"])
			}
		})
	}
}

// TestQueryParamLimitFollowsGODEBUG: the limit is net/url's own, whatever
// GODEBUG urlmaxqueryparams says when the middleware is built (a custom limit
// n refuses n parameters; 0 lifts the limit).
func TestQueryParamLimitFollowsGODEBUG(t *testing.T) {
	claims := with(func(c map[string]any) { c["query"] = map[string]any{"experienceKey": "X"} })
	tests := []struct {
		godebug string
		params  int // parameters the handler would see
		code    int
	}{
		{godebug: "urlmaxqueryparams=5", params: 4, code: http.StatusOK},
		{godebug: "urlmaxqueryparams=5", params: 5, code: http.StatusBadRequest},
		{godebug: "urlmaxqueryparams=0", params: 20001, code: http.StatusOK},
		{godebug: "urlmaxqueryparams=20000", params: 19999, code: http.StatusOK},
		{godebug: "urlmaxqueryparams=20000", params: 20000, code: http.StatusBadRequest},
		{godebug: "", params: 10001, code: http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q/%d", tc.godebug, tc.params), func(t *testing.T) {
			t.Setenv("GODEBUG", tc.godebug)
			_, err := url.ParseQuery(pairs(tc.params))
			require.Equal(t, tc.code == http.StatusOK, err == nil, "the case matches net/url")
			m := newTestMiddleware(t, nil)
			res := serve(t, m, bearer("/v2/accounts/me/search?"+pairs(tc.params-1)+"&experienceKey=X", hsToken(t, claims)))
			assert.Equal(t, tc.code, res.code, res.body)
		})
	}
}
