package browser_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/example/site"
	"github.com/scopedtoken/scopedtoken/mint"
)

// browserTimeout bounds each test's whole browser session.
const browserTimeout = 40 * time.Second

// newBrowser starts a headless Chromium of its own (temporary profile, no
// sandbox since the tests may run as root, no proxy) and returns a context
// that drives one tab. The browser is closed, and its process ended, when
// the test ends. Without a chromium binary the test fails when CI is set
// and skips otherwise.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed; CI must run the browser tests (apt-get install chromium)")
		}
		t.Skip("chromium is not installed: skipping the browser tests (install it with apt-get install chromium; in CI they fail)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("no-proxy-server", true),
		chromedp.WindowSize(1000, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	// Cleanups run last-in first-out: the temporary profile registered by
	// t.TempDir above is removed after the browser has exited.
	t.Cleanup(func() {
		cancelBrowser() // closes the browser
		cancelAlloc()   // kills its process if it is still there, and waits
	})
	// The first Do starts the browser, which lives as long as browserCtx:
	// the timeout goes on a context derived from it.
	require.NoError(t, chromedp.Do(browserCtx), "start chromium")
	ctx, cancelTimeout := context.WithTimeout(browserCtx, browserTimeout)
	t.Cleanup(cancelTimeout)
	return ctx
}

// pageResult is what a demo page shows once its call to the API finished.
type pageResult struct {
	status string // #result's data-status: the HTTP status, "0" for a failed call
	text   string
	href   string // location.href
}

// openPage navigates to rawURL and waits for the page's call to finish.
func openPage(t *testing.T, ctx context.Context, rawURL string) pageResult {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(rawURL),
		chromedp.WaitVisible(chromedp.CSS("#result[data-status]")),
	), "open %s", redact(rawURL))
	status, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#result"), "data-status"))
	require.NoError(t, err)
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#result")))
	require.NoError(t, err)
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string]("location.href"))
	require.NoError(t, err)
	screenshot(t, ctx)
	return pageResult{status: status.Value, text: text, href: href}
}

// screenshot saves the page as PNG in $BROWSER_SCREENSHOTS, when set, to
// look at how the demo reads.
func screenshot(t *testing.T, ctx context.Context) {
	dir := os.Getenv("BROWSER_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + ".png"
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
}

// redact cuts a link's token out of a URL for failure messages.
func redact(rawURL string) string {
	before, _, found := strings.Cut(rawURL, site.LinkParam+"=")
	if !found {
		return rawURL
	}
	return before + site.LinkParam + "=REDACTED"
}

// seen is one request as a server received it.
type seen struct {
	method, target string
	header         http.Header
}

// recorder records every request before passing it on.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
	next http.Handler
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, seen{method: r.Method, target: r.URL.RequestURI(), header: r.Header.Clone()})
	rec.mu.Unlock()
	rec.next.ServeHTTP(w, r)
}

func (rec *recorder) requests() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seen(nil), rec.reqs...)
}

// find returns the recorded requests with that method whose target starts
// with prefix.
func (rec *recorder) find(method, prefix string) []seen {
	var out []seen
	for _, s := range rec.requests() {
		if s.method == method && strings.HasPrefix(s.target, prefix) {
			out = append(out, s)
		}
	}
	return out
}

// serve starts a loopback server for h behind a recorder.
func serve(t *testing.T, h http.Handler) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{next: h}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return srv, rec
}

const businessID = "1234567"

// kit is a generated HS256 key with the middleware that trusts it (reading
// link tokens from the site's cookie too), the site's token specs and a
// minter for emailed links.
type kit struct {
	keys   scopedtoken.KeySet
	mw     *scopedtoken.Middleware
	specs  *mint.Specs
	minter *mint.Minter
	api    http.Handler // the middleware in front of the search and answers endpoints
}

// testSpecs hand a search token to the home page and to /wrong, which calls
// an endpoint outside it.
const testSpecs = `[{"name": "search", "keyId": "k1",
  "claims": {"aud": "/v2/accounts/me/search", "query": {"experienceKey": "browser"}},
  "scope": "^/(wrong)?$"}]`

var testPages = []site.Page{
	{Path: "/", Title: "Search", TokenSpec: "search", Intro: "Calls search with the page's token.", Call: "/v2/accounts/me/search?input=pizza"},
	{Path: "/wrong", Title: "Wrong endpoint", TokenSpec: "search", Intro: "Calls answers with a search token.", Call: "/v2/accounts/me/answers?input=pizza"},
	{Path: "/answers", Title: "Answers (emailed link)", Intro: "Calls answers with the link's cookie.", Call: "/v2/accounts/me/answers?input=pizza"},
}

// newKit makes a kit; each of configure changes the middleware's Config
// before New.
func newKit(t *testing.T, configure ...func(*scopedtoken.Config)) *kit {
	t.Helper()
	secret := make([]byte, 32)
	_, err := rand.Read(secret)
	require.NoError(t, err)
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: businessID})
	require.NoError(t, err)
	cfg := scopedtoken.Config{Keys: keys, TokenCookie: site.DefaultLinkCookie}
	for _, c := range configure {
		c(&cfg)
	}
	mw, err := scopedtoken.New(cfg)
	require.NoError(t, err)
	specs, err := mint.LoadSpecs(strings.NewReader(testSpecs), mint.SpecsConfig{Keys: site.SecretKey{ID: "k1", Secret: secret}, Verify: mw})
	require.NoError(t, err)
	minter, err := mint.New(mint.Config{
		Key: mint.Key{ID: "k1", Algorithm: "HS256", Secret: secret}, Lifetime: 10 * time.Minute, Verify: mw,
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	for _, name := range []string{"search", "answers"} {
		mux.HandleFunc("GET /v2/accounts/{businessId}/"+name, func(w http.ResponseWriter, r *http.Request) {
			tok, ok := scopedtoken.FromContext(r.Context())
			if !ok {
				http.Error(w, "no verified token", http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"endpoint": name, "business": tok.BusinessID(), "query": r.URL.Query()}) //nolint:errcheck // the client went away
		})
	}
	return &kit{keys: keys, mw: mw, specs: specs, minter: minter, api: mw.Handler(mux)}
}

// bearer returns the token of an Authorization header, "" without one.
func bearer(h http.Header) string {
	tok, _ := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	return tok
}

// sentRequest is a request as the browser sent it.
type sentRequest struct {
	url    string
	header http.Header
}

// watchRequests records the requests the tab sends to a URL whose path
// starts with pathPrefix, headers included, from now on (the DevTools
// protocol's Network.requestWillBeSent, which shows what a script added);
// the returned function lists them so far.
func watchRequests(t *testing.T, ctx context.Context, pathPrefix string) func() []sentRequest {
	t.Helper()
	var (
		mu   sync.Mutex
		seen []sentRequest
	)
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		e, ok := ev.(*network.EventRequestWillBeSent)
		if !ok || e.Request == nil {
			return
		}
		u, err := url.Parse(e.Request.URL)
		if err != nil || !strings.HasPrefix(u.Path, pathPrefix) {
			return
		}
		h := http.Header{}
		for name, v := range e.Request.Headers {
			if s, ok := v.(string); ok {
				h.Set(name, s)
			}
		}
		mu.Lock()
		seen = append(seen, sentRequest{url: e.Request.URL, header: h})
		mu.Unlock()
	}))
	return func() []sentRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]sentRequest(nil), seen...)
	}
}
