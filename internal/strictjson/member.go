package strictjson

import "github.com/scopedtoken/scopedtoken/internal/chars"

// This file is the fused member read of the claims parser: Object.Member
// does what Object.Next does, in one pass over the member name that also
// yields its fingerprint, so that a caller can dispatch on registered names
// by the fingerprint instead of comparing the name once more. Next stays
// the reference reading; the fuzzers compare the two and encoding/json.

// Sig is the fingerprint Object.Member returns for a name that a scan
// without ExactNames reads: its case-folded length and first and last bytes.
// Two names that encoding/json's case folding merges have the same Sig, so a
// name whose Sig is none of the registered names' cannot be a spelling of
// one.
func Sig(name string) uint64 { return nameSig([]byte(name), true) }

// Member moves to the next member like Next, and also returns the name's
// fingerprint (see Sig; with ExactNames, of the name as written). A name
// of plain ASCII bytes, which is every name of a real token, is read in one
// pass that scans it, takes its fingerprint and finds the colon; any other
// name (escapes, non-ASCII bytes, bad bytes, the end of the data) takes the
// reference way of Next, so both refuse and accept exactly the same input.
func (it *Object) Member(s *Scanner) (sig uint64, ok bool) {
	if s.err != OK {
		return 0, false
	}
	d := s.Data
	i := skipSpaceAt(d, s.pos)
	if i < len(d) && d[i] == '}' {
		s.pos = i + 1
		s.depth--
		s.Names = s.Names[:it.start]
		return 0, false
	}
	if !it.first {
		if i >= len(d) || d[i] != ',' {
			s.pos = i
			s.fail(Syntax)
			return 0, false
		}
		i = skipSpaceAt(d, i+1)
	}
	it.first = false
	if i >= len(d) || d[i] != '"' {
		s.pos = i
		s.fail(Syntax) // also a trailing comma
		return 0, false
	}
	start := i + 1
	j := start
	for j < len(d) && jsonPlain[d[j]] {
		j++
	}
	if j < len(d) && d[j] == '"' {
		// Plain ASCII and no escapes: the name is its key's bytes (upper
		// cased when folding, see nameSig).
		it.Name, it.At = d[start:j:j], start
		sig = plainSig(it.Name, !s.ExactNames)
		s.pos = j + 1
	} else {
		s.pos = i
		it.Name, it.At = s.readName()
		if s.err != OK {
			return 0, false
		}
		sig = nameSig(it.Name, !s.ExactNames)
	}
	if k := skipSpaceAt(d, s.pos); k < len(d) && d[k] == ':' {
		s.pos = k + 1
	} else {
		s.pos = k
		s.fail(Syntax)
		return 0, false
	}
	if !s.countValue() {
		return 0, false
	}
	if e := it.addSig(s, it.Name, it.At, sig); e != OK {
		s.fail(e)
		return 0, false
	}
	return sig, true
}

// plainSig is nameSig of a name of ASCII bytes only.
func plainSig(name []byte, fold bool) uint64 {
	if len(name) == 0 {
		return 0
	}
	first, last := name[0], name[len(name)-1]
	if fold {
		first, last = chars.UpperASCII(first), chars.UpperASCII(last)
	}
	return uint64(len(name))<<16 | uint64(first)<<8 | uint64(last)
}

// skipSpaceAt returns the index of the first byte of d at or after i that is
// not JSON white space.
func skipSpaceAt(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}
