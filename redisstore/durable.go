package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopedtoken/scopedtoken"
)

// ErrNotDurable is the cause when fewer replicas than Options.WaitReplicas
// acknowledged a write within Options.WaitTimeout: a failover could lose it.
// A single-use token is then not used up (the request gets 503) and a
// revocation is kept by the instance and written again until acknowledged.
var ErrNotDurable = errors.New("redisstore: too few replicas acknowledged the write in time")

// writer writes to Redis and, when replicas must acknowledge, waits for them
// with WAIT on the connection that made the write: WAIT counts the replicas
// that have every write of its own connection.
type writer struct {
	client  redis.UniversalClient
	keys    keys
	replica int           // Options.WaitReplicas: >0 that many, <0 none, 0 auto
	timeout time.Duration // Options.WaitTimeout
	seen    atomic.Bool   // auto: a primary was seen with a replica
}

// wants returns how many replicas a write must reach now.
func (w *writer) wants() int {
	switch {
	case w.replica > 0:
		return w.replica
	case w.replica == 0 && w.seen.Load():
		return 1
	}
	return 0
}

// pipeline returns a pipeline whose commands go over one connection to the
// primary that holds key when WAIT must follow them; otherwise the client's
// own, which follows a cluster's redirections.
func (w *writer) pipeline(ctx context.Context, key string, wait int) (redis.Pipeliner, error) {
	if cc, ok := w.client.(*redis.ClusterClient); ok && wait > 0 {
		node, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return nil, err
		}
		return node.Pipeline(), nil
	}
	return w.client.Pipeline(), nil
}

// queueWait adds WAIT to p, or nothing when no replica must acknowledge.
func (w *writer) queueWait(ctx context.Context, p redis.Pipeliner, wait int) *redis.Cmd {
	if wait == 0 {
		return nil
	}
	return p.Do(ctx, "WAIT", wait, max(w.timeout.Milliseconds(), 1))
}

// execErr returns the first error of a pipeline's commands, or the error of
// Exec itself: a connection that Redis refuses to set up (WRONGPASS, NOAUTH)
// fails Exec while leaving the commands without an error of their own, and
// must never read as a success.
func execErr(cmds []redis.Cmder, err error) error {
	for _, c := range cmds {
		if c.Err() != nil {
			return c.Err()
		}
	}
	return err
}

// acked checks the answer of queueWait.
func acked(cmd *redis.Cmd, wait int) error {
	if cmd == nil {
		return nil
	}
	n, err := cmd.Int()
	switch {
	case err != nil:
		return err
	case n < wait:
		return fmt.Errorf("%w (%d of %d)", ErrNotDurable, n, wait)
	}
	return nil
}

// useScript records a single-use key unless it exists (SET NX with an expiry
// in ms), and answers 1 when the key holds this attempt's nonce: set now, or
// set by an earlier sending of the same command whose answer was lost (a
// client that retries a pipeline after a timeout must not find its own
// record and refuse the token as used). 0: another attempt's record.
var useScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if v == ARGV[1] then return 1 end
return 0
`)

// undoScript deletes a single-use record only if it holds this attempt's
// nonce: after a failover lost it, another instance's record may be there.
var undoScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// use records a single-use key with useScript, then waits for the replicas.
// A record that too few replicas acknowledged is deleted again, if it is
// still this attempt's, so that the token is not used up by a request that
// is refused.
func (w *writer) use(ctx context.Context, key string, ttl time.Duration) error {
	wait := w.wants()
	p, err := w.pipeline(ctx, key, wait)
	if err != nil {
		return err
	}
	nonce := newNonce()
	set := useScript.Eval(ctx, p, []string{key}, nonce, ttl.Milliseconds())
	wc := w.queueWait(ctx, p, wait)
	if err := execErr(p.Exec(ctx)); err != nil {
		return err
	}
	if n, _ := set.Int(); n != 1 {
		return scopedtoken.ErrTokenUsed
	}
	if err := acked(wc, wait); err != nil {
		// Not durable: give the token back. Without the caller's
		// cancellation, so that a closed request cannot leave it used up.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if derr := undoScript.Eval(dctx, w.client, []string{key}, nonce).Err(); derr != nil {
			return fmt.Errorf("%w; and the record could not be removed: %w", err, derr)
		}
		return err
	}
	return nil
}

// newNonce names one attempt to use a token: 128 random bits.
func newNonce() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// write records r with writeScript, then waits for the replicas.
func (w *writer) write(ctx context.Context, r scopedtoken.Revocation, now time.Time) error {
	keys, args := writeArgs(w.keys, r, now)
	wait := w.wants()
	p, err := w.pipeline(ctx, keys[0], wait)
	if err != nil {
		return err
	}
	writeScript.Eval(ctx, p, keys, args...)
	wc := w.queueWait(ctx, p, wait)
	if err := execErr(p.Exec(ctx)); err != nil {
		return err
	}
	return acked(wc, wait)
}

// lookForReplicas notes whether any primary has a connected replica, for
// WaitReplicas' automatic default. Once seen, replicas stay expected: a
// replica that disconnects is exactly when writes must not count as durable.
// A server that refuses INFO (some managed services) leaves it unchanged.
func (w *writer) lookForReplicas(ctx context.Context) {
	if w.replica != 0 || w.seen.Load() {
		return
	}
	if cc, ok := w.client.(*redis.ClusterClient); ok {
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			if connectedReplicas(ctx, c) > 0 {
				w.seen.Store(true)
			}
			return nil
		})
		return
	}
	if connectedReplicas(ctx, w.client) > 0 {
		w.seen.Store(true)
	}
}

// connectedReplicas reads connected_slaves from INFO replication; 0 when it
// cannot tell.
func connectedReplicas(ctx context.Context, c redis.Cmdable) int {
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return 0
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}
