package integrations_test

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/integrations/scopedecho"
	"github.com/scopedtoken/scopedtoken/integrations/scopedgin"
	"github.com/scopedtoken/scopedtoken/mint"
)

// The router differential sends the same hostile request targets through the
// middleware mounted in front of each real router and checks one property:
// whenever a handler runs, every view of the path it can get (the router's
// parameters, r.URL.Path, r.URL.EscapedPath(), raw and decoded) lies inside
// what the token authorized. The oracle is written from docs/security.md, not from the
// package's code.

const accountsPrefix = "/v2/accounts/"

var diffClock = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// scenario is one token (or none) that every target is sent with.
type scenario struct {
	name        string
	keyBusiness string   // the signing key's BusinessID
	aud         []string // "" token: no Authorization header
	token       string
}

// coversBusiness is the business rule of docs/security.md.
func (s scenario) coversBusiness(entry, request string) bool {
	if s.keyBusiness == "" {
		return entry == request
	}
	ok := func(b string) bool { return b == "me" || b == s.keyBusiness }
	return ok(entry) && ok(request)
}

// covers reports whether some aud entry covers business and the segments
// after it, compared exactly.
func (s scenario) covers(business string, segs []string) bool {
	for _, a := range s.aud {
		parts := strings.Split(strings.TrimPrefix(a, accountsPrefix), "/")
		if s.coversBusiness(parts[0], business) && len(segs) >= len(parts)-1 && slices.Equal(segs[:len(parts)-1], parts[1:]) {
			return true
		}
	}
	return false
}

// observation is what one handler saw.
type observation struct {
	routed                   bool // a route with parameters matched, not the catch-all
	business, endpoint, rest string
	path, escapedPath        string
	token                    *scopedtoken.Token
}

// violations lists every way o lies outside what s authorized.
func (s scenario) violations(o observation) []string {
	if s.token == "" {
		return []string{"handler ran without a token"}
	}
	var out []string
	if o.token == nil {
		out = append(out, "no token in the handler's context")
	} else if o.token.BusinessID() != "42" {
		out = append(out, fmt.Sprintf("Token.BusinessID() %q", o.token.BusinessID()))
	}
	check := func(view, business string, segs []string) {
		for _, seg := range append([]string{business}, segs...) {
			if bad := badSegment(seg); bad != "" {
				out = append(out, fmt.Sprintf("%s: segment %q %s", view, seg, bad))
			}
		}
		if !s.covers(business, segs) {
			out = append(out, fmt.Sprintf("%s: business %q, path %q outside aud %q", view, business, strings.Join(segs, "/"), s.aud))
		}
	}
	checkPath := func(view, p string, decode bool) {
		rest, ok := strings.CutPrefix(p, accountsPrefix)
		if !ok {
			out = append(out, fmt.Sprintf("%s %q outside %s", view, p, accountsPrefix))
			return
		}
		segs := splitRest(rest)
		if decode {
			var err error
			if segs, err = unescapeAll(segs); err != nil {
				out = append(out, fmt.Sprintf("%s %q does not decode", view, p))
				return
			}
		}
		if len(segs) == 0 {
			out = append(out, fmt.Sprintf("%s %q names no business", view, p))
			return
		}
		check(view, segs[0], segs[1:])
	}
	checkPath("URL.Path", o.path, false)
	checkPath("EscapedPath", o.escapedPath, false)
	checkPath("EscapedPath decoded", o.escapedPath, true)
	if !o.routed {
		return out
	}
	params := append([]string{o.business, o.endpoint}, splitRest(strings.TrimPrefix(o.rest, "/"))...)
	check("params", params[0], params[1:])
	// Each parameter must be the path segment at its position, raw or
	// decoded once: anything else means the router split the path otherwise
	// than the middleware read it.
	raw := splitRest(strings.TrimPrefix(o.escapedPath, accountsPrefix))
	decoded, err := unescapeAll(raw)
	if err != nil || len(raw) != len(params) {
		return append(out, fmt.Sprintf("params %q do not line up with the path %q", params, o.escapedPath))
	}
	for i, p := range params {
		if p != raw[i] && p != decoded[i] {
			out = append(out, fmt.Sprintf("param %q is neither segment %q nor its decoding %q", p, raw[i], decoded[i]))
		}
	}
	return out
}

// splitRest splits a path remainder into segments, ignoring one trailing '/'
// as docs/security.md does.
func splitRest(rest string) []string {
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return nil
	}
	return strings.Split(rest, "/")
}

func unescapeAll(segs []string) ([]string, error) {
	out := make([]string, len(segs))
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, err
		}
		out[i] = u
	}
	return out, nil
}

// badSegment says why a segment a handler sees could step outside its scope
// once the handler uses it as a path: "" when it cannot.
func badSegment(seg string) string {
	switch {
	case seg == "":
		return "is empty"
	case seg == "." || seg == "..":
		return "is a dot segment"
	case strings.ContainsAny(seg, `/\`):
		return "holds a slash or backslash"
	case strings.ContainsFunc(seg, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "holds a control character"
	}
	return ""
}

// recorder collects what the handlers of one router saw for one request.
type recorder struct {
	seen []observation
}

func (rec *recorder) observe(r *http.Request, routed bool, business, endpoint, rest string) {
	tok, _ := scopedtoken.FromContext(r.Context())
	rec.seen = append(rec.seen, observation{
		routed: routed, business: business, endpoint: endpoint, rest: rest,
		path: r.URL.Path, escapedPath: r.URL.EscapedPath(), token: tok,
	})
}

// routerUnderTest builds one real router with mw mounted as its docs say.
type routerUnderTest struct {
	name  string
	build func(mw func(http.Handler) http.Handler, rec *recorder) http.Handler
}

func routersUnderTest() []routerUnderTest {
	return []routerUnderTest{
		{"servemux", func(mw func(http.Handler) http.Handler, rec *recorder) http.Handler {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /v2/accounts/{businessId}/search", func(w http.ResponseWriter, r *http.Request) {
				rec.observe(r, true, r.PathValue("businessId"), "search", "")
			})
			mux.HandleFunc("GET /v2/accounts/{businessId}/search/{rest...}", func(w http.ResponseWriter, r *http.Request) {
				rec.observe(r, true, r.PathValue("businessId"), "search", r.PathValue("rest"))
			})
			mux.HandleFunc("GET /v2/accounts/{businessId}/{endpoint}", func(w http.ResponseWriter, r *http.Request) {
				rec.observe(r, true, r.PathValue("businessId"), r.PathValue("endpoint"), "")
			})
			mux.HandleFunc("GET /v2/accounts/{businessId}/{endpoint}/{rest...}", func(w http.ResponseWriter, r *http.Request) {
				rec.observe(r, true, r.PathValue("businessId"), r.PathValue("endpoint"), r.PathValue("rest"))
			})
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { rec.observe(r, false, "", "", "") })
			return mw(mux)
		}},
		{"chi", func(mw func(http.Handler) http.Handler, rec *recorder) http.Handler {
			r := chi.NewRouter()
			r.Use(mw)
			h := func(w http.ResponseWriter, r *http.Request) {
				rec.observe(r, true, chi.URLParam(r, "businessId"), chi.URLParam(r, "endpoint"), chi.URLParam(r, "*"))
			}
			r.Get("/v2/accounts/{businessId}/{endpoint}", h)
			r.Get("/v2/accounts/{businessId}/{endpoint}/*", h)
			r.NotFound(func(w http.ResponseWriter, r *http.Request) { rec.observe(r, false, "", "", "") })
			return r
		}},
		{"chi-group", func(mw func(http.Handler) http.Handler, rec *recorder) http.Handler {
			r := chi.NewRouter()
			r.Route("/v2/accounts/{businessId}", func(r chi.Router) {
				r.Use(mw)
				h := func(w http.ResponseWriter, r *http.Request) {
					rec.observe(r, true, chi.URLParam(r, "businessId"), chi.URLParam(r, "endpoint"), chi.URLParam(r, "*"))
				}
				r.Get("/{endpoint}", h)
				r.Get("/{endpoint}/*", h)
				r.NotFound(func(w http.ResponseWriter, r *http.Request) { rec.observe(r, false, "", "", "") })
			})
			return r
		}},
		{"gin", func(mw func(http.Handler) http.Handler, rec *recorder) http.Handler {
			return ginRouter(gin.New(), mw, rec)
		}},
		{"gin-rawpath-fixpath", func(mw func(http.Handler) http.Handler, rec *recorder) http.Handler {
			e := gin.New()
			e.UseRawPath, e.RemoveExtraSlash, e.RedirectFixedPath = true, true, true
			return ginRouter(e, mw, rec)
		}},
		{"gin-escapedpath", func(mw func(http.Handler) http.Handler, rec *recorder) http.Handler {
			e := gin.New()
			e.UseEscapedPath = true
			return ginRouter(e, mw, rec)
		}},
		{"echo", func(mw func(http.Handler) http.Handler, rec *recorder) http.Handler {
			e := echo.New()
			e.Use(scopedecho.Wrap(mw))
			h := func(c echo.Context) error {
				rec.observe(c.Request(), true, c.Param("businessId"), c.Param("endpoint"), c.Param("*"))
				return nil
			}
			e.GET("/v2/accounts/:businessId/:endpoint", h)
			e.GET("/v2/accounts/:businessId/:endpoint/*", h)
			e.RouteNotFound("/*", func(c echo.Context) error {
				rec.observe(c.Request(), false, "", "", "")
				return nil
			})
			return e
		}},
	}
}

func ginRouter(e *gin.Engine, mw func(http.Handler) http.Handler, rec *recorder) http.Handler {
	gin.SetMode(gin.TestMode)
	e.Use(scopedgin.Wrap(mw))
	h := func(c *gin.Context) {
		rec.observe(c.Request, true, c.Param("businessId"), c.Param("endpoint"), c.Param("rest"))
	}
	e.GET("/v2/accounts/:businessId/:endpoint", h)
	e.GET("/v2/accounts/:businessId/:endpoint/*rest", h)
	e.NoRoute(func(c *gin.Context) { rec.observe(c.Request, false, "", "", "") })
	return e
}

// hostileTargets returns the request targets of the differential: written
// cases, the near-misses of every business/endpoint/tail, and a deterministic
// sample of wider combinations.
func hostileTargets() []string {
	written := []string{
		"/v2/accounts/42/search", "/v2/accounts/me/search", "/v2/accounts/42/search/", "/v2/accounts/42/search/x/y",
		// dot segments, plain and encoded in every case
		"/v2/accounts/42/search/../answers", "/v2/accounts/42/search/./x", "/v2/accounts/42/search/..",
		"/v2/accounts/42/search/%2e%2e/answers", "/v2/accounts/42/search/%2E%2E/answers", "/v2/accounts/42/search/.%2e/answers",
		"/v2/accounts/42/search/%2e./answers", "/v2/accounts/42/search/%2e", "/v2/accounts/42/../43/search",
		"/v2/accounts/me/search/../../43/search", "/v2/accounts/42/search/x/../../answers",
		// encoded slashes and backslashes
		"/v2/accounts/42/search/..%2fanswers", "/v2/accounts/42/search/..%2Fanswers", "/v2/accounts/42/search%2f..%2fanswers",
		"/v2/accounts/42/search/..%5canswers", "/v2/accounts/42/search/..%5Canswers", `/v2/accounts/42/search/..\answers`,
		`/v2/accounts/42/search\..\answers`, "/v2/accounts/42%2fsearch", "/v2/accounts%2f42/search",
		// double and triple encoding
		"/v2/accounts/42/search/%252e%252e/answers", "/v2/accounts/42/search/%252E%252E%252Fanswers",
		"/v2/accounts/42/search/%25252e%25252e/answers", "/v2/accounts/42/search%252f..%252fanswers", "/v2/accounts/4%2532/search",
		// empty segments
		"//v2/accounts/42/search", "/v2//accounts/42/search", "/v2/accounts//42/search", "/v2/accounts/42//search",
		"/v2/accounts/42/search//x", "/v2/accounts/42/search//", "///v2/accounts/42/search",
		// ';' parameters
		"/v2/accounts/42/search;x=1", "/v2/accounts/42;x=1/search", "/v2;x=1/accounts/42/search", "/v2/accounts/42/search/;/../answers",
		"/v2/accounts/42/search;/../answers", "/v2/accounts/me;42/search", "/v2/accounts/42/search%3bx=1",
		// case variants
		"/v2/accounts/42/SEARCH", "/v2/accounts/42/Search", "/V2/accounts/42/search", "/v2/ACCOUNTS/42/search",
		"/v2/accounts/ME/search", "/v2/accounts/Me/search", "/v2/accounts/42/search/PUBLIC",
		// fullwidth look-alikes, raw and encoded
		"/v2/accounts/42/search/％２ｅ％２ｅ/answers", "/v2/accounts/42/search／..／answers", "/v2/accounts/42／search",
		"/v2/accounts/４２/search", "/v2/accounts/42/ｓｅａｒｃｈ", "/v2/accounts/42/search/%EF%BC%8E%EF%BC%8E/answers",
		"/v2/accounts/42/search%EF%BC%8F..%EF%BC%8Fanswers", "/v2/accounts/42/search/%EF%BC%85%EF%BC%92%EF%BC%85",
		"/v2/accounts/42/search/%C0%AE%C0%AE/answers", "/v2/accounts/42/search/%E2%80%A4%E2%80%A4/answers",
		// NUL and control characters, encoded and raw
		"/v2/accounts/42/search%00", "/v2/accounts/42/search/%00/../answers", "/v2/accounts/42%00/search",
		"/v2/accounts/42/search/x%0a", "/v2/accounts/42/search/x%0d%0aX-Evil:1", "/v2/accounts/42/search/x%09",
		"/v2/accounts/42/search/x%7f", "/v2/accounts/42/search/x%1f", "/v2/accounts/42/search/x%20y",
		"/v2/accounts/42/search/x\x00", "/v2/accounts/42/search/x\ty", "/v2/accounts/42/search/x y",
		"/v2/accounts/42/search/x\x7f", "/v2/accounts/42/search/x\x01",
		// business ID look-alikes
		"/v2/accounts/420/search", "/v2/accounts/042/search", "/v2/accounts/4%32/search", "/v2/accounts/%34%32/search",
		"/v2/accounts/42%20/search", "/v2/accounts/42./search", "/v2/accounts/42%2e/search", "/v2/accounts/4/search",
		"/v2/accounts/+42/search", "/v2/accounts/42../search", "/v2/accounts/43/search", "/v2/accounts/m%65/search",
		"/v2/accounts/me%00/search", "/v2/accounts/42,43/search", "/v2/accounts/42@43/search",
		// endpoint look-alikes
		"/v2/accounts/42/searchx", "/v2/accounts/42/searc", "/v2/accounts/42/search.json", "/v2/accounts/42/se%61rch",
		"/v2/accounts/42/%73earch", "/v2/accounts/42/answers", "/v2/accounts/42/search%2Fanswers",
		// trailing slashes and short paths
		"/v2/accounts/42/", "/v2/accounts/42", "/v2/accounts/", "/v2/accounts", "/", "/v2/accounts/42/search///",
		// narrower aud entries
		"/v2/accounts/42/search/public", "/v2/accounts/me/search/public/", "/v2/accounts/42/search/public/x",
		"/v2/accounts/42/search/publicx", "/v2/accounts/42/search/public/../x", "/v2/accounts/42/search/pub%6cic",
		"/v2/accounts/42/search/public%2f..%2fx", "/v2/accounts/me/answers/faq", "/v2/accounts/me/answers/faqs",
		"/v2/accounts/42/answers/faq/../../search/x", "/v2/accounts/me/answers/faq%2f..%2f..%2fsearch",
		// absolute form, queries and fragments
		"http://example.com/v2/accounts/42/search", "http://example.com/v2/accounts/42/../43/search",
		"http://example.com//v2/accounts/42/search", "/v2/accounts/42/search?x=/../answers",
		"/v2/accounts/42/search?%2e%2e=%2f", "/v2/accounts/42/search#../answers", "/v2/accounts/42/search%23/../answers",
		"/v2/accounts/42/search?", "*", "", "v2/accounts/42/search",
		// an encoded '/' next to a byte that makes RawPath an invalid encoding:
		// URL.EscapedPath then re-escapes the decoded Path, while chi and echo
		// route on RawPath itself
		"/v2/accounts/42%2Fsearch/answers/{", "/v2/accounts/42%2fsearch/answers/％", "/v2/accounts/me%2Fsearch/answers/é",
		`/v2/accounts/42%2Fsearch/answers/"`, "/v2/accounts/42%2Fsearch/answers|", "/v2/accounts/42/search%2Fx/{",
		"/v2/accounts/me/search%2F..%2F..%2F43%2Fsearch/x/{", "/v2/accounts/42%2Fsearch%2Fpublic/answers/faq/^",
		// invalid escapes
		"/v2/accounts/42/search/%zz", "/v2/accounts/42/search/%", "/v2/accounts/42/search/%2", "/v2/accounts/4%3/search",
	}

	businesses := []string{"42", "me", "420", "042", "4%32", "ME", "42;x", "42%00", "４２", "%2e%2e", "43", "", "42%2f..%2f43"}
	endpoints := []string{"search", "answers", "SEARCH", "searchx", "se%61rch", "search;x=1", "search%2f..%2fanswers", "%2e", "search%00", "..", "search%5c..", "ｓearch"}
	tails := []string{
		"", "/", "//", "/public", "/public/", "/publicx", "/x/../../answers", "/%2e%2e/answers", "/%252e%252e/answers",
		"/.%2E/answers", "/x%5c..%5canswers", "/％２ｅ％２ｅ/answers", "/x%0a", "/faq", "/public;x", "/public%2f..",
		"/x?y=1", "/%2E%2e%2F%2E%2E%2F43", "/..;/answers", "/{", "/é", "%2Fanswers/x/{", "%2Fpublic/é",
	}
	prefixes := []string{"/v2/accounts/", "/V2/accounts/", "//v2/accounts/", "/v2/accounts/./", "/v2/accounts/x/../", "/v2/%61ccounts/", "/v2/accounts%2f"}

	out := slices.Clone(written)
	for _, b := range businesses[:2] {
		for _, e := range endpoints {
			for _, tail := range tails {
				out = append(out, accountsPrefix+b+"/"+e+tail)
			}
		}
	}
	rng := rand.New(rand.NewPCG(20260102, 5))
	for range 400 {
		out = append(out, prefixes[rng.IntN(len(prefixes))]+businesses[rng.IntN(len(businesses))]+"/"+
			endpoints[rng.IntN(len(endpoints))]+tails[rng.IntN(len(tails))])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// newDiffRequest builds a GET for a raw target: with httptest.NewRequest
// where the target is a valid request line, else with the URL set by hand. It
// returns nil when net/http cannot parse the target at all: a real server
// answers those 400 itself before any handler.
func newDiffRequest(target string) (req *http.Request) {
	defer func() {
		if recover() == nil {
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			req = nil
			return
		}
		req = httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL, req.RequestURI = u, target
	}()
	return httptest.NewRequest(http.MethodGet, target, nil)
}

// diffKeys mints tokens with two keys: "plain", which has no business, and
// "biz", whose business is 42.
type diffKeys struct {
	mw           *scopedtoken.Middleware
	plain, biz   *mint.Minter
	lastDecision *scopedtoken.Decision
}

func newDiffKeys(t *testing.T) *diffKeys {
	t.Helper()
	secret := func() []byte {
		b := make([]byte, 32)
		_, err := crand.Read(b)
		require.NoError(t, err)
		return b
	}
	plainSecret, bizSecret := secret(), secret()
	keys, err := scopedtoken.StaticKeys(
		scopedtoken.Key{ID: "plain", Algorithm: "HS256", Secret: plainSecret},
		scopedtoken.Key{ID: "biz", Algorithm: "HS256", Secret: bizSecret, BusinessID: "42"},
	)
	require.NoError(t, err)
	d := &diffKeys{}
	d.mw, err = scopedtoken.New(scopedtoken.Config{
		Keys:       keys,
		Now:        func() time.Time { return diffClock },
		OnDecision: func(_ context.Context, dec scopedtoken.Decision) { d.lastDecision = &dec },
	})
	require.NoError(t, err)
	minter := func(kid string, secret []byte) *mint.Minter {
		m, err := mint.New(mint.Config{
			Key: mint.Key{ID: kid, Algorithm: "HS256", Secret: secret},
			Now: func() time.Time { return diffClock },
		})
		require.NoError(t, err)
		return m
	}
	d.plain, d.biz = minter("plain", plainSecret), minter("biz", bizSecret)
	return d
}

func (d *diffKeys) scenarios(t *testing.T) []scenario {
	t.Helper()
	mint := func(name string, m *mint.Minter, business string, aud ...string) scenario {
		tok, err := m.Mint(mint.Claims{Audience: aud})
		require.NoError(t, err)
		return scenario{name: name, keyBusiness: business, aud: aud, token: tok}
	}
	return []scenario{
		{name: "no token"},
		mint("plain key, aud 42/search", d.plain, "", "/v2/accounts/42/search"),
		mint("business key, aud me/search", d.biz, "42", "/v2/accounts/me/search"),
		mint("plain key, aud 42/search/public", d.plain, "", "/v2/accounts/42/search/public"),
		mint("business key, aud me/search/public and 42/answers/faq", d.biz, "42", "/v2/accounts/me/search/public", "/v2/accounts/42/answers/faq"),
	}
}

// routerStats counts what happened to one router's requests.
type routerStats struct {
	sent, unparseable, middlewareRan, allowed, handlerRan, violations int
}

// diffResult is the differential's outcome over every router.
type diffResult struct {
	stats      map[string]*routerStats
	violations []string
	// decisions maps target and scenario to each router's middleware status
	// (0 allowed, -1 the middleware did not run).
	decisions map[string]map[string]int
}

// runDifferential sends every target with every scenario's token through
// every router with mount(scenario) as the middleware.
func runDifferential(t *testing.T, d *diffKeys, targets []string, mount func(scenario) func(http.Handler) http.Handler) diffResult {
	t.Helper()
	res := diffResult{stats: map[string]*routerStats{}, decisions: map[string]map[string]int{}}
	for _, sc := range d.scenarios(t) {
		mw := mount(sc)
		for _, rt := range routersUnderTest() {
			rec := &recorder{}
			h := rt.build(mw, rec)
			st := res.stats[rt.name]
			if st == nil {
				st = &routerStats{}
				res.stats[rt.name] = st
			}
			for _, target := range targets {
				st.sent++
				req := newDiffRequest(target)
				if req == nil {
					st.unparseable++
					continue
				}
				if sc.token != "" {
					req.Header.Set("Authorization", "Bearer "+sc.token)
				}
				rec.seen, d.lastDecision = nil, nil
				h.ServeHTTP(httptest.NewRecorder(), req)

				key := fmt.Sprintf("%q with %s", target, sc.name)
				if res.decisions[key] == nil {
					res.decisions[key] = map[string]int{}
				}
				res.decisions[key][rt.name] = -1
				if dec := d.lastDecision; dec != nil {
					st.middlewareRan++
					res.decisions[key][rt.name] = dec.Status
					if dec.Allowed {
						st.allowed++
					}
				}
				for _, o := range rec.seen {
					st.handlerRan++
					for _, v := range sc.violations(o) {
						st.violations++
						res.violations = append(res.violations, fmt.Sprintf("%s: %s: %s", rt.name, key, v))
					}
				}
			}
		}
	}
	return res
}

func (res diffResult) log(t *testing.T) {
	t.Helper()
	names := make([]string, 0, len(res.stats))
	for name := range res.stats {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		s := res.stats[name]
		t.Logf("%-20s sent %5d  unparseable %3d  middleware ran %5d  allowed %4d  handler ran %4d  violations %d",
			name, s.sent, s.unparseable, s.middlewareRan, s.allowed, s.handlerRan, s.violations)
	}
}

func TestRouterDifferential(t *testing.T) {
	d := newDiffKeys(t)
	res := runDifferential(t, d, hostileTargets(), func(scenario) func(http.Handler) http.Handler { return d.mw.Handler })
	res.log(t)

	assert.Empty(t, firstN(res.violations, 30), "handlers saw paths outside the token's aud")
	for _, s := range res.stats {
		assert.Positive(t, s.handlerRan, "some requests must reach each router's handlers, or the check proves nothing")
	}
	// The middleware sees the same request behind every router, so wherever
	// it ran it must have decided alike.
	for key, byRouter := range res.decisions {
		want := -1
		for _, status := range byRouter {
			if status == -1 {
				continue
			}
			if want == -1 {
				want = status
			}
			assert.Equal(t, want, status, "%s: middleware decisions differ across routers: %v", key, byRouter)
		}
	}
}

// TestRouterDifferentialDetectsBrokenMiddleware shows the oracle can fail: a
// middleware that verifies the token against an authorized path instead of
// the request's (as one that skipped the path check would) must be caught.
func TestRouterDifferentialDetectsBrokenMiddleware(t *testing.T) {
	d := newDiffKeys(t)
	var targets []string // every fifth target is plenty to show it
	for i, target := range hostileTargets() {
		if i%5 == 0 {
			targets = append(targets, target)
		}
	}
	res := runDifferential(t, d, targets, func(sc scenario) func(http.Handler) http.Handler {
		if sc.token == "" {
			return d.mw.Handler
		}
		return skipPathCheck(d.mw, strings.Replace(sc.aud[0], "/me/", "/42/", 1))
	})
	res.log(t)
	assert.NotEmpty(t, res.violations)
	for name, s := range res.stats {
		assert.Positive(t, s.violations, "%s: the broken middleware went unnoticed", name)
	}
}

// skipPathCheck is a deliberately broken middleware: it shows mw an
// authorized path, then hands next the real request with the token.
func skipPathCheck(mw *scopedtoken.Middleware, authorized string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fake := r.Clone(r.Context())
			fake.URL.Path, fake.URL.RawPath = authorized, ""
			mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, verified *http.Request) {
				real := r.WithContext(verified.Context())
				next.ServeHTTP(w, real)
			})).ServeHTTP(w, fake)
		})
	}
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("... and %d more", len(s)-n))
	}
	return s
}
