package scopedtoken_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
)

// The clock of the examples, so that their output never changes.
var exampleNow = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

// A static HMAC key guards an API; a handler reads the verified token.
func Example() {
	secret := []byte("a-32-byte-secret-for-the-example") // load from your secret store
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
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
	minter, err := mint.New(mint.Config{
		Key: mint.Key{ID: "k1", Algorithm: "HS256", Secret: secret},
		Now: exampleNow,
	})
	if err != nil {
		log.Fatal(err)
	}
	token, err := minter.Mint(mint.Claims{
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
		fmt.Println("business:", tok.BusinessID())
		fmt.Println("query:", tok.Query())
		fmt.Println("expires:", tok.ExpiresAt().UTC().Format(time.RFC3339))
		fmt.Println("plan:", custom.Plan)
	}))

	minter, _ := mint.New(mint.Config{
		Key: mint.Key{ID: "k1", Algorithm: "HS256", Secret: secret},
		Now: exampleNow,
	})
	token, _ := minter.Mint(mint.Claims{
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
	keys, _ := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
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
				fmt.Println("refused:", e.Reason()) // reason codes are safe to log
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
	keys, _ := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
	mw, _ := scopedtoken.New(scopedtoken.Config{Keys: keys, Now: exampleNow})
	minter, _ := mint.New(mint.Config{
		Key: mint.Key{ID: "k1", Algorithm: "HS256", Secret: secret},
		Now: func() time.Time { return exampleNow().Add(-time.Hour) },
	})
	token, _ := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}})
	_, err := mw.Verify(context.Background(), token, "/v2/accounts/me/search")
	fmt.Println(errors.Is(err, scopedtoken.ErrExpired), errors.Is(err, scopedtoken.ErrInvalidToken))
	// Output: true true
}

// With optional credentials, a request without a token reaches the handler as
// anonymous; a request with a token is checked as always.
func ExampleConfig_credentialsOptional() {
	secret := []byte("a-32-byte-secret-for-the-example")
	keys, _ := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
	mw, _ := scopedtoken.New(scopedtoken.Config{
		Keys:                keys,
		Now:                 exampleNow,
		CredentialsOptional: true,
		OnDecision: func(_ context.Context, d scopedtoken.Decision) {
			fmt.Printf("allowed=%t anonymous=%t reason=%q\n", d.Allowed, d.Anonymous, d.Reason)
		},
	})
	handler := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := scopedtoken.FromContext(r.Context()); ok {
			fmt.Fprintln(w, "results for the token of", tok.KeyID())
			return
		}
		fmt.Fprintln(w, "public results only")
	}))

	minter, _ := mint.New(mint.Config{
		Key: mint.Key{ID: "k1", Algorithm: "HS256", Secret: secret},
		Now: exampleNow,
	})
	token, _ := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}})
	for _, auth := range []string{"", "Basic dXNlcjpwYXNz", "Bearer " + token, "Bearer " + token + "x"} {
		req := httptest.NewRequest(http.MethodGet, "/v2/accounts/me/search", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// allowed=true anonymous=true reason=""
	// 200 public results only
	// allowed=true anonymous=true reason=""
	// 200 public results only
	// allowed=true anonymous=false reason=""
	// 200 results for the token of k1
	// allowed=false anonymous=false reason="bad_signature"
	// 401 {"error":"invalid_token","reason":"bad_signature","message":"The token signature does not verify."}
}

// A check of the API's own lets tokens for the search endpoint only read:
// any other method is refused with a reason of its own.
func ExampleConfig_check() {
	secret := []byte("a-32-byte-secret-for-the-example")
	keys, _ := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
	readOnly := scopedtoken.NewError(scopedtoken.ErrInsufficientScope, "read_only", "Search tokens may only read.")
	mw, _ := scopedtoken.New(scopedtoken.Config{
		Keys: keys,
		Now:  exampleNow,
		Check: func(r *http.Request, t *scopedtoken.Token) error {
			if slices.Contains(t.Audience(), "/v2/accounts/me/search") && r.Method != http.MethodGet {
				return readOnly
			}
			return nil
		},
	})
	handler := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "searched")
	}))

	minter, _ := mint.New(mint.Config{
		Key: mint.Key{ID: "k1", Algorithm: "HS256", Secret: secret},
		Now: exampleNow,
	})
	token, _ := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}})
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req := httptest.NewRequest(method, "/v2/accounts/me/search", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Print(method, " ", rec.Code, " ", rec.Body.String())
	}
	// Output:
	// GET 200 searched
	// POST 403 {"error":"insufficient_scope","reason":"read_only","message":"Search tokens may only read."}
}

// A check reads a custom claim: only tokens of the "pro" plan may export. Its
// plain error is answered as check_failed; the text stays for the logs.
func ExampleConfig_checkCustomClaim() {
	secret := []byte("a-32-byte-secret-for-the-example")
	keys, _ := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
	mw, _ := scopedtoken.New(scopedtoken.Config{
		Keys: keys,
		Now:  exampleNow,
		Check: func(r *http.Request, t *scopedtoken.Token) error {
			var claims struct {
				Plan string `json:"plan"`
			}
			if err := t.DecodeClaims(&claims); err != nil {
				return err
			}
			if r.URL.Query().Get("format") == "csv" && claims.Plan != "pro" {
				return fmt.Errorf("plan %q cannot export", claims.Plan)
			}
			return nil
		},
		OnDecision: func(_ context.Context, d scopedtoken.Decision) {
			if d.Err != nil {
				fmt.Println("log:", d.Reason, errors.Unwrap(d.Err))
			}
		},
	})
	handler := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "exported")
	}))

	minter, _ := mint.New(mint.Config{
		Key: mint.Key{ID: "k1", Algorithm: "HS256", Secret: secret},
		Now: exampleNow,
	})
	for _, plan := range []string{"pro", "free"} {
		token, _ := minter.Mint(mint.Claims{
			Audience: []string{"/v2/accounts/me/search"},
			Extra:    map[string]any{"plan": plan},
		})
		req := httptest.NewRequest(http.MethodGet, "/v2/accounts/me/search?format=csv", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Print(plan, " ", rec.Code, " ", rec.Body.String())
	}
	// Output:
	// pro 200 exported
	// log: check_failed plan "free" cannot export
	// free 403 {"error":"insufficient_scope","reason":"check_failed","message":"The request is not allowed for this token."}
}

// A browser's WebSocket API cannot set the Authorization header, so the page
// offers the token as a subprotocol after the marker:
// new WebSocket(url, ["access_token", token]). The handler, and the WebSocket
// library it uses, sees the offered subprotocols without the token.
func ExampleWebSocketProtocol() {
	secret := []byte("a-32-byte-secret-for-the-example")
	keys, _ := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: secret, BusinessID: "42"})
	mw, _ := scopedtoken.New(scopedtoken.Config{
		Keys:         keys,
		Now:          exampleNow,
		TokenSources: []scopedtoken.TokenSource{scopedtoken.WebSocketProtocol{}},
	})
	handler := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := scopedtoken.FromContext(r.Context())
		// Accept the WebSocket here, with "access_token" among its subprotocols.
		fmt.Println("token of", tok.KeyID(), "offered:", r.Header.Get("Sec-WebSocket-Protocol"))
	}))

	minter, _ := mint.New(mint.Config{
		Key: mint.Key{ID: "k1", Algorithm: "HS256", Secret: secret},
		Now: exampleNow,
	})
	token, _ := minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/stream"}})
	req := httptest.NewRequest(http.MethodGet, "/v2/accounts/me/stream", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Protocol", "chat.v1, access_token, "+token)
	handler.ServeHTTP(httptest.NewRecorder(), req)
	// Output: token of k1 offered: chat.v1, access_token
}
