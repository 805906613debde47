// Command example runs a small account API guarded by the scopedtoken
// middleware on loopback, with a demo key generated at start, and prints
// ready-to-paste curl commands with the status each one gets.
//
//	go run ./example [-addr 127.0.0.1:8080] [-origin URL] [-redis URL | -redis-cluster URL | -redis-sentinel URL] [-secret-file F] [-otel stdout]
//
// DPoP (docs/dpop.md) is allowed: the home page gets its token bound to a
// key of its own and proves it has the key on every call. -origin is the
// public origin the demo is served at, which every DPoP proof's htu names:
// several instances behind one load balancer share it. By default it is the
// demo's own address.
//
// With one of the -redis flags, revocations and single-use tokens are shared
// through that Redis deployment: one server, Redis Cluster or Sentinel, in
// the URL forms of redisstore.NewClient. Without any of them, the variable
// SCOPEDTOKEN_REDIS_URL, SCOPEDTOKEN_REDIS_CLUSTER_URL or
// SCOPEDTOKEN_REDIS_SENTINEL_URL (one at most) gives it, which keeps a
// password out of the process list. With -secret-file (an HS256 secret, as
// "scopedtoken keygen --alg HS256" writes it) several demo instances accept
// each other's tokens. With -otel stdout the API is wrapped in otelhttp and
// each request's span (with the decision: outcome, and for a refusal the
// reason as error.type) and the metrics are printed as JSON.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/scopedtoken/scopedtoken/redisstore"
)

// config is what the command line and the environment ask for.
type config struct {
	addr       string
	origin     string // "" for the listener's own address
	redis      redisTarget
	secretFile string
	otel       string // "" or "stdout"
}

// parseConfig reads the flags in args and, for Redis when no -redis* flag
// is given, the variables that getenv finds.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address; keep it on loopback, the demo tokens are printed")
	fs.StringVar(&c.origin, "origin", "", "the public origin the demo is served at, scheme://host[:port], which DPoP proofs name (default: its own address, http://ADDR)")
	urls := map[redisstore.Deployment]*string{
		redisstore.Single:   fs.String("redis", "", "share revocations and single-use tokens through this Redis server: redis://[:PASSWORD@]HOST:PORT[/DB] (default $SCOPEDTOKEN_REDIS_URL)"),
		redisstore.Cluster:  fs.String("redis-cluster", "", "share them through this Redis Cluster instead: redis://[:PASSWORD@]HOST:PORT?addr=HOST2:PORT2&addr=HOST3:PORT3 (default $SCOPEDTOKEN_REDIS_CLUSTER_URL)"),
		redisstore.Sentinel: fs.String("redis-sentinel", "", "share them through the primary that these sentinels monitor instead: redis://SENTINEL:PORT?master_name=NAME&addr=SENTINEL2:PORT2[&password=PASSWORD] (default $SCOPEDTOKEN_REDIS_SENTINEL_URL)"),
	}
	fs.StringVar(&c.secretFile, "secret-file", "", "HS256 secret file (scopedtoken keygen --alg HS256); default: a fresh secret")
	fs.StringVar(&c.otel, "otel", "", "stdout: print each request's OpenTelemetry span and the metrics as JSON")
	if err := fs.Parse(args); err != nil {
		return c, parseError{err} // already printed, with the usage
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.origin != "" {
		var err error
		if c.origin, err = checkOrigin(c.origin); err != nil {
			return c, err
		}
	}
	if err := checkOtel(c.otel); err != nil {
		return c, err
	}
	given := map[redisstore.Deployment]string{}
	for d, u := range urls {
		given[d] = *u
	}
	var err error
	c.redis, err = chooseRedis(given, getenv)
	return c, err
}

// checkOrigin returns the -origin flag without a final "/", or an error
// when it is not an http or https origin.
func checkOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("-origin %q must be an http or https origin, such as https://demo.example.com", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// parseError is an error of the flag package, which printed it.
type parseError struct{ error }

func (e parseError) Unwrap() error { return e.error }

func main() {
	c, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	var printed parseError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return
	case errors.As(err, &printed):
		os.Exit(2)
	case err != nil:
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, closeStore, err := loadOptions(ctx, c.redis, c.secretFile)
	if err != nil {
		log.Fatal(err)
	}
	o.origin = c.origin
	defer closeStore()
	o.otel = c.otel
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		log.Fatal(err)
	}
	if err := serve(ctx, ln, os.Stdout, time.Now, o); err != nil {
		log.Fatal(err)
	}
}

// readyLine ends the printed instructions; tests read up to it.
const readyLine = "Press Ctrl-C to stop."

// serve runs the demo on ln until ctx is done, then shuts the server down,
// letting requests in flight finish for up to five seconds.
func serve(ctx context.Context, ln net.Listener, out io.Writer, now func() time.Time, o options) error {
	base := baseURL(ln.Addr())
	if o.origin == "" {
		o.origin = base
	}
	var tel *telemetry
	if o.otel == otelStdout {
		var err error
		if tel, err = newTelemetry(out); err != nil {
			ln.Close()
			return err
		}
		defer tel.shutdown()
		o.onDecision = tel.metrics.OnDecision
	}
	d, err := newDemo(now, o)
	if err != nil {
		ln.Close()
		return err
	}
	handler := d.handler
	if tel != nil {
		handler = tel.handler(handler)
	}
	fmt.Fprintf(out, "scopedtoken demo API on %s\n", base)
	if o.origin != base {
		fmt.Fprintf(out, "served at the public origin %s, which DPoP proofs name\n", o.origin)
	}
	origin := "generated now"
	if o.secret != nil {
		origin = "from the secret file"
	}
	fmt.Fprintf(out, "demo key %q (HS256, %s) belongs to business %s; its tokens below expire at %s.\n\n",
		demoKeyID, origin, demoBusinessID, d.expiresAt.Format(time.RFC3339))
	d.printCommands(out, base)
	fmt.Fprintln(out, readyLine)

	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(out, "shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// baseURL is the http URL of a listener's address, naming 127.0.0.1 when the
// listener took every address.
func baseURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
