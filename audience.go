package scopedtoken

import (
	"net/url"
	"strings"

	"github.com/scopedtoken/scopedtoken/internal/chars"
	"github.com/scopedtoken/scopedtoken/internal/names"
)

// meSegment is the business word that stands for the key's own business.
const meSegment = names.Me

// DefaultPrefix is the path prefix every aud entry starts with by default.
const DefaultPrefix = "/v2/accounts/"

// audEntry is one parsed aud path: Prefix + business + "/" + tail.
type audEntry struct {
	raw      string
	business string
	tail     string // endpoint and optional path, without a trailing '/'
}

// parseAudEntry checks one aud entry against the audience grammar
// (docs/security.md) with names.ParseAud.
func parseAudEntry(prefix, raw string) (audEntry, bool) {
	a := names.ParseAud(prefix, raw)
	if !a.OK() {
		return audEntry{}, false
	}
	return audEntry{raw: raw, business: a.Business, tail: a.Tail}, true
}

// checkPath applies the 400 rules of docs/security.md to an escaped request path: no
// empty or dot segments, no encoded '/', '\' or '.', no encoded control
// characters, and every '%' followed by two hex digits.
func checkPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	if p == "/" {
		return true
	}
	p = strings.TrimSuffix(p[1:], "/")
	if p == "" {
		return false // "//": an empty segment
	}
	segStart := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if chars.Is(c, chars.PathPlain) {
			continue // most bytes: one table lookup
		}
		switch c {
		case '/':
			if !pathSegmentOK(p[segStart:i]) {
				return false
			}
			segStart = i + 1
		case '%':
			if i+2 >= len(p) || !chars.IsHex(p[i+1]) || !chars.IsHex(p[i+2]) {
				return false
			}
			b := chars.Unhex(p[i+1])<<4 | chars.Unhex(p[i+2])
			if b == '/' || b == '\\' || b == '.' || b < 0x20 || b == 0x7f {
				return false
			}
			i += 2
		default:
			// A control byte, a space, DEL or '\\': the literal forms of what
			// is refused encoded. Verify takes paths from callers, not only
			// from r.URL.EscapedPath().
			return false
		}
	}
	return pathSegmentOK(p[segStart:])
}

// pathSegmentOK reports whether a path segment is neither empty nor a dot
// segment.
func pathSegmentOK(seg string) bool { return seg != "" && seg != "." && seg != ".." }

// checkPlainPath reports whether p is a path that checkPath accepts and that
// url.URL.EscapedPath leaves as it is, in one pass: most request paths are
// made of letters, digits and a few punctuation bytes only. A false answer
// says nothing: such a path takes the general way.
func checkPlainPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	p = strings.TrimSuffix(p[1:], "/")
	if p == "" {
		return false
	}
	segStart := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if chars.Is(c, chars.PlainSegment) {
			continue // most bytes: one table lookup
		}
		if c != '/' || !pathSegmentOK(p[segStart:i]) {
			return false
		}
		segStart = i + 1
	}
	return pathSegmentOK(p[segStart:])
}

// requestPath is the escaped request path as routers read it. URL.EscapedPath
// re-escapes the decoded Path when RawPath holds a byte that is not valid in
// an escaped path (a raw '{' or non-ASCII), so "/42%2Fsearch/answers/{" would
// read as "/42/search/answers/%7B" while chi, echo and gin with UseRawPath
// route on RawPath itself. So RawPath is used whenever it is set, with only
// those bytes escaped (a raw '\' becomes "%5C" and fails checkPath). A
// RawPath that does not decode to Path (left stale by code that changed Path)
// makes the path ambiguous, and "" fails checkPath.
//
// checked reports that the path is also known to pass checkPath.
func requestPath(u *url.URL) (path string, checked bool) {
	if u.RawPath == "" {
		if checkPlainPath(u.Path) {
			return u.Path, true // what EscapedPath returns, without its slower scan
		}
		return u.EscapedPath(), false
	}
	if p, err := url.PathUnescape(u.RawPath); err != nil || p != u.Path {
		return "", false
	}
	p := u.RawPath
	var b []byte
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || c == '%' || chars.IsPchar(c) {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if b == nil {
			b = append(make([]byte, 0, len(p)+16), p[:i]...)
		}
		b = append(b, '%', chars.UpperHex[c>>4], chars.UpperHex[c&15])
	}
	if b == nil {
		return p, false
	}
	return string(b), false
}

// authorize reports the first aud entry that covers the escaped path p
// (already checked by checkPath), or false. Segments compare exactly:
// case-sensitive, no decoding, whole segments only.
func (v *verified) authorize(prefix, p string) (entry int, ok bool) {
	rest, found := strings.CutPrefix(p, prefix)
	if !found {
		return -1, false
	}
	rest = strings.TrimSuffix(rest, "/")
	reqBusiness, reqTail, _ := strings.Cut(rest, "/")
	for i := range v.aud {
		e := &v.aud[i]
		if coversBusiness(e.business, reqBusiness, v.key.business) && coversTail(e.tail, reqTail) {
			return i, true
		}
	}
	return -1, false
}

// businessOf is the business a request covered by v.aud[entry] acts for:
// the key's business when it has one; else the business the path names,
// which is the entry's (coversBusiness), and none for "me".
func (v *verified) businessOf(entry int) string {
	switch b := v.key.business; {
	case b != "":
		return b
	case entry < 0 || v.aud[entry].business == meSegment:
		return ""
	default:
		return v.aud[entry].business
	}
}

// coversBusiness applies the business rules of docs/security.md. With a key business B,
// "me" and B are one business and any other name covers nothing; without one,
// every name (and "me") covers only itself.
func coversBusiness(entry, request, keyBusiness string) bool {
	if keyBusiness == "" {
		return entry == request
	}
	return (entry == meSegment || entry == keyBusiness) && (request == meSegment || request == keyBusiness)
}

func coversTail(entry, request string) bool {
	return request == entry || len(request) > len(entry) && request[len(entry)] == '/' && request[:len(entry)] == entry
}
