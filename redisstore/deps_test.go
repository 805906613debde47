package redisstore

import (
	"testing"

	"github.com/scopedtoken/scopedtoken/internal/deppin"
)

// TestDependencyVersions pins go-redis to the version whose changes were read
// for this package (docs/keys.md, "Third-party libraries"). What the store
// guarantees rests on how go-redis behaves: the revocation script run as
// EVALSHA with an EVAL fallback, WAIT after each write (and the ReadTimeout
// that must outlast it), the resubscription on every new connection that
// triggers the full reload, the routing of the hash-tagged keys on Cluster and
// the primary that a failover client follows on Sentinel, and the URL forms
// that NewClient parses (docs/keys.md says what v9.23.0 changed). A
// change in go.mod fails here, so that its changes are read again before this
// test is updated.
func TestDependencyVersions(t *testing.T) {
	deppin.Check(t, "go.mod", map[string]string{
		"github.com/redis/go-redis/v9": "v9.23.0",
	})
}
