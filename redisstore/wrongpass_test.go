package redisstore

import (
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
)

// TestRefusedConnectionIsNoSuccess: when Redis refuses to set a connection
// up (a wrong password), go-redis fails the pipeline without an error on its
// commands; Revoke and Use must report that, never read it as a success or
// as a used token (found in review).
func TestRefusedConnectionIsNoSuccess(t *testing.T) {
	srv := redistest.Start(t)
	require.NoError(t, srv.Client(t).ConfigSet(t.Context(), "requirepass", "right-password").Err())
	good := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: "right-password"})
	t.Cleanup(func() { good.Close() })
	bad := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: "wrong-password", MaxRetries: -1})
	t.Cleanup(func() { bad.Close() })
	prefix := redistest.UniquePrefix()
	s, err := New(t.Context(), good, Options{Prefix: prefix, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })

	err = Revoke(t.Context(), bad, prefix, scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "not-recorded"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "wrong-password")
	assert.False(t, s.Revoked(&scopedtoken.RevocationCheck{ID: "not-recorded"}))

	w := &writer{client: bad, keys: newKeys(prefix), timeout: DefaultWaitTimeout}
	err = w.use(t.Context(), prefix+"used:jti:k:x", time.Minute)
	require.Error(t, err)
	assert.NotErrorIs(t, err, scopedtoken.ErrTokenUsed, "a refused connection is 503, not token_used")
}
