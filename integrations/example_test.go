package integrations_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/rs/cors"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/integrations/internal/demo"
	"github.com/scopedtoken/scopedtoken/mint"
)

// A chi router behind rs/cors, in the order docs/routers.md recommends: CORS
// outside answers preflights itself and adds its headers to the
// middleware's refusals too, so a page on another origin can read them.
// (demo.NewKit generates a key, the middleware that trusts it and a minter.)
func Example() {
	kit, err := demo.NewKit(scopedtoken.Config{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(cors.New(cors.Options{
		AllowedOrigins: []string{"https://app.example"},
		AllowedHeaders: []string{"Authorization"},
		ExposedHeaders: []string{"WWW-Authenticate"},
	}).Handler)
	r.Use(kit.Middleware.Handler)
	r.Get("/v2/accounts/{businessId}/search", func(w http.ResponseWriter, r *http.Request) {
		tok, _ := scopedtoken.FromContext(r.Context())
		fmt.Fprintf(w, "business %s searches", tok.BusinessID())
	})

	token, err := kit.Minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}})
	if err != nil {
		log.Fatal(err)
	}
	send := func(method, bearer string) {
		req := httptest.NewRequest(method, "/v2/accounts/me/search", nil)
		req.Header.Set("Origin", "https://app.example")
		if method == http.MethodOptions {
			req.Header.Set("Access-Control-Request-Method", http.MethodGet)
			req.Header.Set("Access-Control-Request-Headers", "authorization")
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		body := strings.TrimSpace(rec.Body.String())
		if body == "" {
			body = "(no body)"
		}
		fmt.Println(method, rec.Code, rec.Header().Get("Access-Control-Allow-Origin"), body)
	}
	send(http.MethodOptions, "") // the preflight, answered by rs/cors
	send(http.MethodGet, token)
	send(http.MethodGet, "") // refused, with the CORS headers the page needs to read it
	// Output:
	// OPTIONS 204 https://app.example (no body)
	// GET 200 https://app.example business 42 searches
	// GET 401 https://app.example {"error":"invalid_token","reason":"missing_token","message":"The request carries no bearer token."}
}
