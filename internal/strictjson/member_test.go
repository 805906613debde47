package strictjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// scanAnyMember is scanAny reading objects with Member instead of Next; it
// also fails t when a fingerprint Member returns is not the name's Sig (or,
// with ExactNames, its exact fingerprint).
func scanAnyMember(t *testing.T, s *Scanner) any {
	return scanWith(s, func(it *Object, s *Scanner) bool {
		sig, ok := it.Member(s)
		if want := nameSig(it.Name, !s.ExactNames); ok && sig != want {
			t.Fatalf("Member's fingerprint of %q is %#x, want %#x", it.Name, sig, want)
		}
		return ok
	})
}

// FuzzMember holds Object.Member, the fused read of the claims parser, to
// Object.Next, the reference, and to encoding/json: on any input, with and
// without ExactNames, both stop at the same place with the same error and
// read the same values, and whatever they accept encoding/json decodes to
// those values.
func FuzzMember(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, ` { "aud" : "x" , "exp" : 1 } `, `{"a":1,}`, `{,"a":1}`, `{"a" 1}`, `{"a":1 "b":2}`,
		`{"a":1,"A":2}`, `{"\u0061":1,"a":2}`, `{"key":1,"\u212Aey":2}`, "{\"s\":1,\"\u017f\":2}", `{"":1,"":2}`, `{"a\"b":1}`,
		"{\"\xff\":1}", "{\"a\x01\":1}", `{"a":{"b":{"c":[{"d":1}]}}}`, `{"a"`, `{"a":`, `{`, `{"é":1,"É":2}`, "{\"a\"\t:\n1\r}"} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, exact bool) {
		ref := Scanner{Data: data, ExactNames: exact}
		want := scanAny(&ref)
		s := Scanner{Data: data, ExactNames: exact}
		got := scanAnyMember(t, &s)
		if s.err != ref.err || s.pos != ref.pos || s.depth != ref.depth || len(s.Names) != len(ref.Names) {
			t.Fatalf("Member: error %v at %d, Next: error %v at %d, in %q", s.err, s.pos, ref.err, ref.pos, data)
		}
		if s.err != OK {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Member read %#v, Next %#v", got, want)
		}
		if !s.AtEnd() {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var theirs any
		if err := dec.Decode(&theirs); err != nil {
			t.Fatalf("accepted, but encoding/json: %v", err)
		}
		if !reflect.DeepEqual(got, theirs) {
			t.Fatalf("Member read %#v, encoding/json %#v", got, theirs)
		}
	})
}

func TestSigOfRegisteredSpellings(t *testing.T) {
	for _, pair := range [][2]string{{"aud", "AUD"}, {"sub", "\u017fub"}, {"kid", "\u212aid"}, {"exp", "eXp"}} {
		assert.Equal(t, Sig(pair[0]), Sig(pair[1]), "%q %q", pair[0], pair[1])
	}
	assert.Equal(t, uint64(3<<16|'A'<<8|'D'), Sig("aud"))
	assert.Equal(t, uint64(0), Sig(""))
}

// TestSigAllocatesNothing: the fingerprint of a name that is not ASCII is
// taken of its folded key built on the stack, in Member's reference way as
// in Next's (a regression made it allocate once per such name).
func TestSigAllocatesNothing(t *testing.T) {
	for _, name := range []string{"\u017f\u212a\u00e90", "é", "plain", strings.Repeat("\u212a", 21)} {
		assert.Zero(t, testing.AllocsPerRun(100, func() { nameSig([]byte(name), true) }), "%q", name)
	}
}
