package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	neturl "net/url"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/redisstore"
)

const revokeSynopsis = `Usage:
  scopedtoken revoke REDIS (--token T | --jti ID | --hash H)
                     [--keep DURATION] [--prefix P]
  scopedtoken revoke REDIS (--business B | --subject S | --kid K)
                     [--before RFC3339] [--keep DURATION] [--prefix P]

Records a revocation in the Redis state that every instance of the service
shares (the redisstore module); they enforce it within a second. It needs no
key: a revocation can only refuse tokens. Exit status 0 once it is recorded.

REDIS is exactly one of (rediss:// for TLS):
  --redis URL           one server, or a managed primary endpoint:
                        redis://[[USER]:PASSWORD@]HOST:PORT[/DB]
  --redis-cluster URL   Redis Cluster, any of its nodes:
                        redis://[[USER]:PASSWORD@]HOST:PORT?addr=HOST2:PORT2&addr=HOST3:PORT3
  --redis-sentinel URL  a primary behind Sentinel, by the sentinels and the
                        name they monitor it under:
                        redis://SENTINEL:PORT?master_name=NAME&addr=SENTINEL2:PORT2&password=PASSWORD
Without any of these flags, exactly one of SCOPEDTOKEN_REDIS_URL,
SCOPEDTOKEN_REDIS_CLUSTER_URL and SCOPEDTOKEN_REDIS_SENTINEL_URL gives it,
which keeps a password out of the process list; a flag wins over them. In a
Sentinel URL, password= (and username=) is the primary's and the replicas';
a password before the @ is the sentinels' own, for sentinels that require
one. Messages never print a password.

--token revokes one token, pasted in any form listed below: by its jti, or
by the hash of its signing input (header and payload) when it has none, until
it expires. Quote it as one argument: --token "Bearer TOKEN". --jti and --hash
(scopedtoken.TokenHash: that SHA-256, unpadded base64url) do the same without
it. A --token that is not a compact JWS in one of those forms is refused
with exit status 2, one whose header or payload the middleware would not read
with 1: a revocation of anything but the token itself would revoke nothing.
--business, --subject and --kid cut off every token of that business (the
key's, or one its aud names), sub or kid issued before --before (default now;
a token without iat counts as issued before any cutoff).

--keep bounds how long the entry is kept: default for ever, except for
--token, which is kept until the token's exp plus 30 seconds. Set it to at
least the longest lifetime of the tokens concerned; with --token, a --keep
that ends before that is refused.

The "revoked KIND:VALUE" line shows a value from the token (a jti) as it is
when it is plain, else quoted with control and bidi characters escaped.

` + tokenForms

// revokeTimeout bounds the whole command when Redis does not answer.
const revokeTimeout = 10 * time.Second

func init() {
	// go-redis prints lines of its own on stderr ("sentinel: new master"),
	// unless a Store routes them; revoke reports what fails itself.
	redis.SetLogger(&logging.VoidLogger{})
}

func runRevoke(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("revoke")
	redisURLs := map[redisstore.Deployment]*string{}
	for _, src := range redisSources {
		redisURLs[src.d] = fs.String(src.d.String(), "", src.help+" (default $"+src.env+")")
	}
	prefix := fs.String("prefix", redisstore.DefaultPrefix, "key prefix of the shared state")
	token := fs.String("token", "", `the token to revoke, bare, "Bearer TOKEN", "Authorization: Bearer TOKEN", "jwt=TOKEN" or a link ("-": read it from stdin)`)
	jti := fs.String("jti", "", "revoke the token(s) with this jti")
	hash := fs.String("hash", "", "revoke the token without jti whose hash this is")
	business := fs.String("business", "", "cut off every token of this business")
	subject := fs.String("subject", "", "cut off every token of this sub")
	kid := fs.String("kid", "", "cut off every token of this kid")
	before := fs.String("before", "", "cutoff time, RFC 3339 (default now)")
	keep := fs.Duration("keep", 0, "how long the entry is kept (default: for ever, or the token's lifetime)")
	rest, err := parseFlags(fs, args, revokeSynopsis, stdout)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		// Not quoted back: it may be a token that lost its quotes, as in
		// --token Bearer TOKEN.
		return usagef("%d unexpected argument(s) after the flags; quote a value with spaces as one argument, as in --token \"Bearer TOKEN\"", len(rest))
	}
	given := setFlags(fs)
	if countSet(given, "token", "jti", "hash", "business", "subject", "kid") != 1 {
		return usagef("give exactly one of --token, --jti, --hash, --business, --subject and --kid")
	}
	if *keep < 0 {
		return usagef("--keep must not be negative")
	}
	deployment, url, origin, err := chooseRedis(redisURLs)
	if err != nil {
		return err
	}
	client, err := redisstore.NewClient(deployment, url)
	if err != nil {
		return usageError{fmt.Errorf("%s: %s", origin, strings.TrimPrefix(err.Error(), "redisstore: "))}
	}
	defer client.Close()

	now := time.Now()
	var r scopedtoken.Revocation
	switch {
	case given["token"]:
		t, err := readTokenArg(*token, strictJWS)
		if bad := (*tokenInputError)(nil); errors.As(err, &bad) {
			return usageError{fmt.Errorf("--token: %w", err)}
		}
		if err != nil {
			return err
		}
		if r, err = scopedtoken.TokenRevocation(t); err != nil {
			return err
		}
	case given["jti"]:
		r = scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: *jti}
	case given["hash"]:
		r = scopedtoken.Revocation{Kind: scopedtoken.RevokeHash, Value: strings.TrimPrefix(*hash, "sha256:")}
	case given["business"]:
		r = scopedtoken.Revocation{Kind: scopedtoken.CutoffBusiness, Value: *business}
	case given["subject"]:
		r = scopedtoken.Revocation{Kind: scopedtoken.CutoffSubject, Value: *subject}
	case given["kid"]:
		r = scopedtoken.Revocation{Kind: scopedtoken.CutoffKey, Value: *kid}
	}
	if given["before"] {
		if !r.Kind.IsCutoff() {
			return usagef("--before goes with --business, --subject or --kid")
		}
		t, err := time.Parse(time.RFC3339, *before)
		if err != nil {
			return usagef("--before must be an RFC 3339 time, like 2026-01-02T15:04:05Z")
		}
		r.IssuedBefore = t
	} else if r.Kind.IsCutoff() {
		r.IssuedBefore = now
	}
	if *keep > 0 {
		if given["token"] && !r.Until.IsZero() && now.Add(*keep).Before(r.Until) {
			// The entry would end while the token can still be accepted.
			return usagef("--keep ends before the token expires (%s): leave --keep out, or give at least %s",
				r.Until.UTC().Format(time.RFC3339), r.Until.Sub(now).Round(time.Second))
		}
		r.Until = now.Add(*keep)
	}
	if err := r.Validate(); err != nil {
		return usageError{err}
	}

	ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
	defer cancel()
	// A connection that Redis refuses while go-redis sets it up (a wrong
	// password) fails this PING; in a pipeline, as Revoke writes, go-redis
	// reports it without marking the commands as failed.
	err = client.Ping(ctx).Err()
	if err == nil {
		err = redisstore.Revoke(ctx, client, *prefix, r)
	}
	if err != nil {
		return fmt.Errorf("cannot record the revocation through %s (%s): Redis is unreachable or refused it: %s",
			origin, deployment, redactURL(err.Error(), url))
	}
	fmt.Fprintf(stdout, "revoked %s:%s", r.Kind, plainOrQuoted(r.Value))
	if r.Kind.IsCutoff() {
		fmt.Fprintf(stdout, " issued before %s", r.IssuedBefore.UTC().Format(time.RFC3339))
	}
	if r.Until.IsZero() {
		fmt.Fprintln(stdout, ", kept for ever")
	} else {
		fmt.Fprintf(stdout, ", kept until %s\n", r.Until.UTC().Format(time.RFC3339))
	}
	return nil
}

// redisSource is one way to name the Redis deployment: a flag, named after
// the deployment, and an environment variable.
type redisSource struct {
	d    redisstore.Deployment
	env  string
	help string
}

var redisSources = []redisSource{
	{redisstore.Single, "SCOPEDTOKEN_REDIS_URL", "one Redis server: redis://[[USER]:PASSWORD@]HOST:PORT[/DB]"},
	{redisstore.Cluster, "SCOPEDTOKEN_REDIS_CLUSTER_URL", "Redis Cluster: redis://[[USER]:PASSWORD@]HOST:PORT?addr=HOST2:PORT2&addr=..."},
	{redisstore.Sentinel, "SCOPEDTOKEN_REDIS_SENTINEL_URL", "Sentinel: redis://SENTINEL:PORT?master_name=NAME&addr=SENTINEL2:PORT2&password=PASSWORD"},
}

// chooseRedis picks the deployment and its URL: from the one flag given,
// else from the one environment variable set. origin names where the URL
// came from, for messages.
func chooseRedis(flags map[redisstore.Deployment]*string) (d redisstore.Deployment, url, origin string, err error) {
	var fromFlags, fromEnv []string
	for _, src := range redisSources {
		if v := *flags[src.d]; v != "" {
			d, url, origin = src.d, v, "--"+src.d.String()
			fromFlags = append(fromFlags, origin)
		}
	}
	switch len(fromFlags) {
	case 1:
		return d, url, origin, nil
	case 0:
	default:
		return 0, "", "", usagef("give one of --redis, --redis-cluster and --redis-sentinel, not %s", strings.Join(fromFlags, " and "))
	}
	for _, src := range redisSources {
		if v := os.Getenv(src.env); v != "" {
			d, url, origin = src.d, v, src.env
			fromEnv = append(fromEnv, origin)
		}
	}
	switch len(fromEnv) {
	case 1:
		return d, url, origin, nil
	case 0:
		return 0, "", "", usagef("--redis, --redis-cluster or --redis-sentinel (or SCOPEDTOKEN_REDIS_URL, SCOPEDTOKEN_REDIS_CLUSTER_URL or SCOPEDTOKEN_REDIS_SENTINEL_URL) is required")
	}
	return 0, "", "", usagef("%s are all set: unset all but one, or choose with --redis, --redis-cluster or --redis-sentinel", strings.Join(fromEnv, " and "))
}

// redactURL keeps the Redis URL, and each password it holds (before the @,
// or a password= parameter, as written and decoded), out of messages.
func redactURL(msg, rawURL string) string {
	msg = strings.ReplaceAll(msg, rawURL, "[redis URL]")
	for _, secret := range urlSecrets(rawURL) {
		if secret != "" {
			msg = strings.ReplaceAll(msg, secret, "xxxxx")
		}
	}
	return msg
}

// urlSecrets returns the passwords in rawURL, as written and decoded.
func urlSecrets(rawURL string) []string {
	var secrets []string
	rest, _, _ := strings.Cut(rawURL, "#")
	rest, query, _ := strings.Cut(rest, "?")
	if _, after, ok := strings.Cut(rest, "://"); ok {
		authority, _, _ := strings.Cut(after, "/")
		if userinfo, _, ok := lastCut(authority, "@"); ok {
			if _, pw, ok := strings.Cut(userinfo, ":"); ok {
				secrets = append(secrets, pw)
				if dec, err := neturl.PathUnescape(pw); err == nil {
					secrets = append(secrets, dec)
				}
			}
		}
	}
	for _, p := range strings.Split(query, "&") {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		if name, err := neturl.QueryUnescape(k); err == nil && !strings.Contains(strings.ToLower(name), "password") {
			continue
		}
		secrets = append(secrets, v)
		if dec, err := neturl.QueryUnescape(v); err == nil {
			secrets = append(secrets, dec)
		}
	}
	return secrets
}

// lastCut cuts s around the last sep.
func lastCut(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}
