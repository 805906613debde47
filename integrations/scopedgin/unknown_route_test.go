package scopedgin_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"

	"github.com/scopedtoken/scopedtoken/integrations/internal/demotest"
	"github.com/scopedtoken/scopedtoken/integrations/scopedgin"
)

// TestUnknownRouteWithoutToken pins what docs/routers.md says about gin: a
// route group's middleware runs only for the routes that exist, so a request
// without a token for an unknown path gets gin's 404; middleware given to
// r.Use runs for unknown paths too, so there it gets the middleware's 401.
func TestUnknownRouteWithoutToken(t *testing.T) {
	kit := demotest.NewKit(t)
	ok := func(c *gin.Context) { c.Status(http.StatusOK) }
	tests := []struct {
		name       string
		router     func() *gin.Engine
		wantStatus int
	}{
		{name: "middleware on the group", router: func() *gin.Engine {
			r := gin.New()
			r.Group("/v2/accounts/:businessId", scopedgin.Wrap(kit.Middleware.Handler)).GET("/search", ok)
			return r
		}, wantStatus: http.StatusNotFound},
		{name: "middleware on the engine", router: func() *gin.Engine {
			r := gin.New()
			r.Use(scopedgin.Wrap(kit.Middleware.Handler))
			r.GET("/v2/accounts/:businessId/search", ok)
			return r
		}, wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.router()
			for _, path := range []string{"/v2/accounts/me/unknown", "/elsewhere"} {
				rec := httptest.NewRecorder()
				r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				assert.Equal(t, tt.wantStatus, rec.Code, path)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2/accounts/me/search", nil))
			assert.Equal(t, http.StatusUnauthorized, rec.Code, "a known route without a token")
		})
	}
}
