// Command example runs a small account API guarded by the scopedtoken
// middleware on loopback, with a demo key generated at start, and prints
// ready-to-paste curl commands with the status each one gets.
//
//	go run ./example [-addr 127.0.0.1:8080] [-redis URL -secret-file F]
//
// With -redis, revocations and single-use tokens are shared through Redis,
// and with -secret-file (an HS256 secret, as "scopedtoken keygen --alg
// HS256" writes it) several demo instances accept each other's tokens.
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
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address; keep it on loopback, the demo tokens are printed")
	redisURL := flag.String("redis", "", "share revocations and single-use tokens through this Redis (redis://HOST:PORT)")
	secretFile := flag.String("secret-file", "", "HS256 secret file (scopedtoken keygen --alg HS256); default: a fresh secret")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, closeStore, err := loadOptions(ctx, *redisURL, *secretFile)
	if err != nil {
		log.Fatal(err)
	}
	defer closeStore()
	ln, err := net.Listen("tcp", *addr)
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
	d, err := newDemo(now, o)
	if err != nil {
		ln.Close()
		return err
	}
	base := baseURL(ln.Addr())
	fmt.Fprintf(out, "scopedtoken demo API on %s\n", base)
	origin := "generated now"
	if o.secret != nil {
		origin = "from the secret file"
	}
	fmt.Fprintf(out, "demo key %q (HS256, %s) belongs to business %s; its tokens below expire at %s.\n\n",
		demoKeyID, origin, demoBusinessID, d.expiresAt.Format(time.RFC3339))
	d.printCommands(out, base)
	fmt.Fprintln(out, readyLine)

	srv := &http.Server{Handler: d.handler, ReadHeaderTimeout: 10 * time.Second}
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
