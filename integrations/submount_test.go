package integrations_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/integrations/internal/demotest"
	"github.com/scopedtoken/scopedtoken/mint"
)

// TestSubMount checks the README's advice: the middleware must see the path
// starting with Config.Prefix, so under a mount point it goes inside
// http.StripPrefix.
func TestSubMount(t *testing.T) {
	kit := demotest.NewKit(t)
	token, err := kit.Minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}})
	require.NoError(t, err)

	api := func() http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /v2/accounts/{businessId}/search", func(w http.ResponseWriter, r *http.Request) {
			_, ok := scopedtoken.FromContext(r.Context())
			assert.True(t, ok)
		})
		return mux
	}
	muxInside := http.NewServeMux()
	muxInside.Handle("/api/", http.StripPrefix("/api", kit.Middleware.Handler(api())))
	muxOutside := http.NewServeMux()
	muxOutside.Handle("/api/", kit.Middleware.Handler(http.StripPrefix("/api", api())))
	chiInside := chi.NewRouter()
	chiInside.Mount("/api", http.StripPrefix("/api", kit.Middleware.Handler(api())))
	chiNoStrip := chi.NewRouter()
	chiNoStrip.Route("/api", func(r chi.Router) {
		r.Use(kit.Middleware.Handler)
		r.Get("/v2/accounts/{businessId}/search", func(http.ResponseWriter, *http.Request) {})
	})

	tests := []struct {
		name       string
		h          http.Handler
		target     string
		wantStatus int
	}{
		{name: "ServeMux, middleware inside StripPrefix", h: muxInside, target: "/api/v2/accounts/me/search", wantStatus: http.StatusOK},
		{name: "ServeMux, inside StripPrefix, encoded slash", h: muxInside, target: "/api/v2/accounts/me%2Fsearch/x/{", wantStatus: http.StatusBadRequest},
		{name: "ServeMux, middleware outside StripPrefix", h: muxOutside, target: "/api/v2/accounts/me/search", wantStatus: http.StatusForbidden},
		{name: "chi Mount, middleware inside StripPrefix", h: chiInside, target: "/api/v2/accounts/me/search", wantStatus: http.StatusOK},
		{name: "chi Route without StripPrefix", h: chiNoStrip, target: "/api/v2/accounts/me/search", wantStatus: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.target, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, req)
			assert.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
		})
	}
}
