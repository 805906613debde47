package jwks

import "context"

// FetchCause says what started a fetch of a Set.
type FetchCause string

// The causes of a fetch.
const (
	FetchInitial    FetchCause = "initial"     // the first fetch, in New
	FetchUnknownKID FetchCause = "unknown_kid" // a lookup of a kid the set does not hold
	FetchRefresh    FetchCause = "refresh"     // a call of Set.Refresh
	FetchScheduled  FetchCause = "scheduled"   // the background schedule (see Config.RefreshInterval)
)

// Fetch describes one fetch to Config.OnFetch. It holds no key material.
type Fetch struct {
	Cause FetchCause
	// URL is the URL fetched first, redacted as in log lines: the JWK Set's,
	// or the OpenID configuration's when discovery runs first.
	URL string
}

// FetchHook is the type of Config.OnFetch: it is called as a fetch starts,
// with the context of what started it, and returns the context the fetch
// runs under and a function called once with the fetch's result (nil, or the
// redacted error that Refresh would return) when it ends. The scopedotel
// module's (*Tracer).OnFetch is one: it starts a span per fetch.
//
// ctx is, for FetchUnknownKID, FetchRefresh and FetchInitial, the context of
// the LookupKey, Refresh or New call that started the fetch, without its
// cancellation or deadline (context.WithoutCancel): other callers may be
// waiting for the same fetch, so no one caller can abort it; for
// FetchScheduled, which no caller started, context.Background(). The fetch's
// requests use the returned context's values, bounded by Config.HTTPTimeout
// and ended by Close. A caller that joins a fetch already under way does not
// start one: the hook is called once per fetch.
type FetchHook func(ctx context.Context, f Fetch) (context.Context, func(err error))

// runFetch runs one fetch for cause, started by a caller with ctx, under
// Config.OnFetch when it is set.
func (r *Set) runFetch(ctx context.Context, cause FetchCause) error {
	hook := r.cfg.OnFetch
	if hook == nil {
		return r.fetch(r.ctx)
	}
	if cause == FetchScheduled {
		ctx = context.Background()
	} else {
		ctx = context.WithoutCancel(ctx)
	}
	fctx, done := hook(ctx, Fetch{Cause: cause, URL: r.logURL()})
	if fctx == nil {
		fctx = ctx
	}
	err := r.fetch(fctx)
	if done != nil {
		done(err)
	}
	return err
}
