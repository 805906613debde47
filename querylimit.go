package scopedtoken

import (
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// net/url refuses to parse a query of more parameters than the GODEBUG
// setting urlmaxqueryparams allows (10,000 by default since Go 1.26 and the
// security releases before it), counting strings.Count(query, "&")+1, empty
// pairs included. r.URL.Query() and r.FormValue then see no parameter at all,
// so a bound query the middleware read would be read differently, or not at
// all, downstream. Rather than copy the rule and its GODEBUG parsing, the
// middleware asks net/url itself, with queries made only of '&', and
// remembers the answers, once per Middleware. It does not look at GODEBUG
// per request (os.Getenv takes a process-wide lock that every request would
// contend on), so a program that changes urlmaxqueryparams at run time with
// os.Setenv must build its middleware again.

// paramLimit learns net/url's limit on the number of query parameters.
type paramLimit struct {
	known atomic.Pointer[paramBounds]
	mu    sync.Mutex // serialises learning
}

// paramBounds is what net/url was seen to do: it parses a query of maxOK parameters and refuses one of minBad (0: none
// refused yet). The limit is monotonic, so both answers extend to every
// smaller and larger count.
type paramBounds struct {
	maxOK, minBad int
}

// defaultMaxQueryParams is net/url's limit when GODEBUG does not change it.
const defaultMaxQueryParams = 10000

// allows reports whether net/url parses query rather than refusing it for its
// number of parameters. It counts them only when query is long enough to
// reach the limit: a query of n bytes has at most n+1 parameters.
func (l *paramLimit) allows(query string) bool {
	if b := l.known.Load(); b != nil && len(query)+1 <= b.maxOK {
		return true
	}
	return l.accepts(strings.Count(query, "&") + 1)
}

// accepts reports whether net/url parses a query of n parameters. Once
// learnt, it costs an atomic load and two compares; learning costs O(log n)
// probes of at most 2n bytes, once.
func (l *paramLimit) accepts(n int) bool {
	if b := l.known.Load(); b != nil {
		if n <= b.maxOK {
			return true
		}
		if b.minBad > 0 && n >= b.minBad {
			return false
		}
	}
	return l.acceptsSlow(n)
}

// acceptsSlow is accepts for a count that the bounds learnt so far do not
// settle: it asks net/url and learns the answer.
func (l *paramLimit) acceptsSlow(n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b paramBounds
	if old := l.known.Load(); old != nil {
		b = *old
	} else {
		// The usual answer first: the default limit settles in two probes.
		b.record(defaultMaxQueryParams)
		b.record(defaultMaxQueryParams + 1)
	}
	for n > b.maxOK && (b.minBad == 0 || n < b.minBad) {
		if b.minBad == 0 {
			b.record(max(n, 2*b.maxOK)) // no limit seen yet: double
		} else {
			b.record((b.maxOK + b.minBad) / 2) // bisect down to the exact limit
		}
	}
	l.known.Store(&b)
	return n <= b.maxOK
}

// record asks net/url about a query of n parameters and narrows b.
func (b *paramBounds) record(n int) {
	if n <= b.maxOK || b.minBad > 0 && n >= b.minBad {
		return
	}
	if _, err := url.ParseQuery(strings.Repeat("&", n-1)); err == nil {
		b.maxOK = n
	} else {
		b.minBad = n
	}
}
