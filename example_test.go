package scopedtoken_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/scopedtoken/scopedtoken"
)

// The clock of the examples, so that their output never changes.
var exampleNow = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

// A static HMAC key guards an API; a handler reads the verified token.
func Example() {
	secret := []byte("a-32-byte-secret-for-the-example") // load from your secret store
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret})
	if err != nil {
		log.Fatal(err)
	}
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys, Now: exampleNow})
	if err != nil {
		log.Fatal(err)
	}
	api := http.NewServeMux()
	api.HandleFunc("GET /v2/accounts/{businessId}/search", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "searching %s", r.URL.Query().Get("experienceKey"))
	})
	handler := mw.Handler(api)

	// The minting side, usually another service.
	minter, err := scopedtoken.NewMinter(scopedtoken.MinterConfig{
		Key: scopedtoken.SigningKey{ID: "k1", Algorithm: "HS256", Secret: secret},
		Now: exampleNow,
	})
	if err != nil {
		log.Fatal(err)
	}
	token, err := minter.Mint(scopedtoken.Claims{
		Audience: []string{"/v2/accounts/me/search"},
		Query:    url.Values{"experienceKey": {"MySearchExperience"}},
	})
	if err != nil {
		log.Fatal(err)
	}

	for _, path := range []string{"/v2/accounts/me/search?experienceKey=Other", "/v2/accounts/me/answers"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 200 searching MySearchExperience
	// 403 {"error":"insufficient_scope","reason":"audience_mismatch","message":"The request path is outside every audience of the token."}
}

// Keys come from a JWKS endpoint, refreshed in the background and when an
// unknown kid arrives.
func ExampleNewRemoteKeySet() {
	private, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks := exampleJWKSServer(&private.PublicKey, "es-1")
	defer jwks.Close()

	keys, err := scopedtoken.NewRemoteKeySet(context.Background(), scopedtoken.RemoteConfig{
		URL:        jwks.URL,
		BusinessID: "42", // every key of this set acts for business 42
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer keys.Close()
	mw, err := scopedtoken.New(scopedtoken.Config{Keys: keys, Now: exampleNow})
	if err != nil {
		log.Fatal(err)
	}

	minter, _ := scopedtoken.NewMinter(scopedtoken.MinterConfig{
		Key: scopedtoken.SigningKey{ID: "es-1", Algorithm: "ES256", PrivateKey: private},
		Now: exampleNow,
	})
	token, _ := minter.Mint(scopedtoken.Claims{Audience: []string{"/v2/accounts/me/search"}})
	tok, err := mw.Verify(context.Background(), token, "/v2/accounts/me/search")
	fmt.Println(tok.KeyID, tok.Algorithm, tok.BusinessID, err)
	// Output: es-1 ES256 42 <nil>
}

// exampleJWKSServer publishes one public key, as an identity provider would.
func exampleJWKSServer(pub *ecdsa.PublicKey, kid string) *httptest.Server {
	key, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{
		KID: kid, ALG: jwkset.AlgES256, USE: jwkset.UseSig,
	}})
	if err != nil {
		log.Fatal(err)
	}
	body, _ := json.Marshal(jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{key.Marshal()}})
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
}

// A handler reads the verified token from the request context, including
// custom claims.
func ExampleFromContext() {
	secret := []byte("a-32-byte-secret-for-the-example")
	keys, _ := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
	mw, _ := scopedtoken.New(scopedtoken.Config{Keys: keys, Now: exampleNow})
	handler := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := scopedtoken.FromContext(r.Context())
		if !ok {
			http.Error(w, "no token", http.StatusInternalServerError) // cannot happen behind the middleware
			return
		}
		var custom struct {
			Plan string `json:"plan"`
		}
		if err := tok.DecodeClaims(&custom); err != nil {
			http.Error(w, "bad claims", http.StatusInternalServerError)
			return
		}
		fmt.Println("business:", tok.BusinessID)
		fmt.Println("query:", tok.Query)
		fmt.Println("expires:", tok.ExpiresAt.UTC().Format(time.RFC3339))
		fmt.Println("plan:", custom.Plan)
	}))

	minter, _ := scopedtoken.NewMinter(scopedtoken.MinterConfig{
		Key: scopedtoken.SigningKey{ID: "k1", Algorithm: "HS256", Secret: secret},
		Now: exampleNow,
	})
	token, _ := minter.Mint(scopedtoken.Claims{
		Audience: []string{"/v2/accounts/me/search"},
		Query:    url.Values{"experienceKey": {"MySearchExperience"}},
		Extra:    map[string]any{"plan": "pro"},
	})
	req := httptest.NewRequest(http.MethodGet, "/v2/accounts/42/search", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	handler.ServeHTTP(httptest.NewRecorder(), req)
	// Output:
	// business: 42
	// query: map[experienceKey:[MySearchExperience]]
	// expires: 2026-01-02T03:09:05Z
	// plan: pro
}

// A custom error handler answers a missing token with a redirect and leaves
// every other refusal to the standard response.
func ExampleConfig_errorHandler() {
	secret := []byte("a-32-byte-secret-for-the-example")
	keys, _ := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret})
	var mw *scopedtoken.Middleware
	mw, _ = scopedtoken.New(scopedtoken.Config{
		Keys: keys,
		Now:  exampleNow,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, scopedtoken.ErrMissingToken) {
				http.Redirect(w, r, "/login", http.StatusFound)
				return
			}
			var e *scopedtoken.Error
			if errors.As(err, &e) {
				fmt.Println("refused:", e.Reason) // reason codes are safe to log
			}
			mw.WriteError(w, r, err)
		},
	})
	handler := mw.Handler(http.NotFoundHandler())
	for _, auth := range []string{"", "Bearer not.a.token"} {
		req := httptest.NewRequest(http.MethodGet, "/v2/accounts/me/search", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("Location")+rec.Header().Get("WWW-Authenticate"))
	}
	// Output:
	// 302 /login
	// refused: malformed_token
	// 401 Bearer realm="api", error="invalid_token", error_description="The token is not a well-formed compact JWS."
}

// Verify checks a token without HTTP, for gRPC interceptors, command-line tools
// and tests.
func ExampleMiddleware_Verify() {
	secret := []byte("a-32-byte-secret-for-the-example")
	keys, _ := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret})
	mw, _ := scopedtoken.New(scopedtoken.Config{Keys: keys, Now: exampleNow})
	minter, _ := scopedtoken.NewMinter(scopedtoken.MinterConfig{
		Key: scopedtoken.SigningKey{ID: "k1", Algorithm: "HS256", Secret: secret},
		Now: func() time.Time { return exampleNow().Add(-time.Hour) },
	})
	token, _ := minter.Mint(scopedtoken.Claims{Audience: []string{"/v2/accounts/me/search"}})
	_, err := mw.Verify(context.Background(), token, "/v2/accounts/me/search")
	fmt.Println(errors.Is(err, scopedtoken.ErrExpired), errors.Is(err, scopedtoken.ErrInvalidToken))
	// Output: true true
}
