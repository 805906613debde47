package scopedecho_test

import (
	"testing"

	"github.com/scopedtoken/scopedtoken/internal/deppin"
)

// TestDependencyVersions pins Echo to the version whose changes were read for
// this module (docs/keys.md, "Third-party libraries"). The audience check
// relies on what Echo routes: which request path reaches a route group (its
// path parameters, its unescaping of the path) and that the request Wrap hands
// on is the one the middleware checked (docs/keys.md says what v4.16.1 to
// v4.16.6 changed). A change in go.mod fails here, so that its changes are
// read again before this test is updated.
func TestDependencyVersions(t *testing.T) {
	deppin.Check(t, "../go.mod", map[string]string{
		"github.com/labstack/echo/v4": "v4.16.6",
	})
}
