package jwks

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// TestCombineKeysRemoteDoesNotStallStatic: with a remote set listed before
// another remote set and a static one, and its endpoint hanging, the static
// kids and the remote kids already held answer at once, without any request
// to the endpoint; a kid no set holds still makes exactly one fetch.
func TestCombineKeysRemoteDoesNotStallStatic(t *testing.T) {
	r := testkit.NewSigner(t, "remote")
	srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, r.JWK(t)))
	rs := newFaultRemote(t, srv.URL, func(c *Config) {
		c.MinRefreshInterval, c.RefreshWait, c.HTTPTimeout = time.Hour, time.Minute, time.Minute
	})
	require.EqualValues(t, 1, srv.Hits.Load(), "the first fetch")
	srv.Serve(testkit.JWKSet(t, r.JWK(t)), http.StatusOK, time.Hour) // every later fetch hangs until Close
	r2 := testkit.NewSigner(t, "remote2")
	rs2 := newFaultRemote(t, testkit.NewJWKSServer(t, testkit.JWKSet(t, r2.JWK(t))).URL, nil)
	static, err := scopedtoken.StaticKeys(
		scopedtoken.Key{ID: "hs", Algorithm: "HS256", Secret: testkit.Secret},
		scopedtoken.Key{ID: "es", Algorithm: "ES256", PublicKey: &testkit.Keys(t).EC.PublicKey},
		scopedtoken.Key{ID: "ed", Algorithm: "EdDSA", PublicKey: testkit.Keys(t).Ed.Public()},
	)
	require.NoError(t, err)
	ks := scopedtoken.CombineKeys(rs, rs2, static)

	// A lookup that waited for the hanging fetch would end with this
	// context; the bound is generous so that a loaded machine cannot flake.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	for _, kid := range []string{"hs", "es", "ed", "remote", "remote2"} {
		vk, err := ks.LookupKey(ctx, kid)
		require.NoError(t, err, kid)
		assert.Equal(t, kid, vk.ID())
	}
	assert.NoError(t, ctx.Err(), "answered without waiting for a fetch")
	assert.EqualValues(t, 1, srv.Hits.Load(), "no fetch for a kid that a set holds")

	short, cancelShort := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancelShort()
	_, err = ks.LookupKey(short, "nobody")
	assert.ErrorIs(t, err, scopedtoken.ErrUnknownKID)
	assert.Eventually(t, func() bool { return srv.Hits.Load() == 2 }, 2*time.Second, 5*time.Millisecond,
		"an unknown kid makes one fetch")
}
