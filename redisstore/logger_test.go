package redisstore

import (
	"log/slog"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClientLogsGoThroughTheStore: go-redis's own log lines (here a failover
// client that finds no sentinel) reach the logger of the Store built last,
// at Debug, instead of a second, unstructured stream on stderr.
func TestClientLogsGoThroughTheStore(t *testing.T) {
	var logs syncBuffer
	routeClientLogs(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})).
		With("component", "scopedtoken/redisstore"))
	t.Cleanup(func() { routeClientLogs(slog.New(slog.DiscardHandler)) })

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	l.Close() // nothing listens there now
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "none", SentinelAddrs: []string{closed}, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	require.Error(t, c.Ping(t.Context()).Err())

	assert.Contains(t, logs.String(), "level=DEBUG")
	assert.Contains(t, logs.String(), "go-redis: sentinel:")
	assert.Contains(t, logs.String(), "component=scopedtoken/redisstore")
}
