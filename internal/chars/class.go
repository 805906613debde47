package chars

// Class is a set of byte classes: a byte is of a class when its entry in the
// table has the class's bit.
type Class uint8

// The byte classes, looked up in one table.
const (
	B64URL       Class = 1 << iota // the base64url alphabet (RFC 4648 §5)
	B64Token                       // also allowed in an RFC 6750 b64token: '.', '~', '+', '/'
	PathPlain                      // a path byte that needs no check: not '/', '%', '\', a control byte or a space
	QuerySpecial                   // a query byte a pair reader stops at: '&', '=', ';' or '%'
	PlainSegment                   // a path byte url.URL.EscapedPath leaves as it is, but '/'
	Pchar                          // an RFC 3986 §3.3 pchar other than '%': unreserved, a sub-delim, ':' or '@'
	QueryPlain                     // a byte url.QueryEscape keeps: RFC 3986 unreserved
)

var table = func() (t [256]Class) {
	for c := range t {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			t[c] = B64URL | B64Token | PlainSegment | Pchar | QueryPlain
		}
	}
	for _, c := range ".~" {
		t[c] |= QueryPlain
	}
	for _, c := range ".~+/" {
		t[c] |= B64Token
	}
	for _, c := range "&=;%" {
		t[c] |= QuerySpecial
	}
	for c := range t {
		if c > ' ' && c != 0x7f && c != '/' && c != '%' && c != '\\' {
			t[c] |= PathPlain
		}
	}
	for _, c := range ".~$&+,:;=@" { // RFC 3986 unreserved and the sub-delims net/url keeps in paths
		t[c] |= PlainSegment
	}
	for _, c := range ".~!$&'()*+,;=:@" {
		t[c] |= Pchar
	}
	return t
}()

// Is reports whether c is of class.
func Is(c byte, class Class) bool { return table[c]&class != 0 }

// Span returns the length of the longest prefix of s whose bytes are all of
// class.
func Span[T string | []byte](s T, class Class) int {
	i := 0
	for ; i+4 <= len(s); i += 4 { // four bytes per branch
		q := s[i : i+4] // one bounds check for the four
		if table[q[0]]&table[q[1]]&table[q[2]]&table[q[3]]&class == 0 {
			break
		}
	}
	for i < len(s) && table[s[i]]&class != 0 {
		i++
	}
	return i
}

// IsPchar reports whether c is an RFC 3986 pchar other than '%'.
func IsPchar(c byte) bool { return table[c]&Pchar != 0 }

// UpperHex holds the upper-case hex digits, by value.
const UpperHex = "0123456789ABCDEF"

// IsHex reports whether c is a hex digit, in either case.
func IsHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// Unhex is the value of the hex digit c (which IsHex accepts).
func Unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// UnescapedEquals reports whether the query-escaped s decodes to want as
// url.QueryUnescape would decode it ('+' is a space; a bad escape matches
// nothing). It decodes on the fly and never allocates.
func UnescapedEquals(s, want string) bool {
	// A byte decodes from one to three bytes of s.
	if len(s) < len(want) || len(s) > 3*len(want) {
		return false
	}
	j := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			if i+2 >= len(s) || !IsHex(s[i+1]) || !IsHex(s[i+2]) {
				return false
			}
			c = Unhex(s[i+1])<<4 | Unhex(s[i+2])
			i += 2
		}
		if j == len(want) || want[j] != c {
			return false
		}
		j++
	}
	return j == len(want)
}
