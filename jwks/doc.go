// Package jwks is a scopedtoken key set fetched from a JWK Set (RFC 7517 §5)
// over HTTP: a URL given in [Config], or the jwks_uri discovered from an
// OpenID Connect issuer (OpenID Connect Discovery 1.0 §4). A [Set] is a
// scopedtoken.KeySet and a scopedtoken.KnownKeySet: give it to
// scopedtoken.Config.Keys, alone or with scopedtoken.CombineKeys.
//
// The set is fetched once by [New], then in the background (as the
// response's Cache-Control asks, within Config.MinRefreshInterval and
// Config.RefreshInterval) and when a token names a kid the set does not hold
// (at most once per MinRefreshInterval, however many tokens do). A failed
// fetch keeps the last good keys; until a fetch has succeeded, lookups report
// scopedtoken.ErrKeysUnavailable and the middleware answers 503.
//
// Each JWK is parsed on its own by github.com/MicahParks/jwkset; which keys
// are used, and with which one algorithm, is decided here: a JWK's alg binds
// its key, a JWK without alg accepts only the default of its key type, and
// symmetric keys, private material, keys not meant for signatures and every
// key of a duplicated kid are skipped and logged. Redirects are followed only
// within the URL's scheme, host and port; the URL's credentials never appear
// in a log line or an error. docs/keys.md and the "Remote keys" rule of
// docs/security.md describe every rule; docs/configuration.md every field.
//
// Config.OnFetch is called around each fetch with the context of what
// started it, so that a tracer (the scopedotel module's FetchHook) puts a
// fetch that a request waits for under that request's span; this package
// itself depends on no telemetry library.
//
// A minimal use:
//
//	keys, err := jwks.New(ctx, jwks.Config{URL: "https://id.example.com/.well-known/jwks.json"})
//	if err != nil {
//		log.Fatal(err) // a bad configuration; a failed first fetch is not an error
//	}
//	defer keys.Close()
//	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys})
package jwks
