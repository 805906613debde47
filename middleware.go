package scopedtoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Config configures the middleware. Only Keys is required; every other field's
// zero value means the documented default.
type Config struct {
	// Keys finds verification keys by kid. Required. See StaticKeys,
	// NewRemoteKeySet and CombineKeys.
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
	// CacheSize is the number of verified tokens cached. 0 means the default
	// of 10000; a negative value turns the cache off.
	CacheSize int
	// CacheMaxBytes bounds the memory the cache holds, counting each entry's
	// token, claims and a fixed overhead. Default 16 MiB.
	CacheMaxBytes int
	// TokenQueryParam, when set (for example "jwt"), also accepts the token
	// from that query parameter, as emailed links carry it. The parameter is
	// removed from the URL that the next handler sees. Default "": off.
	TokenQueryParam string
	// TokenCookie, when set, also accepts the token from that cookie.
	// Default "": off.
	TokenCookie string
	// AllowPreflight lets CORS preflight requests (OPTIONS with
	// Access-Control-Request-Method) through without a token, so that a CORS
	// handler behind the middleware can answer them. Default false.
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
}

// Defaults of Config.
const (
	DefaultLeeway         = 30 * time.Second
	DefaultMaxTokenBytes  = 8192
	DefaultMaxQueryParams = 16
	DefaultMaxQueryValues = 64
	DefaultCacheSize      = 10000
	DefaultCacheMaxBytes  = 16 << 20
	DefaultRealm          = "api"
	DefaultRetryAfter     = 10 * time.Second
)

// Middleware verifies scoped tokens. Build it with New; it is safe for
// concurrent use.
type Middleware struct {
	keys            KeySet
	now             func() time.Time
	leeway          time.Duration
	maxLifetime     time.Duration
	allowMissingExp bool
	prefix          string
	maxTokenBytes   int
	maxQueryParams  int
	maxQueryValues  int
	queryMode       QueryMode
	queryParam      string
	cookieName      string
	allowPreflight  bool
	errorHandler    func(http.ResponseWriter, *http.Request, error)
	onDecision      func(Decision)
	responses       map[*Error]*response
	cache           *tokenCache
}

// New checks cfg and builds the middleware, doing once everything that need
// not be done per request. It refuses a Config it cannot honour exactly.
func New(cfg Config) (*Middleware, error) {
	if cfg.Keys == nil {
		return nil, errors.New("scopedtoken: Config.Keys is required")
	}
	m := &Middleware{
		keys:            cfg.Keys,
		now:             cfg.Now,
		leeway:          cfg.Leeway,
		maxLifetime:     cfg.MaxLifetime,
		allowMissingExp: cfg.AllowMissingExp,
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
	}
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
	if m.prefix == "" {
		m.prefix = DefaultPrefix
	}
	if !validPrefix(m.prefix) {
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
	m.responses = buildResponses(realm, int((retry+time.Second-1)/time.Second))
	if m.errorHandler == nil {
		m.errorHandler = m.WriteError
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

func validPrefix(p string) bool {
	if len(p) < 2 || p[0] != '/' || p[len(p)-1] != '/' {
		return false
	}
	for seg := range strings.SplitSeq(p[1:len(p)-1], "/") {
		if !validSegment(seg) {
			return false
		}
	}
	return true
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
	if m.allowPreflight && r.Method == http.MethodOptions && len(r.Header["Access-Control-Request-Method"]) > 0 {
		next.ServeHTTP(w, r)
		return
	}
	token, fromQuery, e := m.extract(r)
	if e != nil {
		m.refuse(w, r, e, "", false)
		return
	}
	ctx := r.Context()
	v, kid, cached, e := m.verify(ctx, token)
	if e != nil {
		m.refuse(w, r, e, kid, cached)
		return
	}
	path := requestPath(r.URL)
	business, e := m.authorize(v, path)
	if e != nil {
		m.refuse(w, r, e, kid, cached)
		return
	}
	drop := ""
	if fromQuery {
		drop = m.queryParam
	}
	query, e := rewriteQuery(r.URL.RawQuery, drop, &v.query, m.queryMode)
	if e != nil {
		m.refuse(w, r, e, kid, cached)
		return
	}
	st := newRequestState(ctx, v, business)
	r2 := r.WithContext(st)
	if query != r.URL.RawQuery {
		u := *r.URL
		u.RawQuery = query
		r2.URL = &u
		r2.RequestURI = u.RequestURI()
		r2.Form = nil // recomputed from the new URL (and PostForm) on demand
	}
	if m.onDecision != nil {
		m.onDecision(Decision{Allowed: true, KeyID: kid, Path: path, Cached: cached})
	}
	next.ServeHTTP(w, r2)
}

func (m *Middleware) refuse(w http.ResponseWriter, r *http.Request, e *Error, kid string, cached bool) {
	if m.onDecision != nil {
		m.onDecision(Decision{Status: e.Status(), Reason: e.Reason, KeyID: kid, Path: r.URL.EscapedPath(), Cached: cached, Err: e})
	}
	m.errorHandler(w, r, e)
}

// Verify checks token as the middleware would for a request to the escaped
// path, without HTTP: for gRPC, command-line tools and tests. The query claim
// is returned in Token.Query but bound to nothing. Errors are *Error values.
func (m *Middleware) Verify(ctx context.Context, token, path string) (*Token, error) {
	v, _, _, e := m.verify(ctx, token)
	if e != nil {
		return nil, e
	}
	business, e := m.authorize(v, path)
	if e != nil {
		return nil, e
	}
	return &newRequestState(ctx, v, business).tok, nil
}

// authorize applies the path rules: 400 for an ambiguous path, then 403 when
// no aud entry covers it.
func (m *Middleware) authorize(v *verified, path string) (string, *Error) {
	if !checkPath(path) {
		return "", ErrBadPath
	}
	business, ok := v.authorize(m.prefix, path)
	if !ok {
		return "", ErrAudienceMismatch
	}
	return business, nil
}

// verify returns the verified token, from the cache when a still-valid entry
// exists. A cache hit still checks the clock and that the key that verified it
// is still the set's key for its kid.
func (m *Middleware) verify(ctx context.Context, token string) (v *verified, kid string, cached bool, e *Error) {
	now := m.now()
	if m.cache != nil {
		if v := m.cache.get(token); v != nil {
			if cur, err := m.keys.LookupKey(ctx, v.key.id); err == nil && cur == v.key {
				if e := m.checkTimes(v, now); e != nil {
					if e == ErrExpired {
						m.cache.remove(token) // an entry never outlives its token's exp
					}
					return nil, v.key.id, true, e
				}
				return v, v.key.id, true, nil
			}
			m.cache.remove(token)
		}
	}
	j, e := verifyJWS(ctx, m.keys, token, m.maxTokenBytes)
	if e != nil {
		return nil, j.kid, false, e
	}
	v, e = m.parseClaims(j.key, j.payload)
	if e != nil {
		return nil, j.kid, false, e
	}
	if e := m.checkTimes(v, now); e != nil {
		return nil, j.kid, false, e // not cached: an entry never outlives its token's exp
	}
	if m.cache != nil {
		m.cache.put(token, v)
	}
	return v, j.kid, false, nil
}
