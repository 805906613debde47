// Command echo serves the demo API with echo, guarded by the scopedtoken
// middleware, on loopback. It prints curl commands to try.
package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/scopedtoken/scopedtoken/integrations/internal/demo"
	"github.com/scopedtoken/scopedtoken/integrations/scopedecho"
)

func main() {
	demo.Main("127.0.0.1:8083", newRouter)
}

func newRouter(kit *demo.Kit) http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	accounts := e.Group("/v2/accounts/:businessId", scopedecho.Wrap(kit.Middleware.Handler))
	accounts.GET("/search", endpoint("search"))
	accounts.GET("/search/*", endpoint("search"))
	accounts.GET("/answers", endpoint("answers"))
	return e
}

func endpoint(name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		demo.WriteReply(c.Response(), c.Request(), name, c.Param("businessId"))
		return nil
	}
}
