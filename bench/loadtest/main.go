// Command loadtest compares the requests per second of a demo-style API on
// loopback with and without the scopedtoken middleware in front of it.
//
// It starts both servers on 127.0.0.1 (never another interface), then runs
// alternating phases against each (unguarded, guarded, unguarded, ...), every
// phase bounded by a duration and a request count, and prints the median
// requests per second of each server and their ratio. Every answer must be
// 200: any other status stops the run with an error.
//
// What the guarded phases send depends on the flags:
//
//   - by default, one valid HS256 token with a query claim, so after the
//     first request every verification is a cache hit, as it is for a
//     client that reuses its token;
//
//   - with -flood N, a flood of one-off tokens: each request takes the next
//     of N distinct valid tokens, so every request is a cache miss and the
//     cache sees N tokens it never sees again (until the pool wraps around);
//
//   - with -flood N -hot H as well, half the requests take the next one-off
//     token and half one of H hot tokens at random, and the tool reports the
//     share of the hot tokens' requests that were cache hits (a token of
//     the hot set is signed under its own kid, which OnDecision sees).
//
//     go run ./loadtest -duration 5s -rounds 5 -concurrency 32
//     go run ./loadtest -duration 3s -rounds 10 -flood 200000
//     go run ./loadtest -duration 3s -rounds 10 -flood 200000 -hot 1000
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
)

// options bound one run.
type options struct {
	duration    time.Duration // per phase
	maxRequests int64         // per phase
	rounds      int           // phases per server
	concurrency int           // client workers
	flood       int           // distinct one-off tokens; 0: one token, always cached
	hot         int           // hot tokens mixed half and half with the flood; 0: none
}

// result is the outcome of one run.
type result struct {
	unguarded, guarded []float64 // requests per second, per phase; index = round
	hotRequests        int64     // guarded requests with a hot token (timed phases)
	hotHits            int64     // of which cache hits
}

// hitRate is the share of the hot tokens' requests that were cache hits.
func (r result) hitRate() float64 {
	if r.hotRequests == 0 {
		return 0
	}
	return float64(r.hotHits) / float64(r.hotRequests)
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
	flag.IntVar(&o.flood, "flood", 0, "distinct one-off tokens sent by the guarded phases (0: one cached token)")
	flag.IntVar(&o.hot, "hot", 0, "hot tokens sent with half the guarded requests (needs -flood)")
	flag.Parse()
	if o.duration <= 0 || o.duration > 5*time.Minute || o.rounds < 1 || o.rounds > 50 || o.concurrency < 1 || o.concurrency > 1024 || o.maxRequests < 1 ||
		o.flood < 0 || o.flood > 1_000_000 || o.hot < 0 || o.hot > 100_000 || o.hot > 0 && o.flood == 0 {
		fmt.Fprintln(os.Stderr, "loadtest: -duration must be in (0, 5m], -rounds in [1, 50], -concurrency in [1, 1024], -max-requests positive, -flood in [0, 1e6], -hot in [0, 1e5] and only with -flood")
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
	if o.hot > 0 {
		fmt.Printf("hot tokens' requests that hit the cache: %.1f %% of %d\n", 100*res.hitRate(), res.hotRequests)
	}
}

// run starts both servers, alternates the phases and reports each to log.
func run(o options, log io.Writer) (result, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return result{}, err
	}
	keys, err := scopedtoken.StaticKeys(
		scopedtoken.Key{ID: "demo", Algorithm: "HS256", Secret: secret, BusinessID: "1234567"},
		scopedtoken.Key{ID: hotKID, Algorithm: "HS256", Secret: secret, BusinessID: "1234567"})
	if err != nil {
		return result{}, err
	}
	var counting atomic.Bool // only the timed phases count
	var hotRequests, hotHits atomic.Int64
	cfg := scopedtoken.Config{Keys: keys}
	if o.hot > 0 {
		cfg.OnDecision = func(_ context.Context, d scopedtoken.Decision) {
			if d.KeyID == hotKID && counting.Load() {
				hotRequests.Add(1)
				if d.Cached {
					hotHits.Add(1)
				}
			}
		}
	}
	mw, err := scopedtoken.New(cfg)
	if err != nil {
		return result{}, err
	}
	tokens, err := mintTokens(secret, o)
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
		if _, _, err := phase(warm, "http://"+s.addr+target, tokens.next); err != nil {
			return result{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	counting.Store(true)
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
			rps, n, err := phase(o, "http://"+p.srv.addr+target, tokens.next)
			if err != nil {
				return res, fmt.Errorf("%s phase %d: %w", p.name, round+1, err)
			}
			*p.out = append(*p.out, rps)
			fmt.Fprintf(log, "round %d %-9s %8d requests %10.0f req/s\n", round+1, p.name, n, rps)
		}
	}
	res.hotRequests, res.hotHits = hotRequests.Load(), hotHits.Load()
	return res, nil
}

// hotKID is the kid of the hot set's tokens, so that OnDecision can tell
// their requests apart.
const hotKID = "demo-hot"

// tokenPool hands out the tokens of the guarded phases (the unguarded server
// ignores them): the one token; or the flood's tokens in turn; or, with a
// hot set, every other request one of the hot tokens at random.
type tokenPool struct {
	flood, hot []string
	n          atomic.Uint64
}

func (p *tokenPool) next() string {
	i := p.n.Add(1)
	if len(p.hot) > 0 && i%2 == 0 {
		return p.hot[mrand.IntN(len(p.hot))]
	}
	return p.flood[i%uint64(len(p.flood))]
}

// mintTokens mints the pool: distinct tokens (each names its own jti) with
// the demo's audience and query claim.
func mintTokens(secret []byte, o options) (*tokenPool, error) {
	mint := func(kid string, n int) ([]string, error) {
		minter, err := mint.New(mint.Config{
			Key:      mint.Key{ID: kid, Algorithm: "HS256", Secret: secret},
			Lifetime: time.Hour,
		})
		if err != nil {
			return nil, err
		}
		out := make([]string, n)
		for i := range out {
			if out[i], err = minter.Mint(mint.Claims{
				Audience: []string{"/v2/accounts/me/search"},
				Query:    url.Values{"experienceKey": {"demo-experience"}},
				ID:       fmt.Sprintf("%s-%d", kid, i),
			}); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	p := &tokenPool{}
	var err error
	if p.flood, err = mint("demo", max(o.flood, 1)); err != nil {
		return nil, err
	}
	if p.hot, err = mint(hotKID, o.hot); err != nil {
		return nil, err
	}
	return p, nil
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
			reply.Business = tok.BusinessID()
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
func phase(o options, target string, token func() string) (rps float64, n int64, err error) {
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
				if err := get(ctx, client, target, token()); err != nil {
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
