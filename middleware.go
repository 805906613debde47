package scopedtoken

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scopedtoken/scopedtoken/internal/jose"
)

// Decision describes what the middleware did with one request.
type Decision struct {
	Allowed bool
	Status  int    // the refusal's status; 0 when allowed
	Reason  string // the refusal's reason code; "" when allowed
	KeyID   string // the token's kid, when its header was read (unverified on a 401)
	Path    string // the request's escaped path
	Cached  bool   // the verification came from the cache
	Err     error  // the refusal; nil when allowed
	// Duration is the time from the start of the middleware's work on the
	// request to this decision, on the monotonic clock (never Config.Now): the
	// extraction, the key lookup (with any fetch it waited for) and every
	// check (Check included), not the next handler nor the writing of a
	// refusal. It is measured only when OnDecision is set.
	Duration time.Duration

	// Anonymous says the request was allowed without a token, under
	// Config.CredentialsOptional. Status and Reason are then empty.
	Anonymous bool
	// Preflight says the request was a CORS preflight let through without a
	// token under Config.AllowPreflight (Allowed is true; KeyID, Status and
	// Reason are empty).
	Preflight bool
}

// Middleware verifies scoped tokens. Build it with New; it is safe for
// concurrent use.
type Middleware struct {
	keys            KeySet
	staticKeys      bool // keys is a StaticKeys set: a kid's key never changes
	now             func() time.Time
	leeway          time.Duration
	posLeeway       span // leeway, -leeway and maxLifetime+leeway, split for checkTimes
	negLeeway       span
	lifetimeLeeway  span
	maxLifetime     time.Duration
	allowMissingExp bool
	allowMeAlone    bool // Config.AllowMeWithoutBusiness
	prefix          string
	maxTokenBytes   int
	maxQueryParams  int
	maxQueryValues  int
	queryMode       QueryMode
	queryParam      string
	cookieName      string
	allowPreflight  bool
	crossOrigin     *http.CrossOriginProtection // nil: no check
	sources         []TokenSource
	pageOffered     uint16 // bit i: sources[i] reads a token the page offers itself (see offeredByPage)
	optional        bool
	check           func(*http.Request, *Token) error
	realm           string
	retryAfter      int // seconds
	errorHandler    func(http.ResponseWriter, *http.Request, error)
	onDecision      func(context.Context, Decision)
	epoch           time.Time // the origin of decisionClock's readings
	responses       map[*Error]*response
	cache           *tokenCache
	revocations     Revocations
	dpop            *dpopConfig // nil: DPoP off (docs/dpop.md)
	urlLimit        *paramLimit
	headers         jose.HeaderMemo
	queries         jose.Memo[queryEncoding] // see parseQueryClaim
}

// requestURIBase is what url.URL.RequestURI returns for u without its query.
func requestURIBase(u *url.URL) string {
	if u.Opaque != "" {
		if strings.HasPrefix(u.Opaque, "//") {
			return u.Scheme + ":" + u.Opaque
		}
		return u.Opaque
	}
	if p := u.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// Handler returns next guarded by the middleware. A request reaches next only
// with a valid token whose aud covers its path; next finds the token with
// FromContext. Every failure is refused (fail closed): 401 for a missing or
// invalid token, 400 for a malformed request, 403 outside the token's scope,
// 503 when keys cannot be fetched.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.serve(w, r, next)
	})
}

func (m *Middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	var start time.Duration
	if m.onDecision != nil {
		start = m.decisionClock() // only then: requests without OnDecision pay nothing
	}
	if m.allowPreflight && isPreflight(r) {
		if m.onDecision != nil {
			m.onDecision(r.Context(), Decision{Allowed: true, Preflight: true, Path: r.URL.EscapedPath(), Duration: m.decisionClock() - start})
		}
		next.ServeHTTP(w, r)
		return
	}
	token, src, hit, e := m.extract(r)
	if e == errMissingToken && m.optional {
		m.passAnonymous(w, r, next, start)
		return
	}
	if e != nil {
		m.refuse(w, r, e, "", false, start)
		return
	}
	ctx := r.Context()
	if src != fromHeader { // a header token was looked up by extract
		hit = m.cacheHit(token)
	}
	v, kid, cached, e := m.verify(ctx, token, hit)
	if e == nil {
		e = m.checkRevocation(v, token)
	}
	if e == nil {
		e = m.checkBinding(r, token, v, src)
	}
	if e != nil {
		m.refuse(w, r, e, kid, cached, start)
		return
	}
	if e := m.checkOrigin(r, src); e != nil {
		m.refuse(w, r, e, kid, cached, start)
		return
	}
	path, checked := requestPath(r.URL)
	entry, e := m.authorize(v, path, checked)
	if e != nil {
		m.refuse(w, r, e, kid, cached, start)
		return
	}
	// The next handler's request: a custom source's WithoutToken cleans it
	// first, so that the query rewrite below starts from the cleaned URL and
	// never puts back a token the source removed from it.
	r2, u, upath := r, r.URL, path
	if src >= fromCustom { // the call costs more than the test
		r2 = m.withoutToken(r, src)
		if r2.URL != r.URL {
			// The source changed the URL: the path the handler serves must be
			// covered as well, and its covering entry is the token's.
			u = r2.URL
			var uchecked bool
			if upath, uchecked = requestPath(u); upath != path {
				if entry, e = m.authorize(v, upath, uchecked); e != nil {
					m.refuse(w, r, e, kid, cached, start)
					return
				}
			}
		}
	}
	drop := ""
	if src == fromQuery {
		drop = m.queryParam
	}
	// The query claim is bound to the query the handler sees: for a custom
	// source, the cleaned one, where the token's own parameter is gone (as
	// drop removes it for TokenQueryParam) and so never counts as another
	// parameter.
	query, uri, e := rewriteQuery(u.RawQuery, drop, &v.query, m.queryMode, m.urlLimit,
		func() string {
			if u.Opaque == "" && u.RawPath == "" && upath != "" {
				return upath // u.EscapedPath(), as requestPath read it
			}
			return requestURIBase(u)
		})
	if e != nil {
		m.refuse(w, r, e, kid, cached, start)
		return
	}
	st := newRequestState(ctx, v, entry)
	r2 = r2.WithContext(st)
	if uri != "" { // the query changed: the URL lives in st, the query is uri's tail
		st.url = *u
		st.url.RawQuery = query
		r2.URL = &st.url
		r2.RequestURI = uri
		if query == "" {
			r2.RequestURI = st.url.RequestURI()
		}
		r2.Form = nil // recomputed from the new URL (and PostForm) on demand
	}
	if e := m.runCheck(r2, &st.tok); e != nil {
		m.refuse(w, r, e, kid, cached, start)
		return
	}
	if e := m.useOnce(ctx, v); e != nil { // last: a refused request does not use the token up
		m.refuse(w, r, e, kid, cached, start)
		return
	}
	if m.onDecision != nil {
		m.onDecision(ctx, Decision{Allowed: true, KeyID: kid, Path: path, Cached: cached, Duration: m.decisionClock() - start})
	}
	next.ServeHTTP(w, r2)
}

// decisionClock reads the monotonic clock for Decision.Duration, as the
// time since the middleware's creation: one clock read, where time.Now reads
// both the wall and the monotonic clock, a cost that OnDecision's users pay
// on every request (BENCHMARKS.md, "Telemetry on a cache hit").
func (m *Middleware) decisionClock() time.Duration { return time.Since(m.epoch) }

func (m *Middleware) refuse(w http.ResponseWriter, r *http.Request, e *Error, kid string, cached bool, start time.Duration) {
	if m.onDecision != nil {
		m.onDecision(r.Context(), Decision{Status: e.Status(), Reason: e.reason, KeyID: kid, Path: r.URL.EscapedPath(), Cached: cached, Err: e,
			Duration: m.decisionClock() - start})
	}
	m.errorHandler(w, r, e)
}

// Verify checks token as the middleware would for a request to the escaped
// path, without HTTP: for gRPC, command-line tools and tests. The query claim
// is returned in Token.Query() but bound to nothing. A single-use token is used
// up, as by a request. Errors are *Error values.
func (m *Middleware) Verify(ctx context.Context, token, path string) (*Token, error) {
	return m.verifyPath(ctx, token, path, true)
}

// VerifyUnused checks token as Verify does, but never uses up a single-use
// token (the "once" claim, docs/revocation.md): it reports whether the token
// would be accepted now, short of being used. A single-use token this
// middleware has seen used is refused with ErrTokenUsed, but whether another
// instance of the fleet used it is only learnt by using it. It is for checking a token that is about to be
// handed out (mint.Config.Verify does) or that is only inspected, never for
// granting access: a single-use token that VerifyUnused accepts can still be
// used once. Errors are *Error values.
func (m *Middleware) VerifyUnused(ctx context.Context, token, path string) (*Token, error) {
	return m.verifyPath(ctx, token, path, false)
}

// verifyPath is Verify (use) or VerifyUnused (!use).
func (m *Middleware) verifyPath(ctx context.Context, token, path string, use bool) (*Token, error) {
	v, _, _, e := m.verify(ctx, token, m.cacheHit(token))
	if e == nil {
		e = m.checkRevocation(v, token)
	}
	if e == nil {
		e = m.bindingWithoutRequest(v, use)
	}
	if e != nil {
		return nil, e
	}
	entry, e := m.authorize(v, path, false)
	if e == nil && use {
		e = m.useOnce(ctx, v)
	}
	if e != nil {
		return nil, e
	}
	return &Token{v: v, entry: int32(entry)}, nil // nothing of the request state: it would pin ctx
}

// authorize applies the path rules: 400 for an ambiguous path, then 403 when
// no aud entry covers it, or when it is covered as "me" by a key without a
// business and Config.AllowMeWithoutBusiness is off (the request would reach
// the handler with an empty Token.BusinessID()). It returns the covering
// entry's index, which the request's Token keeps (see Token.BusinessID).
// checked says that checkPlainPath has accepted path already (so that
// checkPath would).
func (m *Middleware) authorize(v *verified, path string, checked bool) (int, *Error) {
	if !checked && !checkPath(path) {
		return -1, errBadPath
	}
	entry, ok := v.authorize(m.prefix, path)
	switch {
	case !ok:
		return -1, errAudienceMismatch
	case v.businessOf(entry) == "" && !m.allowMeAlone:
		return -1, errMeWithoutBusiness
	}
	return entry, nil
}

// cacheHit returns the cache's entry for token; nil when there is none or no
// cache.
func (m *Middleware) cacheHit(token string) *verified {
	if m.cache == nil {
		return nil
	}
	return m.cache.get(token)
}

// verify returns the verified token, from hit when it is not nil: the
// cache's entry for token (see cacheHit), asked by the caller, which for a
// header token has asked it already. A cache hit still checks the clock and
// that the key that verified it is still the set's key for its kid.
func (m *Middleware) verify(ctx context.Context, token string, hit *verified) (v *verified, kid string, cached bool, e *Error) {
	now := m.now()
	if hit != nil {
		if m.staticKeys || m.keyStillServes(ctx, hit.key) {
			if e := m.checkTimes(hit, now); e != nil {
				if e == errExpired {
					m.cache.remove(token) // an entry never outlives its token's exp
				}
				return nil, hit.key.id, true, e
			}
			return hit, hit.key.id, true, nil
		}
		m.cache.remove(token)
	}
	j, e := verifyJWS(ctx, m.keys, token, m.maxTokenBytes, &m.headers)
	if e != nil {
		return nil, j.kid, false, e
	}
	v, e = m.parseClaims(j.key, j.payload)
	if e != nil {
		return nil, j.kid, false, e
	}
	// Before the cache stores v: a hit is trusted only while the same key
	// serves the kid, and a key's issuer never changes.
	if e := checkIssuer(v); e != nil {
		return nil, j.kid, false, e
	}
	if e := m.checkTimes(v, now); e != nil {
		return nil, j.kid, false, e // not cached: an entry never outlives its token's exp
	}
	if m.cache != nil {
		if m.revocations != nil {
			// Built now rather than on the first check, so that the entry's
			// size counts it.
			ri := newRevocationInfo(token, v)
			v.rev.Store(ri)
			v.size += ri.heapBytes()
		}
		m.cache.put(token, v)
	}
	return v, j.kid, false, nil
}

// keyStillServes reports whether the key set still serves key for its kid:
// a cached verification is trusted only while it does, so that a rotated or
// removed key stops its tokens at once.
func (m *Middleware) keyStillServes(ctx context.Context, key *VerificationKey) bool {
	cur, err := m.keys.LookupKey(ctx, key.id)
	return err == nil && cur == key
}
