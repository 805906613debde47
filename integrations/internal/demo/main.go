package demo

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/scopedtoken/scopedtoken"
)

// Main is the whole main function of a router example: it reads -addr,
// generates the demo key, builds the router with build, prints ready-to-paste
// curl commands and serves until Ctrl-C or SIGTERM.
func Main(defaultAddr string, build func(*Kit) http.Handler) {
	addr := flag.String("addr", defaultAddr, "listen address (keep it on loopback: the demo key is printed in its tokens)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, build); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr string, build func(*Kit) http.Handler) error {
	kit, err := NewKit(scopedtoken.Config{}, nil)
	if err != nil {
		return err
	}
	reqs, err := kit.Requests()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s (Ctrl-C to stop)\n\n", ln.Addr())
	PrintUsage(os.Stdout, BaseURL(ln.Addr()), reqs)
	return Serve(ctx, ln, build(kit))
}

// BaseURL is the http URL of a listener's address, with 127.0.0.1 for an
// unspecified host.
func BaseURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
