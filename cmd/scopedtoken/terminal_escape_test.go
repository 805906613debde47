package main

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEscapeUnsafe: escapeUnsafe leaves printable text alone, escapes every
// rune a terminal could act on so that a JSON string keeps its value, and
// plainOrQuoted quotes whatever is not plain.

func TestEscapeUnsafe(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain ASCII, {\"json\": [1]}", "plain ASCII, {\"json\": [1]}"},
		{"é 日本 \uFFFD ✓", "é 日本 \uFFFD ✓"},
		{"line\n\ttab", "line\n\ttab"},
		{setTitle, `\u001b]0;pwned\u0007`},
		{"a\rb\x00c", `a\u000db\u0000c`},
		{del, `a\u007fb`},
		{"\u0080\u009b\u009f", `\u0080\u009b\u009f`},
		{"\u202a\u202e\u2066\u2069\u200e\u200f\u061c", `\u202a\u202e\u2066\u2069\u200e\u200f\u061c`},
		{"\u2028\u2029\u00a0\u200b", `\u2028\u2029\u00a0\u200b`},
		{tag, `\udb40\udc41\udb40\udc42`},
		{"x\xffy\xc2", `x\ufffdy\ufffd`},
	} {
		got := escapeUnsafe(tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
		assert.Empty(t, unsafeRuneAt(got))
		if !strings.ContainsAny(tt.in, "\n\t") && utf8.ValidString(tt.in) {
			var back string
			require.NoError(t, json.Unmarshal([]byte(`"`+strings.ReplaceAll(got, `"`, `\"`)+`"`), &back))
			assert.Equal(t, tt.in, back, "a JSON string keeps its value")
		}
	}
	for in, want := range map[string]string{
		"cli-1": "cli-1", "é": "é", "": `""`, "a b": `"a b"`, "x, kept for ever": `"x, kept for ever"`,
		`a"b`: `"a\"b"`, `a\b`: `"a\\b"`, setTitle: `"\x1b]0;pwned\a"`, "\u202e": `"\u202e"`,
	} {
		assert.Equal(t, want, plainOrQuoted(in), "%q", in)
	}
}
