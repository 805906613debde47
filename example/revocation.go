package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
	"github.com/scopedtoken/scopedtoken/redisstore"
)

// options are what the flags add to the demo: a shared secret, shared
// revocation state and OpenTelemetry.
type options struct {
	secret      []byte            // nil: a fresh secret
	revocations *redisstore.Store // nil: proofs and single-use tokens recorded in memory, no revocation
	redis       redisTarget       // for the printed revoke command
	origin      string            // the public origin DPoP proofs name; "" takes it from each request
	otel        string            // -otel: "" or "stdout"
	// onDecision is the middleware's Config.OnDecision (serve sets it for
	// -otel stdout).
	onDecision func(context.Context, scopedtoken.Decision)
}

// redisEnv names, for each deployment, the environment variable that gives
// its URL when no -redis* flag is given; the CLI reads the same ones. They
// keep a password out of the process list.
var redisEnv = []struct {
	deployment redisstore.Deployment
	name       string
}{
	{redisstore.Single, "SCOPEDTOKEN_REDIS_URL"},
	{redisstore.Cluster, "SCOPEDTOKEN_REDIS_CLUSTER_URL"},
	{redisstore.Sentinel, "SCOPEDTOKEN_REDIS_SENTINEL_URL"},
}

// redisTarget is the Redis deployment that shares the state; the zero value
// is none.
type redisTarget struct {
	deployment redisstore.Deployment
	url        string
	origin     string // the flag ("-redis-cluster") or the variable it came from
}

// chooseRedis picks the deployment: the one -redis* flag given (by
// deployment, "" when not given), or else the one variable of redisEnv that
// getenv finds set, or none. Two flags, or two variables without a flag,
// are an error.
func chooseRedis(flags map[redisstore.Deployment]string, getenv func(string) string) (redisTarget, error) {
	var found []redisTarget
	for _, e := range redisEnv {
		if u := flags[e.deployment]; u != "" {
			found = append(found, redisTarget{e.deployment, u, "-" + e.deployment.String()})
		}
	}
	if len(found) == 0 {
		for _, e := range redisEnv {
			if u := getenv(e.name); u != "" {
				found = append(found, redisTarget{e.deployment, u, e.name})
			}
		}
	}
	switch len(found) {
	case 0:
		return redisTarget{}, nil
	case 1:
		return found[0], nil
	}
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = f.origin
	}
	return redisTarget{}, fmt.Errorf("give one of -redis, -redis-cluster and -redis-sentinel (or one of their variables %s, %s, %s), not %s",
		redisEnv[0].name, redisEnv[1].name, redisEnv[2].name, strings.Join(names, " and "))
}

// loadOptions reads the secret file and connects the Redis store. The
// returned function closes the store and its client.
func loadOptions(ctx context.Context, target redisTarget, secretFile string) (options, func(), error) {
	var o options
	noop := func() {}
	if secretFile != "" {
		data, err := os.ReadFile(secretFile)
		if err != nil {
			return o, noop, err
		}
		s, ok := strings.CutSuffix(string(data), "\r\n")
		if !ok {
			s = strings.TrimSuffix(s, "\n")
		}
		o.secret = []byte(s) // raw bytes, as "scopedtoken keygen --alg HS256" means them
	}
	if target.url == "" {
		return o, noop, nil
	}
	client, err := redisstore.NewClient(target.deployment, target.url)
	if err != nil {
		return o, noop, fmt.Errorf("%s: %s", target.origin, strings.TrimPrefix(err.Error(), "redisstore: "))
	}
	store, err := redisstore.New(ctx, client, redisstore.Options{Logger: slog.Default()})
	if err != nil {
		client.Close()
		// Never the URL, which may hold a password.
		msg := strings.ReplaceAll(err.Error(), target.url, redisstore.RedactURL(target.url))
		return o, noop, fmt.Errorf("%s (%s): %s", target.origin, target.deployment, msg)
	}
	o.revocations = store
	o.redis = target
	return o, func() { store.Close(); client.Close() }, nil
}

// addRevocation adds what shared revocation state shows: a single-use token
// that passes once in every instance, a hint to revoke the search token, and
// GET /healthz with the store's link to Redis.
func (d *demo) addRevocation(minter *mint.Minter, o options) error {
	once, err := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}, Once: true, ExpiresIn: 30 * time.Minute})
	if err != nil {
		return err
	}
	d.requests = append(d.requests,
		demoRequest{note: "a single-use token: allowed once, in any instance that shares this Redis", target: "/v2/accounts/me/search?input=once", token: once, want: http.StatusOK},
		demoRequest{note: "the same single-use token again: already used", target: "/v2/accounts/me/search?input=again", token: once, want: http.StatusUnauthorized},
	)
	d.redis = o.redis
	api := d.handler
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		h := o.revocations.Health()
		if !h.Connected {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(h) //nolint:errcheck // the client went away
	})
	mux.Handle("/", api)
	d.handler = mux
	return nil
}

// printRevokeHint tells how to revoke the search token in every instance,
// with the Redis URL's password, if any, shown as xxxxx.
func (d *demo) printRevokeHint(w io.Writer, base string) {
	if d.redis.url == "" {
		return
	}
	shown := redisstore.RedactURL(d.redis.url)
	fmt.Fprintf(w, "# Revoke the search token of command 1 in every instance (command 1 then gets 401 revoked):\n")
	fmt.Fprintf(w, "#   go run ./cmd/scopedtoken revoke --%s '%s' --token %s\n", d.redis.deployment, shown, d.search)
	if shown != d.redis.url {
		for _, e := range redisEnv {
			if e.deployment == d.redis.deployment {
				fmt.Fprintf(w, "# (xxxxx stands for the password; or set %s and leave --%s out)\n", e.name, d.redis.deployment)
			}
		}
	}
	fmt.Fprintf(w, "# The link to Redis: curl -sS %s/healthz\n\n", base)
}
