// Package scopedtoken is net/http middleware that guards an HTTP API with
// scoped JWTs: short-lived tokens whose aud names the parts of an account API
// they may call (/v2/accounts/{businessId|me}/{endpoint}/{optionalPath}) and
// whose query claim fixes query parameters such as experienceKey.
//
// For every request the middleware finds the key by kid, checks the signature
// with that key's one algorithm, enforces exp, nbf and iat, checks the request
// path against aud, binds the query claim to the URL, and hands the verified
// token to the next handler through the request context. Anything it is not
// sure about is refused, with a stable reason code (see [Error]). Tokens are
// minted by package github.com/scopedtoken/scopedtoken/mint (mint.New,
// mint.ParsePrivateKeyPEM, mint.LoadSpecs), which imports this one; package
// scopedtokentest mints them in tests.
//
// A minimal server with one HMAC key:
//
//	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{
//		ID:         "y0M8ZSAVtTS7T8utw-bIOw", // the kid in the token header
//		Algorithm:  "HS256",                  // the only alg this key accepts
//		Secret:     secret,                   // at least 32 bytes, used as raw bytes
//		BusinessID: "42",                     // the business that "me" stands for
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys})
//	if err != nil {
//		log.Fatal(err)
//	}
//	api := http.NewServeMux()
//	api.HandleFunc("GET /v2/accounts/{businessId}/search", func(w http.ResponseWriter, r *http.Request) {
//		tok, ok := scopedtoken.FromContext(r.Context())
//		if !ok {
//			http.Error(w, "no token", http.StatusUnauthorized)
//			return
//		}
//		fmt.Fprintf(w, "business %s searches %s\n", tok.BusinessID(), r.URL.Query().Get("experienceKey"))
//	})
//	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mw.Handler(api)))
//
// Keys fetched from a JWKS URL, or discovered from an OpenID Connect issuer,
// come from package github.com/scopedtoken/scopedtoken/jwks, whose set is a
// [KeySet] like [StaticKeys]'s. Programs that parse with golang-jwt can take
// their keys from any KeySet through package
// github.com/scopedtoken/scopedtoken/golangjwt, which applies the key rules
// but none of the scoped path and query rules (docs/golang-jwt.md).
//
// Where to read more, in the repository: README.md (the quickstart, one
// snippet per router), docs/configuration.md (every field of [Config] and
// jwks.Config, every response and reason code), docs/security.md (what is
// checked and why), docs/query-claim.md, docs/keys.md, docs/minting.md,
// docs/routers.md, docs/revocation.md, docs/metrics.md, docs/golang-jwt.md and
// docs/migrating.md.
// The runnable examples of this package show a static key, two issuers'
// JWKS endpoints combined, reading the token in a handler, a custom error
// handler and [Middleware.Verify] without HTTP.
package scopedtoken
