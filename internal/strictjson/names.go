package strictjson

import (
	"bytes"
	"unicode/utf8"

	"github.com/scopedtoken/scopedtoken/internal/chars"
)

// This file is the scanner's check of member names: no object may repeat
// a name, or (unless the scan compares names exactly) have two names that
// encoding/json's case-insensitive matching of struct fields takes for the
// same, so that a struct decoder can never read a value the package did not.

// SmallNames is how many members an object may have before its names are
// looked up in a map rather than compared in turn.
const SmallNames = 32

// Name is a member name of an object being read: its fingerprint (see
// nameSig), and where its unescaped bytes are: in Data at at, or when at is
// negative in the Arena at ^at. It holds no pointer, so that keeping names
// costs no write barrier and a pooled list of them keeps no token alive.
type Name struct {
	sig     uint64
	at, len int
}

// maxSigClashes is how many pairs of different names of one object may share
// a fingerprint before the object's names move to a map, so that names
// written to clash cost a few comparisons, not one per pair. A scan bounded
// by MaxValues (at most SmallNames) is exempt: its pairs are few anyway, and
// it must not allocate.
const maxSigClashes = 4

// readName reads a member name like ReadString, and also says where it is
// for Name.
func (s *Scanner) readName() (name []byte, at int) {
	raw, escaped := s.scanString()
	if !escaped {
		return raw, s.pos - 1 - len(raw) // the body ends at the closing quote
	}
	at = ^len(s.Arena)
	return s.unescape(raw), at
}

func (s *Scanner) nameOf(n Name) []byte {
	if n.at < 0 {
		return s.Arena[^n.at : ^n.at+n.len]
	}
	return s.Data[n.at : n.at+n.len]
}

// add finds a second spelling of a name of the object: the same bytes
// (Duplicate) or, unless the Scanner compares names exactly, a name that
// encoding/json's case folding takes for the same (Ambiguous), which would
// let one of two values silently win when the claims are decoded into a
// struct. Objects of up to SmallNames members, which is every real token, are
// checked without allocating: each name gets a fingerprint of its folded form,
// and only names with equal fingerprints are compared. An object with more
// members, or whose different names share fingerprints more than
// maxSigClashes times, moves to a map keyed by the folded name itself (whose
// hash is seeded per process), so that the check stays linear whatever the
// names.
func (it *Object) add(s *Scanner, name []byte, at int) Error {
	return it.addSig(s, name, at, nameSig(name, !s.ExactNames))
}

// addSig is add for a name whose fingerprint, nameSig(name, !s.ExactNames),
// the caller has already computed.
func (it *Object) addSig(s *Scanner, name []byte, at int, sig uint64) Error {
	fold := !s.ExactNames
	if it.big == nil {
		seen := s.Names[it.start:]
		for i := range seen {
			if seen[i].sig == sig {
				if e := compareNames(s.nameOf(seen[i]), name, fold); e != OK {
					return e
				}
				it.clashes++
			}
		}
		// A bounded scan (a header, read before its signature is checked)
		// holds at most SmallNames names: it never needs the map, and must
		// not allocate one whatever names it is sent.
		if len(seen) < SmallNames && (it.clashes <= maxSigClashes || s.MaxValues > 0) {
			s.Names = append(s.Names, Name{sig: sig, at: at, len: len(name)})
			return OK
		}
		it.big = make(map[string][]byte, 2*SmallNames)
		for _, n := range seen {
			it.big[string(nameKey(nil, s.nameOf(n), fold))] = s.nameOf(n)
		}
		s.Names = s.Names[:it.start]
	}
	var buf [64]byte
	key := nameKey(buf[:0], name, fold)
	if seen, ok := it.big[string(key)]; ok {
		return compareNames(seen, name, fold)
	}
	it.big[string(key)] = name
	return OK
}

// compareNames tells whether b repeats a: exactly, or under folding.
func compareNames(a, b []byte, fold bool) Error {
	switch {
	case bytes.Equal(a, b):
		return Duplicate
	case fold && bytes.EqualFold(a, b): // the same relation as encoding/json's foldName
		return Ambiguous
	}
	return OK
}

// nameKey is what names are compared by: name itself, or when fold is set its
// folded form appended to dst (chars.AppendFolded), as encoding/json folds
// member names. Two names get the same key exactly when compareNames reports
// them.
func nameKey(dst, name []byte, fold bool) []byte {
	if !fold {
		return name
	}
	dst, _ = chars.AppendFolded(dst, name, -1)
	return dst
}

// nameSig is a fingerprint of name's key (see nameKey): its length and its
// first and last bytes. Two names with the same key have the same
// fingerprint, so names with different fingerprints need no comparison. It
// reads an ASCII name without building its key.
func nameSig(name []byte, fold bool) uint64 {
	if fold {
		for _, c := range name {
			if c >= utf8.RuneSelf {
				return foldedSig(name)
			}
		}
	}
	// An ASCII name's key is its upper case (which plainSig takes of the
	// two bytes it reads).
	return plainSig(name, fold)
}

// foldedSig is nameSig of a name that is not all ASCII, taken of its folded
// key, whose bytes upper-casing leaves unchanged. The key is built on the
// stack (a name that folds to more than 64 bytes grows it on the heap).
func foldedSig(name []byte) uint64 {
	var buf [64]byte
	return plainSig(nameKey(buf[:0], name, true), true)
}

// FoldsTo reports whether name differs from one of the registered names only
// in the way encoding/json's case folding would ignore (including the Kelvin sign
// and long s), which would let a second spelling slip past a struct decoder.
func FoldsTo(name []byte, registered []string) bool {
	for _, r := range registered {
		if len(name) >= len(r) && len(name) <= len(r)*3 && string(name) != r && bytes.EqualFold(name, []byte(r)) {
			return true
		}
	}
	return false
}
