package jwks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"

	"github.com/scopedtoken/scopedtoken"
	jwsalg "github.com/scopedtoken/scopedtoken/internal/alg"
	"github.com/scopedtoken/scopedtoken/internal/names"
)

// Config configures a key set fetched from a JWKS URL, given or discovered
// from an OpenID Connect issuer. URL or Issuer is required; every other
// field's zero value means the documented default.
type Config struct {
	// URL of the JWK Set, http or https. Required unless Issuer is set
	// (default "": discovered from Issuer). Its userinfo, query values and
	// fragment (credentials, often) never appear in a log line or an error:
	// they are replaced by REDACTED.
	URL string
	// Issuer, when set, binds every key of the set to it: a token verified
	// by one of them must carry exactly this iss (compared byte for byte,
	// case-sensitively), or it is refused with scopedtoken.ErrIssuerMismatch
	// (401, issuer_mismatch), unless it carries one of Issuers. Default "":
	// no binding.
	//
	// With Issuer set and URL empty, the JWK Set URL is discovered (OpenID
	// Connect Discovery 1.0 §4): the jwks_uri of the document at Issuer,
	// without one trailing '/', + "/.well-known/openid-configuration". The
	// document's issuer must equal Issuer exactly (§4.3), or none of its keys
	// is ever used; jwks_uri must be an absolute https URL (http only when
	// Issuer is http), on any host. Issuer must then be an http or https URL
	// without userinfo, query or fragment. The document is fetched like the
	// set (Client, HTTPTimeout, MaxBodyBytes; redirects only within its own
	// scheme, host and port). Discovery runs before the first fetch and again
	// before every fetch while the set is unhealthy (the last fetch failed);
	// once a fetch succeeds its jwks_uri is kept. Until then every lookup
	// reports scopedtoken.ErrKeysUnavailable (503), and each failure is
	// logged.
	Issuer string
	// Issuers binds every key of the set to several issuers: a token verified
	// by one of them must carry exactly one of these as iss, or Issuer when
	// that is set too (401 issuer_mismatch otherwise). It is for one JWK Set
	// that several issuer names share: an identity provider's canonical and
	// custom domains, or the old and new name during a migration
	// (docs/keys.md, "Several issuers"). It never discovers anything: the
	// set's URL comes from URL, or from Issuer alone. Entries must be
	// non-empty; they are checked as Issuer is. Default nil.
	Issuers []string
	// Client makes the requests; it is copied, never changed. Default: a new
	// client. Either way the response body is capped at MaxBodyBytes, and a
	// redirect is followed only to the scheme, host and port of the URL the
	// request was made to (never from https to http), at most 10 times: the
	// package checks that first and only then calls the client's own
	// CheckRedirect, if it has one.
	Client *http.Client
	// HTTPTimeout bounds one fetch. Default 10 seconds
	// (DefaultHTTPTimeout).
	HTTPTimeout time.Duration
	// RefreshInterval is the longest time between two background fetches.
	// After a successful fetch the next one is due when the response's
	// Cache-Control max-age (or Expires, less Age) says it goes stale, but
	// never later than RefreshInterval and never sooner than
	// MinRefreshInterval; no-store, no-cache and max-age=0 mean "as often as
	// MinRefreshInterval allows". A response without these headers, or with
	// a malformed max-age, waits RefreshInterval. A failed fetch keeps the
	// interval the last successful response set (RefreshInterval before the
	// first). When MinRefreshInterval is the larger, RefreshInterval wins.
	// Default 1 hour (DefaultRefreshInterval).
	RefreshInterval time.Duration
	// MinRefreshInterval is the least time between two fetches caused by
	// unknown kids: a flood of random kids causes at most one fetch per
	// interval. A new key therefore works at the latest MinRefreshInterval
	// (plus one fetch) after it is published. It is also the least time
	// between background fetches that Cache-Control can ask for. Default 30
	// seconds (DefaultMinRefreshInterval).
	MinRefreshInterval time.Duration
	// RefreshWait is the longest a request waits for a fetch caused by its
	// unknown kid (less if its own context ends first). Default 2 seconds
	// (DefaultRefreshWait).
	RefreshWait time.Duration
	// MaxBodyBytes caps the JWK Set response (and the OpenID configuration,
	// with discovery). Default 1 MiB (DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// BusinessID is the business of every key of this set ("me" stands for
	// it). Default "": keys have no business.
	BusinessID string
	// BusinessByKID gives the business of individual kids, overriding
	// BusinessID for them. Default nil: every key has BusinessID.
	BusinessByKID map[string]string
	// Logger receives fetch failures and skipped keys (with their kid and
	// the reason, never key material). Default slog.Default().
	Logger *slog.Logger
	// OnFetch, when set, is called around each fetch, with the context of the
	// request (or Refresh or New call) that started it: for tracing, so that
	// a fetch a request waits for shows under that request (see FetchHook).
	// Default nil.
	OnFetch FetchHook
}

// Defaults of Config.
const (
	DefaultHTTPTimeout        = 10 * time.Second
	DefaultRefreshInterval    = time.Hour
	DefaultMinRefreshInterval = 30 * time.Second
	DefaultRefreshWait        = 2 * time.Second
	DefaultMaxBodyBytes       = 1 << 20
)

// Set is a scopedtoken.KeySet (and KnownKeySet) fetched from a JWKS URL,
// refreshed periodically and when an unknown kid arrives. The set is fetched
// here and taken key by key: each JWK is parsed by
// github.com/MicahParks/jwkset, and which keys are used, and with which
// algorithm, is decided here (see LookupKey). Call Close to stop its
// background refresh.
type Set struct {
	cfg    Config
	client *http.Client
	logger *slog.Logger
	// discovery is the OpenID configuration's URL; nil when URL was given.
	discovery *endpoint
	// jwks is the JWK Set URL: the configured one, or the last discovered
	// one (nil until discovery succeeds).
	jwks   atomic.Pointer[endpoint]
	ctx    context.Context // lives until Close; fetches never use a request's context
	cancel context.CancelFunc
	done   chan struct{}

	snapshot atomic.Pointer[keySnapshot]
	stats    counters // see Stats

	mu          sync.Mutex
	inflight    *fetchCall
	lastUnknown time.Time // start of the last fetch caused by an unknown kid
	// The background schedule: next is when the loop fetches, interval the
	// wait the last successful response asked for (see RefreshInterval).
	next        time.Time
	interval    time.Duration
	rescheduled chan struct{} // wakes the loop after next changed
}

type keySnapshot struct {
	keys    map[string]*scopedtoken.VerificationKey
	healthy bool // the last fetch succeeded
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// errUnavailable is what LookupKey returns when the set cannot tell.
var errUnavailable = fmt.Errorf("%w: the JWK Set could not be fetched", scopedtoken.ErrKeysUnavailable)

// New starts a key set for cfg.URL, or for the URL discovered from
// cfg.Issuer. It fetches once before returning (bounded by HTTPTimeout, twice
// that with discovery) but does not fail when that fetch fails: until a fetch
// succeeds, lookups report scopedtoken.ErrKeysUnavailable (503), and the set
// keeps trying in the background and on unknown kids. ctx ends the background
// work, as Close does. It fails only for a cfg that can never work.
func New(ctx context.Context, cfg Config) (*Set, error) {
	if _, err := names.Issuers(cfg.Issuer, cfg.Issuers); err != nil {
		return nil, fmt.Errorf("jwks: Config.%w", err)
	}
	cfg.Issuers = slices.Clone(cfg.Issuers) // the caller's slice may change; every key is built from this copy
	r := &Set{cfg: cfg, logger: cfg.Logger, done: make(chan struct{}), rescheduled: make(chan struct{}, 1)}
	switch {
	case cfg.URL != "":
		u, err := url.Parse(cfg.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("jwks: Config.URL must be an absolute http or https URL")
		}
		r.jwks.Store(newEndpoint(u))
	case cfg.Issuer != "":
		u, err := discoveryURL(cfg.Issuer)
		if err != nil {
			return nil, err
		}
		r.discovery = newEndpoint(u)
	default:
		return nil, errors.New("jwks: Config needs a URL or an Issuer")
	}
	setDefault(&cfg.HTTPTimeout, DefaultHTTPTimeout)
	setDefault(&cfg.RefreshInterval, DefaultRefreshInterval)
	setDefault(&cfg.MinRefreshInterval, DefaultMinRefreshInterval)
	setDefault(&cfg.RefreshWait, DefaultRefreshWait)
	setDefault(&cfg.MaxBodyBytes, DefaultMaxBodyBytes)
	for kid, b := range cfg.BusinessByKID {
		if b != "" && !names.ValidBusiness(b) {
			return nil, fmt.Errorf("jwks: Config.BusinessByKID[%q] is not a valid business", kid)
		}
	}
	if cfg.BusinessID != "" && !names.ValidBusiness(cfg.BusinessID) {
		return nil, errors.New("jwks: Config.BusinessID is not a valid business")
	}
	r.cfg = cfg // with the defaults
	r.interval = cfg.RefreshInterval
	if r.logger == nil {
		r.logger = slog.Default()
	}
	r.client = &http.Client{}
	if cfg.Client != nil {
		*r.client = *cfg.Client
	}
	base := r.client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	r.client.Transport = limitTransport{base: base, max: cfg.MaxBodyBytes}
	r.client.CheckRedirect = sameOriginRedirects(r.client.CheckRedirect)
	r.ctx, r.cancel = context.WithCancel(ctx)
	r.snapshot.Store(&keySnapshot{})
	call, _ := r.startFetch(ctx, FetchInitial)
	<-call.done
	go r.refreshLoop()
	return r, nil
}

func setDefault[T int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Close stops the background refresh. Lookups keep answering from the last
// set.
func (r *Set) Close() {
	r.cancel()
	<-r.done
	// A fetch that an unknown kid or Refresh started runs apart from the
	// loop: it ends at once with the cancelled context, and is waited for, so
	// that nothing of the set runs or logs after Close returns. No fetch
	// starts after the cancel (startFetch checks it under the same lock).
	r.mu.Lock()
	call := r.inflight
	r.mu.Unlock()
	if call != nil {
		<-call.done
	}
}

// LookupKey returns the key for kid. Only keys that passed every check of
// docs/security.md are in the set. An unknown kid starts a shared,
// rate-limited fetch and waits for it at most RefreshWait (or until ctx
// ends); a cancelled request never aborts the fetch that others wait for.
// A kid the set does not hold gives an error wrapping
// scopedtoken.ErrKeysUnavailable while the last fetch failed (or none has
// succeeded yet), and scopedtoken.ErrUnknownKID otherwise.
func (r *Set) LookupKey(ctx context.Context, kid string) (*scopedtoken.VerificationKey, error) {
	snap := r.snapshot.Load()
	if k, ok := snap.keys[kid]; ok {
		return k, nil
	}
	if call, _ := r.startFetch(ctx, FetchUnknownKID); call != nil {
		t := time.NewTimer(r.cfg.RefreshWait)
		select {
		case <-call.done:
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		snap = r.snapshot.Load()
		if k, ok := snap.keys[kid]; ok {
			return k, nil
		}
	}
	if !snap.healthy {
		return nil, errUnavailable
	}
	return nil, scopedtoken.ErrUnknownKID
}

// KnownKey returns the key for kid if the last successful fetch had it,
// without fetching (see scopedtoken.KnownKeySet).
func (r *Set) KnownKey(kid string) (*scopedtoken.VerificationKey, bool) {
	k, ok := r.snapshot.Load().keys[kid]
	return k, ok
}

// Refresh fetches the set now and returns that fetch's error, redacted like
// every error and log line of the set (the URL's credentials never appear).
// A fetch already under way is waited for first and not taken as the answer,
// since it may have started before a key the caller just published. After
// Close it fetches nothing and returns an error.
func (r *Set) Refresh(ctx context.Context) error {
	for {
		call, started := r.startFetch(ctx, FetchRefresh)
		if call == nil {
			return errClosed
		}
		select {
		case <-call.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if started {
			return call.err
		}
	}
}

// errClosed is what Refresh returns after Close.
var errClosed = errors.New("jwks: the key set is closed")

// startFetch joins the fetch under way (started false) or starts one for
// cause, on behalf of a caller with ctx (see FetchHook). Fetches for unknown
// kids are rate-limited and return nil when the limit refuses; no fetch
// starts after Close (nil).
func (r *Set) startFetch(ctx context.Context, cause FetchCause) (call *fetchCall, started bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight != nil {
		return r.inflight, false
	}
	if r.ctx.Err() != nil { // closed: lookups answer from the last set
		return nil, false
	}
	if cause == FetchUnknownKID {
		if time.Since(r.lastUnknown) < r.cfg.MinRefreshInterval {
			return nil, false
		}
		r.lastUnknown = time.Now()
	}
	call = &fetchCall{done: make(chan struct{})}
	r.inflight = call
	go func() {
		call.err = r.runFetch(ctx, cause)
		r.mu.Lock()
		r.inflight = nil
		r.mu.Unlock()
		close(call.done)
	}()
	return call, true
}

// The messages logged when a fetch fails.
const (
	logRefreshFailed    = "scopedtoken: JWK Set refresh failed; keeping the last good keys"
	logFirstFetchFailed = "scopedtoken: JWK Set fetch failed; no keys yet"
)

// fetch downloads and parses the set once, its requests under ctx (see
// get); on success rebuild replaces the keys, on failure the last good set
// stays.
func (r *Set) fetch(ctx context.Context) error {
	body, header, err := r.download(ctx)
	var jwks []jwkset.JWK
	if err == nil {
		jwks, err = r.parseJWKSet(body)
	}
	if err == nil {
		r.rebuild(jwks)
	}
	r.stats.record(err)
	if err != nil {
		old := r.snapshot.Load()
		r.snapshot.Store(&keySnapshot{keys: old.keys, healthy: false})
		msg := logRefreshFailed
		if r.stats.lastSuccess.Load() == 0 {
			msg = logFirstFetchFailed // there are no last good keys to keep
		}
		r.logger.Warn(msg, "url", r.logURL(), "error", err)
	}
	r.schedule(header, err == nil)
	return err
}

// rebuild turns the fetched JWKs (kids unique, see parseJWKSet) into
// verification keys, keeping the old *VerificationKey of every unchanged key
// so that cached verifications stay valid, and dropping every key that
// convert refuses.
func (r *Set) rebuild(jwks []jwkset.JWK) {
	old := r.snapshot.Load().keys
	keys := make(map[string]*scopedtoken.VerificationKey, len(jwks))
	for _, j := range jwks {
		m := j.Marshal()
		vk, reason := r.convert(j)
		if vk == nil {
			r.logger.Warn("scopedtoken: JWK skipped", "kid", m.KID, "reason", reason)
			continue
		}
		if prev := old[vk.ID()]; prev != nil && sameKey(prev, vk) {
			vk = prev
		}
		keys[vk.ID()] = vk
	}
	if len(keys) == 0 {
		r.logger.Warn("scopedtoken: the JWK Set has no usable key; every token of this set is refused", "url", r.logURL())
	}
	r.snapshot.Store(&keySnapshot{keys: keys, healthy: true})
}

// sameKey reports whether two keys that convert built verify exactly the
// same tokens: the same kid, algorithm, business, issuers and public key.
// rebuild then keeps the old pointer, so that cached verifications stay valid
// (scopedtoken.KeySet asks for the same pointer while a key is unchanged).
// Keys of a remote set are never symmetric, so a key without public material
// is never the same as another.
func sameKey(a, b *scopedtoken.VerificationKey) bool {
	if a.ID() != b.ID() || a.Algorithm() != b.Algorithm() || a.BusinessID() != b.BusinessID() || !slices.Equal(a.Issuers(), b.Issuers()) {
		return false
	}
	pub, ok := a.PublicKey().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(b.PublicKey())
}

// convert applies the rules for remote keys: a kid, use "sig" (or none),
// key_ops allowing verify (or none), no symmetric or private material, and
// exactly one algorithm: the JWK's alg, or the default of its key type.
func (r *Set) convert(j jwkset.JWK) (*scopedtoken.VerificationKey, string) {
	m := j.Marshal()
	switch {
	case m.KID == "":
		return nil, "no kid"
	case m.KTY == jwkset.KtyOct:
		return nil, "symmetric keys are never taken from a remote set"
	case m.USE != "" && m.USE != jwkset.UseSig:
		return nil, "use is not sig"
	case m.D != "" || m.P != "" || m.Q != "" || m.K != "":
		return nil, "the JWK holds private material"
	}
	if len(m.KEYOPS) > 0 {
		verify := false
		for _, op := range m.KEYOPS {
			verify = verify || op == jwkset.KeyOpsVerify
		}
		if !verify {
			return nil, "key_ops does not allow verify"
		}
	}
	pub := j.Key()
	switch pub.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey, []byte:
		return nil, "the JWK holds private or symmetric material"
	}
	alg := m.ALG.String()
	if alg == "" {
		alg = jwsalg.Default(pub)
	}
	business := r.cfg.BusinessID
	if b, ok := r.cfg.BusinessByKID[m.KID]; ok {
		business = b
	}
	vk, err := scopedtoken.NewVerificationKey(scopedtoken.Key{ID: m.KID, Algorithm: alg, PublicKey: pub, BusinessID: business, Issuer: r.cfg.Issuer, Issuers: r.cfg.Issuers})
	if err != nil {
		return nil, err.Error()
	}
	return vk, ""
}

// logURL is the redacted URL that log lines name: the JWK Set's, or the
// OpenID configuration's while no jwks_uri is known.
func (r *Set) logURL() string {
	if e := r.jwks.Load(); e != nil {
		return e.redact.url
	}
	return r.discovery.redact.url
}
