package scopedtoken

import (
	"bytes"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is a strict, single-pass JSON scanner for token headers and claims.
// It accepts a subset of what encoding/json accepts and never a different
// reading of it: valid UTF-8 only, no lone surrogate escapes, no duplicate member
// names at any depth (compared after unescaping), no two names of one object
// that encoding/json's case folding would merge, and bounded nesting. Anything
// else is an error, so two parsers can never disagree about what a token says.

// maxJSONDepth bounds nesting; token payloads have no reason to go deeper.
const maxJSONDepth = 32

type jsonError int

const (
	jsonOK jsonError = iota
	jsonSyntax
	jsonDuplicate // a member name repeated exactly
	jsonAmbiguous // two member names that encoding/json's folding merges
	jsonTooLarge  // more values than the scanner allows
)

type scanner struct {
	data []byte
	// src, when set, holds the same bytes as data: the strings read out of
	// it are then substrings of src rather than copies (see text).
	src   string
	pos   int
	depth int
	err   jsonError

	// exactNames compares member names byte for byte only, without the
	// case-folding check, which costs a Unicode lookup per non-ASCII rune.
	exactNames bool
	// maxValues, when positive, is the most values (members and array
	// elements, at any depth) the scan may meet. It must not exceed
	// smallNames, so that such a scan never needs a map.
	maxValues, values int
	// arena receives unescaped strings, which stay valid until the scan ends:
	// it only grows. A caller may lend one with room for len(data) bytes, so
	// that even escaped strings cost no allocation.
	arena []byte
	// names holds the member names of every object being read, innermost
	// last; an object drops its own when it ends. A caller may lend room.
	names []seenName
	// copied is the heap that text has allocated for strings it could not
	// take from src.
	copied int
}

// text returns b, read from data at offset at (negative: not from data, as
// an unescaped string is), as a string: a substring of src when it can,
// else a copy, counted in copied.
func (s *scanner) text(b []byte, at int) string {
	if s.src != "" && at >= 0 {
		return s.src[at : at+len(b)]
	}
	s.copied += stringBytes(len(b))
	return string(b)
}

// readText reads a string at the cursor and returns its unescaped value, as
// text does.
func (s *scanner) readText() string {
	raw, escaped := s.scanString()
	if s.err != jsonOK {
		return ""
	}
	if escaped {
		return s.text(s.unescape(raw), -1)
	}
	return s.text(raw, s.pos-1-len(raw)) // the body ends at the closing quote
}

// valueText returns b, which a read of the cursor has just returned and
// which ends there (a number or a literal), as text does.
func (s *scanner) valueText(b []byte) string { return s.text(b, s.pos-len(b)) }

// countValue counts one more value against maxValues.
func (s *scanner) countValue() bool {
	s.values++
	if s.maxValues > 0 && s.values > s.maxValues {
		s.fail(jsonTooLarge)
		return false
	}
	return true
}

func (s *scanner) fail(e jsonError) {
	if s.err == jsonOK {
		s.err = e
	}
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

func (s *scanner) consume(c byte) bool {
	if s.peek() == c {
		s.pos++
		return true
	}
	return false
}

// atEnd reports whether only whitespace is left.
func (s *scanner) atEnd() bool {
	s.skipSpace()
	return s.pos == len(s.data)
}

// readString reads a string at the cursor and returns its unescaped value. The
// result aliases the input when the string has no escapes; escaped strings are
// unescaped into the arena. Neither may be written to.
func (s *scanner) readString() []byte {
	raw, escaped := s.scanString()
	if !escaped {
		return raw
	}
	return s.unescape(raw)
}

// scanString validates a string at the cursor, moves past it and returns its
// body as written, and whether that has escapes.
func (s *scanner) scanString() (raw []byte, escaped bool) {
	if s.peek() != '"' {
		s.fail(jsonSyntax)
		return nil, false
	}
	s.pos++
	start := s.pos
	d := s.data
	for s.pos < len(d) {
		// Most bytes of a token's strings are plain: one lookup each.
		i := s.pos
		for i < len(d) && jsonPlain[d[i]] {
			i++
		}
		if s.pos = i; i == len(d) {
			break
		}
		c := d[i]
		switch {
		case c == '"':
			raw := s.data[start:s.pos]
			s.pos++
			return raw, escaped
		case c == '\\':
			escaped = true
			if !s.checkEscape() {
				s.fail(jsonSyntax)
				return nil, false
			}
		case c < 0x20:
			s.fail(jsonSyntax)
			return nil, false
		default: // not ASCII (every other ASCII byte is plain)
			r, size := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && size == 1 {
				s.fail(jsonSyntax)
				return nil, false
			}
			s.pos += size
		}
	}
	s.fail(jsonSyntax)
	return nil, false
}

// jsonPlain holds the bytes that a JSON string may hold as they are: ASCII
// from the space up, but the quote and the backslash.
var jsonPlain = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// unescape decodes a string body that checkEscape has already validated onto
// the end of the arena. The unescaped form is never longer than raw, so one
// growth at most makes room for it.
func (s *scanner) unescape(raw []byte) []byte {
	s.arena = slices.Grow(s.arena, len(raw))
	start := len(s.arena)
	s.arena = appendUnescaped(s.arena, raw)
	return s.arena[start:len(s.arena):len(s.arena)]
}

// checkEscape validates the escape at the cursor (a backslash) and moves past
// it. A \u escape of a high surrogate must be followed by one of a low
// surrogate, and a low surrogate may not stand alone.
func (s *scanner) checkEscape() bool {
	d := s.data
	if s.pos+1 >= len(d) {
		return false
	}
	switch d[s.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos += 2
		return true
	case 'u':
	default:
		return false
	}
	r, ok := hex4(d, s.pos+2)
	if !ok {
		return false
	}
	s.pos += 6
	switch {
	case r >= 0xDC00 && r <= 0xDFFF:
		return false
	case r >= 0xD800 && r <= 0xDBFF:
		if s.pos+1 >= len(d) || d[s.pos] != '\\' || d[s.pos+1] != 'u' {
			return false
		}
		lo, ok := hex4(d, s.pos+2)
		if !ok || lo < 0xDC00 || lo > 0xDFFF {
			return false
		}
		s.pos += 6
	}
	return true
}

func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func appendUnescaped(out, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, _ := hex4(raw, i+2)
			if utf16.IsSurrogate(r) {
				lo, _ := hex4(raw, i+8)
				r = utf16.DecodeRune(r, lo)
				i += 6
			}
			out = utf8.AppendRune(out, r)
			i += 6
			continue
		default: // '"', '\\', '/'
			out = append(out, raw[i+1])
		}
		i += 2
	}
	return out
}

// readNumber reads a number at the cursor and returns its text.
func (s *scanner) readNumber() []byte {
	s.skipSpace()
	d, start := s.data, s.pos
	i := start
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = skipDigits(d, i)
	default:
		s.fail(jsonSyntax)
		return nil
	}
	if i < len(d) && d[i] == '.' {
		j := skipDigits(d, i+1)
		if j == i+1 {
			s.fail(jsonSyntax)
			return nil
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := skipDigits(d, i)
		if j == i {
			s.fail(jsonSyntax)
			return nil
		}
		i = j
	}
	s.pos = i
	return d[start:i]
}

func skipDigits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

func (s *scanner) readLiteral(lit string) bool {
	s.skipSpace()
	if bytes.HasPrefix(s.data[s.pos:], []byte(lit)) {
		s.pos += len(lit)
		return true
	}
	s.fail(jsonSyntax)
	return false
}

// skipValue validates the value at the cursor, including duplicate names in
// every object inside it, and returns its raw text.
func (s *scanner) skipValue() []byte {
	s.skipSpace()
	start := s.pos
	switch s.peek() {
	case '{':
		s.skipObject()
	case '[':
		s.skipArray()
	case '"':
		s.scanString()
	case 't':
		s.readLiteral("true")
	case 'f':
		s.readLiteral("false")
	case 'n':
		s.readLiteral("null")
	default:
		s.readNumber()
	}
	if s.err != jsonOK {
		return nil
	}
	return s.data[start:s.pos]
}

func (s *scanner) enter() bool {
	s.depth++
	if s.depth > maxJSONDepth {
		s.fail(jsonSyntax)
		return false
	}
	return true
}

func (s *scanner) skipObject() {
	var it objectIter
	if !it.begin(s) {
		return
	}
	for it.next(s) {
		s.skipValue()
	}
}

func (s *scanner) skipArray() {
	var it arrayIter
	if !it.begin(s) {
		return
	}
	for it.next(s) {
		s.skipValue()
	}
}

// objectIter walks the members of one object and refuses duplicate and
// case-folded names. After next returns true, name holds the member's
// unescaped name and the cursor is at its value, which the caller must consume.
type objectIter struct {
	name    []byte
	at      int // where name starts in the data; negative when unescaped
	first   bool
	start   int               // this object's names are s.names[start:]
	clashes int               // pairs of different names with one fingerprint (see add)
	big     map[string][]byte // folded name -> name as written, for a large object
}

func (it *objectIter) begin(s *scanner) bool {
	if !s.enter() || !s.consume('{') {
		s.fail(jsonSyntax)
		return false
	}
	it.first = true
	it.start = len(s.names)
	return true
}

func (it *objectIter) next(s *scanner) bool {
	if s.err != jsonOK {
		return false
	}
	if s.consume('}') {
		s.depth--
		s.names = s.names[:it.start]
		return false
	}
	if !it.first {
		if !s.consume(',') {
			s.fail(jsonSyntax)
			return false
		}
	}
	it.first = false
	var at int
	it.name, at = s.readName() // after a comma this also refuses a trailing one
	it.at = at
	if s.err != jsonOK || !s.consume(':') {
		s.fail(jsonSyntax)
		return false
	}
	if !s.countValue() {
		return false
	}
	if e := it.add(s, it.name, at); e != jsonOK {
		s.fail(e)
		return false
	}
	return true
}

type arrayIter struct{ n int }

func (it *arrayIter) begin(s *scanner) bool {
	if !s.enter() || !s.consume('[') {
		s.fail(jsonSyntax)
		return false
	}
	return true
}

func (it *arrayIter) next(s *scanner) bool {
	if s.err != jsonOK {
		return false
	}
	if s.consume(']') {
		s.depth--
		return false
	}
	if it.n > 0 && !s.consume(',') {
		s.fail(jsonSyntax)
		return false
	}
	it.n++
	if s.peek() == ']' {
		s.fail(jsonSyntax) // a leading or trailing comma
		return false
	}
	return s.countValue()
}
