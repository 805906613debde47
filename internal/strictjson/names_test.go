package strictjson

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNameFingerprintClashes: an object whose different names share a
// fingerprint moves to the map once they have clashed more than
// maxSigClashes times, so that names written to clash cost a few
// comparisons, not one per pair; and names of one key share a fingerprint.
func TestNameFingerprintClashes(t *testing.T) {
	for _, tc := range []struct {
		names   int
		wantMap bool
	}{
		{names: 3, wantMap: false},             // 0+1+2 = 3 clashes
		{names: 4, wantMap: true},              // 0+1+2+3 = 6 clashes
		{names: SmallNames + 1, wantMap: true}, // names that do not clash move at SmallNames
	} {
		for _, exact := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d names exact %v", tc.names, exact), func(t *testing.T) {
				var b strings.Builder
				b.WriteByte('{')
				for i := range tc.names {
					if i > 0 {
						b.WriteByte(',')
					}
					if tc.names > SmallNames {
						fmt.Fprintf(&b, `"n%d":0`, i)
					} else {
						fmt.Fprintf(&b, `"x%cy":0`, 'a'+i)
					}
				}
				b.WriteByte('}')
				s := Scanner{Data: []byte(b.String()), ExactNames: exact}
				var it Object
				require.True(t, it.Begin(&s))
				var maps []bool
				for it.Next(&s) {
					s.SkipValue()
					maps = append(maps, it.big != nil)
				}
				require.Equal(t, OK, s.err)
				require.Len(t, maps, tc.names)
				assert.Equal(t, tc.wantMap, maps[len(maps)-1])
			})
		}
	}
	for _, pair := range [][2]string{{"key", "KEY"}, {"key", "\u212aey"}, {"scope", "\u017fcope"}, {"\u00e9t\u00e9", "\u00c9T\u00c9"}, {"", ""}} {
		assert.Equal(t, nameSig([]byte(pair[0]), true), nameSig([]byte(pair[1]), true), "%q %q", pair[0], pair[1])
	}
	assert.NotEqual(t, nameSig([]byte("key"), false), nameSig([]byte("KEY"), false))
}

// nameUnits are the pieces FuzzObjectNames builds member names from: runes
// whose case orbits meet (k, K and the Kelvin sign fold to K; s, S and the
// long s to S; é and É to two bytes), near misses (the dotted capital I,
// which folds to nothing else), a quote, and runs long enough to pass the
// 64-byte key buffer. Few folded forms, so that names of one fingerprint
// (length, first and last byte of the folded key) are the rule, not the
// exception. Each unit is also written escaped, so that names are read from
// the arena as well as from the data.
var nameUnits = []struct{ raw, escaped string }{
	{"k", `\u006b`}, {"K", `\u004B`}, {"\u212a", `\u212A`},
	{"s", `\u0073`}, {"S", `\u0053`}, {"\u017f", `\u017F`},
	{"\u00e9", `\u00e9`}, {"\u00c9", `\u00C9`}, {"x", `\u0078`}, {"\u0130", `\u0130`}, {`\"`, `\u0022`},
	{strings.Repeat("\u00e9", 33), strings.Repeat(`\u00C9`, 33)}, {strings.Repeat("\u212a", 22), strings.Repeat(`\u006B`, 22)},
	{strings.Repeat("s", 65), strings.Repeat(`\u017f`, 65)}, {"\U0001F600", `\ud83d\ude00`}, {"0", `\u0030`},
}

// objectOfNames builds JSON from data: each byte below 0x80 appends
// nameUnits[b&15] to the current name (escaped when b&0x10 is set), and a
// byte from 0x80 ends the name (so 0x80 alone makes an empty one). The first
// split names are members of an outer object, the rest of an object that is
// the value of the outer object's middle member, so that the outer object
// has names both before and after it; split 0: the inner object alone.
func objectOfNames(data []byte, split int) (outer, inner []string, doc []byte) {
	var names []string
	var name strings.Builder
	for _, b := range data {
		if b >= 0x80 {
			names = append(names, name.String())
			name.Reset()
			continue
		}
		u := nameUnits[b&15]
		if b&0x10 != 0 {
			name.WriteString(u.escaped)
		} else {
			name.WriteString(u.raw)
		}
	}
	split = min(split, len(names))
	outer, inner = names[:split], names[split:]
	object := func(names []string, member int, value string) string {
		var b strings.Builder
		b.WriteByte('{')
		for i, n := range names {
			if i > 0 {
				b.WriteByte(',')
			}
			v := "0"
			if i == member {
				v = value
			}
			fmt.Fprintf(&b, `"%s":%s`, n, v)
		}
		b.WriteByte('}')
		return b.String()
	}
	in := object(inner, -1, "")
	if len(outer) == 0 {
		return outer, inner, []byte(in)
	}
	return outer, inner, []byte(object(outer, len(outer)/2, in))
}

// FuzzObjectNames checks the fingerprint-and-map check of member names
// against encoding/json's tokenizer and strings.EqualFold (nameClashes),
// with names built to share fingerprints, in objects of up to and beyond
// SmallNames members, nested, escaped or not: the Scanner refuses exactly
// the documents that repeat a name in one object, or (unless it compares
// exactly) hold two names encoding/json folds together, and says which. In
// mode 0 it folds, in mode 1 it compares exactly, in mode 2 it reads as a
// token header is read: exactly, and at most SmallNames values (the most a
// bounded scan may allow).
func FuzzObjectNames(f *testing.F) {
	// n names of one fingerprint: k, three units of x, 0, k and s (64
	// different middles, all folding to one byte each), and s.
	clash := func(n int) []byte {
		var d []byte
		middle := []byte{8, 15, 0, 3}
		for i := range n {
			d = append(d, 0, middle[i%4], middle[i/4%4], middle[i/16%4], 3, 0x80)
		}
		return d
	}
	for _, seed := range []struct {
		data  []byte
		split uint8
	}{
		{[]byte{0, 0x80, 1, 0x80}, 0},                                         // k, K
		{[]byte{0, 3, 0x80, 2, 5, 0x80}, 0},                                   // ks, Kelvin long s
		{[]byte{0x80, 0x80}, 0},                                               // two empty names
		{append(clash(4), 0x10, 8, 8, 8, 3, 0x80), 0},                         // the fourth name moves to the map; then an escaped repeat of the first
		{append(clash(6), 2, 0x1f, 8, 8, 5, 0x80), 0},                         // a variant of the second, after the move
		{append(clash(5), 1, 8, 8, 8, 0x14, 0x80), 0},                         // a variant of the first
		{append(clash(40), 0, 8, 15, 0, 3, 0x80), 0},                          // beyond SmallNames, an exact repeat
		{append(clash(4), clash(5)...), 4},                                    // the same names in two objects
		{append(append(clash(3), 0x11, 8, 8, 0x18, 4, 0x80), clash(6)...), 4}, // an outer variant of the first, after an inner object that moved
		{[]byte{11, 0x80, 0x1b, 0x80, 12, 0x80, 0x1c, 0x80, 13, 0x80, 0x1d, 0x80, 12, 0, 0x80, 0x1c, 2, 0x80}, 0},
		{[]byte{9, 0x80, 0x19, 0x80, 14, 0x80, 0x1e, 0x80, 10, 0x80, 0x1a, 0x80}, 2},
	} {
		for mode := range uint8(3) {
			f.Add(seed.data, seed.split, mode)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint8, mode uint8) {
		if len(data) > 4096 {
			return
		}
		outer, inner, doc := objectOfNames(data, int(split))
		require.True(t, json.Valid(doc), "%s", doc)
		repeated, folded := nameClashes(doc)
		exact, bounded := mode%3 != 0, mode%3 == 2
		s := Scanner{Data: doc, ExactNames: exact}
		if bounded {
			s.MaxValues = SmallNames
		}
		s.SkipValue()
		switch {
		case s.err == TooLarge:
			if !bounded || len(outer)+len(inner) <= SmallNames {
				t.Fatalf("refused %s as too large, %d names", doc, len(outer)+len(inner))
			}
		case s.err == OK:
			require.True(t, s.AtEnd())
			if repeated || folded && !exact || bounded && len(outer)+len(inner) > SmallNames {
				t.Fatalf("accepted names that repeat (%v) or fold together (%v), mode %d: %s", repeated, folded, mode, doc)
			}
		case s.err == Duplicate && !repeated, s.err == Ambiguous && (exact || !folded):
			t.Fatalf("refused %s (%d), but encoding/json sees no such names, mode %d", doc, s.err, mode)
		case s.err != Duplicate && s.err != Ambiguous:
			t.Fatalf("refused valid JSON %s (%d)", doc, s.err)
		}
	})
}
