package scopedtoken

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/jose"
	"github.com/scopedtoken/scopedtoken/internal/strictjson"
)

// parseClaimsReference is parseClaims as it was before the fused member
// read (strictjson.Object.Member and claimOf): the general scanner's Next,
// a switch on the name and a fold of every other name against the
// registered ones. FuzzFusedClaims holds parseClaims to it.
func (m *Middleware) parseClaimsReference(payload string) (*verified, *Error) {
	v := &verified{claims: payload, size: len(payload)}
	v.aud = v.audBuf[:0]
	s := strictjson.Scanner{Data: []byte(payload), Src: payload}
	var it strictjson.Object
	hasAud := false
	if !it.Begin(&s) {
		return nil, errMalformedToken
	}
	for it.Next(&s) {
		var e *Error
		switch string(it.Name) {
		case "aud":
			hasAud = true
			e = m.parseAudience(&s, v)
		case "exp":
			v.exp, e = parseDate(&s)
		case "nbf":
			v.nbf, e = parseDate(&s)
		case "iat":
			v.iat, e = parseDate(&s)
		case "query":
			_, e = m.parseQueryClaim(&s, &v.query)
		case "iss":
			v.iss, e = parseStringClaim(&s)
		case "sub":
			v.sub, e = parseStringClaim(&s)
		case "jti":
			v.jti, e = parseStringClaim(&s)
		case SingleUseClaim:
			v.once, e = parseSingleUse(&s)
		case "cnf":
			v.jkt, e = parseConfirmation(&s)
		default:
			if strictjson.FoldsTo(it.Name, jose.ClaimNames) {
				return nil, errAmbiguousMember
			}
			s.SkipValue()
		}
		if e != nil {
			return nil, e
		}
	}
	if e := m.claimsComplete(&s, v, hasAud); e != nil {
		return nil, e
	}
	return v, nil
}

// fillQueryMemo fills m's memo of query encodings with texts that no claim
// has (a claim's text starts with '{'), so that m encodes every query claim
// itself.
func fillQueryMemo(m *Middleware) {
	for i := range jose.MaxHeaderMemo {
		m.queries.Put(fmt.Sprint("\x00", i), queryEncoding{})
	}
}

// claimsRead is what a parse of the claims decided, for comparisons.
type claimsRead struct {
	Exp, Nbf, Iat numericDate
	Aud           []audEntry
	Iss, Sub, Jti string
	Once          bool
	Names         []string
	Values        [][]string
	Encoded       string
	Folded        []string
	Jkt           *string
}

func readOf(v *verified) claimsRead {
	return claimsRead{Exp: v.exp, Nbf: v.nbf, Iat: v.iat, Aud: v.aud, Iss: v.iss, Sub: v.sub, Jti: v.jti, Once: v.once,
		Names: v.query.names, Values: v.query.values, Encoded: v.query.encoded, Folded: v.query.folded, Jkt: v.jkt}
}

func TestClaimSigsAreStrictJSONs(t *testing.T) {
	sigs := map[claim]uint64{claimAud: sigAud, claimExp: sigExp, claimNbf: sigNbf, claimIat: sigIat, claimQuery: sigQuery,
		claimIss: sigIss, claimSub: sigSub, claimJti: sigJti, claimOnce: sigOnce, claimCnf: sigCnf}
	var names []string
	for c := claimAud; int(c) < len(claimNames); c++ {
		names = append(names, claimNames[c])
		assert.Equal(t, strictjson.Sig(claimNames[c]), sigs[c], claimNames[c])
	}
	assert.ElementsMatch(t, jose.ClaimNames, names, "claimNames is jose.ClaimNames")
}

func TestClaimOf(t *testing.T) {
	tests := []struct {
		name string
		want claim
	}{
		{"aud", claimAud}, {"exp", claimExp}, {"nbf", claimNbf}, {"iat", claimIat}, {"query", claimQuery},
		{"iss", claimIss}, {"sub", claimSub}, {"jti", claimJti}, {SingleUseClaim, claimOnce},
		{"AUD", claimFolded}, {"Exp", claimFolded}, {"QUERY", claimFolded}, {"Once", claimFolded},
		{"\u017fub", claimFolded}, // the long s folds to s
		{"\u212a", claimOther},    // the Kelvin sign is no registered name
		{"jt\u0130", claimOther},  // the dotted capital I does not fold to i
		{"axd", claimOther},       // the fingerprint of aud, another name
		{"qUEry", claimFolded},    // folds
		{"quxry", claimOther},     // the fingerprint of query, another name
		{"auds", claimOther}, {"", claimOther}, {"x", claimOther}, {"experienceKey", claimOther},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.name), func(t *testing.T) {
			assert.Equal(t, tt.want, claimOf(strictjson.Sig(tt.name), []byte(tt.name)))
			// The reference: the registered names themselves, or a fold of one.
			ref := claimOther
			if i := slices.Index(claimNames[:], tt.name); i >= int(claimAud) {
				ref = claim(i)
			} else if strictjson.FoldsTo([]byte(tt.name), jose.ClaimNames) {
				ref = claimFolded
			}
			assert.Equal(t, ref, tt.want)
		})
	}
}

// FuzzFusedClaims holds the fused claims parser (parseClaims) to the
// general scanner's (parseClaimsReference) and to encoding/json: the same
// refusal, the same values; whatever it accepts, the reference scanner
// accepts as strict JSON and encoding/json reads the same way.
func FuzzFusedClaims(f *testing.F) {
	for _, c := range []string{
		claimsWith(""),
		claimsWith(`,"query":{"a":"b","c":[1,true,-0.5e3]},"iss":"x","sub":"y","jti":"z","once":true,"nbf":0,"iat":1.5`),
		claimsWith(`,"\u0065xp":1`),
		claimsWith(`,"EXP":1`),
		claimsWith(`,"\u017fub":"x"`),
		claimsWith(`,"x":"\ud83d\ude00\u00e9","y":{"a":{"b":[1,2,{"c":null}]}}`),
		claimsWith(`,"aud":"/v2/accounts/me/x"`),
		claimsWith(` , "query" : { "a\u0062" : "\u00e9" , "ab2" : "v" } `),
		claimsWith(`,"a":1,"A":2`),
		`{"aud":["/v2/accounts/me/a","/v2/accounts/42/b/c"],"exp":1e3}`,
		`{"aud":[],"exp":1}`, `{"aud":"/v2/accounts/me/a","exp":"1"}`, `{"aud":"/v2/accounts/me/a","exp":01}`,
		`{"aud":"/v2/accounts/me/a","exp":1,}`, `{,"aud":"/v2/accounts/me/a"}`, `{"aud" "x"}`, `{"aud":}`, `{`, `{}`, `[]`, ``,
		`{"aud":"/v2/accounts/me/a","exp":1}x`, "{\"\xff\":1}", `{"\ud800":1}`, `{"qu\u0065ry":{"a":"b"},"aud":"/v2/accounts/me/a","exp":1}`,
	} {
		f.Add(c)
	}
	m, err := New(Config{Keys: testKeySet(f), Now: fixedClock, CacheSize: -1})
	if err != nil {
		f.Fatal(err)
	}
	ref, err := New(Config{Keys: testKeySet(f), Now: fixedClock, CacheSize: -1})
	if err != nil {
		f.Fatal(err)
	}
	fillQueryMemo(ref)
	f.Fuzz(func(t *testing.T, payload string) {
		v, e := m.parseClaims(nil, payload)
		rv, re := ref.parseClaimsReference(payload)
		if e != re {
			t.Fatalf("fused parser %v, reference %v", e, re)
		}
		if e != nil {
			return
		}
		if got, want := readOf(v), readOf(rv); !reflect.DeepEqual(got, want) {
			t.Fatalf("fused parser read %+v, reference %+v", got, want)
		}
		if f := strictjson.Check([]byte(payload), false); f != strictjson.OK {
			t.Fatalf("accepted, but the reference scanner says the JSON %v", f)
		}
		checkAsEncodingJSON(t, payload, v)
	})
}

// checkAsEncodingJSON fails t unless encoding/json reads the accepted claims
// payload as v says.
func checkAsEncodingJSON(t *testing.T, payload string, v *verified) {
	t.Helper()
	var c struct {
		Aud           any
		Exp, Nbf, Iat *json.Number
		Iss, Sub, Jti *string
		Once          *bool
		Query         map[string]any
	}
	d := json.NewDecoder(bytes.NewReader([]byte(payload)))
	d.UseNumber()
	if err := d.Decode(&c); err != nil {
		t.Fatalf("accepted, but encoding/json refuses it: %v", err)
	}
	aud := jsonAud(t, c.Aud)
	var got []string
	for _, a := range v.aud {
		got = append(got, a.raw)
	}
	if !reflect.DeepEqual(aud, got) {
		t.Fatalf("aud: encoding/json %q, package %q", aud, got)
	}
	for _, d := range []struct {
		name string
		json *json.Number
		ours numericDate
	}{{"exp", c.Exp, v.exp}, {"nbf", c.Nbf, v.nbf}, {"iat", c.Iat, v.iat}} {
		if (d.json != nil) != d.ours.set {
			t.Fatalf("%s: encoding/json %v, package %+v", d.name, d.json, d.ours)
		}
		if d.json == nil {
			continue
		}
		f, err := d.json.Float64()
		if diff := f - (float64(d.ours.sec) + float64(d.ours.nsec)/1e9); err != nil || diff > 1e-3 || diff < -1e-3 {
			t.Fatalf("%s: encoding/json %v, package %+v", d.name, *d.json, d.ours)
		}
	}
	for _, s := range []struct {
		name       string
		json, ours *string
	}{{"iss", c.Iss, &v.iss}, {"sub", c.Sub, &v.sub}, {"jti", c.Jti, &v.jti}} {
		if (s.json == nil && *s.ours != "") || (s.json != nil && *s.json != *s.ours) {
			t.Fatalf("%s: encoding/json %v, package %q", s.name, s.json, *s.ours)
		}
	}
	if (c.Once != nil && *c.Once) != v.once {
		t.Fatalf("once: encoding/json %v, package %v", c.Once, v.once)
	}
	if len(c.Query) != len(v.query.names) {
		t.Fatalf("query: encoding/json %v, package %q", c.Query, v.query.names)
	}
	for i, name := range v.query.names {
		var want []string
		switch x := c.Query[name].(type) {
		case []any:
			for _, y := range x {
				want = append(want, scalarText(t, y))
			}
		default:
			want = []string{scalarText(t, x)}
		}
		if !reflect.DeepEqual(want, v.query.values[i]) {
			t.Fatalf("query %q: encoding/json %q, package %q", name, want, v.query.values[i])
		}
	}
}

// scalarText is the text the query claim keeps for a value encoding/json
// decoded (with UseNumber).
func scalarText(t *testing.T, x any) string {
	switch y := x.(type) {
	case string:
		return y
	case json.Number:
		return string(y)
	case bool:
		return strconv.FormatBool(y)
	}
	t.Fatalf("query value read as %T", x)
	return ""
}

func TestFusedClaimsMatchReference(t *testing.T) {
	m, err := New(Config{Keys: testKeySet(t), Now: fixedClock, CacheSize: -1})
	require.NoError(t, err)
	for _, payload := range []string{claimsWith(`,"query":{"a":"b","c":[1,true]},"iss":"x","once":false`), claimsWith(`,"Iss":"x"`)} {
		v, e := m.parseClaims(nil, payload)
		rv, re := m.parseClaimsReference(payload)
		require.Equal(t, re, e)
		if e == nil {
			assert.Equal(t, readOf(rv), readOf(v))
		}
	}
}

// TestQueryEncodingMemo: tokens whose query claims have the same text share
// one encoding, read exactly as a middleware that remembers none reads them;
// other texts, escaped names and values, folded names and texts past the
// memo's bound are encoded on their own, and the same.
func TestQueryEncodingMemo(t *testing.T) {
	m, err := New(Config{Keys: testKeySet(t), Now: fixedClock})
	require.NoError(t, err)
	plain, err := New(Config{Keys: testKeySet(t), Now: fixedClock})
	require.NoError(t, err)
	fillQueryMemo(plain)
	query := `{"experienceKey":"MySearchExperience","n":[1,true],"K":"a b&c","\u00e9t\u00e9":"\u00fc"}`
	read := func(m *Middleware, payload string) *verified {
		t.Helper()
		v, e := m.parseClaims(nil, payload)
		require.Nil(t, e, payload)
		return v
	}
	first := read(m, claimsWith(`,"query":`+query+`,"jti":"1"`))
	second := read(m, claimsWith(`,"jti":"2","query":`+query))
	assert.Equal(t, unsafe.StringData(first.query.encoded), unsafe.StringData(second.query.encoded), "one encoding, shared")
	assert.Equal(t, "experienceKey=MySearchExperience&n=1&n=true&K=a+b%26c&%C3%A9t%C3%A9=%C3%BC", second.query.encoded)
	for i := range 2 * jose.MaxHeaderMemo {
		q := fmt.Sprintf(`{"a%d":"v","B":"%d"}`, i, i)
		for _, payload := range []string{claimsWith(`,"query":` + query), claimsWith(`,"query":` + q), claimsWith(`,"query": ` + q)} {
			v, want := read(m, payload), read(plain, payload)
			assert.Equal(t, readOf(want), readOf(v), payload)
			assert.Equal(t, want.query.maxFolded, v.query.maxFolded)
			assert.Equal(t, want.query.firsts, v.query.firsts)
		}
	}
	assert.Equal(t, jose.MaxHeaderMemo, m.queries.Len(), "bounded")
}
