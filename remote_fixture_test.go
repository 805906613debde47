package scopedtoken

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// A few tests of this package use the remote key set of package jwks as a
// fixture: the Wycheproof JWK vectors reach the signature layer through its
// JWK parsing (TestWycheproofJWS, TestWycheproofJWK), the verified-token
// cache must follow its refreshes (TestCacheFollowsKeySetChanges), and keys
// embedded in a token must not make it fetch (TestAttackEmbeddedKeys). They
// cannot import jwks, which imports this package: jwks_link_test.go, in
// package scopedtoken_test, sets NewRemoteSetForTest before any test runs.
// The tests of the set itself are in jwks.

// RemoteSetConfig is the part of jwks.Config that these tests set; the set
// logs nowhere, and a zero field means jwks's default.
type RemoteSetConfig struct {
	URL                string
	Client             *http.Client
	MinRefreshInterval time.Duration
	RefreshWait        time.Duration
}

// RemoteSet is what these tests use of a *jwks.Set.
type RemoteSet interface {
	KnownKeySet
	Refresh(ctx context.Context) error
}

// NewRemoteSetForTest starts a *jwks.Set for cfg, closed when the test ends.
var NewRemoteSetForTest func(t testing.TB, cfg RemoteSetConfig) RemoteSet

// newRemoteSet is NewRemoteSetForTest.
func newRemoteSet(t testing.TB, cfg RemoteSetConfig) RemoteSet {
	t.Helper()
	if NewRemoteSetForTest == nil {
		t.Fatal("NewRemoteSetForTest is not set: jwks_link_test.go sets it")
	}
	return NewRemoteSetForTest(t, cfg)
}

// hostileRemoteSet serves body as a JWK Set from a local server and returns
// a remote set over it that has fetched once.
func hostileRemoteSet(t testing.TB, body []byte) RemoteSet {
	t.Helper()
	srv := testkit.NewJWKSServer(t, body)
	return newRemoteSet(t, RemoteSetConfig{URL: srv.URL, MinRefreshInterval: time.Hour, RefreshWait: 50 * time.Millisecond})
}
