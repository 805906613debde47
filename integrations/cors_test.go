package integrations_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rs/cors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/integrations/internal/demotest"
	"github.com/scopedtoken/scopedtoken/mint"
)

const origin = "https://app.example"

func corsOptions() cors.Options {
	return cors.Options{
		AllowedOrigins: []string{origin},
		AllowedMethods: []string{http.MethodGet},
		AllowedHeaders: []string{"Authorization"},
		ExposedHeaders: []string{"WWW-Authenticate"},
	}
}

func preflight() *http.Request {
	r := httptest.NewRequest(http.MethodOptions, "/v2/accounts/me/search", nil)
	r.Header.Set("Origin", origin)
	r.Header.Set("Access-Control-Request-Method", http.MethodGet)
	r.Header.Set("Access-Control-Request-Headers", "authorization")
	return r
}

// fakePreflight is an OPTIONS request with the preflight headers that are
// not empty among origin and method.
func fakePreflight(origin, method string) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, "/v2/accounts/me/search", nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	r.Header["Access-Control-Request-Method"] = []string{method}
	return r
}

func crossOrigin(method, token string, extra ...string) *http.Request {
	r := httptest.NewRequest(method, "/v2/accounts/me/search", nil)
	r.Header.Set("Origin", origin)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		r.Header.Set(extra[i], extra[i+1])
	}
	return r
}

func TestCORS(t *testing.T) {
	plain := demotest.NewKit(t)
	preflightKit := demotest.NewKitWith(t, scopedtoken.Config{AllowPreflight: true})
	tok, err := plain.Minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}})
	require.NoError(t, err)
	tokPreflightKit, err := preflightKit.Minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}})
	require.NoError(t, err)

	// The recommended order: CORS outside answers preflights itself and adds
	// its headers to the middleware's refusals.
	outside := func(h http.Handler) http.Handler { return cors.New(corsOptions()).Handler(plain.Middleware.Handler(h)) }
	// CORS behind the middleware, which must then let preflights through.
	inside := func(h http.Handler) http.Handler {
		return preflightKit.Middleware.Handler(cors.New(corsOptions()).Handler(h))
	}
	insideNoPreflight := func(h http.Handler) http.Handler { return plain.Middleware.Handler(cors.New(corsOptions()).Handler(h)) }

	tests := []struct {
		name        string
		stack       func(http.Handler) http.Handler
		req         *http.Request
		wantStatus  int
		wantCORS    bool // Access-Control-Allow-Origin is set
		wantHandler bool
	}{
		{name: "outside: preflight without token", stack: outside, req: preflight(), wantStatus: http.StatusNoContent, wantCORS: true},
		{name: "outside: GET without token", stack: outside, req: crossOrigin(http.MethodGet, ""), wantStatus: http.StatusUnauthorized, wantCORS: true},
		{name: "outside: GET with token", stack: outside, req: crossOrigin(http.MethodGet, tok), wantStatus: http.StatusOK, wantCORS: true, wantHandler: true},
		{name: "inside with AllowPreflight: preflight", stack: inside, req: preflight(), wantStatus: http.StatusNoContent, wantCORS: true},
		{name: "inside with AllowPreflight: GET with token", stack: inside, req: crossOrigin(http.MethodGet, tokPreflightKit), wantStatus: http.StatusOK, wantCORS: true, wantHandler: true},
		{name: "inside with AllowPreflight: GET without token gets no CORS headers", stack: inside, req: crossOrigin(http.MethodGet, ""), wantStatus: http.StatusUnauthorized},
		{name: "inside with AllowPreflight: OPTIONS that is no preflight", stack: inside, req: crossOrigin(http.MethodOptions, ""), wantStatus: http.StatusUnauthorized},
		{
			name: "inside with AllowPreflight: GET dressed as a preflight", stack: inside,
			req:        crossOrigin(http.MethodGet, "", "Access-Control-Request-Method", http.MethodGet),
			wantStatus: http.StatusUnauthorized,
		},
		{name: "inside without AllowPreflight: preflight refused", stack: insideNoPreflight, req: preflight(), wantStatus: http.StatusUnauthorized},
		// rs/cors passes an OPTIONS with an empty Access-Control-Request-Method on
		// as a plain request, so the middleware must not let it through as a
		// preflight: it would reach a handler registered without a method.
		{name: "inside with AllowPreflight: empty method, no Origin", stack: inside, req: fakePreflight("", ""), wantStatus: http.StatusUnauthorized},
		{name: "inside with AllowPreflight: empty method", stack: inside, req: fakePreflight(origin, ""), wantStatus: http.StatusUnauthorized, wantCORS: false},
		{name: "inside with AllowPreflight: no Origin", stack: inside, req: fakePreflight("", http.MethodGet), wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran := false
			h := tt.stack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran = true
				_, ok := scopedtoken.FromContext(r.Context())
				assert.True(t, ok, "the handler runs only with a verified token")
				w.WriteHeader(http.StatusOK)
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req)

			assert.Equal(t, tt.wantStatus, rec.Code)
			assert.Equal(t, tt.wantHandler, ran)
			if tt.wantCORS {
				assert.Equal(t, origin, rec.Header().Get("Access-Control-Allow-Origin"))
			} else {
				assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
			}
			if tt.req.Method == http.MethodOptions && tt.wantStatus == http.StatusNoContent {
				assert.Contains(t, rec.Header().Get("Access-Control-Allow-Methods"), http.MethodGet)
				assert.Equal(t, "authorization", rec.Header().Get("Access-Control-Allow-Headers"))
			}
			if tt.wantStatus == http.StatusUnauthorized {
				assert.Contains(t, rec.Header().Get("WWW-Authenticate"), "Bearer ")
				if tt.wantCORS {
					assert.Equal(t, "Www-Authenticate", rec.Header().Get("Access-Control-Expose-Headers"))
				}
			}
		})
	}
}
