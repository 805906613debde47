// Command gin serves the demo API with gin, guarded by the scopedtoken
// middleware, on loopback. It prints curl commands to try.
package main

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/scopedtoken/scopedtoken/integrations/internal/demo"
	"github.com/scopedtoken/scopedtoken/integrations/scopedgin"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	demo.Main("127.0.0.1:8082", newRouter)
}

// newRouter mounts the middleware first in the account group, so that no
// handler reads the query before the token's query claim is bound.
func newRouter(kit *demo.Kit) http.Handler {
	r := gin.New()
	accounts := r.Group("/v2/accounts/:businessId", scopedgin.Wrap(kit.Middleware.Handler))
	accounts.GET("/search", endpoint("search"))
	accounts.GET("/search/*rest", endpoint("search"))
	accounts.GET("/answers", endpoint("answers"))
	return r
}

func endpoint(name string) gin.HandlerFunc {
	return func(c *gin.Context) {
		demo.WriteReply(c.Writer, c.Request, name, c.Param("businessId"))
	}
}
