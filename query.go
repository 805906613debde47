package scopedtoken

import (
	"net/url"
	"strings"
)

// QueryMode says what the middleware does with the token's query claim.
type QueryMode int

const (
	// QueryOverride replaces the request's values of every bound parameter by
	// the token's before the next handler runs. It is the default.
	QueryOverride QueryMode = iota
	// QueryRefuse refuses (403, query_mismatch) a request that sends a value
	// different from the token's for a bound parameter; an absent one is filled in.
	QueryRefuse
	// QueryLeave leaves the URL alone; Token.Query still holds the claim.
	QueryLeave
)

// rewriteQuery returns the query string the next handler sees. It removes the
// token parameter (dropParam, "" for none) and binds q according to mode. It
// refuses a query that cannot be read unambiguously (a ';' separator or a bad
// escape) whenever it has to read it. The request's other parameters keep their
// order and encoding; bound ones go at the end in claim order. When nothing
// changes it returns raw itself and allocates nothing.
func rewriteQuery(raw, dropParam string, q *boundQuery, mode QueryMode) (string, *Error) {
	bind := len(q.names) > 0 && mode != QueryLeave
	if dropParam == "" && len(q.names) == 0 {
		return raw, nil
	}
	if strings.IndexByte(raw, ';') >= 0 {
		return "", ErrBadQuery
	}
	// First pass: validate, and find whether anything must change.
	var seen [maxTrackedParams]int // values of each bound name seen so far
	changed := false
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		if !validEscapes(name) || !validEscapes(value) {
			return "", ErrBadQuery
		}
		if dropParam != "" && unescapedEquals(name, dropParam) {
			changed = true
			continue
		}
		if !bind {
			continue
		}
		i := q.index(name)
		if i < 0 {
			continue
		}
		want := q.values[i]
		if seen[i] >= len(want) || !unescapedEquals(value, want[seen[i]]) {
			if mode == QueryRefuse {
				return "", ErrQueryMismatch
			}
			changed = true
		}
		seen[i]++
	}
	if bind {
		for i := range q.names {
			if seen[i] != len(q.values[i]) {
				if mode == QueryRefuse && seen[i] != 0 {
					return "", ErrQueryMismatch
				}
				changed = true
			}
		}
	}
	if !changed {
		return raw, nil
	}
	// Second pass: build the new query.
	var b strings.Builder
	b.Grow(len(raw) + len(q.encoded) + 1)
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		name, _, _ := strings.Cut(pair, "=")
		if dropParam != "" && unescapedEquals(name, dropParam) || bind && q.index(name) >= 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pair)
	}
	if bind {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(q.encoded)
	}
	return b.String(), nil
}

// maxTrackedParams bounds Config.MaxQueryParams so the first pass of
// rewriteQuery can count on the stack.
const maxTrackedParams = 64

// index returns the position of the bound parameter whose name the escaped
// name unescapes to, or -1.
func (q *boundQuery) index(escapedName string) int {
	for i, n := range q.names {
		if unescapedEquals(escapedName, n) {
			return i
		}
	}
	return -1
}

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

// unescapedEquals reports whether the query-escaped s decodes to want. It
// allocates only when s contains an escape or '+'.
func unescapedEquals(s, want string) bool {
	for i := 0; i < len(s); i++ { // one pass: names and values are short
		if s[i] == '%' || s[i] == '+' {
			u, err := url.QueryUnescape(s)
			return err == nil && u == want
		}
	}
	return s == want
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
