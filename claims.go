package scopedtoken

import (
	"math"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/scopedtoken/scopedtoken/internal/jose"
	"github.com/scopedtoken/scopedtoken/internal/sizeclass"
	"github.com/scopedtoken/scopedtoken/internal/strictjson"
)

// maxUnixSeconds is 9999-12-31T23:59:59Z, the latest instant a date claim may name.
const maxUnixSeconds = 253402300799

// numericDate is a JWT NumericDate with its fraction kept to the nanosecond.
type numericDate struct {
	sec  int64
	nsec int32 // below 1e9
	set  bool
}

func (d numericDate) time() time.Time {
	if !d.set {
		return time.Time{}
	}
	return time.Unix(d.sec, int64(d.nsec))
}

// verified is what a verified token says, shared read-only between every
// request that presents the same token (through the cache). Requests get their
// own copy as *Token.
type verified struct {
	key           *VerificationKey
	exp, nbf, iat numericDate
	aud           []audEntry
	query         boundQuery
	iss, sub, jti string
	claims        string // the payload, for Token.DecodeClaims; the claims' strings are substrings of it
	size          int    // heap bytes held, for the cache's byte bound (when there is a cache)

	jkt  *string                        // cnf.jkt, nil when unbound (docs/dpop.md); a pointer keeps the struct in its size class
	once bool                           // the single-use claim is true
	rev  atomic.Pointer[revocationInfo] // set on the first revocation check

	// Room for the usual single aud entry, so that parsing it allocates
	// only its string.
	audBuf [1]audEntry
}

// boundQuery is the query claim, in claim order, with its URL encoding
// precomputed so that binding it costs nothing per request.
type boundQuery struct {
	names   []string
	values  [][]string
	encoded string // name=value&... in claim order, query-escaped

	// Built once per token by indexNames: each name and each name's
	// case-folded form, and the longest folded form's length.
	folded    []string // each name's case-folded form (the name itself when already folded)
	foldedBuf [1]string
	byName    map[string]nameSlot // above smallIndex names only
	maxFolded int
	firsts    asciiSet // the first bytes of the folded names that are ASCII

	// Room for the usual claim of one name and one value, so that parsing
	// it allocates only its encoding. Room for a second name would cost
	// every cache miss 72 bytes of a larger entry, and the collector's work
	// for them, that one-name tokens do not use (BENCHMARKS.md).
	namesBuf  [1]string
	valuesBuf [1][]string
	valueBuf  [1]string
}

// parseClaims reads the verified payload: strict JSON, no duplicate or
// case-variant names (of the registered claims, and of any two names of one
// object at any depth), typed date claims, a well-formed aud and query, string
// iss/sub/jti. Everything else is kept in claims for the application.
func (m *Middleware) parseClaims(key *VerificationKey, payload string) (*verified, *Error) {
	v := &verified{key: key, claims: payload, size: len(payload)}
	queryHeap := 0
	v.aud = v.audBuf[:0]
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.raw = append(sc.raw[:0], payload...)
	s := strictjson.Scanner{Data: sc.raw, Src: payload, Names: sc.names[:0]}
	var it strictjson.Object
	hasAud := false
	if !it.Begin(&s) {
		return nil, errMalformedToken
	}
	for {
		// One pass over each member: the name is scanned, fingerprinted and
		// checked against the object's other names by Member, dispatched on
		// its fingerprint by claimOf, and its value read by the claim's own
		// parser (docs/security.md, "Strict JSON").
		sig, ok := it.Member(&s)
		if !ok {
			break
		}
		var e *Error
		switch claimOf(sig, it.Name) {
		case claimAud:
			hasAud = true
			e = m.parseAudience(&s, v)
		case claimExp:
			v.exp, e = parseDate(&s)
		case claimNbf:
			v.nbf, e = parseDate(&s)
		case claimIat:
			v.iat, e = parseDate(&s)
		case claimQuery:
			queryHeap, e = m.parseQueryClaim(&s, &v.query)
		case claimIss:
			v.iss, e = parseStringClaim(&s)
		case claimSub:
			v.sub, e = parseStringClaim(&s)
		case claimJti:
			v.jti, e = parseStringClaim(&s)
		case claimOnce:
			v.once, e = parseSingleUse(&s)
		case claimCnf:
			v.jkt, e = parseConfirmation(&s)
		case claimFolded: // a spelling encoding/json would read as a registered claim
			return nil, errAmbiguousMember
		default:
			s.SkipValue()
		}
		if e != nil {
			return nil, e
		}
	}
	if e := m.claimsComplete(&s, v, hasAud); e != nil {
		return nil, e
	}
	if m.cache != nil {
		v.size = v.heapBytes() + queryHeap + s.Copied()
	}
	return v, nil
}

// claimsComplete is the refusal, or nil, of claims read to their end by s
// into v: nothing may follow the object, aud is required, and exp unless the
// configuration allows its absence.
func (m *Middleware) claimsComplete(s *strictjson.Scanner, v *verified, hasAud bool) *Error {
	if e := refusal(jose.FaultOf(s.Finish())); e != nil {
		return e
	}
	if !hasAud {
		return errBadAudience
	}
	if !v.exp.set && !m.allowMissingExp {
		return errMissingExp
	}
	return nil
}

// heapBytes is the heap that v holds on its own, computed once when v is
// built: the struct, the payload, the strings parsed out of it and the arrays
// that outgrew the struct's inline room. It mirrors how parseClaims
// allocates; a test measures it against the heap.
func (v *verified) heapBytes() int {
	n := sizeclass.Object(int(unsafe.Sizeof(*v))) + sizeclass.String(len(v.claims))
	if cap(v.aud) > len(v.audBuf) {
		n += sizeclass.Object(cap(v.aud) * int(unsafe.Sizeof(audEntry{})))
	}
	if v.jkt != nil {
		n += sizeclass.Object(int(unsafe.Sizeof("")))
	}
	// The strings read out of the claims are substrings of them, or were
	// copied and counted by the scanner; the query claim's own heap is
	// counted by parseQueryClaim (see parseClaims).
	return n
}

func parseStringClaim(s *strictjson.Scanner) (string, *Error) {
	if s.Peek() != '"' {
		return "", errInvalidClaims
	}
	t := s.ReadText()
	if s.Err() != strictjson.OK {
		return "", errMalformedToken
	}
	return t, nil
}

// parseDate reads a NumericDate: a JSON number, fractions allowed, between 0
// and the end of year 9999. A string, null or any other type is invalid.
func parseDate(s *strictjson.Scanner) (numericDate, *Error) {
	c := s.Peek()
	if c != '-' && (c < '0' || c > '9') {
		return numericDate{}, errInvalidClaims
	}
	num := s.ReadNumber()
	if s.Err() != strictjson.OK {
		return numericDate{}, errMalformedToken
	}
	d, ok := numericDateOf(num)
	if !ok {
		return numericDate{}, errInvalidClaims
	}
	return d, nil
}

func numericDateOf(num []byte) (numericDate, bool) {
	if num[0] == '-' {
		return numericDate{}, false
	}
	for _, c := range num {
		if c == 'e' || c == 'E' {
			// Exponent form is rare; the float path is exact enough for seconds.
			f, err := strconv.ParseFloat(string(num), 64)
			if err != nil || f < 0 || f > maxUnixSeconds {
				return numericDate{}, false
			}
			sec, frac := math.Modf(f)
			return numericDate{sec: int64(sec), nsec: int32(frac * 1e9), set: true}, true
		}
	}
	i := 0
	var sec int64
	for ; i < len(num) && num[i] != '.'; i++ {
		sec = sec*10 + int64(num[i]-'0')
		if sec > maxUnixSeconds {
			return numericDate{}, false
		}
	}
	var nsec int64
	if i < len(num) {
		scale := int64(1e8)
		for _, c := range num[i+1:] {
			nsec += int64(c-'0') * scale
			scale /= 10
		}
	}
	if sec == maxUnixSeconds && nsec > 0 {
		return numericDate{}, false
	}
	return numericDate{sec: sec, nsec: int32(nsec), set: true}, true
}

// parseAudience reads aud: one string, or a non-empty array of strings, each
// a path of the audience grammar (docs/security.md). Any malformed entry invalidates the token.
func (m *Middleware) parseAudience(s *strictjson.Scanner, v *verified) *Error {
	add := func(t string) *Error {
		entry, ok := parseAudEntry(m.prefix, t)
		if !ok {
			return errBadAudience
		}
		v.aud = append(v.aud, entry)
		return nil
	}
	switch s.Peek() {
	case '"':
		t := s.ReadText()
		if s.Err() != strictjson.OK {
			return errMalformedToken
		}
		return add(t)
	case '[':
		var it strictjson.Array
		it.Begin(s)
		for it.Next(s) {
			if s.Peek() != '"' {
				return errBadAudience
			}
			t := s.ReadText()
			if s.Err() != strictjson.OK {
				return errMalformedToken
			}
			if e := add(t); e != nil {
				return e
			}
		}
		if s.Err() != strictjson.OK {
			return errMalformedToken
		}
		if len(v.aud) == 0 {
			return errBadAudience
		}
		return nil
	}
	return errBadAudience
}

// parseQueryClaim reads the query object: each value a string, number or
// boolean (kept as its JSON text), or a non-empty array of those; no null, no
// nesting, names non-empty, and at most the configured counts. heap is the
// heap q holds (when there is a cache; see boundQuery.heapBytes).
func (m *Middleware) parseQueryClaim(s *strictjson.Scanner, q *boundQuery) (heap int, e *Error) {
	if s.Peek() != '{' {
		return 0, errBadQueryClaim
	}
	rawStart := s.Offset() // where the claim's text starts, for encodeQuery
	var it strictjson.Object
	it.Begin(s)
	q.names, q.values = q.namesBuf[:0], q.valuesBuf[:0]
	all := q.valueBuf[:0] // every value; each parameter's are a capped slice of it
	for {
		if _, ok := it.Member(s); !ok { // the fused read (strictjson.Object.Member)
			break
		}
		if len(it.Name) == 0 || len(q.names) == m.maxQueryParams {
			return 0, errBadQueryClaim
		}
		name := s.Text(it.Name, it.At)
		start := len(all)
		if s.Peek() == '[' {
			var ai strictjson.Array
			ai.Begin(s)
			for ai.Next(s) {
				val, e := readQueryScalar(s)
				if e != nil {
					return 0, e
				}
				all = append(all, val)
			}
			if s.Err() == strictjson.OK && len(all) == start {
				return 0, errBadQueryClaim
			}
		} else {
			val, e := readQueryScalar(s)
			if e != nil {
				return 0, e
			}
			all = append(all, val)
		}
		if s.Err() != strictjson.OK {
			break
		}
		vals := all[start:len(all):len(all)]
		if len(all) > m.maxQueryValues {
			return 0, errBadQueryClaim
		}
		q.names = append(q.names, name)
		q.values = append(q.values, vals)
	}
	if e := refusal(jose.FaultOf(s.Err())); e != nil {
		return 0, e
	}
	// Point every parameter's values into the final array of all values, so
	// that the arrays outgrown while parsing are not kept alive.
	off := 0
	for i, vals := range q.values {
		end := off + len(vals)
		q.values[i] = all[off:end:end]
		off = end
	}
	encHeap, indexBytes := m.encodeQuery(q, s.Data[rawStart:s.Offset()], s.Src, rawStart)
	if m.cache != nil {
		heap = q.heapBytes(cap(all), encHeap, indexBytes)
	}
	return heap, nil
}

// heapBytes is the heap that q holds, for verified.heapBytes: the arrays
// that outgrew the inline room (valuesCap is the capacity of the array of
// every value), the encoding (encodedHeap, see encodeQuery) and the index
// (indexBytes, see indexNames). Its names and values are counted by the
// scanner that read them.
func (q *boundQuery) heapBytes(valuesCap, encodedHeap, indexBytes int) int {
	n := encodedHeap + indexBytes
	if valuesCap > len(q.valueBuf) {
		n += sizeclass.Object(valuesCap * int(unsafe.Sizeof("")))
	}
	if cap(q.names) > len(q.namesBuf) {
		n += sizeclass.Object(cap(q.names) * int(unsafe.Sizeof("")))
	}
	if cap(q.values) > len(q.valuesBuf) {
		n += sizeclass.Object(cap(q.values) * int(unsafe.Sizeof([]string(nil))))
	}
	return n
}

func readQueryScalar(s *strictjson.Scanner) (string, *Error) {
	switch c := s.Peek(); {
	case c == '"':
		return s.ReadText(), nil
	case c == 't' || c == 'f':
		return s.ValueText(s.SkipValue()), nil
	case c == '-' || c >= '0' && c <= '9':
		return s.ValueText(s.ReadNumber()), nil
	}
	return "", errBadQueryClaim
}
