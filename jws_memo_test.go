package scopedtoken

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/jose"
)

// TestHeaderMemo: a header read once for a token that verified is not parsed
// again, but every later token with it is still checked in full (key lookup,
// alg binding, signature); headers of tokens that did not verify are never
// remembered, and the memo stays bounded.
func TestHeaderMemo(t *testing.T) {
	m := newTestMiddleware(t, func(c *Config) { c.CacheSize = -1 }) // every request verifies
	good := hsToken(t, validClaims())
	header := good[:strings.IndexByte(good, '.')]
	forged := good[:len(good)-4] + "AAAA"
	if forged == good {
		forged = good[:len(good)-4] + "BBBB"
	}

	res := serve(t, m, bearer("/v2/accounts/me/search", forged))
	require.Equal(t, http.StatusUnauthorized, res.code)
	_, known := m.headers.Get([]byte(header))
	assert.False(t, known, "the header of a token that did not verify is not remembered")

	require.Equal(t, http.StatusOK, serve(t, m, bearer("/v2/accounts/me/search", good)).code)
	h, known := m.headers.Get([]byte(header))
	require.True(t, known, "the header of a token that verified is remembered")
	assert.Equal(t, jose.Header{Alg: "HS256", Kid: "hs"}, h)

	res = serve(t, m, bearer("/v2/accounts/me/search", forged))
	assert.Equal(t, http.StatusUnauthorized, res.code, "a remembered header does not spare the signature check")
	assert.Equal(t, "bad_signature", res.reason)

	// Another kid under an alg its key does not have: refused as before.
	other := signRaw(t, "HS256", testSecret, `{"alg":"HS384","kid":"hs"}`, claimsJSON(t, validClaims()))
	assert.Equal(t, http.StatusUnauthorized, serve(t, m, bearer("/v2/accounts/me/search", other)).code)

	// Past jose.MaxHeaderMemo headers, tokens still verify; the memo's bound
	// is internal/jose's TestHeaderMemoBounded.
	var last string
	for i := range 2 * jose.MaxHeaderMemo {
		h := fmt.Sprintf(`{"alg":"HS256","kid":"hs","x":%d}`, i)
		last = signRaw(t, "HS256", testSecret, h, claimsJSON(t, validClaims()))
		require.Equal(t, http.StatusOK, serve(t, m, bearer("/v2/accounts/me/search", last)).code)
	}
	_, known = m.headers.Get([]byte(last[:strings.IndexByte(last, '.')]))
	assert.False(t, known, "a header past the bound is not remembered")
}
