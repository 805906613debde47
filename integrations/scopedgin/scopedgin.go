// Package scopedgin runs net/http middleware, such as the scopedtoken
// middleware's Handler, as gin middleware.
package scopedgin

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"
)

// ErrStaleQuery is recorded with c.Error, and the request answered 500, when
// the middleware rewrote the query but gin had already cached the old one
// because a handler earlier in the chain read it. Gin offers no way to drop
// that cache, so the adapter refuses rather than let c.Query return values
// the middleware replaced. Mount the adapter before anything that reads the
// query.
var ErrStaleQuery = errors.New("scopedgin: gin's query cache was read before the middleware rewrote the query; mount the middleware first")

// Wrap returns a gin handler that runs middleware around the rest of the gin
// chain. When the middleware calls its next handler, the request it passes
// (carrying the verified token in its context and possibly a rewritten query)
// becomes c.Request and the chain continues with c.Next. When it does not,
// its response has been written and the chain is aborted.
//
// The middleware gets c.Writer as its ResponseWriter and must pass that same
// writer on: the rest of the chain writes through c.Writer, so a writer the
// middleware wraps would be bypassed. The scopedtoken middleware never wraps
// it.
func Wrap(middleware func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		passed := false
		next := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			if passed {
				return // a middleware that calls next twice runs the chain once
			}
			passed = true
			old := c.Request
			c.Request = r
			if old.URL != r.URL && old.URL.RawQuery != r.URL.RawQuery && staleQuery(c, old.URL, r.URL) {
				c.Error(ErrStaleQuery) //nolint:errcheck // gin returns the error it records
				c.AbortWithStatus(http.StatusInternalServerError)
				return
			}
			c.Next()
		})
		middleware(next).ServeHTTP(c.Writer, c.Request)
		if !passed {
			c.Abort()
		}
	}
}

// staleQuery reports whether gin's view of the query differs from the new
// URL's for any parameter of the old or new query. Reading through gin fills
// its cache from the new request when nothing has read it yet, so only a
// cache filled earlier can differ.
func staleQuery(c *gin.Context, oldURL, newURL *url.URL) bool {
	want := newURL.Query()
	names := oldURL.Query()
	for name := range want {
		names[name] = nil
	}
	for name := range names {
		got, _ := c.GetQueryArray(name)
		if !slices.Equal(got, want[name]) {
			return true
		}
	}
	return false
}
