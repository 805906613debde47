package scopedtoken

import (
	"net/url"
	"slices"
	"strings"

	"github.com/scopedtoken/scopedtoken/internal/chars"
	"github.com/scopedtoken/scopedtoken/internal/sizeclass"
)

// This file precomputes, once per verified token, the query claim's URL
// encoding and its names' case-folded forms, which binding the claim to a
// request needs (see rewriteQuery and indexNames). Both are a function of the
// claim's JSON text alone, and every token one client is issued for one
// experience carries the same claim: the middleware remembers them for a few
// claim texts (jose.Memo, like the headers), so that a cache miss on such a
// token neither builds nor allocates them again.

// queryEncoding is what encodeQuery builds from a query claim.
type queryEncoding struct {
	both       string // the encoding, then the names' folded forms that differ from the names
	encLen     int    // the encoding is both[:encLen]
	foldedLens []int  // per name, the length of its folded form in both[encLen:] (0: the name itself)
}

// maxMemoQuery is the longest encoding (with the folded names) the
// middleware remembers: jose.MaxHeaderMemo of them hold at most 4 KiB.
const maxMemoQuery = 256

// encodeQuery sets q.encoded and q's index of names (indexNames) from q's
// names and values, which the claim's JSON text raw holds; src, when not
// empty, is the payload that raw was read from at offset at. It returns the
// heap that the encoding costs q (none when the memo holds it) and the
// index's.
func (m *Middleware) encodeQuery(q *boundQuery, raw []byte, src string, at int) (encHeap, indexBytes int) {
	if qe, ok := m.queries.Get(raw); ok {
		q.encoded = qe.both[:qe.encLen]
		return 0, q.indexNames(qe.both[qe.encLen:], qe.foldedLens)
	}
	n := 0
	for i, name := range q.names {
		for _, val := range q.values[i] {
			n += len(name) + len(val) + 2
		}
	}
	// The names' case-folded forms that differ from them follow the
	// encoding in the same string (see indexNames).
	var fb [128]byte
	var lb [smallIndex]int
	folded, foldedLens := fb[:0], lb[:0]
	for _, name := range q.names {
		start := len(folded)
		folded = appendFoldedIfDifferent(folded, name)
		foldedLens = append(foldedLens, len(folded)-start)
	}
	var enc strings.Builder
	enc.Grow(n + len(folded)) // exact unless something needs escaping
	for i, name := range q.names {
		for _, val := range q.values[i] {
			if enc.Len() > 0 {
				enc.WriteByte('&')
			}
			enc.WriteString(queryEscape(name))
			enc.WriteByte('=')
			enc.WriteString(queryEscape(val))
		}
	}
	encLen := enc.Len()
	enc.Write(folded)
	both := enc.String()
	q.encoded = both[:encLen]
	indexBytes = q.indexNames(both[encLen:], foldedLens)
	if src != "" && len(both) <= maxMemoQuery &&
		m.queries.Put(src[at:at+len(raw)], queryEncoding{both: both, encLen: encLen, foldedLens: slices.Clone(foldedLens)}) {
		return 0, indexBytes // the memo holds it, for as long as the middleware lives
	}
	return sizeclass.String(enc.Cap()), indexBytes
}

// queryEscape is url.QueryEscape, without its byte-by-byte pass over the
// usual name or value that needs no escaping.
func queryEscape(s string) string {
	if chars.Span(s, chars.QueryPlain) == len(s) {
		return s
	}
	return url.QueryEscape(s)
}
