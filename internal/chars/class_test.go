package chars

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var classes = []struct {
	name  string
	class Class
	model func(c byte) bool
}{
	{"B64URL", B64URL, func(c byte) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
	}},
	{"B64Token", B64Token, func(c byte) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~+/", c) >= 0
	}},
	{"QuerySpecial", QuerySpecial, func(c byte) bool { return strings.IndexByte("&=;%", c) >= 0 }},
	{"PathPlain", PathPlain, func(c byte) bool { return !(c == '/' || c == '%' || c == '\\' || c <= ' ' || c == 0x7f) }},
	{"PlainSegment", PlainSegment, func(c byte) bool {
		p := "/a" + string([]byte{c})
		return c != '/' && (&url.URL{Path: p}).EscapedPath() == p
	}},
	{"Pchar", Pchar, func(c byte) bool { // RFC 3986 §3.3 and §2.2-2.3, without pct-encoded
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0
	}},
	{"QueryPlain", QueryPlain, func(c byte) bool { return url.QueryEscape(string([]byte{c})) == string([]byte{c}) }},
}

// TestClasses: each class of the byte table holds exactly its bytes.
func TestClasses(t *testing.T) {
	for _, cl := range classes {
		for c := range 256 {
			assert.Equal(t, cl.model(byte(c)), Is(byte(c), cl.class), "%s %#x", cl.name, c)
		}
	}
	for c := range 256 {
		assert.Equal(t, Is(byte(c), Pchar), IsPchar(byte(c)), "IsPchar %#x", c)
	}
}

// TestSpan: Span, which scans four bytes per branch, returns the length of
// the longest prefix of one class at every length around the four-byte steps
// and with a byte outside the class at every position, for strings and byte
// slices.
func TestSpan(t *testing.T) {
	for _, cl := range classes {
		var in, out []byte
		for c := range 256 {
			if Is(byte(c), cl.class) {
				in = append(in, byte(c))
			} else {
				out = append(out, byte(c))
			}
		}
		require.NotEmpty(t, in)
		for n := range 10 {
			for bad := -1; bad < n; bad++ { // -1: every byte in the class
				for k, o := range out {
					s := make([]byte, n)
					for i := range s {
						s[i] = in[(i+k)%len(in)]
					}
					want := n
					if bad >= 0 {
						s[bad], want = o, bad
					}
					if got := Span(s, cl.class); got != want {
						t.Fatalf("Span(%q, %s) = %d, want %d", s, cl.name, got, want)
					}
					if got := Span(string(s), cl.class); got != want {
						t.Fatalf("Span(string %q, %s) = %d, want %d", s, cl.name, got, want)
					}
					if bad < 0 {
						break // one string per length without a bad byte
					}
				}
			}
		}
	}
}

func TestHex(t *testing.T) {
	for c := range 256 {
		want := strings.IndexByte("0123456789abcdefABCDEF", byte(c)) >= 0
		require.Equal(t, want, IsHex(byte(c)), "%#x", c)
		if want {
			assert.Equal(t, byte(strings.IndexByte(UpperHex, UpperASCII(byte(c)))), Unhex(byte(c)), "%q", c)
		}
	}
}

// TestUnescapedEquals: a query-escaped name matches exactly the name that
// url.QueryUnescape decodes it to, and a bad escape matches nothing.
func TestUnescapedEquals(t *testing.T) {
	for _, s := range []string{"", "jwt", "j%77t", "%6A%77%74", "%6a%77%74", "jw", "jwtx", "jwt%", "jwt%2", "%zzt", "a+b", "a%20b", "a b",
		"%e2%84%aa", "\u212a", "%", "j%2577t", "JWT"} {
		for _, want := range []string{"", "jwt", "a b", "\u212a", "JWT", "a+b"} {
			dec, err := url.QueryUnescape(s)
			assert.Equal(t, err == nil && dec == want, UnescapedEquals(s, want), "%q vs %q", s, want)
		}
	}
}

// FuzzUnescapedEquals checks UnescapedEquals against url.QueryUnescape.
func FuzzUnescapedEquals(f *testing.F) {
	f.Add("j%77t", "jwt")
	f.Add("a+b", "a b")
	f.Add("%zz", "%zz")
	f.Fuzz(func(t *testing.T, s, want string) {
		dec, err := url.QueryUnescape(s)
		if got := UnescapedEquals(s, want); got != (err == nil && dec == want) {
			t.Fatalf("UnescapedEquals(%q, %q) = %v; url.QueryUnescape gives %q, %v", s, want, got, dec, err)
		}
	})
}
