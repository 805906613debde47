// Command chi serves the demo API with chi behind rs/cors, guarded by the
// scopedtoken middleware, on loopback. It prints curl commands to try.
package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/rs/cors"

	"github.com/scopedtoken/scopedtoken/integrations/internal/demo"
)

func main() {
	demo.Main("127.0.0.1:8081", newRouter)
}

// newRouter mounts the middleware on the account routes only, and puts CORS
// outside it so that preflights are answered without a token and refusals
// still carry the CORS headers a browser needs to read them.
func newRouter(kit *demo.Kit) http.Handler {
	r := chi.NewRouter()
	r.Route("/v2/accounts/{businessId}", func(r chi.Router) {
		r.Use(kit.Middleware.Handler)
		r.Get("/search", endpoint("search"))
		r.Get("/search/*", endpoint("search"))
		r.Get("/answers", endpoint("answers"))
	})
	return cors.New(cors.Options{
		AllowedOrigins: []string{"https://app.example"},
		AllowedMethods: []string{http.MethodGet},
		AllowedHeaders: []string{"Authorization"},
		ExposedHeaders: []string{"WWW-Authenticate"},
	}).Handler(r)
}

func endpoint(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		demo.WriteReply(w, r, name, chi.URLParam(r, "businessId"))
	}
}
