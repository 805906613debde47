package jose

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/strictjson"
)

// TestParseHeader: the rules of the protected header, each with its fault.
func TestParseHeader(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   Fault
	}{
		{`{"alg":"HS256","kid":"k"}`, OK},
		{`{"kid":"k","alg":"ES256","typ":"jwt","x5c":["a"],"jwk":{"kty":"EC"}}`, OK},
		{`{"alg":"HS256","kid":"k","typ":"JOSE"}`, Unsupported},
		{`{"alg":"HS256","kid":"k","typ":1}`, Unsupported},
		{`{"alg":"HS256","kid":"k","crit":["exp"]}`, Unsupported},
		{`{"alg":"HS256","kid":"k","b64":false}`, Unsupported},
		{`{"alg":"none","kid":"k"}`, UnknownAlg},
		{`{"alg":"hs256","kid":"k"}`, UnknownAlg},
		{`{"alg":["HS256"],"kid":"k"}`, UnknownAlg},
		{`{"kid":"k"}`, UnknownAlg},
		{`{"alg":"HS256"}`, NoKID},
		{`{"alg":"HS256","kid":""}`, NoKID},
		{`{"alg":"HS256","kid":7}`, NoKID},
		{`{"alg":"HS256","kid":"k","KID":"j"}`, Ambiguous},
		{`{"alg":"HS256","kid":"k","\u212Aid":"j"}`, Ambiguous},
		{`{"alg":"HS256","kid":"k","kid":"j"}`, Duplicate},
		{`{"alg":"HS256","kid":"k","\u006bid":"j"}`, Duplicate},
		{`{"alg":"HS256","kid":"k"}x`, Malformed},
		{`["alg","kid"]`, Malformed},
		{`{"alg":"HS256","kid":"k","x":"\ud800"}`, Malformed},
		{`{"alg":"HS256","kid":"k","x":[` + strings.Repeat("0,", MaxHeaderValues) + `0]}`, TooLarge},
	} {
		t.Run(tc.header, func(t *testing.T) {
			h, f := ParseHeader([]byte(tc.header), nil, nil)
			assert.Equal(t, tc.want, f)
			if f != OK {
				assert.Zero(t, h)
			}
		})
	}
}

// TestFaultOf: every scanner error has its fault.
func TestFaultOf(t *testing.T) {
	assert.Equal(t, OK, FaultOf(strictjson.OK))
	assert.Equal(t, Malformed, FaultOf(strictjson.Syntax))
	assert.Equal(t, Duplicate, FaultOf(strictjson.Duplicate))
	assert.Equal(t, Ambiguous, FaultOf(strictjson.Ambiguous))
	assert.Equal(t, TooLarge, FaultOf(strictjson.TooLarge))
}

// TestRegisteredClaim: the claims the middleware reads, and their spellings
// that encoding/json would take for them.
func TestRegisteredClaim(t *testing.T) {
	for name, want := range map[string]bool{
		"aud": true, "exp": true, "once": true, "query": true, "EXP": true, "\u017fub": true,
		"role": false, "expires": false, "": false, "ONCE": true,
	} {
		assert.Equal(t, want, RegisteredClaim(name), name)
	}
}

// TestHeaderNamesNeedNoMap: the header is read before any signature is
// checked, so anyone can choose its names. Names of one fingerprint must not
// move it to a map: reading a header allocates nothing beyond its kid (see
// MaxHeaderValues), and the pairs left to compare are bounded by
// MaxHeaderValues anyway. Repeats are still found among them.
func TestHeaderNamesNeedNoMap(t *testing.T) {
	clashing := func(n int, escaped bool) string { // n different names of one fingerprint
		var b strings.Builder
		for i := range n {
			if escaped {
				fmt.Fprintf(&b, `,"\u0078%c%c\u0079":0`, 'a'+i%26, 'a'+i/26)
			} else {
				fmt.Fprintf(&b, `,"x%c%cy":0`, 'a'+i%26, 'a'+i/26)
			}
		}
		return b.String()
	}
	const plain = `{"alg":"HS256","kid":"k"}`
	const few = 6 // more names of one fingerprint than strictjson lets an unbounded object compare in turn (4)
	arena, names := make([]byte, 0, MaxHeaderBytes), make([]strictjson.Name, 0, MaxHeaderValues)
	allocs := func(h []byte) float64 {
		return testing.AllocsPerRun(20, func() { _, _ = ParseHeader(h, arena, names) })
	}
	want := allocs([]byte(plain))
	for _, tc := range []struct {
		name   string
		header string
		want   Fault
	}{
		{"a few", `{"alg":"HS256","kid":"k"` + clashing(few, false) + `}`, OK},
		{"the most a header holds", `{"alg":"HS256","kid":"k"` + clashing(MaxHeaderValues-2, false) + `}`, OK},
		{"escaped", `{"alg":"HS256","kid":"k"` + clashing(MaxHeaderValues-2, true) + `}`, OK},
		{"a repeat after them", `{"alg":"HS256","kid":"k"` + clashing(few, false) + `,"xaay":1}`, Duplicate},
		{"an escaped repeat after them", `{"alg":"HS256","kid":"k"` + clashing(few, false) + `,"\u0078aay":1}`, Duplicate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := []byte(tc.header)
			require.LessOrEqual(t, len(h), MaxHeaderBytes)
			hdr, f := ParseHeader(h, arena, names)
			require.Equal(t, tc.want, f)
			if f == OK {
				assert.Equal(t, Header{Alg: "HS256", Kid: "k"}, hdr)
			}
			assert.Equal(t, want, allocs(h), "allocations beyond those of %s", plain)
		})
	}
}
