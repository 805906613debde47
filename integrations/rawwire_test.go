package integrations_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/integrations/internal/demotest"
	"github.com/scopedtoken/scopedtoken/integrations/scopedecho"
	"github.com/scopedtoken/scopedtoken/mint"
)

// TestRawTargetsOverTheWire sends request lines byte for byte to a real
// server, since the targets that made the middleware and chi/echo read a path
// differently (an encoded '/' beside a raw '{' or raw UTF-8) are ones a
// client library would escape: net/http's server accepts them as they are.
func TestRawTargetsOverTheWire(t *testing.T) {
	kit := demotest.NewKit(t)
	token, err := kit.Minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}})
	require.NoError(t, err)

	var answersRan bool
	chiRouter := chi.NewRouter()
	chiRouter.Use(kit.Middleware.Handler)
	chiRouter.Get("/v2/accounts/{businessId}/search/*", func(w http.ResponseWriter, _ *http.Request) {})
	chiRouter.Get("/v2/accounts/{businessId}/answers/*", func(w http.ResponseWriter, _ *http.Request) { answersRan = true })
	e := echo.New()
	e.Use(scopedecho.Wrap(kit.Middleware.Handler))
	e.GET("/v2/accounts/:businessId/search/*", func(echo.Context) error { return nil })
	e.GET("/v2/accounts/:businessId/answers/*", func(echo.Context) error { answersRan = true; return nil })

	tests := []struct {
		target     string
		wantStatus int
	}{
		{target: "/v2/accounts/me%2Fsearch/answers/{", wantStatus: http.StatusBadRequest},
		{target: "/v2/accounts/42%2fsearch/answers/é", wantStatus: http.StatusBadRequest},
		{target: "/v2/accounts/me/search/x{", wantStatus: http.StatusOK},
		{target: "/v2/accounts/42/search/é", wantStatus: http.StatusOK},
	}
	for name, h := range map[string]http.Handler{"chi": chiRouter, "echo": e} {
		srv := httptest.NewServer(h)
		for _, tt := range tests {
			t.Run(name+tt.target, func(t *testing.T) {
				answersRan = false
				conn, err := net.Dial("tcp", srv.Listener.Addr().String())
				require.NoError(t, err)
				defer conn.Close()
				_, err = conn.Write([]byte("GET " + tt.target + " HTTP/1.1\r\nHost: api.example\r\nAuthorization: Bearer " +
					token + "\r\nConnection: close\r\n\r\n"))
				require.NoError(t, err)
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, tt.wantStatus, resp.StatusCode)
				assert.False(t, answersRan, "the answers handler ran with a search token")
			})
		}
		srv.Close()
	}
}
