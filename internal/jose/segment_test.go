package jose

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplit(t *testing.T) {
	for token, want := range map[string][2]int{
		"a.b.c": {1, 3}, "..": {0, 1}, "abc.de.": {3, 6}, ".b.c": {0, 2},
	} {
		d1, d2, ok := Split(token)
		assert.True(t, ok, token)
		assert.Equal(t, want, [2]int{d1, d2}, token)
	}
	for _, token := range []string{"", "a", "a.b", "a.b.c.d", "...", "a..b.c"} {
		_, _, ok := Split(token)
		assert.False(t, ok, token)
	}
}

// TestDecode: only unpadded base64url, without line breaks or other bytes,
// whose unused trailing bits are zero, decodes; and WellFormed says so
// without decoding.
func TestDecode(t *testing.T) {
	for seg, want := range map[string]string{
		"": "", "YQ": "a", "YWI": "ab", "YWJj": "abc", "_-8": "\xff\xef", "eyJhIjoxfQ": `{"a":1}`,
	} {
		got, ok := Decode(nil, []byte(seg))
		assert.True(t, ok, seg)
		assert.Equal(t, want, string(got), seg)
		assert.Equal(t, seg != "", WellFormed([]byte(seg)), seg)
	}
	for _, seg := range []string{"YQ==", "YQ=", "Y", "YR", "YWI=", "/+8", "YW\nJj", "YW\rJj", "YW Jj", "YW?j", "YWJ\x00"} {
		_, ok := Decode(nil, []byte(seg))
		assert.False(t, ok, seg)
		assert.False(t, WellFormed([]byte(seg)), seg)
	}
}

// FuzzSegment: Decode accepts exactly the unpadded base64url that the
// standard library's strict decoder accepts and that holds no byte outside
// the alphabet (the standard decoder skips CR and LF), and decodes it the
// same; WellFormed agrees with Decode on every non-empty segment.
func FuzzSegment(f *testing.F) {
	for _, s := range []string{"", "YQ", "YR", "YQ==", "YW\nJj", "eyJhIjoxfQ", "_-8", "/+8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seg string) {
		got, ok := Decode(make([]byte, 0, 4), []byte(seg))
		want, err := base64.RawURLEncoding.Strict().DecodeString(seg)
		if wantOK := err == nil && !strings.ContainsAny(seg, "\r\n"); ok != wantOK {
			t.Fatalf("Decode(%q) ok %v, standard library %v (%v)", seg, ok, wantOK, err)
		}
		if ok && string(got) != string(want) {
			t.Fatalf("Decode(%q) = %q, want %q", seg, got, want)
		}
		if seg != "" && WellFormed([]byte(seg)) != ok {
			t.Fatalf("WellFormed(%q) = %v, Decode %v", seg, !ok, ok)
		}
		if ValidB64([]byte(seg)) != !strings.ContainsFunc(seg, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) {
			t.Fatalf("ValidB64(%q)", seg)
		}
	})
}
