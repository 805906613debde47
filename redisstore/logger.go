package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// clientLogger routes go-redis's own log lines ("redis: ... failed to dial")
// into the slog logger of the Store built last, so that an outage prints the
// store's messages in one format, not a second, unstructured stream on
// stderr. They are logged at Debug: the Store reports the same failures
// itself, once, with what they mean.
type clientLogger struct{}

var (
	clientLog      atomic.Pointer[slog.Logger]
	installLogOnce sync.Once
)

func (clientLogger) Printf(ctx context.Context, format string, v ...any) {
	if l := clientLog.Load(); l != nil {
		l.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
	}
}

// routeClientLogs makes log the destination of go-redis's logger. go-redis
// has one logger per process (redis.SetLogger), which is set once; later
// Stores only change where it writes.
func routeClientLogs(log *slog.Logger) {
	clientLog.Store(log)
	installLogOnce.Do(func() { redis.SetLogger(clientLogger{}) })
}
