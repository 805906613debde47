package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/redisstore"
)

// options are what the flags add to the demo: a shared secret and shared
// revocation state.
type options struct {
	secret      []byte            // nil: a fresh secret
	revocations *redisstore.Store // nil: no revocation
	redisURL    string            // for the printed revoke command, password redacted
}

// loadOptions reads the secret file and connects the Redis store. The
// returned function closes the store and its client.
func loadOptions(ctx context.Context, redisURL, secretFile string) (options, func(), error) {
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
	if redisURL == "" {
		return o, noop, nil
	}
	ro, err := redis.ParseURL(redisURL)
	if err != nil {
		return o, noop, fmt.Errorf("-redis is not a valid Redis URL (redis://[:PASSWORD@]HOST:PORT[/DB])")
	}
	client := redis.NewClient(ro)
	store, err := redisstore.New(ctx, client, redisstore.Options{Logger: slog.Default()})
	if err != nil {
		client.Close()
		return o, noop, err
	}
	o.revocations = store
	o.redisURL = redisURL
	if u, err := url.Parse(redisURL); err == nil {
		o.redisURL = u.Redacted()
	}
	return o, func() { store.Close(); client.Close() }, nil
}

// addRevocation adds what shared revocation state shows: a single-use token
// that passes once in every instance, a hint to revoke the search token, and
// GET /healthz with the store's link to Redis.
func (d *demo) addRevocation(minter *scopedtoken.Minter, o options) error {
	once, err := minter.Mint(scopedtoken.Claims{Audience: []string{"/v2/accounts/me/search"}, Once: true, ExpiresIn: 30 * time.Minute})
	if err != nil {
		return err
	}
	d.requests = append(d.requests,
		demoRequest{note: "a single-use token: allowed once, in any instance that shares this Redis", target: "/v2/accounts/me/search?input=once", token: once, want: http.StatusOK},
		demoRequest{note: "the same single-use token again: already used", target: "/v2/accounts/me/search?input=again", token: once, want: http.StatusUnauthorized},
	)
	d.redisURL = o.redisURL
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

// printRevokeHint tells how to revoke the search token in every instance.
func (d *demo) printRevokeHint(w io.Writer, base string) {
	if d.redisURL == "" {
		return
	}
	fmt.Fprintf(w, "# Revoke the search token of command 1 in every instance (command 1 then gets 401 revoked):\n")
	fmt.Fprintf(w, "#   go run ./cmd/scopedtoken revoke --redis '%s' --token %s\n", d.redisURL, d.search)
	fmt.Fprintf(w, "# The link to Redis: curl -sS %s/healthz\n\n", base)
}
