package scopedtoken_test

import (
	"context"
	"testing"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
	"github.com/scopedtoken/scopedtoken/jwks"
)

// init gives the tests of package scopedtoken the remote key set they use as
// a fixture (see remote_fixture_test.go): they cannot import jwks, which
// imports scopedtoken, but this external test package can.
func init() {
	scopedtoken.NewRemoteSetForTest = func(t testing.TB, cfg scopedtoken.RemoteSetConfig) scopedtoken.RemoteSet {
		t.Helper()
		set, err := jwks.New(context.Background(), jwks.Config{
			URL:                cfg.URL,
			Client:             cfg.Client,
			MinRefreshInterval: cfg.MinRefreshInterval,
			RefreshWait:        cfg.RefreshWait,
			Logger:             testkit.DiscardLogger(),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(set.Close)
		return set
	}
}
