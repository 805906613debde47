package scopedtoken

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/scopedtoken/scopedtoken/internal/jose"
	"github.com/scopedtoken/scopedtoken/internal/names"
)

// Config configures the middleware. Only Keys is required; every other field's
// zero value means the documented default.
type Config struct {
	// Keys finds verification keys by kid. Required. See StaticKeys,
	// CombineKeys, and package github.com/scopedtoken/scopedtoken/jwks for
	// keys fetched from a JWKS URL.
	Keys KeySet
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Leeway is the clock skew allowed on exp, nbf and iat. 0 means the
	// default of 30 seconds; a negative value means none.
	Leeway time.Duration
	// MaxLifetime, when positive, refuses tokens whose exp lies further ahead
	// than now + MaxLifetime (+ Leeway). Default 0: no limit.
	MaxLifetime time.Duration
	// AllowMissingExp accepts tokens without exp. Default false: exp is
	// required, since a token without it never expires.
	AllowMissingExp bool
	// AllowMeWithoutBusiness accepts a request whose path names the
	// business "me" when the token's key has no business (Key.BusinessID and
	// jwks.Config.BusinessID empty): Token.BusinessID() is then "", and the
	// API must itself decide who "me" is (the caller, resolved elsewhere).
	// Default false: such a request is refused (403, me_without_business),
	// so that no handler reads an empty business as if it were one. A path
	// that names its business works with such a key either way.
	AllowMeWithoutBusiness bool
	// Prefix is the path prefix of every aud entry and of the request paths
	// they cover. It must start and end with '/'. Default "/v2/accounts/".
	Prefix string
	// MaxTokenBytes refuses longer tokens before any parsing. Default 8192.
	// Whatever it is, the protected header, which is read before the
	// signature is checked, may have at most MaxHeaderBytes bytes and
	// MaxHeaderValues JSON values; the claims are read only once the
	// signature has verified.
	MaxTokenBytes int
	// MaxQueryParams is the most parameters a query claim may bind. Default
	// 16, at most 64.
	MaxQueryParams int
	// MaxQueryValues is the most values a query claim may hold in all.
	// Default 64.
	MaxQueryValues int
	// QueryMode says how the query claim is bound to the request. Default
	// QueryOverride: the token wins.
	QueryMode QueryMode
	// CacheSize is the number of verified tokens cached: the cache holds that
	// many distinct tokens when their bytes fit CacheMaxBytes. While it has
	// room, every verified token is cached; once it is full, a new token is
	// cached (in place of a random entry) only when it is presented a second
	// time, so that a flood of tokens used once cannot push out the tokens in
	// use. 0 means the default of 10000; a negative value turns the cache off.
	CacheSize int
	// CacheMaxBytes bounds the heap the cache holds, counted as the Go
	// allocator rounds it. An entry costs its token, its decoded payload
	// (about three quarters of the token; the strings read out of the claims
	// share it, unless they hold JSON escapes), the query claim's URL
	// encoding, arrays once there is more than one aud entry or more than
	// two query values, an index of the query claim's names (each name's
	// case-folded form, and a map above four names) and
	// about 550 bytes of fixed overhead: about 1,050 bytes for a token with
	// one aud and a one-value query claim (250 characters), 2,500 for one of
	// 650 characters with four aud entries, iss, sub, jti and a query claim
	// of nine values. With Revocations set, an entry also keeps what the
	// checks need: 200 to 300 bytes more. Default 32 MiB: room for the
	// default CacheSize of such rich tokens.
	CacheMaxBytes int
	// TokenQueryParam, when set (for example "jwt"), also accepts the token
	// from that query parameter, as emailed links carry it. The parameter is
	// removed from the URL that the next handler sees. Default "": off.
	TokenQueryParam string
	// TokenCookie, when set, also accepts the token from that cookie.
	// Default "": off. A browser sends cookies with cross-site requests too,
	// so a cookie token on a cross-origin request with an unsafe method, or
	// on a cross-origin WebSocket handshake, is refused (see
	// CrossOriginProtection); set the cookie SameSite=Strict or Lax as well.
	TokenCookie string
	// CrossOriginProtection decides which requests carrying a TokenCookie
	// token are cross-site request forgeries: a request it rejects (an
	// unsafe method, such as POST, from another origin, by Sec-Fetch-Site or
	// Origin) is refused with 403, reason cross_origin. A WebSocket
	// handshake (a GET with Upgrade: websocket or Sec-Fetch-Mode: websocket),
	// whose answer another origin can read, is checked as if it were a POST,
	// so that a bypass pattern naming a method matches it only if it names
	// POST. Tokens from the Authorization header or the query are not
	// checked: a browser never adds them by itself. Default nil:
	// http.NewCrossOriginProtection(), no trusted origins. Set your own to
	// trust other origins.
	CrossOriginProtection *http.CrossOriginProtection
	// AllowCrossOriginCookie turns the CrossOriginProtection check off, for
	// an API that defends against cross-site request forgery itself.
	// Default false.
	AllowCrossOriginCookie bool
	// TokenSources are more places where a request may carry the token, such
	// as WebSocketProtocol, for clients that can set neither the
	// Authorization header nor a cookie. They are asked in order after the
	// header, TokenQueryParam and TokenCookie; as there, a token found in more
	// than one place (or twice by one source) is a malformed request (400,
	// multiple_tokens). A token a source finds is checked by
	// CrossOriginProtection like a cookie token (unsafe methods and WebSocket
	// handshakes), since the middleware cannot know whether a browser sends
	// it by itself; except that a WebSocketProtocol token, which the page
	// itself offers, is checked on unsafe methods only, so that a handshake
	// (GET) from another origin passes it. Default nil: none.
	TokenSources []TokenSource
	// CredentialsOptional lets a request that carries no token at all reach
	// the next handler, with no token in its context (FromContext returns
	// false): for an API that also serves anonymous callers. A request that
	// carries one, valid or not, is checked as always, and malformed
	// credentials are still refused (400). An Authorization header with
	// another scheme than Bearer counts as no token, as it always does, and
	// reaches the next handler as sent. Default false: a token is required.
	CredentialsOptional bool
	// Check, when set, is the API's own rule on top of the built-in ones. It
	// runs only for a request whose token passed every built-in check, just
	// before the next handler, with the request as that handler will see it
	// and its token (the one FromContext returns); never for a refused
	// request, nor for one without a token (CredentialsOptional). For a
	// single-use token it runs before the use is recorded, so a replay of a
	// used link can reach it once per instance before it is refused with
	// ErrTokenUsed (docs/revocation.md, "Single use and Check"). A nil
	// error lets the request through. An *Error refuses it as that error: one
	// of the package's reasons (say ErrAudienceMismatch), or one of your own,
	// &Error{Reason: "read_only", Message: "..."}, answered as 403
	// insufficient_scope with your reason and message (which must then be
	// safe to show). Any other error refuses it with ErrCheckFailed (403,
	// insufficient_scope, check_failed), its text never sent to the client
	// but reachable with errors.Unwrap in the ErrorHandler and OnDecision.
	// Default nil.
	Check func(r *http.Request, t *Token) error
	// AllowPreflight lets real CORS preflight requests (OPTIONS with one
	// non-empty Origin and one valid Access-Control-Request-Method) through
	// without a token or a path check, so that a CORS handler behind the
	// middleware can answer them. The handler behind then sees requests
	// without a token (FromContext returns false) and must answer them
	// without serving data. Prefer CORS in front of the middleware, which
	// needs no pass-through. Default false.
	AllowPreflight bool
	// Realm is the realm of the WWW-Authenticate challenge. Default "api".
	Realm string
	// RetryAfter is the Retry-After of a 503 when keys cannot be fetched.
	// Default 10 seconds.
	RetryAfter time.Duration
	// ErrorHandler writes refusals. Default (*Middleware).WriteError. It
	// receives an *Error; it must not call the next handler.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// OnDecision, when set, is called once per request with the decision, for
	// logging and metrics. It receives no token, key or secret. Default nil.
	OnDecision func(Decision)
	// Revocations, when set, refuses revoked and cut-off tokens (401
	// revoked) and lets a single-use token through once in every instance
	// that shares it (401 token_used; 503 while the store cannot be
	// reached). See docs/revocation.md. Default nil: nothing is revoked,
	// and single-use tokens are refused (401 single_use_unsupported).
	Revocations Revocations
}

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
}

// Defaults of Config.
const (
	DefaultLeeway         = 30 * time.Second
	DefaultMaxTokenBytes  = 8192
	DefaultMaxQueryParams = 16
	DefaultMaxQueryValues = 64
	DefaultCacheSize      = 10000
	DefaultCacheMaxBytes  = 32 << 20
	DefaultRealm          = "api"
	DefaultRetryAfter     = 10 * time.Second
)

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
	onDecision      func(Decision)
	responses       map[*Error]*response
	cache           *tokenCache
	revocations     Revocations
	urlLimit        *paramLimit
	headers         jose.HeaderMemo
}

// New checks cfg and builds the middleware, doing once everything that need
// not be done per request. It refuses a Config it cannot honour exactly.
func New(cfg Config) (*Middleware, error) {
	if cfg.Keys == nil || isNilPointer(cfg.Keys) {
		return nil, errors.New("scopedtoken: Config.Keys is required")
	}
	if isNilPointer(cfg.Revocations) {
		// A nil *Store in the interface is not nil and would fail on the first
		// request; refuse it here, where the mistake is made.
		return nil, errors.New("scopedtoken: Config.Revocations holds a nil pointer; leave it nil to turn revocation off")
	}
	m := &Middleware{
		keys:            cfg.Keys,
		now:             cfg.Now,
		leeway:          cfg.Leeway,
		maxLifetime:     cfg.MaxLifetime,
		allowMissingExp: cfg.AllowMissingExp,
		allowMeAlone:    cfg.AllowMeWithoutBusiness,
		prefix:          cfg.Prefix,
		maxTokenBytes:   cfg.MaxTokenBytes,
		maxQueryParams:  cfg.MaxQueryParams,
		maxQueryValues:  cfg.MaxQueryValues,
		queryMode:       cfg.QueryMode,
		queryParam:      cfg.TokenQueryParam,
		cookieName:      cfg.TokenCookie,
		allowPreflight:  cfg.AllowPreflight,
		errorHandler:    cfg.ErrorHandler,
		onDecision:      cfg.OnDecision,
		sources:         append([]TokenSource(nil), cfg.TokenSources...),
		optional:        cfg.CredentialsOptional,
		check:           cfg.Check,
		revocations:     cfg.Revocations,
		urlLimit:        new(paramLimit),
	}
	_, m.staticKeys = cfg.Keys.(staticKeys)
	if m.now == nil {
		m.now = time.Now
	}
	switch {
	case m.leeway == 0:
		m.leeway = DefaultLeeway
	case m.leeway < 0:
		m.leeway = 0
	}
	if m.maxLifetime < 0 {
		return nil, errors.New("scopedtoken: Config.MaxLifetime must not be negative")
	}
	if m.maxLifetime > math.MaxInt64-m.leeway {
		// exp is compared with now+MaxLifetime+Leeway, which must not wrap.
		return nil, errors.New("scopedtoken: Config.MaxLifetime plus Config.Leeway overflows a time.Duration")
	}
	m.posLeeway, m.negLeeway, m.lifetimeLeeway = spanOf(m.leeway), spanOf(-m.leeway), spanOf(m.maxLifetime+m.leeway)
	if m.prefix == "" {
		m.prefix = DefaultPrefix
	}
	if !names.ValidPrefix(m.prefix) {
		return nil, fmt.Errorf("scopedtoken: Config.Prefix %q must start and end with '/' and hold only valid path segments", m.prefix)
	}
	if m.maxTokenBytes == 0 {
		m.maxTokenBytes = DefaultMaxTokenBytes
	}
	if m.maxQueryParams == 0 {
		m.maxQueryParams = DefaultMaxQueryParams
	}
	if m.maxQueryValues == 0 {
		m.maxQueryValues = DefaultMaxQueryValues
	}
	switch {
	case m.maxTokenBytes < 0:
		return nil, errors.New("scopedtoken: Config.MaxTokenBytes must not be negative")
	case m.maxQueryParams < 0 || m.maxQueryParams > maxTrackedParams:
		return nil, fmt.Errorf("scopedtoken: Config.MaxQueryParams must be between 1 and %d", maxTrackedParams)
	case m.maxQueryValues < 0:
		return nil, errors.New("scopedtoken: Config.MaxQueryValues must not be negative")
	case m.queryMode < QueryOverride || m.queryMode > QueryLeave:
		return nil, fmt.Errorf("scopedtoken: unknown Config.QueryMode %d", m.queryMode)
	case m.queryParam != "" && strings.ContainsAny(m.queryParam, "&=;%+ "):
		return nil, fmt.Errorf("scopedtoken: Config.TokenQueryParam %q must be a plain parameter name", m.queryParam)
	}
	realm := cfg.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	for i := 0; i < len(realm); i++ {
		if realm[i] < 0x20 || realm[i] > 0x7e {
			return nil, errors.New("scopedtoken: Config.Realm must be printable ASCII")
		}
	}
	retry := cfg.RetryAfter
	if retry <= 0 {
		retry = DefaultRetryAfter
	}
	m.realm, m.retryAfter = realm, int((retry+time.Second-1)/time.Second)
	m.responses = buildResponses(m.realm, m.retryAfter)
	if m.errorHandler == nil {
		m.errorHandler = m.WriteError
	}
	if err := checkTokenSources(m.sources); err != nil {
		return nil, err
	}
	for i, s := range m.sources {
		if offeredByPage(s) {
			m.pageOffered |= 1 << i
		}
	}
	if (m.cookieName != "" || len(m.sources) > 0) && !cfg.AllowCrossOriginCookie {
		m.crossOrigin = cfg.CrossOriginProtection
		if m.crossOrigin == nil {
			m.crossOrigin = http.NewCrossOriginProtection()
		}
	}
	if cfg.CacheSize >= 0 {
		size, maxBytes := cfg.CacheSize, cfg.CacheMaxBytes
		if size == 0 {
			size = DefaultCacheSize
		}
		if maxBytes <= 0 {
			maxBytes = DefaultCacheMaxBytes
		}
		m.cache = newTokenCache(size, maxBytes)
	}
	return m, nil
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
	var start time.Time
	if m.onDecision != nil {
		start = time.Now() // only then: requests without OnDecision pay nothing
	}
	if m.allowPreflight && isPreflight(r) {
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
	if src != fromHeader && m.cache != nil { // a header token was looked up by extract
		hit = m.cache.get(token)
	}
	v, kid, cached, e := m.verifyHit(ctx, token, hit)
	if e == nil {
		e = m.checkRevocation(v, token)
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
	entry, e := m.authorizeChecked(v, path, checked)
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
				if entry, e = m.authorizeChecked(v, upath, uchecked); e != nil {
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
		m.onDecision(Decision{Allowed: true, KeyID: kid, Path: path, Cached: cached, Duration: time.Since(start)})
	}
	next.ServeHTTP(w, r2)
}

func (m *Middleware) refuse(w http.ResponseWriter, r *http.Request, e *Error, kid string, cached bool, start time.Time) {
	if m.onDecision != nil {
		m.onDecision(Decision{Status: e.Status(), Reason: e.Reason, KeyID: kid, Path: r.URL.EscapedPath(), Cached: cached, Err: e,
			Duration: time.Since(start)})
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
	v, _, _, e := m.verify(ctx, token)
	if e == nil {
		e = m.checkRevocation(v, token)
	}
	if e != nil {
		return nil, e
	}
	entry, e := m.authorize(v, path)
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
func (m *Middleware) authorize(v *verified, path string) (int, *Error) {
	return m.authorizeChecked(v, path, false)
}

// authorizeChecked is authorize for a path that, when checked is set,
// checkPlainPath has accepted (so that checkPath would).
func (m *Middleware) authorizeChecked(v *verified, path string, checked bool) (int, *Error) {
	if !checked && !checkPath(path) {
		return -1, ErrBadPath
	}
	entry, ok := v.authorize(m.prefix, path)
	switch {
	case !ok:
		return -1, ErrAudienceMismatch
	case v.businessOf(entry) == "" && !m.allowMeAlone:
		return -1, ErrMeWithoutBusiness
	}
	return entry, nil
}

// verify returns the verified token, from the cache when a still-valid entry
// exists. A cache hit still checks the clock and that the key that verified it
// is still the set's key for its kid.
func (m *Middleware) verify(ctx context.Context, token string) (v *verified, kid string, cached bool, e *Error) {
	var hit *verified
	if m.cache != nil {
		hit = m.cache.get(token)
	}
	return m.verifyHit(ctx, token, hit)
}

// verifyHit is verify once the cache was asked: hit is its entry for token,
// or nil.
func (m *Middleware) verifyHit(ctx context.Context, token string, hit *verified) (v *verified, kid string, cached bool, e *Error) {
	now := m.now()
	if hit != nil {
		if m.staticKeys || m.keyStillServes(ctx, hit.key) {
			if e := m.checkTimes(hit, now); e != nil {
				if e == ErrExpired {
					m.cache.remove(token) // an entry never outlives its token's exp
				}
				return nil, hit.key.id, true, e
			}
			return hit, hit.key.id, true, nil
		}
		m.cache.remove(token)
	}
	j, e := verifyJWSWith(ctx, m.keys, token, m.maxTokenBytes, &m.headers)
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

// isNilPointer reports whether v is an interface holding a nil pointer, map,
// func, channel or slice: set, but unusable.
func isNilPointer(v any) bool {
	if v == nil {
		return false
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Slice, reflect.Interface:
		return rv.IsNil()
	}
	return false
}
