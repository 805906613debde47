package strictjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestScanStringEveryByte: scanString, which skips runs of plain bytes with
// one table lookup each, reads what encoding/json reads and refuses what it
// refuses, and also invalid UTF-8: every byte value at every position of
// bodies around the run loop's boundaries, every pair of bytes (escapes,
// multi-byte runes and their truncations, control bytes, DEL), each also
// without its closing quote, so that the data ends inside the string.
func TestScanStringEveryByte(t *testing.T) {
	check := func(data string) {
		s := Scanner{Data: []byte(data)}
		got := s.ReadString()
		accepted := s.err == OK && s.AtEnd()
		// encoding/json reads a lone surrogate escape as U+FFFD, which no
		// body here holds otherwise.
		var theirs string
		valid := json.Unmarshal([]byte(data), &theirs) == nil
		want := valid && utf8.ValidString(data) && !strings.ContainsRune(theirs, utf8.RuneError)
		if accepted != want {
			t.Fatalf("Scanner accepts %q: %v, want %v", data, accepted, want)
		}
		if accepted && theirs != string(got) {
			t.Fatalf("Scanner read %q as %q, encoding/json as %q", data, got, theirs)
		}
	}
	for b := range 256 {
		for n := range 10 {
			for at := range n {
				body := []byte(strings.Repeat("a", n))
				body[at] = byte(b)
				check(`"` + string(body) + `"`)
				check(`"` + string(body))
			}
		}
		for c := range 256 {
			pair := string([]byte{byte(b), byte(c)})
			check(`"` + pair + `"`)
			check(`"` + pair)
			check(`"\` + pair + `"`)
		}
	}
	for _, body := range []string{`\`, `\u`, `\u0`, `\u00`, `\u004`, `\u0041`, `\ud83d`, `\ud83d\`, `\ud83d\u`, `\ud83d\ude0`,
		`\ud83d\ude00`, `\ude00`, "\xf0\x9f\x98", "\xf0\x9f\x98\x80", "\xe2\x84", "\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80"} {
		check(`"` + body + `"`)
		check(`"` + body)
		check(`"aaaa` + body)
	}
}

// FuzzJSONScanner uses encoding/json as the oracle: whatever the Scanner
// accepts, encoding/json decodes to the same values, with no object that
// repeats a name or has two names that encoding/json would decode into one
// struct field; whatever encoding/json rejects, the Scanner rejects. The
// Scanner may refuse valid JSON only for its documented reasons: such names,
// invalid UTF-8, lone surrogates, depth.
func FuzzJSONScanner(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":"\u00e9\ud83d\ude00","b":[1,2.5e-3,true,false,null,{"c":"d"}]}`,
		`{"a":1,"a":2}`, `{"\u0061":1,"a":2}`, `{"a":"\ud800"}`, `[1,]`, `{"a":01}`, `"x"`, `-0.0E+1`, "{\"a\":\"\xff\"}",
		` { "a" : [ ] } `, `{"a":"\/\b\f\n\r\t\\\""}`, `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		`{"role":1,"ROLE":2}`, `{"key":1,"\u212Aey":2}`, "{\"s\":1,\"\u017f\":2}", `[{"x":1},{"X":2}]`, `{"a":{"x":1},"X":{"X":1}}`,
		`{"a":0,"b":0,"c":0,"d":0,"e":0,"f":0,"g":0,"h":0,"i":0,"j":0,"k":0,"l":0,"m":0,"n":0,"o":0,"p":0,"q":0,` +
			`"r":0,"s":0,"t":0,"u":0,"v":0,"w":0,"x":0,"y":0,"z":0,"0":0,"1":0,"2":0,"3":0,"4":0,"5":0,"6":0,"A":0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := Scanner{Data: data}
		mine := scanAny(&s)
		accepted := s.err == OK && s.AtEnd()
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var theirs any
		err := dec.Decode(&theirs)
		valid := json.Valid(data)
		if !valid {
			if accepted {
				t.Fatalf("Scanner accepted invalid JSON %q", data)
			}
			return
		}
		repeated, folded := nameClashes(data)
		if !accepted {
			switch {
			case s.err == Duplicate && !repeated:
				t.Fatalf("Scanner found a repeated name that encoding/json does not see in %q", data)
			case s.err == Ambiguous && !folded:
				t.Fatalf("Scanner found names that fold together where encoding/json sees none in %q", data)
			case s.err == Duplicate || s.err == Ambiguous || !utf8.Valid(data) || hasSurrogateEscape(data) ||
				nestingDepth(data) > MaxDepth:
				return
			}
			t.Fatalf("Scanner refused valid JSON %q", data)
		}
		if err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		if repeated || folded {
			t.Fatalf("Scanner accepted an object whose names encoding/json merges in %q", data)
		}
		if !reflect.DeepEqual(mine, theirs) {
			t.Fatalf("Scanner read %#v, encoding/json %#v", mine, theirs)
		}
	})
}

// scanAny decodes a value with the package's Scanner into the shapes
// encoding/json produces with UseNumber.
func scanAny(s *Scanner) any {
	return scanWith(s, func(it *Object, s *Scanner) bool { return it.Next(s) })
}

// scanWith is scanAny moving through objects' members with next (Next, or
// Member in FuzzMember).
func scanWith(s *Scanner, next func(*Object, *Scanner) bool) any {
	switch s.Peek() {
	case '{':
		out := map[string]any{}
		var it Object
		if !it.Begin(s) {
			return nil
		}
		for next(&it, s) {
			name := string(it.Name)
			out[name] = scanWith(s, next)
		}
		return out
	case '[':
		out := []any{}
		var it Array
		if !it.Begin(s) {
			return nil
		}
		for it.Next(s) {
			out = append(out, scanWith(s, next))
		}
		return out
	case '"':
		return string(s.ReadString())
	case 't':
		s.ReadLiteral("true")
		return true
	case 'f':
		s.ReadLiteral("false")
		return false
	case 'n':
		s.ReadLiteral("null")
		return nil
	}
	return json.Number(s.ReadNumber())
}

// nameClashes reads data with encoding/json's tokenizer and reports whether an
// object in it repeats a member name, and whether one has two different names
// that encoding/json would decode into the same struct field: the oracle is
// strings.EqualFold, which encoding/json documents as its folding.
func nameClashes(data []byte) (repeated, folded bool) {
	type frame struct {
		object, wantName bool
		names            []string
	}
	var stack []*frame
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantName = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return repeated, folded
		}
		if n := len(stack); n > 0 && stack[n-1].wantName {
			top := stack[n-1]
			if name, ok := tok.(string); ok {
				for _, seen := range top.names {
					repeated = repeated || seen == name
					folded = folded || seen != name && strings.EqualFold(seen, name)
				}
				top.names = append(top.names, name)
				top.wantName = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, wantName: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

func hasSurrogateEscape(data []byte) bool {
	l := bytes.ToLower(data)
	return bytes.Contains(l, []byte(`\ud`))
}

func nestingDepth(data []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range data {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == '{' || c == '['):
			depth++
			deepest = max(deepest, depth)
		case !inString && (c == '}' || c == ']'):
			depth--
		}
	}
	return deepest
}

// TestCheckAndFinish: Check reads one value and nothing after it but white
// space, and ExactNames turns off the folding check only.
func TestCheckAndFinish(t *testing.T) {
	for _, tc := range []struct {
		doc           string
		folded, exact Error
	}{
		{`{"a":1}`, OK, OK},
		{" [1, {\"b\":null}] \n", OK, OK},
		{`{"a":1}x`, Syntax, Syntax},
		{`{"a":1}{}`, Syntax, Syntax},
		{`{"a":1,"a":2}`, Duplicate, Duplicate},
		{`{"a":1,"A":2}`, Ambiguous, OK},
		{`{"s":{"x":1,"\u017f":2,"S":3}}`, Ambiguous, OK},
		{``, Syntax, Syntax},
	} {
		if got := Check([]byte(tc.doc), false); got != tc.folded {
			t.Errorf("Check(%q, false) = %v, want %v", tc.doc, got, tc.folded)
		}
		if got := Check([]byte(tc.doc), true); got != tc.exact {
			t.Errorf("Check(%q, true) = %v, want %v", tc.doc, got, tc.exact)
		}
	}
}

// TestFoldsTo: a name other than a registered one that encoding/json would
// match to it, and nothing else.
func TestFoldsTo(t *testing.T) {
	registered := []string{"exp", "sub", "kid"}
	for name, want := range map[string]bool{
		"exp": false, "EXP": true, "eXp": true, "sub": false, "\u017fub": true, "\u212aid": true, "KID": true,
		"expx": false, "ex": false, "": false, "nbf": false, "\u212a\u212a": false,
	} {
		if got := FoldsTo([]byte(name), registered); got != want {
			t.Errorf("FoldsTo(%q) = %v, want %v", name, got, want)
		}
	}
}
