// Command example runs a small account API guarded by the scopedtoken
// middleware on loopback, with a demo key generated at start, and prints
// ready-to-paste curl commands with the status each one gets.
//
//	go run ./example [-addr 127.0.0.1:8080]
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
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if err := serve(ctx, ln, os.Stdout, time.Now); err != nil {
		log.Fatal(err)
	}
}

// readyLine ends the printed instructions; tests read up to it.
const readyLine = "Press Ctrl-C to stop."

// serve runs the demo on ln until ctx is done, then shuts the server down,
// letting requests in flight finish for up to five seconds.
func serve(ctx context.Context, ln net.Listener, out io.Writer, now func() time.Time) error {
	d, err := newDemo(now)
	if err != nil {
		ln.Close()
		return err
	}
	base := baseURL(ln.Addr())
	fmt.Fprintf(out, "scopedtoken demo API on %s\n", base)
	fmt.Fprintf(out, "demo key %q (HS256, generated now) belongs to business %s; its tokens below expire at %s.\n\n",
		demoKeyID, demoBusinessID, d.expiresAt.Format(time.RFC3339))
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
