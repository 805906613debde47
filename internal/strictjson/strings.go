package strictjson

import (
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/scopedtoken/scopedtoken/internal/sizeclass"
)

// This file reads strings: their validation (UTF-8, escapes, surrogate
// pairs), their unescaping into the Arena, and their text without a copy
// when they can be taken from Src.

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
