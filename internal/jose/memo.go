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
type HeaderMemo struct {
	known atomic.Pointer[map[string]Header] // never written once published
	mu    sync.Mutex                        // serialises writers
}

// MaxHeaderMemo is the most headers a HeaderMemo holds.
const MaxHeaderMemo = 16

// Get returns what ParseHeader read from the encoded header, if remembered.
func (hm *HeaderMemo) Get(encoded []byte) (Header, bool) {
	if hm == nil {
		return Header{}, false
	}
	if m := hm.known.Load(); m != nil {
		h, ok := (*m)[string(encoded)]
		return h, ok
	}
	return Header{}, false
}

// Put remembers h for the encoded header (a copy of it), unless the memo is
// full.
func (hm *HeaderMemo) Put(encoded string, h Header) {
	if hm == nil {
		return
	}
	hm.mu.Lock()
	defer hm.mu.Unlock()
	var cur map[string]Header
	if m := hm.known.Load(); m != nil {
		cur = *m
	}
	if _, ok := cur[encoded]; ok || len(cur) >= MaxHeaderMemo {
		return
	}
	next := make(map[string]Header, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	next[strings.Clone(encoded)] = h
	hm.known.Store(&next)
}
