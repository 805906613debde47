package redisstore

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopedtoken/scopedtoken"
)

// keys are the names a Store uses under its prefix. The three sorted sets of
// the shared state carry one hash tag, the prefix in braces, so that the
// script that writes an entry touches one Redis Cluster slot; the single-use
// records carry none, so that they spread over every master of a cluster.
// The channel carries the state's hash tag too: a cluster client subscribes
// on the master of the channel's slot (a PUBLISH reaches the subscribers of
// every node), so the subscription fails, and the Store reloads, exactly
// when the state's master does, and no other master's failure cuts it.
type keys struct {
	revoked     string // ZSET: kind:value -> until (Unix ms, +inf for ever)
	cutoffs     string // ZSET: kind:value -> cutoff (Unix seconds)
	cutoffUntil string // ZSET: kind:value -> until (Unix ms, +inf for ever)
	used        string // + kind:value: a single-use record (a string with a TTL)
	channel     string // pub/sub: one message per new entry
}

// checkPrefix refuses a prefix that would defeat the store's hash tags: a
// brace in it would either put every single-use record of a cluster on one
// master or split the state's keys over several slots.
func checkPrefix(prefix string) error {
	if strings.ContainsAny(prefix, "{}") {
		return errors.New("redisstore: the prefix may not contain '{' or '}': the store puts its own hash tag on the keys that must share a Redis Cluster slot")
	}
	return nil
}

func newKeys(prefix string) keys {
	state := "{" + prefix + "}"
	return keys{
		revoked:     state + "revoked",
		cutoffs:     state + "cutoffs",
		cutoffUntil: state + "cutoffs:until",
		used:        prefix + "used:",
		channel:     state + "revocations",
	}
}

// writeScript adds one entry, keeping the stronger of it and an entry already
// there (ZADD GT), drops expired entries, and announces it, atomically. It is
// idempotent: writing the same entry again changes nothing but announces it.
var writeScript = redis.NewScript(`
if ARGV[2] == '' then
  redis.call('ZADD', KEYS[1], 'GT', ARGV[3], ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4])
else
  redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[1])
  redis.call('ZADD', KEYS[3], 'GT', ARGV[3], ARGV[1])
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[4])) do
    redis.call('ZREM', KEYS[2], m)
    redis.call('ZREM', KEYS[3], m)
  end
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
`)

// writeArgs returns the keys and arguments of writeScript for r.
func writeArgs(k keys, r scopedtoken.Revocation, now time.Time) ([]string, []any) {
	before := ""
	if r.Kind.IsCutoff() {
		before = strconv.FormatInt(r.CutoffSeconds(now), 10)
	}
	return []string{k.revoked, k.cutoffs, k.cutoffUntil},
		[]any{member(r), before, formatUntil(r.Until), strconv.FormatInt(now.UnixMilli(), 10), k.channel, encodeMessage(r, now)}
}

// member names r in the sorted sets: KIND:VALUE.
func member(r scopedtoken.Revocation) string { return r.Kind.String() + ":" + r.Value }

func cutMember(m string) (scopedtoken.RevocationKind, string, bool) {
	kind, value, ok := strings.Cut(m, ":")
	if !ok {
		return 0, "", false
	}
	var k scopedtoken.RevocationKind
	if k.UnmarshalText([]byte(kind)) != nil {
		return 0, "", false
	}
	return k, value, true
}

// encodeMessage writes the announcement of r: "1 KIND BEFORE UNTIL VALUE",
// with BEFORE "-" for a token and UNTIL "+inf" for ever; the value is last,
// so it may hold any bytes, spaces and line breaks included.
func encodeMessage(r scopedtoken.Revocation, now time.Time) string {
	before := "-"
	if r.Kind.IsCutoff() {
		before = strconv.FormatInt(r.CutoffSeconds(now), 10)
	}
	return strings.Join([]string{"1", r.Kind.String(), before, formatUntil(r.Until), r.Value}, " ")
}

// formatUntil writes an expiry as Unix ms, or +inf for ever.
func formatUntil(t time.Time) string {
	if t.IsZero() {
		return "+inf"
	}
	return strconv.FormatInt(max(t.UnixMilli(), 1), 10)
}

// parseUntil reads what formatUntil wrote, or a ZSET score.
func parseUntil(score float64) time.Time {
	if math.IsInf(score, 1) || score > math.MaxInt64/2 {
		return time.Time{}
	}
	return time.UnixMilli(int64(score))
}

// parseMessage reads what encodeMessage wrote.
func parseMessage(payload string) (scopedtoken.Revocation, error) {
	f := strings.SplitN(payload, " ", 5)
	if len(f) != 5 || f[0] != "1" {
		return scopedtoken.Revocation{}, errors.New("redisstore: unknown message format")
	}
	var kind scopedtoken.RevocationKind
	if err := kind.UnmarshalText([]byte(f[1])); err != nil {
		return scopedtoken.Revocation{}, fmt.Errorf("redisstore: unknown revocation kind %q", f[1])
	}
	r := scopedtoken.Revocation{Kind: kind, Value: f[4]}
	if kind.IsCutoff() {
		sec, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return scopedtoken.Revocation{}, errors.New("redisstore: bad cutoff time in message")
		}
		r.IssuedBefore = time.Unix(sec, 0)
	}
	if f[3] != "+inf" {
		ms, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			return scopedtoken.Revocation{}, errors.New("redisstore: bad expiry in message")
		}
		r.Until = time.UnixMilli(ms)
	}
	return r, r.Validate()
}
