package main

import (
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// What inspect, verify and revoke print comes in part from a token, which
// anyone can write: a kid, an alg, a claim may hold ESC sequences that set the
// window title, erase lines or move the cursor (ECMA-48), BEL, CR, C1
// controls such as CSI (U+009B), bidi overrides and isolates that reorder what
// is shown (Unicode TR #9, CVE-2021-42574), or invalid UTF-8. None of it may
// reach the operator's terminal raw: a token could erase the "NOT VERIFIED"
// lines and print a verdict of its own. So:
//
//   - a string from a token in a sentence is printed by show (strconv.Quote:
//     quoted, escapes visible and unambiguous), or %q, which is the same;
//   - JSON text (the header and claims, --json and verify's output) goes
//     through escapeUnsafe, whose \u escapes keep it valid JSON with the same
//     meaning;
//   - everything those commands write passes through terminalWriter, which
//     applies escapeUnsafe again: any print site that forgets the rules above
//     still prints nothing a terminal acts on.

// safeRune reports whether r may be written raw: printable characters as Go
// defines them (letters, marks, numbers, punctuation, symbols, ASCII space),
// newline and tab. That leaves out C0 controls but those two, DEL, C1
// controls, format characters (bidi embeddings, overrides, isolates and marks
// among them, U+200B..U+200F, U+202A..U+202E, U+2066..U+2069, and tag
// characters), line and paragraph separators, other spaces, private use and
// unassigned code points.
func safeRune(r rune) bool {
	return r == '\n' || r == '\t' || unicode.IsPrint(r)
}

// escapeUnsafe returns s with every rune that safeRune refuses written as a
// JSON \u escape (a surrogate pair above U+FFFF), and every byte that is not
// UTF-8 as \ufffd, the meaning encoding/json gives it. In JSON text such runes
// can only stand inside strings, so the result is valid JSON with the same
// values; in other text the escapes are visible.
func escapeUnsafe(s string) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !safeRune(r) || r == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case safeRune(r):
			b.WriteString(s[i : i+size])
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			writeU(&b, hi)
			writeU(&b, lo)
		default:
			writeU(&b, r)
		}
		i += size
	}
	return b.String()
}

func writeU(b *strings.Builder, r rune) {
	const hex = "0123456789abcdef"
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hex[(r>>shift)&0xf])
	}
}

// safeJSON is escapeUnsafe for JSON text held in bytes.
func safeJSON(b []byte) []byte { return []byte(escapeUnsafe(string(b))) }

// show writes a value from a token for a sentence: a string quoted by
// strconv.Quote, anything else as JSON, both with every unsafe rune escaped.
func show(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return jsonText(v)
}

// plainOrQuoted returns s as it is when that is unambiguous on a line of
// output (printable, no space, comma, quote or backslash), else quoted by
// strconv.Quote. For values that are usually plain, such as a jti.
func plainOrQuoted(s string) string {
	q := strconv.Quote(s)
	if s != "" && q[1:len(q)-1] == s && !strings.ContainsAny(s, " ,") {
		return s
	}
	return q
}

// terminalWriter passes everything written through escapeUnsafe. Each Write
// is escaped on its own: fmt and slog write whole lines, so no rune is split.
type terminalWriter struct{ w io.Writer }

func (t terminalWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(t.w, escapeUnsafe(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
