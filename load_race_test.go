package scopedtoken

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// The load tests run hundreds of goroutines with valid and invalid tokens
// while keys rotate, and count every wrong decision. Run them with -race.

// swappableKeys is a user-implemented KeySet whose keys change at runtime.
type swappableKeys struct {
	keys atomic.Pointer[map[string]*VerificationKey]
}

func (s *swappableKeys) LookupKey(_ context.Context, kid string) (*VerificationKey, error) {
	if k, ok := (*s.keys.Load())[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKID
}

func (s *swappableKeys) swap(t *testing.T, keys ...Key) {
	m := make(map[string]*VerificationKey, len(keys))
	for _, k := range keys {
		vk, err := NewVerificationKey(k)
		require.NoError(t, err)
		m[k.ID] = vk
	}
	s.keys.Store(&m)
}

// loadToken is one prepared request and the status it must get.
type loadToken = testkit.LoadToken

func TestLoadRaceSwappableKeys(t *testing.T) {
	secretOld := []byte("old secret: thirty-two bytes ok!")
	secretNew := []byte("new secret: thirty-two bytes ok!")
	static, err := StaticKeys(Key{ID: "hs", Algorithm: "HS256", Secret: testSecret})
	require.NoError(t, err)
	var sw swappableKeys
	sw.swap(t, Key{ID: "r0", Algorithm: "HS256", Secret: secretOld}, Key{ID: "r1", Algorithm: "HS256", Secret: testSecret})
	m, err := New(Config{AllowMeWithoutBusiness: true, Keys: CombineKeys(static, &sw), Now: fixedClock})
	require.NoError(t, err)

	sign := func(kid string, secret []byte, jti int) string {
		return signRaw(t, "HS256", secret, `{"alg":"HS256","kid":"`+kid+`"}`, claimsWith(fmt.Sprintf(`,"jti":"%d"`, jti)))
	}
	const goroutines, perG = 200, 30
	// Fresh tokens (cache misses) and a few shared ones (cache hits).
	var valid []loadToken
	for i := 0; i < goroutines; i++ {
		valid = append(valid, loadToken{Name: "static", Token: sign("hs", testSecret, i), Status: 200}, loadToken{Name: "r1", Token: sign("r1", testSecret, i), Status: 200})
	}
	invalid := append(testkit.InvalidTokens(t, "hs"), testkit.InvalidTokens(t, "r1")...)
	r0 := sign("r0", secretOld, 0)
	r2 := sign("r2", secretNew, 0)

	// r0 is removed and r2 added at the rotation.
	pick := func(g, i int, rotated bool) (loadToken, bool) {
		switch {
		case i%4 < 2:
			return valid[(g*perG+i)%len(valid)], false
		case i%4 == 2:
			return invalid[(g+i)%len(invalid)], false
		case rotated:
			return []loadToken{{Name: "r0 after removal", Token: r0, Status: 401}, {Name: "r2 after rotation", Token: r2, Status: 200}}[i%2], true
		}
		return []loadToken{{Name: "r0 before removal", Token: r0, Status: 200}, {Name: "r2 before rotation", Token: r2, Status: 401}}[i%2], true
	}
	testkit.RunLoad(t, goroutines, perG, func(tok string) int { code, _ := quickStatus(m, tok); return code }, pick, 5*time.Millisecond, func() {
		sw.swap(t, Key{ID: "r1", Algorithm: "HS256", Secret: testSecret}, Key{ID: "r2", Algorithm: "HS256", Secret: secretNew})
	})
}
