package redisstore

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
)

// beforeUndo runs f before every command the client sends on its own (not
// in a pipeline) that names a single-use record: the undo of a use, a DEL
// or a script.
type beforeUndo struct {
	prefix string
	f      func(ctx context.Context, key string)
}

func (beforeUndo) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h beforeUndo) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		for _, a := range cmd.Args() {
			if key, ok := a.(string); ok && strings.HasPrefix(key, h.prefix+"used:") {
				h.f(ctx, key)
				break
			}
		}
		return next(ctx, cmd)
	}
}
func (beforeUndo) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestUndoDeletesOnlyItsOwnRecord: when a use is not acknowledged by enough
// replicas, the instance that made it deletes its record again, and only its
// own (found in review: a plain DEL). Here the record is lost between the
// write and the undo, as in a failover to a replica that had not received
// it; another instance then uses the token, durably, and is answered 200.
// The first instance's undo must not free that record: the token stays used.
func TestUndoDeletesOnlyItsOwnRecord(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.UniquePrefix()
	quiet := slog.New(slog.DiscardHandler)
	admin := srv.Client(t)

	// B: another instance, whose writes count as durable (its own replicas
	// acknowledge them; here it waits for none).
	b, err := New(t.Context(), redistest.NewClient(t, srv.Addr()), Options{Prefix: prefix, Logger: quiet, WaitReplicas: NoWait})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })

	var bFirst error
	ran := false
	clientA := redistest.NewClient(t, srv.Addr())
	clientA.AddHook(beforeUndo{prefix: prefix, f: func(ctx context.Context, key string) {
		if ran {
			return
		}
		ran = true
		// The failover: the new primary never had A's record.
		require.NoError(t, admin.Del(context.WithoutCancel(ctx), key).Err())
		bFirst = b.Use(context.WithoutCancel(ctx), strings.TrimPrefix(key, prefix+"used:"), time.Now().Add(time.Hour))
	}})
	// A: WAIT 1 with no replica: its use is never durable and is undone.
	a, err := New(t.Context(), clientA, Options{Prefix: prefix, Logger: quiet, WaitReplicas: 1, WaitTimeout: 20 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })

	const key = "jti:link-1"
	until := time.Now().Add(time.Hour)
	errA := a.Use(t.Context(), key, until)
	require.ErrorIs(t, errA, ErrNotDurable, "A's use is refused (503) and undone")
	require.True(t, ran, "the undo ran")
	require.NoError(t, bFirst, "B accepted the token: one acceptance")

	assert.ErrorIs(t, b.Use(t.Context(), key, until), scopedtoken.ErrTokenUsed,
		"the token was accepted once (by B); A's undo deleted B's record, so it is accepted a second time")
}

// sendTwice sends every pipeline twice, as go-redis does when the answer to
// the first sending was lost (a read timeout, a dropped connection).
type sendTwice struct{}

func (sendTwice) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (sendTwice) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (sendTwice) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if err := next(ctx, cmds); err != nil {
			return err
		}
		return next(ctx, cmds) // the answers the caller reads are the second's
	}
}

// TestUseSentTwiceIsOneUse: a use whose command reaches Redis twice (a
// client retry after a lost answer) finds its own record the second time:
// the token is accepted, not refused as used by its own first sending
// (found in review), and a later use is still refused.
func TestUseSentTwiceIsOneUse(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.UniquePrefix()
	c := redistest.NewClient(t, srv.Addr())
	c.AddHook(sendTwice{})
	s, err := New(t.Context(), c, Options{Prefix: prefix, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	until := time.Now().Add(time.Hour)
	require.NoError(t, s.Use(t.Context(), "jti:k:retried", until), "its own record, sent twice")
	assert.ErrorIs(t, s.Use(t.Context(), "jti:k:retried", until), scopedtoken.ErrTokenUsed)
}
