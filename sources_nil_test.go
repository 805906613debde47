package scopedtoken

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ptrHeaderSource is a custom source with pointer receivers that read a
// field, as most custom sources do.
type ptrHeaderSource struct{ name string }

func (s *ptrHeaderSource) FindToken(r *http.Request) (string, bool, error) {
	v := r.Header.Get(s.name)
	return v, v != "", nil
}

func (s *ptrHeaderSource) WithoutToken(r *http.Request) *http.Request { return r }

// TestNilPointerTokenSourceRefusedByNew: a typed nil pointer in
// Config.TokenSources is refused by New, as a nil Keys or Revocations is
// (found in review: a nil *WebSocketProtocol made New panic, and a nil
// pointer to a custom source was accepted and panicked on every request).
func TestNilPointerTokenSourceRefusedByNew(t *testing.T) {
	cases := map[string]TokenSource{
		"nil *WebSocketProtocol": (*WebSocketProtocol)(nil),
		"nil custom source":      (*ptrHeaderSource)(nil),
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() {
				_, err = New(Config{Keys: testKeySet(t), Now: fixedClock, TokenSources: []TokenSource{src}})
			}, "New must not panic")
			assert.Error(t, err, "New must refuse a nil source rather than fail on the first request")
		})
	}
}
