package scopedtoken

import (
	"strings"

	"github.com/scopedtoken/scopedtoken/internal/chars"
)

// QueryMode says what the middleware does with the token's query claim.
type QueryMode int

const (
	// QueryOverride replaces the request's values of every bound parameter by
	// the token's before the next handler runs, and removes the parameters
	// whose names equal a bound name only under Unicode case folding (which
	// case-insensitive binders would read). It is the default.
	QueryOverride QueryMode = iota
	// QueryRefuse refuses (403, query_mismatch) a request that sends a value
	// different from the token's for a bound parameter, or any parameter whose
	// name equals a bound one only under case folding; an absent one is filled in.
	QueryRefuse
	// QueryLeave leaves the URL alone; Token.Query() still holds the claim.
	QueryLeave
)

// rewriteQuery returns the query string the next handler sees. It removes the
// token parameter (dropParam, "" for none) and binds q according to mode. It
// refuses a query that cannot be read unambiguously (a ';' separator, a bad
// escape, or more parameters than net/url parses) whenever it has to read it.
// The request's other parameters keep their order and encoding; bound ones go
// at the end in claim order. When nothing changes it returns raw itself and
// allocates nothing. Its cost is linear in len(raw) whatever the number of
// bound names: each pair's name is decoded once into scratch and looked up.
// limit is net/url's limit on the number of parameters.
//
// When the query changes and uriBase is not nil, the new query is written
// after uriBase()+"?" into one string, returned as uri, whose tail is the
// query: the new URL and its RequestURI then cost one allocation.
func rewriteQuery(raw, dropParam string, q *boundQuery, mode QueryMode, limit *paramLimit,
	uriBase func() string) (query, uri string, e *Error) {
	bind := len(q.names) > 0 && mode != QueryLeave
	if dropParam == "" && len(q.names) == 0 {
		return raw, "", nil
	}
	if len(q.names) > 0 && !limit.allows(raw) {
		return "", "", errBadQuery
	}
	var stack [256]byte
	scratch := stack[:]
	if need := q.scratchLen(); bind && need > len(scratch) {
		scratch = make([]byte, need) // once per request, for very long bound names
	}
	// First pass: validate, and find whether anything must change, and
	// whether any pair must go (else the new query is raw plus the claim).
	// Under QueryRefuse a mismatch is only noted, so that a query that cannot
	// be read is refused as such (400) wherever its flaw lies.
	var seen [maxTrackedParams]int32 // values of each bound name seen so far, up to one past the claim's
	changed, dropped, empty, mismatch := false, false, false, false
	for rest, more := raw, true; more; {
		var p queryPair
		if p, rest, more = cutPair(rest); !p.valid {
			return "", "", errBadQuery
		}
		if p.empty() {
			empty = true
			continue
		}
		name, value := p.name(), p.value()
		switch i, variant := lookupBound(name, dropParam, bind, q, scratch); {
		case i == dropToken:
			changed, dropped = true, true
		case variant:
			mismatch = mismatch || mode == QueryRefuse
			changed, dropped = true, true
		case i >= 0:
			dropped = true // if anything changes, the claim's pairs replace it
			want := q.values[i]
			if int(seen[i]) >= len(want) || !chars.UnescapedEquals(value, want[seen[i]]) {
				mismatch = mismatch || mode == QueryRefuse
				changed = true
			}
			if int(seen[i]) <= len(want) {
				seen[i]++
			}
		}
	}
	if mismatch {
		return "", "", errQueryMismatch
	}
	if bind {
		for i := range q.names {
			if int(seen[i]) != len(q.values[i]) {
				if mode == QueryRefuse && seen[i] != 0 {
					return "", "", errQueryMismatch
				}
				changed = true
			}
		}
	}
	if !changed {
		return raw, "", nil
	}
	// Second pass: build the new query.
	base := ""
	if uriBase != nil {
		base = uriBase()
	}
	var b strings.Builder
	b.Grow(len(base) + 1 + len(raw) + len(q.encoded) + 1)
	if uriBase != nil {
		b.WriteString(base)
		b.WriteByte('?')
	}
	start := b.Len()
	if !dropped && !empty {
		b.WriteString(raw) // every pair stays, in order: copy them at once
	} else {
		for rest, more := raw, true; more; {
			var p queryPair
			p, rest, more = cutPair(rest) // valid: the first pass read it
			if p.empty() {
				continue
			}
			if i, variant := lookupBound(p.name(), dropParam, bind, q, scratch); i != notBound || variant {
				continue
			}
			if b.Len() > start {
				b.WriteByte('&')
			}
			b.WriteString(p.pair)
		}
	}
	if bind {
		if b.Len() > start {
			b.WriteByte('&')
		}
		b.WriteString(q.encoded)
	}
	out := b.String()
	query = out[start:]
	if len(q.names) > 0 && !limit.allows(query) {
		return "", "", errBadQuery
	}
	if uriBase != nil {
		uri = out
	}
	return query, uri, nil
}

// queryPair is one '&'-separated pair of a query, as cutPair reads it.
type queryPair struct {
	pair  string
	eq    int  // the index of its first '=', or -1
	valid bool // no ';', and every '%' starts a two-digit hex escape
}

func (p queryPair) empty() bool { return p.pair == "" }

// name returns the pair's escaped name.
func (p queryPair) name() string {
	if p.eq < 0 {
		return p.pair
	}
	return p.pair[:p.eq]
}

// value returns the pair's escaped value ("" when it has no '=').
func (p queryPair) value() string {
	if p.eq < 0 {
		return ""
	}
	return p.pair[p.eq+1:]
}

// cutPair reads the first pair of raw, up to its first '&', and returns it,
// what follows the '&', and whether there was one. It checks the pair's
// syntax in the same pass: strings.Cut and a separate check would cost more
// in calls than in bytes on the short queries of every request. A valid
// escape cannot span two pairs, since neither '&' nor '=' is a hex digit.
func cutPair(raw string) (p queryPair, rest string, more bool) {
	p.eq, p.valid = -1, true
	for i := 0; i < len(raw); i++ {
		if !chars.Is(raw[i], chars.QuerySpecial) {
			continue
		}
		switch raw[i] {
		case '&':
			p.pair = raw[:i]
			return p, raw[i+1:], true
		case '=':
			if p.eq < 0 {
				p.eq = i
			}
		case ';':
			p.valid = false
		case '%':
			if i+2 >= len(raw) || !chars.IsHex(raw[i+1]) || !chars.IsHex(raw[i+2]) {
				p.valid = false // and the next bytes are read as they are
			} else {
				i += 2
			}
		}
	}
	p.pair = raw
	return p, "", false
}

const (
	notBound  = -1 // the pair stays
	dropToken = -2 // the pair carries the token: it goes
)

// lookupBound says what a pair named by the escaped name is: the token
// parameter (dropToken), a bound parameter (its index; bind only), a case
// variant of one (variant; bind only), or none (notBound).
func lookupBound(name, dropParam string, bind bool, q *boundQuery, scratch []byte) (i int, variant bool) {
	if dropParam != "" && chars.UnescapedEquals(name, dropParam) {
		return dropToken, false
	}
	if !bind {
		return notBound, false
	}
	return q.lookup(name, scratch)
}

// maxTrackedParams bounds Config.MaxQueryParams so the first pass of
// rewriteQuery can count on the stack.
const maxTrackedParams = 64

// unescapeInto decodes the query-escaped s, whose escapes cutPair has
// accepted, into buf. It reports false when the result does not fit.
func unescapeInto(buf []byte, s string) ([]byte, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if n == len(buf) {
			return nil, false
		}
		c := s[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			c = chars.Unhex(s[i+1])<<4 | chars.Unhex(s[i+2])
			i += 2
		}
		buf[n] = c
		n++
	}
	return buf[:n], true
}

// queryToken finds the token in the query parameter name. It reports
// multiple=true when the parameter appears more than once.
func queryToken(raw, name string) (token string, found, multiple bool) {
	for pair := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if !chars.UnescapedEquals(k, name) {
			continue
		}
		if found {
			return "", true, true
		}
		// A token never needs escaping, so it is taken as written: an escaped
		// one fails the strict base64 check instead of being decoded twice.
		found, token = true, v
	}
	return token, found, false
}
