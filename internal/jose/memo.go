package jose

import (
	"strings"
	"sync"
	"sync/atomic"
)

// HeaderMemo remembers what ParseHeader read from the encoded headers of
// tokens that verified, so that the header every token of an issuer shares
// is decoded and parsed once rather than per verification. ParseHeader's
// result is a function of the encoded header alone, so a header found here
// reads exactly as parsing it again would; the key lookup, the alg binding
// and the signature check still run for every token. It holds at most
// MaxHeaderMemo headers, and the caller puts only those of tokens that
// verified, so tokens nobody signed cannot fill it; a hit writes no shared
// memory. The zero value is an empty memo; a nil *HeaderMemo remembers
// nothing.
type HeaderMemo = Memo[Header]

// Memo remembers, for at most MaxHeaderMemo inputs, a value that is a
// function of the input's bytes alone, so that work repeated on the same
// bytes (a header every token of an issuer shares, see HeaderMemo; the
// query claim's encoding, which every token of one client shares) is done
// once. The caller puts only values of tokens that verified. A hit writes no
// shared memory. The zero value is an empty memo; a nil *Memo remembers
// nothing.
type Memo[V any] struct {
	known atomic.Pointer[map[string]V] // never written once published
	mu    sync.Mutex                   // serialises writers
}

// MaxHeaderMemo is the most inputs a Memo holds.
const MaxHeaderMemo = 16

// Get returns the value remembered for the input, if any.
func (hm *Memo[V]) Get(encoded []byte) (V, bool) {
	var none V
	if hm == nil {
		return none, false
	}
	if m := hm.known.Load(); m != nil {
		h, ok := (*m)[string(encoded)]
		return h, ok
	}
	return none, false
}

// Put remembers h for the input (a copy of it), unless the memo is full or
// remembers the input already, and reports whether it did.
func (hm *Memo[V]) Put(encoded string, h V) bool {
	if hm == nil {
		return false
	}
	if m := hm.known.Load(); m != nil && len(*m) >= MaxHeaderMemo {
		return false // full: no lock for inputs that will never be remembered
	}
	hm.mu.Lock()
	defer hm.mu.Unlock()
	var cur map[string]V
	if m := hm.known.Load(); m != nil {
		cur = *m
	}
	if _, ok := cur[encoded]; ok || len(cur) >= MaxHeaderMemo {
		return false
	}
	next := make(map[string]V, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	next[strings.Clone(encoded)] = h
	hm.known.Store(&next)
	return true
}

// Len is how many inputs the memo remembers.
func (hm *Memo[V]) Len() int {
	if m := hm.known.Load(); m != nil {
		return len(*m)
	}
	return 0
}
