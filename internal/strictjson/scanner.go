package strictjson

import "bytes"

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

// Offset is the cursor's position in Data: after a value has been read,
// where its text ends.
func (s *Scanner) Offset() int { return s.pos }

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
