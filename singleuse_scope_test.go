package scopedtoken

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSingleUseRecordIsPerKey: a single-use record is named by the key and
// the jti ("jti:KID:ID"), since RFC 7519 §4.1.7 makes a jti unique per issuer
// only (found in review: with the jti alone, a tenant with its own signing
// key could mint a single-use token carrying another tenant's jti, an order
// number, and use up the other tenant's link, never presented).
func TestSingleUseRecordIsPerKey(t *testing.T) {
	ks, err := StaticKeys(
		Key{ID: "tenant-1", Algorithm: "HS256", Secret: []byte("tenant-1-secret-0123456789abcdef"), BusinessID: "1"},
		Key{ID: "tenant-2", Algorithm: "HS256", Secret: []byte("tenant-2-secret-0123456789abcdef"), BusinessID: "2"},
	)
	require.NoError(t, err)
	store := NewMemoryRevocations(fixedClock)
	m, err := New(Config{Keys: ks, Now: fixedClock, Revocations: store})
	require.NoError(t, err)

	mint := func(kid, secret, business string) string {
		return signRaw(t, "HS256", []byte(secret), `{"alg":"HS256","kid":"`+kid+`","typ":"JWT"}`,
			claimsJSON(t, map[string]any{"aud": "/v2/accounts/" + business + "/search", "exp": testNow.Unix() + 60, "jti": "order-1001", "once": true}))
	}
	victim := mint("tenant-1", "tenant-1-secret-0123456789abcdef", "1")
	attacker := mint("tenant-2", "tenant-2-secret-0123456789abcdef", "2")

	require.Equal(t, http.StatusOK, serve(t, m, bearer("/v2/accounts/2/search", attacker)).code, "tenant 2 uses its own link")
	res := serve(t, m, bearer("/v2/accounts/1/search", victim))
	assert.Equal(t, http.StatusOK, res.code, "tenant 1's link was never used: another key's token must not use it up (got %s)", res.reason)
}
