package scopedtoken

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/chars"
)

// TestLookupFindsCaseVariants: a request's escaped name is the bound
// parameter when it decodes to its name, and a variant when it equals one
// under case folding only.
func TestLookupFindsCaseVariants(t *testing.T) {
	q := verifiedQuery(t, map[string]any{"experienceKey": "x", "σ": "y", "ss": "z"})
	tests := []struct {
		escaped string
		bound   string // the bound name it is, "" for none
		variant bool
	}{
		{escaped: "experienceKey", bound: "experienceKey"},
		{escaped: "experience%4Bey", bound: "experienceKey"},
		{escaped: "experiencekey", variant: true},
		{escaped: "%65xperiencekey", variant: true},
		{escaped: "EXPERIENCEKEY", variant: true},
		{escaped: "experience%E2%84%AAey", variant: true},
		{escaped: "%CF%83", bound: "σ"},
		{escaped: "%CF%82", variant: true},
		{escaped: "%CE%A3", variant: true},
		{escaped: "SS", variant: true},
		{escaped: "%C5%BF%C5%BF", variant: true}, // long s twice
		{escaped: "%C3%9F"},                      // ß does not fold to ss
		{escaped: "experiencekeys"},
		{escaped: "experiencekey%00"},
		{escaped: strings.Repeat("%41", 200)},
		{escaped: ""},
	}
	scratch := make([]byte, q.scratchLen())
	for _, tc := range tests {
		t.Run(tc.escaped, func(t *testing.T) {
			i, variant := q.lookup(tc.escaped, scratch)
			got := ""
			if i >= 0 {
				got = q.names[i]
			}
			assert.Equal(t, tc.bound, got)
			assert.Equal(t, tc.variant, variant)
			name, err := url.QueryUnescape(tc.escaped)
			require.NoError(t, err)
			for _, b := range q.names {
				assert.Equal(t, strings.EqualFold(name, b) && name != b, variant && strings.EqualFold(name, b), "oracle vs %q", b)
			}
		})
	}
}

// verifiedQuery returns the bound query of a verified token with the claim.
func verifiedQuery(t testing.TB, claim map[string]any) *boundQuery {
	t.Helper()
	m := newTestMiddleware(t, func(c *Config) { c.MaxQueryParams = maxTrackedParams; c.CacheSize = -1 })
	claims := validClaims()
	claims["query"] = claim
	v, _, _, e := m.verify(t.Context(), hsToken(t, claims), nil) // no cache
	require.Nil(t, e)
	return &v.query
}

// TestQueryBindingAllocations: binding allocates nothing per pair. A request
// that already carries the token's values costs no allocation at all, one to
// rewrite costs one (the new query), whatever the number of escaped pairs and
// bound names; finding the token in the query allocates nothing.
func TestQueryBindingAllocations(t *testing.T) {
	// Escaped names near the bound ones: same length, other case, longer.
	const others = "%62ound%30%30%41=%76%61&%45%58%50=x&%62%6F%75%6E%64%30=%41&"
	const variant = "BOUND%30%30=1&"
	for _, bound := range []int{1, 16, 64} {
		claim := map[string]any{}
		for i := range bound {
			claim[fmt.Sprintf("bound%02d", i)] = "v a"
		}
		q := verifiedQuery(t, claim)
		tests := []struct {
			name   string
			mode   QueryMode
			raw    string
			allocs float64
		}{
			{name: "already bound", raw: strings.Repeat(others, 1000) + q.encoded},
			{name: "already bound, escaped", raw: strings.Repeat(others, 1000) + strings.ReplaceAll(q.encoded, "+", "%20")},
			{name: "refuse mode, already bound", mode: QueryRefuse, raw: strings.Repeat(others, 1000) + q.encoded},
			{name: "rewritten", raw: "bound00=%77&" + strings.Repeat(others, 1000), allocs: 1},
			{name: "case variants removed", raw: strings.Repeat(others+variant, 1000) + q.encoded, allocs: 1},
		}
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%d names/%s", bound, tc.name), func(t *testing.T) {
				limit := new(paramLimit)
				out, _, e := rewriteQuery(tc.raw, "jwt", q, tc.mode, limit, nil)
				require.Nil(t, e)
				require.Equal(t, tc.allocs == 0, out == tc.raw, "left untouched exactly when nothing changes")
				allocs := testing.AllocsPerRun(10, func() { _, _, _ = rewriteQuery(tc.raw, "jwt", q, tc.mode, limit, nil) })
				assert.Equal(t, tc.allocs, allocs)
			})
		}
	}
	t.Run("queryToken", func(t *testing.T) {
		raw := strings.Repeat("%6Awt%31=x&j%77=&", 1000) + "jwt=a.b.c"
		tok, found, multiple := queryToken(raw, "jwt")
		require.Equal(t, "a.b.c", tok)
		require.True(t, found && !multiple)
		assert.Zero(t, testing.AllocsPerRun(10, func() { queryToken(raw, "jwt") }))
	})
}

// TestIndexedFoldedForms: the folded forms indexNames cuts out of the
// encoding's tail, by the lengths parseQueryClaim measured, are each name's
// own, whether the name folds to itself (length 0 in the tail), to fewer
// bytes (the Kelvin sign, the long s) or to as many; with up to and beyond
// smallIndex names and folded forms beyond parseQueryClaim's stack buffer.
// Each name's case variants are found, and the others' are not taken for it.
func TestIndexedFoldedForms(t *testing.T) {
	pool := []string{"\u212Aelvin", "ALREADY", "\u017Fx", "é", "σ", "plain", "\u212A", "Z9", strings.Repeat("\u017F", 40),
		strings.Repeat("q", 70), "\u212A\u212A\u212Ax", "MiXeD"}
	for _, n := range []int{1, 2, smallIndex, smallIndex + 1, len(pool)} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			claim := map[string]any{}
			for _, name := range pool[:n] {
				claim[name] = "v"
			}
			q := verifiedQuery(t, claim)
			require.Len(t, q.names, n)
			require.Len(t, q.folded, n)
			maxFolded := 0
			for i, name := range q.names {
				f, _ := chars.AppendFolded(nil, []byte(name), -1)
				assert.Equal(t, string(f), q.folded[i], "folded form of %q", name)
				maxFolded = max(maxFolded, len(f))
			}
			assert.Equal(t, maxFolded, q.maxFolded)
			scratch := make([]byte, q.scratchLen())
			for _, name := range q.names {
				upper, lower := strings.ToUpper(name), strings.ToLower(name)
				for _, variant := range []string{upper, lower} {
					i, isVariant := q.lookup(url.QueryEscape(variant), scratch)
					if variant == name {
						assert.Equal(t, name, q.names[i])
						continue
					}
					assert.Equal(t, -1, i, "%q", variant)
					assert.True(t, isVariant, "%q is a case variant of %q", variant, name)
				}
			}
		})
	}
}
