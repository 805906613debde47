package scopedtoken

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests of this file read a query as net/url does, and check that what
// rewriteQuery returns is what docs/query-claim.md says the handler sees:
// the token's values for every bound name, no case variant of one, no token
// parameter, every other pair in order, and a refusal exactly when net/url
// could not read the query (a ';', a bad escape, too many parameters).

// diffClaims are the claims of the differential tests: up to smallIndex
// names (looked up by a scan) and more (looked up in a map), with names and
// values that need escaping, and names that fold with ASCII ones.
var diffClaims = []map[string]any{
	{"experienceKey": "Exp One", "v": []string{"1", "2"}, "\u017Fx": "s", "a b": "c&d=e"},
	{"k": "1", "é": "É", "p+q": "a b", "n=1": "=", "z": []string{"", "0"}, "\u212Aelvin": "%", "t": "x;y"},
}

// diffSeeds are hostile queries: empty pairs, '=' in values, '%' at the
// very end or before '&', '+', ';', escaped and case-varied bound names,
// the token parameter, non-ASCII and invalid UTF-8.
var diffSeeds = []string{
	"", "&", "&&", "=", "==", "=x", "a=b=c", "a", "a&", "&a",
	"%", "a=%", "a%", "a=%4", "a=%4&b=1", "a=%&b=1", "a%=b", "%&", "%2", "%zz=1", "a=1&%",
	"+", "+=+", "a+b=c+d", "a%20b=c%26d%3De", "a+b=x&a%20b=c%26d%3De",
	";", "a=1;b=2", "a;=1", "experienceKey=Other&a=1;b=2", "experienceKey=Other&a=%zz", "EXPERIENCEKEY=x&a=%zz", "sx=1&a;b", "v=1&v=2&v=3&%",
	"experienceKey=Exp+One&v=1&v=2", "experienceKey=Exp%20One&v=1&v=2&v=3", "v=2&v=1&experienceKey=Exp+One",
	"experiencekey=evil", "EXPERIENCEKEY=Exp+One", "experience%4Bey=x", "experience%E2%84%AAey=evil",
	"sx=1", "SX=1", "%C5%BFx=s", "%C5%BFX=1", "A+B=c%26d%3De",
	"k=1&K=1", "%C3%A9=%C3%89", "%C3%89=x", "p%2Bq=a+b", "p+q=x", "n%3D1==", "n=1==", "z=&z=0", "z&z=0", "z=0&z=",
	"%E2%84%AAelvin=%25", "kelvin=%25", "KELVIN=1", "t=x%3By", "T=1",
	"jwt=abc", "JWT=abc", "j%77t=abc", "jwt=a&jwt=b", "jwt", "jwt=&x=1",
	"é=É", "\xff=1", "%FF=1", "\xef\xbf\xbd=1", "x=\x00", "%00=%00",
}

// FuzzRewriteQueryMatchesNetURL differentiates rewriteQuery against a model
// that reads the query with net/url, in every mode, with and without a token
// parameter to drop, for a claim of a few names and one of many.
func FuzzRewriteQueryMatchesNetURL(f *testing.F) {
	for _, s := range diffSeeds {
		for sel := range uint8(3 * (len(diffClaims) + 1)) { // every claim (and none) in every mode, with and without a token parameter
			f.Add(s, sel)
			f.Add(s, sel|0x80)
		}
	}
	qs := make([]*boundQuery, 0, len(diffClaims)+1)
	for _, claim := range diffClaims {
		qs = append(qs, verifiedQuery(f, claim))
	}
	qs = append(qs, &boundQuery{}) // no claim: only the token parameter goes
	limit := new(paramLimit)
	f.Fuzz(func(t *testing.T, raw string, sel uint8) {
		q := qs[int(sel)%len(qs)]
		mode := QueryMode(int(sel) / len(qs) % 3)
		drop := ""
		if sel&0x80 != 0 || len(q.names) == 0 {
			drop = "jwt"
		}
		checkRewriteQuery(t, raw, drop, q, mode, limit)
	})
}

// TestRewriteQueryParamCountMatchesNetURL: around net/url's limit of 10,000
// parameters (GODEBUG urlmaxqueryparams unset), a query is refused exactly
// when net/url would refuse it as sent or as the handler gets it, however
// the pairs that count are made: empty pairs, pairs that go (token, case
// variants, extra values) and the claim's pairs that are added.
func TestRewriteQueryParamCountMatchesNetURL(t *testing.T) {
	t.Setenv("GODEBUG", "")
	q := verifiedQuery(t, diffClaims[0])
	const bound = "experienceKey=Exp+One&v=1&v=2&%C5%BFx=s&a+b=c%26d%3De"
	fill := func(n int, pair string) string { return strings.Repeat(pair+"&", n) }
	var raws []string
	for n := 9999; n <= 10001; n++ {
		raws = append(raws,
			pairs(n),
			fill(n-4, "a=1")+bound,
			fill(n-5, "a=1")+bound,
			fill(n, ""),
			fill(n-1, "")+"experienceKey=x",
			fill(n-3, "a=1")+"experienceKey=x",
			fill(n-5, "a=1")+"v=9",
			fill(n-6, "a=1")+"jwt=t&"+bound,
			fill(n-6, "x=1")+"EXPERIENCEKEY=x&"+bound,
			fill(n-6, "a=1")+bound+"&v=3",
			fill(n-1, "a=1")+"a=%zz",
			fill(n-1, "a=1")+"a;b",
			"experienceKey=x&"+fill(n-2, "a=1")+"a=%",
		)
	}
	limit := new(paramLimit)
	runs := []struct {
		mode QueryMode
		drop string
	}{{QueryOverride, ""}, {QueryOverride, "jwt"}, {QueryRefuse, ""}, {QueryLeave, "jwt"}}
	for _, raw := range raws {
		for _, run := range runs {
			checkRewriteQuery(t, raw, run.drop, q, run.mode, limit)
		}
	}
}

// TestQueryDifferentialThroughMiddleware sends the hostile queries, with the
// token in the query parameter, through the whole middleware: the handler
// reads with r.URL.Query() exactly what the model says, and a refusal is the
// one the model expects.
func TestQueryDifferentialThroughMiddleware(t *testing.T) {
	for _, mode := range []QueryMode{QueryOverride, QueryRefuse, QueryLeave} {
		m := newTestMiddleware(t, func(c *Config) { c.QueryMode, c.TokenQueryParam = mode, "jwt" })
		for ci, claim := range diffClaims {
			claims := validClaims()
			claims["query"] = claim
			token := hsToken(t, claims)
			q := verifiedQuery(t, claim)
			for _, raw := range diffSeeds {
				if slices.ContainsFunc(decodePairs(raw), func(p queryPairKV) bool { return p.name == "jwt" }) {
					continue // the token parameter is the one the request carries
				}
				sent := "jwt=" + token
				if raw != "" {
					sent = raw + "&" + sent
				}
				want, wantErr := modelRewrite(sent, "jwt", q, mode)
				req := httptest.NewRequest(http.MethodGet, "/v2/accounts/me/search", nil)
				req.URL.RawQuery = sent
				req.RequestURI = req.URL.RequestURI()
				res := serve(t, m, req)
				switch wantErr {
				case nil:
					require.Equal(t, http.StatusOK, res.code, "mode %d claim %d query %q: %s", mode, ci, raw, res.body)
					got, err := readPairs(res.req.URL.RawQuery)
					require.NoError(t, err)
					assert.Equal(t, want, got, "mode %d claim %d query %q", mode, ci, raw)
					assert.Equal(t, res.req.URL.RequestURI(), res.req.RequestURI)
				case ErrBadQuery:
					assert.Equal(t, "bad_query", res.reason, "mode %d claim %d query %q", mode, ci, raw)
				case ErrQueryMismatch:
					assert.Equal(t, "query_mismatch", res.reason, "mode %d claim %d query %q", mode, ci, raw)
				}
			}
		}
	}
}

// queryPairKV is one decoded pair of a query, as net/url reads it.
type queryPairKV struct{ name, value string }

// readPairs reads the non-empty pairs of query in order, as url.ParseQuery
// does, and its error (a ';', a bad escape or too many parameters).
func readPairs(query string) ([]queryPairKV, error) {
	if _, err := url.ParseQuery(query); err != nil {
		return nil, err
	}
	return decodePairs(query), nil
}

// decodePairs is readPairs on a query whose pairs net/url reads, whatever
// their number.
func decodePairs(query string) []queryPairKV {
	var out []queryPairKV
	for pair := range strings.SplitSeq(query, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		out = append(out, queryPairKV{k, v})
	}
	return out
}

// netURLParses reports whether net/url parses a query of n parameters.
func netURLParses(n int) bool {
	_, err := url.ParseQuery(strings.Repeat("&", n-1))
	return err == nil
}

// modelRewrite is what docs/query-claim.md says the handler reads from raw:
// its decoded pairs, or the refusal. It reads raw with net/url only.
func modelRewrite(raw, drop string, q *boundQuery, mode QueryMode) (pairs []queryPairKV, e *Error) {
	claim := QueryClaim{q}
	// A ';' or a bad escape anywhere, as url.ParseQuery reads each pair.
	for pair := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(pair, "=")
		_, errK := url.QueryUnescape(k)
		_, errV := url.QueryUnescape(v)
		if strings.Contains(pair, ";") || errK != nil || errV != nil {
			return nil, ErrBadQuery
		}
	}
	if claim.Len() > 0 && !netURLParses(strings.Count(raw, "&")+1) {
		return nil, ErrBadQuery
	}
	sent := decodePairs(raw)
	bind := claim.Len() > 0 && mode != QueryLeave
	var kept []queryPairKV
	seen := url.Values{}
	changed, mismatch := false, false // a case variant, or other values of a bound name
	for _, p := range sent {
		switch {
		case drop != "" && p.name == drop:
			changed = true
		case bind && claim.Has(p.name):
			seen[p.name] = append(seen[p.name], p.value)
		case bind && slices.ContainsFunc(claim.Names(), func(b string) bool { return strings.EqualFold(b, p.name) }):
			changed, mismatch = true, true
		default:
			kept = append(kept, p)
		}
	}
	if bind {
		for _, name := range claim.Names() {
			if !slices.Equal(seen[name], claim.Values(name)) {
				if mode == QueryRefuse && len(seen[name]) > 0 {
					mismatch = true
				}
				changed = true
			}
		}
	}
	if mode == QueryRefuse && mismatch {
		return nil, ErrQueryMismatch
	}
	if !changed {
		return sent, nil
	}
	if bind {
		for _, name := range claim.Names() {
			for _, v := range claim.Values(name) {
				kept = append(kept, queryPairKV{name, v})
			}
		}
	}
	if claim.Len() > 0 && !netURLParses(max(len(kept), 1)) {
		return nil, ErrBadQuery
	}
	return kept, nil
}

// checkRewriteQuery runs rewriteQuery on raw and compares it with the model.
func checkRewriteQuery(t testing.TB, raw, drop string, q *boundQuery, mode QueryMode, limit *paramLimit) {
	t.Helper()
	want, wantErr := modelRewrite(raw, drop, q, mode)
	query, uri, e := rewriteQuery(raw, drop, q, mode, limit, func() string { return "/p" })
	if e != wantErr {
		t.Fatalf("mode %d drop %q query %.200q: error %v, want %v", mode, drop, raw, e, wantErr)
	}
	if e != nil {
		return
	}
	got, err := readPairs(query)
	if err != nil {
		t.Fatalf("mode %d drop %q query %.200q: net/url cannot read the rewritten %.200q: %v", mode, drop, raw, query, err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("mode %d drop %q query %.200q: the handler reads %q, want %q", mode, drop, raw, got, want)
	}
	switch {
	case uri == "" && query != raw:
		t.Fatalf("query %.200q changed to %.200q without a new RequestURI", raw, query)
	case uri != "" && uri != "/p?"+query:
		t.Fatalf("RequestURI %.200q does not end in the query %.200q", uri, query)
	}
}
