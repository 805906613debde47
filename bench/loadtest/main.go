// Command loadtest compares the requests per second of a demo-style API on
// loopback with and without the scopedtoken middleware in front of it.
//
// It starts both servers on 127.0.0.1 (never another interface), then runs
// alternating phases against each (unguarded, guarded, unguarded, ...), every
// phase bounded by a duration and a request count, and prints the median
// requests per second of each server and their ratio. The guarded phases send
// one valid HS256 token with a query claim, so after the first request every
// verification is a cache hit, as it is for a client that reuses its token.
// Every answer must be 200: any other status stops the run with an error.
//
//	go run ./loadtest -duration 5s -rounds 5 -concurrency 32
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scopedtoken/scopedtoken"
)

// options bound one run.
type options struct {
	duration    time.Duration // per phase
	maxRequests int64         // per phase
	rounds      int           // phases per server
	concurrency int           // client workers
}

// result is the outcome of one run.
type result struct {
	unguarded, guarded []float64 // requests per second, per phase; index = round
}

func (r result) medians() (unguarded, guarded float64) {
	return median(r.unguarded), median(r.guarded)
}

// pairedRatio is the median over rounds of guarded/unguarded within a round,
// whose two phases ran back to back: it cancels slow drifts of the machine.
func (r result) pairedRatio() float64 {
	ratios := make([]float64, len(r.guarded))
	for i := range r.guarded {
		ratios[i] = r.guarded[i] / r.unguarded[i]
	}
	return median(ratios)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "length of each phase")
	flag.Int64Var(&o.maxRequests, "max-requests", 5_000_000, "most requests in one phase")
	flag.IntVar(&o.rounds, "rounds", 3, "phases per server (alternating)")
	flag.IntVar(&o.concurrency, "concurrency", 32, "concurrent client connections")
	flag.Parse()
	if o.duration <= 0 || o.duration > 5*time.Minute || o.rounds < 1 || o.rounds > 50 || o.concurrency < 1 || o.concurrency > 1024 || o.maxRequests < 1 {
		fmt.Fprintln(os.Stderr, "loadtest: -duration must be in (0, 5m], -rounds in [1, 50], -concurrency in [1, 1024], -max-requests positive")
		os.Exit(2)
	}
	res, err := run(o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
	u, g := res.medians()
	fmt.Printf("median unguarded: %.0f req/s\nmedian guarded:   %.0f req/s\n", u, g)
	fmt.Printf("ratio of medians guarded/unguarded: %.1f %%\nmedian of per-round ratios:         %.1f %%\n", 100*g/u, 100*res.pairedRatio())
}

// run starts both servers, alternates the phases and reports each to log.
func run(o options, log io.Writer) (result, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return result{}, err
	}
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "demo", Algorithm: "HS256", Secret: secret, BusinessID: "1234567"})
	if err != nil {
		return result{}, err
	}
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys})
	if err != nil {
		return result{}, err
	}
	minter, err := scopedtoken.NewMinter(scopedtoken.MinterConfig{
		Key:      scopedtoken.SigningKey{ID: "demo", Algorithm: "HS256", Secret: secret},
		Lifetime: time.Hour,
	})
	if err != nil {
		return result{}, err
	}
	token, err := minter.Mint(scopedtoken.Claims{
		Audience: []string{"/v2/accounts/me/search"},
		Query:    url.Values{"experienceKey": {"demo-experience"}},
	})
	if err != nil {
		return result{}, err
	}

	var res result
	api := demoAPI()
	unguarded, err := serve(api)
	if err != nil {
		return result{}, err
	}
	defer unguarded.Close()
	guarded, err := serve(mw.Handler(api))
	if err != nil {
		return result{}, err
	}
	defer guarded.Close()

	target := "/v2/accounts/me/search?experienceKey=demo-experience&input=pizza"
	// Warm up both servers (connections, the token cache, the heap) with a
	// short phase each that is not counted.
	warm := o
	warm.duration = min(o.duration, 500*time.Millisecond)
	for _, s := range []*server{unguarded, guarded} {
		if _, _, err := phase(warm, "http://"+s.addr+target, token); err != nil {
			return result{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	type side struct {
		name string
		srv  *server
		out  *[]float64
	}
	u := side{"unguarded", unguarded, &res.unguarded}
	g := side{"guarded", guarded, &res.guarded}
	for round := range o.rounds {
		order := []side{u, g}
		if round%2 == 1 { // ABBA: neither server always runs first
			order = []side{g, u}
		}
		for _, p := range order {
			rps, n, err := phase(o, "http://"+p.srv.addr+target, token)
			if err != nil {
				return res, fmt.Errorf("%s phase %d: %w", p.name, round+1, err)
			}
			*p.out = append(*p.out, rps)
			fmt.Fprintf(log, "round %d %-9s %8d requests %10.0f req/s\n", round+1, p.name, n, rps)
		}
	}
	return res, nil
}

// demoAPI is a demo-style endpoint: it answers a small JSON document built
// from the request and, when there is one, the verified token. Both servers
// run this same handler.
func demoAPI() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/accounts/{businessId}/search", func(w http.ResponseWriter, r *http.Request) {
		reply := struct {
			Business string     `json:"business"`
			InPath   string     `json:"businessIdInPath"`
			Query    url.Values `json:"query"`
		}{InPath: r.PathValue("businessId"), Query: r.URL.Query()}
		if tok, ok := scopedtoken.FromContext(r.Context()); ok {
			reply.Business = tok.BusinessID
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(reply) //nolint:errcheck // the client went away
	})
	return mux
}

// server is an HTTP server on a loopback port.
type server struct {
	srv  *http.Server
	addr string
}

func serve(h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{srv: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}, addr: ln.Addr().String()}
	go s.srv.Serve(ln) //nolint:errcheck // ends with Close
	return s, nil
}

func (s *server) Close() { s.srv.Close() }

// phase sends requests from o.concurrency workers until o.duration has passed
// or o.maxRequests were sent, and returns the completed requests per second.
func phase(o options, target, token string) (rps float64, n int64, err error) {
	tr := &http.Transport{MaxIdleConns: o.concurrency, MaxIdleConnsPerHost: o.concurrency, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	defer cancel()

	var sent, done atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && sent.Add(1) <= o.maxRequests {
				if err := get(ctx, client, target, token); err != nil {
					if ctx.Err() != nil {
						return // the phase ended mid-request
					}
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, done.Load(), firstErr
	}
	return float64(done.Load()) / elapsed.Seconds(), done.Load(), nil
}

func get(ctx context.Context, client *http.Client, target, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return errors.New("unexpected status " + resp.Status)
	}
	return nil
}
