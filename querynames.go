package scopedtoken

import (
	"unicode/utf8"
	"unsafe"

	"github.com/scopedtoken/scopedtoken/internal/chars"
	"github.com/scopedtoken/scopedtoken/internal/sizeclass"
)

// Finding the bound parameter a request's pair names costs one decoding of
// the name into scratch and at most two lookups in a map built once per
// verified token, so
// that binding stays linear in the query's length whatever the number of bound
// names, and allocates nothing per pair.
//
// Besides the exact name, the lookup recognises a case variant: a name equal
// to a bound one under Unicode case folding (strings.EqualFold) but not byte
// for byte. Binders such as echo's fall back to such a match when the exact
// name is absent, and gorilla/schema-style decoders match names that way
// always, so a variant could carry a value the token does not grant.

// nameSlot is what one key of boundQuery.byName stands for: the exact name
// of the bound parameter at index (-1 for none), and whether it is the
// case-folded form of some bound name.
type nameSlot struct {
	index  int
	folded bool
}

// smallIndex is the most names that are looked up by scanning q.folded
// rather than through the q.byName map: a few string compares cost less than
// a map, both to build (once per token) and to ask.
const smallIndex = 4

// appendFoldedIfDifferent appends the case-folded form of name to dst
// unless it is name itself.
func appendFoldedIfDifferent(dst []byte, name string) []byte {
	start := len(dst)
	dst, _ = chars.AppendFolded(dst, []byte(name), -1)
	if string(dst[start:]) == name {
		return dst[:start]
	}
	return dst
}

// indexNames builds q.folded, q.byName (above smallIndex names), q.maxFolded
// and q.firsts from q.names. tail holds, in order, the folded forms of the
// names that differ from them (see appendFoldedIfDifferent), and
// foldedLens[i] is the length of q.names[i]'s there (0: none); q.folded
// shares tail's memory, which the caller accounts. It returns the heap
// bytes of q.folded and q.byName, for the cache's byte bound.
func (q *boundQuery) indexNames(tail string, foldedLens []int) (heap int) {
	q.folded = q.foldedBuf[:0]
	if len(q.names) > len(q.foldedBuf) {
		q.folded = make([]string, 0, len(q.names))
		heap = sizeclass.Object(len(q.names) * int(unsafe.Sizeof("")))
	}
	for i, name := range q.names {
		f := name // share the claim's string when it is already folded
		if n := foldedLens[i]; n > 0 {
			f, tail = tail[:n], tail[n:]
		}
		q.folded = append(q.folded, f)
		q.maxFolded = max(q.maxFolded, len(f))
		q.firsts.add(f[0])
	}
	if len(q.names) <= smallIndex {
		return heap
	}
	q.byName = make(map[string]nameSlot, 2*len(q.names))
	heap += sizeclass.Map(2*len(q.names), int(unsafe.Sizeof("")+unsafe.Sizeof(nameSlot{})))
	for i, name := range q.names {
		q.byName[name] = nameSlot{index: i} // names are distinct: the JSON has no duplicate member
	}
	for _, f := range q.folded {
		slot, ok := q.byName[f]
		if !ok {
			slot.index = -1
		}
		slot.folded = true
		q.byName[f] = slot
	}
	return heap
}

// exact returns the position of the bound parameter named name, or -1. The
// name is bytes because the request path decodes names into scratch memory:
// string(name) is only compared, never copied.
func (q *boundQuery) exact(name []byte) int {
	if q.byName != nil {
		if slot, ok := q.byName[string(name)]; ok {
			return slot.index
		}
		return -1
	}
	for i, n := range q.names {
		if n == string(name) {
			return i
		}
	}
	return -1
}

// isFolded reports whether f is the folded form of a bound name.
func (q *boundQuery) isFolded(f []byte) bool {
	if q.byName != nil {
		return q.byName[string(f)].folded
	}
	for _, g := range q.folded {
		if g == string(f) {
			return true
		}
	}
	return false
}

// scratchLen is the scratch lookup needs: room for a name decoded up to the
// longest that can fold to a bound name, then for its folded form.
func (q *boundQuery) scratchLen() int {
	return q.maxRaw() + q.maxFolded
}

// maxRaw bounds the decoded length of a name that folds to at most maxFolded
// bytes: every rune (or invalid byte) of at most utf8.UTFMax bytes folds to
// at least one byte. A longer name cannot match, even exactly.
func (q *boundQuery) maxRaw() int { return utf8.UTFMax * q.maxFolded }

// lookup finds the bound parameter the query-escaped name (escapes already
// validated) decodes to: its position, or -1. variant reports a name that is
// not a bound one but equals one under case folding. scratch has at least
// scratchLen bytes.
func (q *boundQuery) lookup(escapedName string, scratch []byte) (i int, variant bool) {
	// Most of a request's names start with an ASCII byte that no bound name's
	// folded form starts with: such a name is neither bound nor a variant,
	// since an ASCII byte folds to one ASCII byte (its upper case).
	if escapedName == "" {
		return -1, false
	}
	if c := firstUnescaped(escapedName); c < utf8.RuneSelf && !q.firsts.has(chars.UpperASCII(c)) {
		return -1, false
	}
	maxRaw := q.maxRaw()
	raw, ok := unescapeInto(scratch[:maxRaw], escapedName)
	if !ok {
		return -1, false
	}
	if i := q.exact(raw); i >= 0 {
		return i, false
	}
	folded, ok := chars.AppendFolded(scratch[maxRaw:maxRaw], raw, q.maxFolded)
	if !ok {
		return -1, false
	}
	return -1, q.isFolded(folded)
}

// asciiSet is a set of bytes below utf8.RuneSelf.
type asciiSet [2]uint64

func (s *asciiSet) add(c byte) {
	if c < utf8.RuneSelf {
		s[c/64] |= 1 << (c % 64)
	}
}

func (s *asciiSet) has(c byte) bool { return c < utf8.RuneSelf && s[c/64]&(1<<(c%64)) != 0 }

// firstUnescaped is the first byte that the query-escaped, non-empty s
// (escapes validated) decodes to.
func firstUnescaped(s string) byte {
	switch s[0] {
	case '+':
		return ' '
	case '%':
		return chars.Unhex(s[1])<<4 | chars.Unhex(s[2])
	}
	return s[0]
}
