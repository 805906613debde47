package jose

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestHeaderMemoBounded: the memo keeps the first MaxHeaderMemo headers put
// and ignores the rest; a nil memo remembers nothing. (That only headers of
// tokens that verified are put is the root package's TestHeaderMemo.)
func TestHeaderMemoBounded(t *testing.T) {
	var nilMemo *HeaderMemo
	assert.False(t, nilMemo.Put("x", Header{Alg: "HS256", Kid: "k"}))
	_, ok := nilMemo.Get([]byte("x"))
	assert.False(t, ok)

	var hm HeaderMemo
	for i := range 2 * MaxHeaderMemo {
		stored := hm.Put(fmt.Sprint("h", i), Header{Alg: "HS256", Kid: fmt.Sprint(i)})
		assert.Equal(t, i < MaxHeaderMemo, stored, "Put reports whether it remembered %d", i)
	}
	assert.Equal(t, MaxHeaderMemo, hm.Len())
	h, ok := hm.Get([]byte("h3"))
	assert.True(t, ok)
	assert.Equal(t, Header{Alg: "HS256", Kid: "3"}, h)
	_, ok = hm.Get([]byte(fmt.Sprint("h", MaxHeaderMemo)))
	assert.False(t, ok, "past the bound")
	assert.False(t, hm.Put("h3", Header{Alg: "ES256", Kid: "other"}))
	h, _ = hm.Get([]byte("h3"))
	assert.Equal(t, "3", h.Kid, "a remembered header is never replaced")
}
