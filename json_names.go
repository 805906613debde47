package scopedtoken

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// This file is the JSON scanner's check of member names: no object may repeat
// a name, or (unless the scan compares names exactly) have two names that
// encoding/json's case-insensitive matching of struct fields takes for the
// same, so that a struct decoder can never read a value the package did not.

// smallNames is how many members an object may have before its names are
// looked up in a map rather than compared in turn.
const smallNames = 32

// seenName is a member name of an object being read: its fingerprint (see
// nameSig), and where its unescaped bytes are: in data at at, or when at is
// negative in the arena at ^at. It holds no pointer, so that keeping names
// costs no write barrier and a pooled list of them keeps no token alive.
type seenName struct {
	sig     uint64
	at, len int
}

// maxSigClashes is how many pairs of different names of one object may share
// a fingerprint before the object's names move to a map, so that names
// written to clash cost a few comparisons, not one per pair. A scan bounded
// by maxValues (at most smallNames) is exempt: its pairs are few anyway, and
// it must not allocate.
const maxSigClashes = 4

// readName reads a member name like readString, and also says where it is
// for seenName.
func (s *scanner) readName() (name []byte, at int) {
	raw, escaped := s.scanString()
	if !escaped {
		return raw, s.pos - 1 - len(raw) // the body ends at the closing quote
	}
	at = ^len(s.arena)
	return s.unescape(raw), at
}

func (s *scanner) nameOf(n seenName) []byte {
	if n.at < 0 {
		return s.arena[^n.at : ^n.at+n.len]
	}
	return s.data[n.at : n.at+n.len]
}

// add finds a second spelling of a name of the object: the same bytes
// (jsonDuplicate) or, unless the scanner compares names exactly, a name that
// encoding/json's case folding takes for the same (jsonAmbiguous), which would
// let one of two values silently win when the claims are decoded into a
// struct. Objects of up to smallNames members, which is every real token, are
// checked without allocating: each name gets a fingerprint of its folded form,
// and only names with equal fingerprints are compared. An object with more
// members, or whose different names share fingerprints more than
// maxSigClashes times, moves to a map keyed by the folded name itself (whose
// hash is seeded per process), so that the check stays linear whatever the
// names.
func (it *objectIter) add(s *scanner, name []byte, at int) jsonError {
	fold := !s.exactNames
	if it.big == nil {
		sig := nameSig(name, fold)
		seen := s.names[it.start:]
		for i := range seen {
			if seen[i].sig == sig {
				if e := compareNames(s.nameOf(seen[i]), name, fold); e != jsonOK {
					return e
				}
				it.clashes++
			}
		}
		// A bounded scan (a header, read before its signature is checked)
		// holds at most smallNames names: it never needs the map, and must
		// not allocate one whatever names it is sent.
		if len(seen) < smallNames && (it.clashes <= maxSigClashes || s.maxValues > 0) {
			s.names = append(s.names, seenName{sig: sig, at: at, len: len(name)})
			return jsonOK
		}
		it.big = make(map[string][]byte, 2*smallNames)
		for _, n := range seen {
			it.big[string(nameKey(nil, s.nameOf(n), fold))] = s.nameOf(n)
		}
		s.names = s.names[:it.start]
	}
	var buf [64]byte
	key := nameKey(buf[:0], name, fold)
	if seen, ok := it.big[string(key)]; ok {
		return compareNames(seen, name, fold)
	}
	it.big[string(key)] = name
	return jsonOK
}

// compareNames tells whether b repeats a: exactly, or under folding.
func compareNames(a, b []byte, fold bool) jsonError {
	switch {
	case bytes.Equal(a, b):
		return jsonDuplicate
	case fold && bytes.EqualFold(a, b): // the same relation as encoding/json's foldName
		return jsonAmbiguous
	}
	return jsonOK
}

// nameKey is what names are compared by: name itself, or when fold is set its
// folded form appended to dst, as encoding/json folds member names: ASCII
// letters to upper case and every other rune to the smallest of its case
// orbit. Two names get the same key exactly when compareNames reports them.
func nameKey(dst, name []byte, fold bool) []byte {
	if !fold {
		return name
	}
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(name[i:])
		dst = utf8.AppendRune(dst, foldRune(r))
		i += size
	}
	return dst
}

// nameSig is a fingerprint of name's key (see nameKey): its length and its
// first and last bytes. Two names with the same key have the same
// fingerprint, so names with different fingerprints need no comparison. It
// reads an ASCII name without building its key.
func nameSig(name []byte, fold bool) uint64 {
	key := name
	if fold {
		for _, c := range name {
			if c >= utf8.RuneSelf {
				var buf [64]byte
				key = nameKey(buf[:0], name, true)
				break
			}
		}
	}
	if len(key) == 0 {
		return 0
	}
	first, last := key[0], key[len(key)-1]
	if fold { // an ASCII name's key is its upper case; a folded key's bytes are unchanged
		first, last = upperASCII(first), upperASCII(last)
	}
	return uint64(len(key))<<16 | uint64(first)<<8 | uint64(last)
}

// foldRune returns the smallest rune of r's case-folding orbit, as
// encoding/json does: ASCII letters fold to upper case, the Kelvin sign to K
// and the long s to S.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// foldsTo reports whether name differs from one of the registered names only in
// the way encoding/json's case folding would ignore (including the Kelvin sign
// and long s), which would let a second spelling slip past a struct decoder.
func foldsTo(name []byte, registered []string) bool {
	for _, r := range registered {
		if len(name) >= len(r) && len(name) <= len(r)*3 && string(name) != r && bytes.EqualFold(name, []byte(r)) {
			return true
		}
	}
	return false
}
