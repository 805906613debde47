package chars

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// foldCases are names that strings.EqualFold matches or tells apart in ways a
// byte-wise or ASCII-only comparison would get wrong.
var foldCases = []string{
	"experienceKey", "experiencekey", "EXPERIENCEKEY", "experience\u212Aey", // Kelvin sign K
	"s", "S", "\u017F", // long s
	"σ", "ς", "Σ", // a three-rune orbit
	"ß", "\u1E9E", "ss", // capital sharp s folds with ß only
	"\xff", "\xfe", "\uFFFD", // invalid bytes read as U+FFFD
	"é", "É", "e\u0301", // no normalisation: combining accent is another name
	"", "a b", "A B", "ǅ", "Ǆ", "ǆ",
}

// TestFoldedMatchesEqualFold: two names have the same folded form exactly
// when strings.EqualFold says they are equal.
func TestFoldedMatchesEqualFold(t *testing.T) {
	for _, a := range foldCases {
		for _, b := range foldCases {
			fa, _ := AppendFolded(nil, []byte(a), -1)
			fb, _ := AppendFolded(nil, []byte(b), -1)
			assert.Equal(t, strings.EqualFold(a, b), string(fa) == string(fb), "%q vs %q", a, b)
		}
	}
}

// FuzzFolded checks the same property on arbitrary strings, and the bounds
// on the folded form's length that scopedtoken's query binding relies on.
func FuzzFolded(f *testing.F) {
	for i, a := range foldCases {
		f.Add(a, foldCases[(i+1)%len(foldCases)])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		fa, _ := AppendFolded(nil, []byte(a), -1)
		fb, _ := AppendFolded(nil, []byte(b), -1)
		if strings.EqualFold(a, b) != (string(fa) == string(fb)) {
			t.Fatalf("EqualFold(%q, %q) = %v, folded %q and %q", a, b, strings.EqualFold(a, b), fa, fb)
		}
		if len(fa) > 3*len(a) {
			t.Fatalf("folded %q grew past three bytes a byte: %q", a, fa)
		}
		if len(a) > 4*len(fa) {
			t.Fatalf("folded %q shrank past utf8.UTFMax bytes a folded byte: %q", a, fa)
		}
		if n := len(fa); n > 0 {
			if short, ok := AppendFolded(nil, []byte(a), n-1); ok || short != nil {
				t.Fatalf("AppendFolded(%q) within %d bytes gave %q", a, n-1, short)
			}
		}
	})
}

// TestAppendFoldedLimit: the limit bounds the bytes appended, not dst.
func TestAppendFoldedLimit(t *testing.T) {
	dst := []byte("prefix")
	got, ok := AppendFolded(dst, []byte("k\u212a"), 1)
	assert.False(t, ok)
	assert.Nil(t, got)
	got, ok = AppendFolded(dst, []byte("k\u212a"), 2)
	assert.True(t, ok, "the Kelvin sign folds to one byte")
	assert.Equal(t, "prefixKK", string(got))
}
