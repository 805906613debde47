package scopedtoken

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/scopedtoken/scopedtoken/internal/names"
)

// Config configures the middleware. Only Keys is required; every other field's
// zero value means its default. docs/configuration.md explains every field at
// length.
type Config struct {
	// Keys finds verification keys by kid: StaticKeys, CombineKeys, a set of
	// package github.com/scopedtoken/scopedtoken/jwks or your own. Default:
	// none, it is required.
	Keys KeySet
	// Now returns the current time. Default: time.Now.
	Now func() time.Time
	// Leeway is the clock skew allowed on exp, nbf and iat; a negative value
	// allows none. Default: 30 seconds (DefaultLeeway).
	Leeway time.Duration
	// MaxLifetime, when positive, refuses tokens whose exp lies further ahead
	// than now + MaxLifetime + Leeway. Default: 0, no limit.
	MaxLifetime time.Duration
	// AllowMissingExp accepts tokens without exp, which never expire.
	// Default: false.
	AllowMissingExp bool
	// AllowMeWithoutBusiness accepts a path that names the business "me" when
	// the token's key has none: Token.BusinessID() is then "" and the API
	// must decide itself who "me" is. Default: false, such a request is
	// refused (403 me_without_business).
	AllowMeWithoutBusiness bool
	// Prefix is the path prefix of every aud entry and of the request paths
	// they cover; it starts and ends with '/'. Default: "/v2/accounts/"
	// (DefaultPrefix).
	Prefix string
	// MaxTokenBytes refuses longer tokens before any parsing; the header
	// has its own bounds, MaxHeaderBytes and MaxHeaderValues. Default: 8192.
	MaxTokenBytes int
	// MaxQueryParams is the most parameters a query claim may bind, at most
	// 64. Default: 16.
	MaxQueryParams int
	// MaxQueryValues is the most values a query claim may hold in all.
	// Default: 64.
	MaxQueryValues int
	// QueryMode says how the query claim is bound to the request. Default:
	// QueryOverride, the token wins.
	QueryMode QueryMode
	// CacheSize is the number of verified tokens cached; a negative value
	// turns the cache off. Once it is full, a new token is cached only when
	// it is presented a second time. Default: 10000.
	CacheSize int
	// CacheMaxBytes bounds the heap the cache holds, as the Go allocator
	// counts it: about 1 to 2.5 KiB a token (docs/configuration.md). Default:
	// 32 MiB.
	CacheMaxBytes int
	// TokenQueryParam, when set (for example "jwt"), also accepts the token
	// from that query parameter, which the next handler's URL no longer
	// holds. Default: "", off.
	TokenQueryParam string
	// TokenCookie, when set, also accepts the token from that cookie, checked
	// by CrossOriginProtection; set the cookie SameSite=Strict or Lax as
	// well. Default: "", off.
	TokenCookie string
	// CrossOriginProtection decides which requests carrying a TokenCookie or
	// TokenSources token are cross-site forgeries, refused with 403
	// cross_origin: unsafe methods, and WebSocket handshakes checked as POST
	// (docs/configuration.md). Default: nil, http.NewCrossOriginProtection()
	// with no trusted origins.
	CrossOriginProtection *http.CrossOriginProtection
	// AllowCrossOriginCookie turns the CrossOriginProtection check off, for an
	// API that defends against cross-site request forgery itself. Default:
	// false.
	AllowCrossOriginCookie bool
	// TokenSources are more places where a request may carry the token, such
	// as WebSocketProtocol, asked after the header, TokenQueryParam and
	// TokenCookie; a token found twice is refused (400 multiple_tokens).
	// Default: nil, none.
	TokenSources []TokenSource
	// CredentialsOptional lets a request that carries no token at all reach
	// the next handler, with none in its context; a token that is present is
	// checked as always. Default: false, a token is required.
	CredentialsOptional bool
	// Check is the API's own rule, run once every built-in check has passed,
	// on the request and token that the next handler sees. A nil error lets
	// the request through, an *Error refuses it as that error (NewError makes
	// one of your own), and any other error as ErrCheckFailed, whose text is
	// never sent (docs/configuration.md). Default: nil.
	Check func(r *http.Request, t *Token) error
	// AllowPreflight lets real CORS preflight requests through without a
	// token or a path check, for a CORS handler behind the middleware, which
	// must then serve them no data. Default: false.
	AllowPreflight bool
	// Realm is the realm of the WWW-Authenticate challenge, printable ASCII.
	// Default: "api".
	Realm string
	// RetryAfter is the Retry-After of a 503. Default: 10 seconds.
	RetryAfter time.Duration
	// ErrorHandler writes refusals. It receives an *Error and must not call
	// the next handler. Default: (*Middleware).WriteError.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// OnDecision, when set, is called once per request with the request's
	// context and the decision, for logging, metrics and traces (the context
	// carries the request's span, docs/metrics.md); it receives no token, key
	// or secret. It runs before the next handler or the refusal is written.
	// Default: nil.
	OnDecision func(ctx context.Context, d Decision)
	// Revocations, when set, refuses revoked and cut-off tokens, lets a
	// single-use token through once in every instance that shares it
	// (docs/revocation.md) and records DPoP proofs (docs/dpop.md). Default:
	// nil, nothing is revoked and single-use and DPoP-bound tokens are
	// refused (401 single_use_unsupported, dpop_unsupported).
	Revocations Revocations
	// DPoPAllowed accepts tokens bound to a client's key (cnf.jkt, RFC
	// 9449) when sent with the DPoP scheme and a proof, beside bearer
	// tokens (docs/dpop.md). Each proof's jti is recorded in Revocations;
	// without it, bound tokens are refused (401 dpop_unsupported). Default:
	// false, bound tokens are refused.
	DPoPAllowed bool
	// DPoPRequired accepts only DPoP-bound tokens, each with its proof; it
	// implies DPoPAllowed. Default: false.
	DPoPRequired bool
	// DPoPAlgorithms are the algorithms a DPoP proof may be signed with:
	// asymmetric ones only (ES*, EdDSA, Ed25519, RS*, PS*). Default: ES256,
	// EdDSA and Ed25519.
	DPoPAlgorithms []string
	// DPoPProofWindow is how far from its iat, before or after, a proof is
	// accepted; its jti is recorded as long. Default: one minute.
	DPoPProofWindow time.Duration
	// DPoPOrigin is the public origin that proofs name in htu, such as
	// "https://api.example.com": set it behind a proxy or load balancer.
	// Default: "", the request's own (https when it came over TLS, and its
	// Host header).
	DPoPOrigin string
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
		epoch:           time.Now(),
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
	var err error
	if m.dpop, err = newDPoP(&cfg, m.realm, m.retryAfter); err != nil {
		return nil, err
	}
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
