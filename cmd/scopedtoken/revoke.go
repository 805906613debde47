package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/redisstore"
)

const revokeSynopsis = `Usage:
  scopedtoken revoke --redis URL (--token T | --jti ID | --hash H)
                     [--keep DURATION] [--prefix P]
  scopedtoken revoke --redis URL (--business B | --subject S | --kid K)
                     [--before RFC3339] [--keep DURATION] [--prefix P]

Records a revocation in the Redis state that every instance of the service
shares (the redisstore module); they enforce it within a second. It needs no
key: a revocation can only refuse tokens. Exit status 0 once it is recorded.

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
least the longest lifetime of the tokens concerned.

The Redis URL (redis://[:PASSWORD@]HOST:PORT[/DB], or rediss:// for TLS) may
come from SCOPEDTOKEN_REDIS_URL instead of --redis, which keeps a password out
of the process list.

The "revoked KIND:VALUE" line shows a value from the token (a jti) as it is
when it is plain, else quoted with control and bidi characters escaped.

` + tokenForms

// revokeTimeout bounds the whole command when Redis does not answer.
const revokeTimeout = 10 * time.Second

func runRevoke(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("revoke")
	redisURL := fs.String("redis", "", "Redis URL (default $SCOPEDTOKEN_REDIS_URL)")
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
	url := *redisURL
	if url == "" {
		url = os.Getenv("SCOPEDTOKEN_REDIS_URL")
	}
	if url == "" {
		return usagef("--redis (or SCOPEDTOKEN_REDIS_URL) is required")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return usagef("--redis is not a valid Redis URL (redis://[:PASSWORD@]HOST:PORT[/DB])")
	}

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
		r.Until = now.Add(*keep)
	}
	if err := r.Validate(); err != nil {
		return usageError{err}
	}

	client := redis.NewClient(opts)
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
	defer cancel()
	if err := redisstore.Revoke(ctx, client, *prefix, r); err != nil {
		return errors.New("cannot record the revocation: Redis is unreachable or refused it: " + redactURL(err.Error(), url))
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

// redactURL keeps the Redis URL, which may hold a password, out of messages.
func redactURL(msg, url string) string {
	return strings.ReplaceAll(msg, url, "[redis URL]")
}
