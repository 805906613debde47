// Package scopedecho runs net/http middleware, such as the scopedtoken
// middleware's Handler, as echo middleware.
package scopedecho

import (
	"maps"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// Wrap is echo.WrapMiddleware made safe for middleware that rewrites the
// query. Echo caches the parsed query in its context the first time anything
// reads it, and echo.WrapMiddleware keeps that cache when it swaps in the
// middleware's request, so an earlier middleware that read c.QueryParam would
// leave handlers seeing the values the scopedtoken middleware replaced. Wrap
// refills the cache from the new request.
//
// When the middleware calls its next handler, the request it passes (with
// the verified token in its context) becomes c.Request() and the chain
// continues; when it does not, its response has been written and the chain
// stops there.
func Wrap(middleware func(http.Handler) http.Handler) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			var err error
			passed := false
			old := c.Request()
			middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if passed {
					return // a middleware that calls next twice runs the chain once
				}
				passed = true
				c.SetRequest(r)
				if w != http.ResponseWriter(c.Response()) {
					c.SetResponse(echo.NewResponse(w, c.Echo()))
				}
				if r.URL != old.URL && r.URL.RawQuery != old.URL.RawQuery {
					refreshQuery(c, r.URL)
				}
				err = next(c)
			})).ServeHTTP(c.Response(), old)
			return err
		}
	}
}

// refreshQuery makes echo's cached query that of u. QueryParams returns the
// cache itself, filling it first if nothing has yet.
func refreshQuery(c echo.Context, u *url.URL) {
	q := c.QueryParams()
	clear(q)
	maps.Copy(q, u.Query())
}
