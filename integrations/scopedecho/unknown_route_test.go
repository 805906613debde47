package scopedecho_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"

	"github.com/scopedtoken/scopedtoken/integrations/internal/demotest"
	"github.com/scopedtoken/scopedtoken/integrations/scopedecho"
)

// TestUnknownRouteWithoutToken pins what docs/routers.md says about echo: a
// group's middleware also runs for unknown paths under the group's prefix (a
// request without a token gets 401), but not for paths outside it (404).
func TestUnknownRouteWithoutToken(t *testing.T) {
	kit := demotest.NewKit(t)
	e := echo.New()
	e.Group("/v2/accounts/:businessId", scopedecho.Wrap(kit.Middleware.Handler)).GET("/search", func(c echo.Context) error {
		return c.NoContent(http.StatusOK)
	})
	for path, want := range map[string]int{
		"/v2/accounts/me/search":  http.StatusUnauthorized,
		"/v2/accounts/me/unknown": http.StatusUnauthorized,
		"/elsewhere":              http.StatusNotFound,
	} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		assert.Equal(t, want, rec.Code, path)
	}
}
