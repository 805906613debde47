package scopedtoken

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestScanStringEveryByte: scanString, which skips runs of plain bytes with
// one table lookup each, reads what encoding/json reads and refuses what it
// refuses, and also invalid UTF-8: every byte value at every position of
// bodies around the run loop's boundaries, every pair of bytes (escapes,
// multi-byte runes and their truncations, control bytes, DEL), each also
// without its closing quote, so that the data ends inside the string.
func TestScanStringEveryByte(t *testing.T) {
	check := func(data string) {
		s := scanner{data: []byte(data)}
		got := s.readString()
		accepted := s.err == jsonOK && s.atEnd()
		// encoding/json reads a lone surrogate escape as U+FFFD, which no
		// body here holds otherwise.
		var theirs string
		valid := json.Unmarshal([]byte(data), &theirs) == nil
		want := valid && utf8.ValidString(data) && !strings.ContainsRune(theirs, utf8.RuneError)
		if accepted != want {
			t.Fatalf("scanner accepts %q: %v, want %v", data, accepted, want)
		}
		if accepted && theirs != string(got) {
			t.Fatalf("scanner read %q as %q, encoding/json as %q", data, got, theirs)
		}
	}
	for b := range 256 {
		for n := range 10 {
			for at := range n {
				body := []byte(strings.Repeat("a", n))
				body[at] = byte(b)
				check(`"` + string(body) + `"`)
				check(`"` + string(body))
			}
		}
		for c := range 256 {
			pair := string([]byte{byte(b), byte(c)})
			check(`"` + pair + `"`)
			check(`"` + pair)
			check(`"\` + pair + `"`)
		}
	}
	for _, body := range []string{`\`, `\u`, `\u0`, `\u00`, `\u004`, `\u0041`, `\ud83d`, `\ud83d\`, `\ud83d\u`, `\ud83d\ude0`,
		`\ud83d\ude00`, `\ude00`, "\xf0\x9f\x98", "\xf0\x9f\x98\x80", "\xe2\x84", "\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80"} {
		check(`"` + body + `"`)
		check(`"` + body)
		check(`"aaaa` + body)
	}
}
