package chars

import (
	"math"
	"unicode"
	"unicode/utf8"
)

// UpperASCII is c in upper case when it is an ASCII letter, else c. It is
// also the folded form of an ASCII byte (see AppendFolded).
func UpperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// FoldRune returns the smallest rune of r's case-folding orbit
// (unicode.SimpleFold), as encoding/json and strings.EqualFold fold: ASCII
// letters fold to upper case, the Kelvin sign to K and the long s to S.
func FoldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// AppendFolded appends the case-folded form of s to dst: each rune replaced
// by FoldRune of it, an invalid byte by U+FFFD as strings.EqualFold reads it.
// Two strings are equal under strings.EqualFold exactly when their folded
// forms are equal. It reports false when the folded form would exceed limit
// bytes (limit < 0: no limit), so that it never grows dst beyond limit.
func AppendFolded(dst, s []byte, limit int) ([]byte, bool) {
	end := math.MaxInt // one comparison per byte, limit or none
	if limit >= 0 {
		end = len(dst) + limit
	}
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if len(dst) >= end {
				return nil, false
			}
			dst = append(dst, UpperASCII(c)) // an ASCII letter's orbit starts with its upper case
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		r = FoldRune(r)
		i += size
		if len(dst) > end-utf8.UTFMax && len(dst) > end-utf8.RuneLen(r) { // RuneLen only near the end
			return nil, false
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst, true
}
