package scopedecho_test

import (
	"testing"

	"github.com/scopedtoken/scopedtoken/internal/deppin"
)

// TestDependencyVersions pins Echo to the version whose changes were read for
// this module (docs/keys.md, "Third-party libraries"). The audience check
// relies on what Echo routes: which request path reaches a route group (its
// path parameters, its unescaping of the path) and that the request Wrap hands
// on is the one the middleware checked. v4.16.0 is the newest that builds with
// this module's go line (v4.16.1 and later need Go 1.26; their notes were read
// too: docs/keys.md). A change in go.mod fails here, so that its changes are
// read again before this test is updated.
func TestDependencyVersions(t *testing.T) {
	deppin.Check(t, "../go.mod", map[string]string{
		"github.com/labstack/echo/v4": "v4.16.0",
	})
}
