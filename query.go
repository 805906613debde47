package scopedtoken

import (
	"strings"
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
	if strings.IndexByte(raw, ';') >= 0 {
		return "", "", ErrBadQuery
	}
	params := strings.Count(raw, "&") + 1 // as net/url counts them
	if len(q.names) > 0 && !limit.accepts(params) {
		return "", "", ErrBadQuery
	}
	var stack [256]byte
	scratch := stack[:]
	if need := q.scratchLen(); bind && need > len(scratch) {
		scratch = make([]byte, need) // once per request, for very long bound names
	}
	// First pass: validate, and find whether anything must change, and
	// whether any pair must go (else the new query is raw plus the claim).
	var seen [maxTrackedParams]int32 // values of each bound name seen so far, up to one past the claim's
	changed, dropped, empty := false, false, false
	for rest := raw; ; {
		pair, next, more := strings.Cut(rest, "&")
		rest = next
		if pair == "" {
			empty = true
		} else {
			name, value, _ := strings.Cut(pair, "=")
			if !validEscapes(name) || !validEscapes(value) {
				return "", "", ErrBadQuery
			}
			switch i, variant := lookupBound(name, dropParam, bind, q, scratch); {
			case i == dropToken:
				changed, dropped = true, true
			case variant:
				if mode == QueryRefuse {
					return "", "", ErrQueryMismatch
				}
				changed, dropped = true, true
			case i >= 0:
				dropped = true // if anything changes, the claim's pairs replace it
				want := q.values[i]
				if int(seen[i]) >= len(want) || !unescapedEquals(value, want[seen[i]]) {
					if mode == QueryRefuse {
						return "", "", ErrQueryMismatch
					}
					changed = true
				}
				if int(seen[i]) <= len(want) {
					seen[i]++
				}
			}
		}
		if !more {
			break
		}
	}
	if bind {
		for i := range q.names {
			if int(seen[i]) != len(q.values[i]) {
				if mode == QueryRefuse && seen[i] != 0 {
					return "", "", ErrQueryMismatch
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
		if bind {
			params += q.nvalues // one pair per value follows
		}
	} else {
		params = -1 // count them below
		for rest := raw; rest != ""; {
			pair, next, _ := strings.Cut(rest, "&")
			rest = next
			if pair == "" {
				continue
			}
			name, _, _ := strings.Cut(pair, "=")
			if i, variant := lookupBound(name, dropParam, bind, q, scratch); i != notBound || variant {
				continue
			}
			if b.Len() > start {
				b.WriteByte('&')
			}
			b.WriteString(pair)
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
	if params < 0 {
		params = strings.Count(query, "&") + 1
	}
	if len(q.names) > 0 && !limit.accepts(params) {
		return "", "", ErrBadQuery
	}
	if uriBase != nil {
		uri = out
	}
	return query, uri, nil
}

const (
	notBound  = -1 // the pair stays
	dropToken = -2 // the pair carries the token: it goes
)

// lookupBound says what a pair named by the escaped name is: the token
// parameter (dropToken), a bound parameter (its index; bind only), a case
// variant of one (variant; bind only), or none (notBound).
func lookupBound(name, dropParam string, bind bool, q *boundQuery, scratch []byte) (i int, variant bool) {
	if dropParam != "" && unescapedEquals(name, dropParam) {
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

// validEscapes reports whether every '%' in s starts a two-digit hex escape.
func validEscapes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

// unescapedEquals reports whether the query-escaped s decodes to want as
// url.QueryUnescape would decode it ('+' is a space; a bad escape matches
// nothing). It decodes on the fly and never allocates.
func unescapedEquals(s, want string) bool {
	// A byte decodes from one to three bytes of s.
	if len(s) < len(want) || len(s) > 3*len(want) {
		return false
	}
	j := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		if j == len(want) || want[j] != c {
			return false
		}
		j++
	}
	return j == len(want)
}

// unescapeInto decodes the query-escaped s, whose escapes validEscapes has
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
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
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
		if !unescapedEquals(k, name) {
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
