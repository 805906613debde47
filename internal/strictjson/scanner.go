package strictjson

import (
	"bytes"
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/scopedtoken/scopedtoken/internal/sizeclass"
)

// MaxDepth bounds nesting; token payloads have no reason to go deeper.
const MaxDepth = 32

// Error is the outcome of a scan: OK, or the first reason it stopped.
type Error uint8

// The outcomes of a scan.
const (
	OK        Error = iota
	Syntax          // not JSON, invalid UTF-8, a lone surrogate escape, too deep, or trailing data
	Duplicate       // a member name repeated exactly
	Ambiguous       // two member names that encoding/json's folding merges
	TooLarge        // more values than the scanner allows
)

// String says what the scan found, after "the JSON ...".
func (e Error) String() string {
	switch e {
	case OK:
		return "is valid"
	case Duplicate:
		return "repeats a member name"
	case Ambiguous:
		return "has two member names that differ only in case"
	case TooLarge:
		return "holds too many values"
	}
	return "is not strictly valid JSON"
}

// Scanner reads one JSON text. Set Data (and the optional fields), then
// read with the methods, Object and Array; the first error stops the scan
// and stays in Err.
type Scanner struct {
	Data []byte
	// Src, when set, holds the same bytes as Data: the strings read out of
	// it are then substrings of Src rather than copies (see Text).
	Src string
	// ExactNames compares member names byte for byte only, without the
	// case-folding check, which costs a Unicode lookup per non-ASCII rune.
	ExactNames bool
	// MaxValues, when positive, is the most values (members and array
	// elements, at any depth) the scan may meet. It must not exceed
	// SmallNames, so that such a scan never needs a map.
	MaxValues int
	// Arena receives unescaped strings, which stay valid until the scan
	// ends: it only grows. A caller may lend one with room for len(Data)
	// bytes, so that even escaped strings cost no allocation.
	Arena []byte
	// Names holds the member names of every object being read, innermost
	// last; an object drops its own when it ends. A caller may lend room.
	Names []Name

	pos, depth, values int
	err                Error
	// copied is the heap that Text has allocated for strings it could not
	// take from Src.
	copied int
}

// Err is the scan's outcome so far.
func (s *Scanner) Err() Error { return s.err }

// Copied is the heap, in bytes, of the strings Text has copied rather than
// taken from Src.
func (s *Scanner) Copied() int { return s.copied }

// Finish is the outcome of a scan that has read one value: its error, or
// Syntax when more than white space follows it.
func (s *Scanner) Finish() Error {
	if s.err == OK && !s.AtEnd() {
		return Syntax
	}
	return s.err
}

// Check reads data as one JSON value, as a Scanner with ExactNames set to
// exactNames does, and returns the outcome.
func Check(data []byte, exactNames bool) Error {
	s := Scanner{Data: data, ExactNames: exactNames}
	s.SkipValue()
	return s.Finish()
}

// Text returns b, read from Data at offset at (negative: not from Data, as
// an unescaped string is), as a string: a substring of Src when it can,
// else a copy, counted in copied.
func (s *Scanner) Text(b []byte, at int) string {
	if s.Src != "" && at >= 0 {
		return s.Src[at : at+len(b)]
	}
	s.copied += sizeclass.String(len(b))
	return string(b)
}

// ReadText reads a string at the cursor and returns its unescaped value, as
// Text does.
func (s *Scanner) ReadText() string {
	raw, escaped := s.scanString()
	if s.err != OK {
		return ""
	}
	if escaped {
		return s.Text(s.unescape(raw), -1)
	}
	return s.Text(raw, s.pos-1-len(raw)) // the body ends at the closing quote
}

// ValueText returns b, which a read of the cursor has just returned and
// which ends there (a number or a literal), as Text does.
func (s *Scanner) ValueText(b []byte) string { return s.Text(b, s.pos-len(b)) }

// countValue counts one more value against MaxValues.
func (s *Scanner) countValue() bool {
	s.values++
	if s.MaxValues > 0 && s.values > s.MaxValues {
		s.fail(TooLarge)
		return false
	}
	return true
}

func (s *Scanner) fail(e Error) {
	if s.err == OK {
		s.err = e
	}
}

func (s *Scanner) skipSpace() {
	for s.pos < len(s.Data) {
		switch s.Data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// Peek returns the next non-space byte, or 0 at the end.
func (s *Scanner) Peek() byte {
	s.skipSpace()
	if s.pos < len(s.Data) {
		return s.Data[s.pos]
	}
	return 0
}

func (s *Scanner) consume(c byte) bool {
	if s.Peek() == c {
		s.pos++
		return true
	}
	return false
}

// AtEnd reports whether only whitespace is left.
func (s *Scanner) AtEnd() bool {
	s.skipSpace()
	return s.pos == len(s.Data)
}

// ReadString reads a string at the cursor and returns its unescaped value. The
// result aliases the input when the string has no escapes; escaped strings are
// unescaped into the Arena. Neither may be written to.
func (s *Scanner) ReadString() []byte {
	raw, escaped := s.scanString()
	if !escaped {
		return raw
	}
	return s.unescape(raw)
}

// scanString validates a string at the cursor, moves past it and returns its
// body as written, and whether that has escapes.
func (s *Scanner) scanString() (raw []byte, escaped bool) {
	if s.Peek() != '"' {
		s.fail(Syntax)
		return nil, false
	}
	s.pos++
	start := s.pos
	d := s.Data
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
			raw := s.Data[start:s.pos]
			s.pos++
			return raw, escaped
		case c == '\\':
			escaped = true
			if !s.checkEscape() {
				s.fail(Syntax)
				return nil, false
			}
		case c < 0x20:
			s.fail(Syntax)
			return nil, false
		default: // not ASCII (every other ASCII byte is plain)
			r, size := utf8.DecodeRune(s.Data[s.pos:])
			if r == utf8.RuneError && size == 1 {
				s.fail(Syntax)
				return nil, false
			}
			s.pos += size
		}
	}
	s.fail(Syntax)
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
// the end of the Arena. The unescaped form is never longer than raw, so one
// growth at most makes room for it.
func (s *Scanner) unescape(raw []byte) []byte {
	s.Arena = slices.Grow(s.Arena, len(raw))
	start := len(s.Arena)
	s.Arena = appendUnescaped(s.Arena, raw)
	return s.Arena[start:len(s.Arena):len(s.Arena)]
}

// checkEscape validates the escape at the cursor (a backslash) and moves past
// it. A \u escape of a high surrogate must be followed by one of a low
// surrogate, and a low surrogate may not stand alone.
func (s *Scanner) checkEscape() bool {
	d := s.Data
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

// hex4 reads the four hex digits of a \u escape at d[i:]. It decodes the
// digits itself rather than with chars.IsHex and chars.Unhex, which would
// take it past the compiler's inlining budget.
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

// ReadNumber reads a number at the cursor and returns its text.
func (s *Scanner) ReadNumber() []byte {
	s.skipSpace()
	d, start := s.Data, s.pos
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
		s.fail(Syntax)
		return nil
	}
	if i < len(d) && d[i] == '.' {
		j := skipDigits(d, i+1)
		if j == i+1 {
			s.fail(Syntax)
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
			s.fail(Syntax)
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

// ReadLiteral reads lit (true, false or null) at the cursor.
func (s *Scanner) ReadLiteral(lit string) bool {
	s.skipSpace()
	if bytes.HasPrefix(s.Data[s.pos:], []byte(lit)) {
		s.pos += len(lit)
		return true
	}
	s.fail(Syntax)
	return false
}

// SkipValue validates the value at the cursor, including duplicate names in
// every object inside it, and returns its raw text.
func (s *Scanner) SkipValue() []byte {
	s.skipSpace()
	start := s.pos
	switch s.Peek() {
	case '{':
		s.skipObject()
	case '[':
		s.skipArray()
	case '"':
		s.scanString()
	case 't':
		s.ReadLiteral("true")
	case 'f':
		s.ReadLiteral("false")
	case 'n':
		s.ReadLiteral("null")
	default:
		s.ReadNumber()
	}
	if s.err != OK {
		return nil
	}
	return s.Data[start:s.pos]
}

func (s *Scanner) enter() bool {
	s.depth++
	if s.depth > MaxDepth {
		s.fail(Syntax)
		return false
	}
	return true
}

func (s *Scanner) skipObject() {
	var it Object
	if !it.Begin(s) {
		return
	}
	for it.Next(s) {
		s.SkipValue()
	}
}

func (s *Scanner) skipArray() {
	var it Array
	if !it.Begin(s) {
		return
	}
	for it.Next(s) {
		s.SkipValue()
	}
}

// Object walks the members of one object and refuses duplicate and
// case-folded names. After Next returns true, Name holds the member's
// unescaped name and the cursor is at its value, which the caller must
// consume.
type Object struct {
	Name    []byte
	At      int // where Name starts in the data; negative when unescaped (see Scanner.Text)
	first   bool
	start   int               // this object's names are s.Names[start:]
	clashes int               // pairs of different names with one fingerprint (see add)
	big     map[string][]byte // folded name -> name as written, for a large object
}

// Begin reads the opening brace of an object at the cursor.
func (it *Object) Begin(s *Scanner) bool {
	if !s.enter() || !s.consume('{') {
		s.fail(Syntax)
		return false
	}
	it.first = true
	it.start = len(s.Names)
	return true
}

// Next moves to the next member, or past the closing brace and returns
// false. It returns false at the first error too.
func (it *Object) Next(s *Scanner) bool {
	if s.err != OK {
		return false
	}
	if s.consume('}') {
		s.depth--
		s.Names = s.Names[:it.start]
		return false
	}
	if !it.first {
		if !s.consume(',') {
			s.fail(Syntax)
			return false
		}
	}
	it.first = false
	var at int
	it.Name, at = s.readName() // after a comma this also refuses a trailing one
	it.At = at
	if s.err != OK || !s.consume(':') {
		s.fail(Syntax)
		return false
	}
	if !s.countValue() {
		return false
	}
	if e := it.add(s, it.Name, at); e != OK {
		s.fail(e)
		return false
	}
	return true
}

// Array walks the elements of one array. After Next returns true, the
// cursor is at an element, which the caller must consume.
type Array struct{ n int }

// Begin reads the opening bracket of an array at the cursor.
func (it *Array) Begin(s *Scanner) bool {
	if !s.enter() || !s.consume('[') {
		s.fail(Syntax)
		return false
	}
	return true
}

// Next moves to the next element, or past the closing bracket and returns
// false. It returns false at the first error too.
func (it *Array) Next(s *Scanner) bool {
	if s.err != OK {
		return false
	}
	if s.consume(']') {
		s.depth--
		return false
	}
	if it.n > 0 && !s.consume(',') {
		s.fail(Syntax)
		return false
	}
	it.n++
	if s.Peek() == ']' {
		s.fail(Syntax) // a leading or trailing comma
		return false
	}
	return s.countValue()
}
