package jwks

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// TestLoadRaceRemoteRotation runs hundreds of goroutines with valid and
// invalid tokens through a middleware over static keys and a remote set
// while the remote set rotates (one key removed, one added), and counts every
// wrong decision. Run it with -race.
func TestLoadRaceRemoteRotation(t *testing.T) {
	a, b, c := testkit.NewSigner(t, "a"), testkit.NewSigner(t, "b"), testkit.NewSigner(t, "c")
	srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, a.JWK(t), b.JWK(t)))
	rs := newFaultRemote(t, srv.URL, func(cfg *Config) { cfg.MinRefreshInterval = 5 * time.Millisecond })
	static, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "hs", Algorithm: "HS256", Secret: testkit.Secret})
	require.NoError(t, err)
	m := remoteMiddleware(t, scopedtoken.CombineKeys(static, rs))

	const goroutines, perG = 100, 20
	var valid []testkit.LoadToken
	for i := 0; i < 50; i++ {
		valid = append(valid, testkit.LoadToken{Name: "a", Token: a.Token(t, fmt.Sprintf(`,"jti":"%d"`, i)), Status: 200})
	}
	invalid := append(testkit.InvalidTokens(t, "hs"), testkit.LoadToken{Name: "a signed by c", Token: testkit.SignRaw(t, "ES256", c.Priv, `{"alg":"ES256","kid":"a"}`, testkit.Claims("")), Status: 401})
	bTok, cTok := b.Token(t, ""), c.Token(t, "")

	// b is removed and c added at the rotation.
	pick := func(g, i int, rotated bool) (testkit.LoadToken, bool) {
		switch {
		case i%3 == 0:
			return valid[(g+i)%len(valid)], false
		case i%3 == 1:
			return invalid[(g+i)%len(invalid)], false
		case rotated:
			return []testkit.LoadToken{{Name: "b after removal", Token: bTok, Status: 401}, {Name: "c after rotation", Token: cTok, Status: 200}}[i%2], true
		}
		return []testkit.LoadToken{{Name: "b before removal", Token: bTok, Status: 200}, {Name: "c before rotation", Token: cTok, Status: 401}}[i%2], true
	}
	testkit.RunLoad(t, goroutines, perG, func(tok string) int { code, _ := quickStatus(m, tok); return code }, pick, 10*time.Millisecond, func() {
		srv.Serve(testkit.JWKSet(t, a.JWK(t), c.JWK(t)), http.StatusOK, 0)
		// Refresh always answers with a fetch that started after the call, so
		// one successful Refresh puts the new set in.
		require.NoError(t, rs.Refresh(context.Background()))
		_, err := rs.LookupKey(context.Background(), "c")
		require.NoError(t, err)
	})
}
