package scopedtoken

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
type loadToken struct {
	name   string
	token  string
	status int
}

// loadTally counts wrong decisions by the kind of token.
type loadTally struct {
	requests, validRefused, invalidAccepted, wrongStatus atomic.Int64
	mu                                                   sync.Mutex
	examples                                             []string
}

func (c *loadTally) record(tok loadToken, code int) {
	c.requests.Add(1)
	switch {
	case code == tok.status:
		return
	case tok.status == http.StatusOK:
		c.validRefused.Add(1)
	case code == http.StatusOK:
		c.invalidAccepted.Add(1)
	default:
		c.wrongStatus.Add(1)
	}
	c.mu.Lock()
	if len(c.examples) < 5 {
		c.examples = append(c.examples, fmt.Sprintf("%s: got %d, want %d", tok.name, code, tok.status))
	}
	c.mu.Unlock()
}

func (c *loadTally) check(t *testing.T) {
	t.Helper()
	t.Logf("%d requests", c.requests.Load())
	assert.Zero(t, c.validRefused.Load(), "valid tokens refused: %v", c.examples)
	assert.Zero(t, c.invalidAccepted.Load(), "invalid tokens accepted: %v", c.examples)
	assert.Zero(t, c.wrongStatus.Load(), "refusals with the wrong status: %v", c.examples)
}

// invalidLoadTokens are refusals of every kind, signed with secret under kid.
func invalidLoadTokens(t *testing.T, kid string) []loadToken {
	h := `{"alg":"HS256","kid":"` + kid + `"}`
	good := signRaw(t, "HS256", testSecret, h, claimsWith(`,"jti":"x"`))
	return []loadToken{
		{"expired", signRaw(t, "HS256", testSecret, h, fmt.Sprintf(`{"aud":%q,"exp":%d}`, attackPath, testNow.Add(-time.Hour).Unix())), 401},
		{"tampered", good[:len(good)-2] + "AA", 401},
		{"outside aud", signRaw(t, "HS256", testSecret, h, fmt.Sprintf(`{"aud":"/v2/accounts/me/other","exp":%d}`, attackExp)), 403},
		{"wrong secret", signRaw(t, "HS256", []byte("another secret of thirty-two by"), h, claimsWith("")), 401},
		{"unknown kid", signRaw(t, "HS256", testSecret, `{"alg":"HS256","kid":"nobody"}`, claimsWith("")), 401},
		{"alg none", unsigned(`{"alg":"none","kid":"`+kid+`"}`, claimsWith(""), "AAAA"), 401},
		{"junk", "a.b.c", 401},
		{"duplicate exp", signRaw(t, "HS256", testSecret, h, claimsWith(`,"exp":99999999999`)), 401},
	}
}

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
		valid = append(valid, loadToken{"static", sign("hs", testSecret, i), 200}, loadToken{"r1", sign("r1", testSecret, i), 200})
	}
	invalid := append(invalidLoadTokens(t, "hs"), invalidLoadTokens(t, "r1")...)
	r0 := sign("r0", secretOld, 0)
	r2 := sign("r2", secretNew, 0)

	// r0 is removed and r2 added at the rotation. Requests with them hold
	// rot for reading, so the phase they assume cannot change under them.
	var rot sync.RWMutex
	rotated := false
	var tally loadTally
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < perG; i++ {
				var tok loadToken
				switch i % 4 {
				case 0, 1:
					tok = valid[(g*perG+i)%len(valid)]
				case 2:
					tok = invalid[(g+i)%len(invalid)]
				case 3:
					rot.RLock()
					if rotated {
						tok = []loadToken{{"r0 after removal", r0, 401}, {"r2 after rotation", r2, 200}}[i%2]
					} else {
						tok = []loadToken{{"r0 before removal", r0, 200}, {"r2 before rotation", r2, 401}}[i%2]
					}
					code, _ := quickStatus(m, tok.token)
					rot.RUnlock()
					tally.record(tok, code)
					continue
				}
				code, _ := quickStatus(m, tok.token)
				tally.record(tok, code)
			}
		}()
	}
	close(start)
	time.Sleep(5 * time.Millisecond)
	rot.Lock()
	sw.swap(t, Key{ID: "r1", Algorithm: "HS256", Secret: testSecret}, Key{ID: "r2", Algorithm: "HS256", Secret: secretNew})
	rotated = true
	rot.Unlock()
	wg.Wait()
	tally.check(t)
}

func TestLoadRaceRemoteRotation(t *testing.T) {
	a, b, c := newECSigner(t, "a"), newECSigner(t, "b"), newECSigner(t, "c")
	srv := newFaultServer(t, hostileJWKS(t, a.jwk(t), b.jwk(t)))
	rs := newFaultRemote(t, srv.URL, func(cfg *RemoteConfig) { cfg.MinRefreshInterval = 5 * time.Millisecond })
	static, err := StaticKeys(Key{ID: "hs", Algorithm: "HS256", Secret: testSecret})
	require.NoError(t, err)
	m, err := New(Config{AllowMeWithoutBusiness: true, Keys: CombineKeys(static, rs), Now: fixedClock})
	require.NoError(t, err)

	const goroutines, perG = 100, 20
	var valid []loadToken
	for i := 0; i < 50; i++ {
		valid = append(valid, loadToken{"a", a.token(t, fmt.Sprintf(`,"jti":"%d"`, i)), 200})
	}
	invalid := append(invalidLoadTokens(t, "hs"), loadToken{"a signed by c", signRaw(t, "ES256", c.priv, `{"alg":"ES256","kid":"a"}`, claimsWith("")), 401})
	bTok, cTok := b.token(t, ""), c.token(t, "")

	var rot sync.RWMutex
	rotated := false
	var tally loadTally
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < perG; i++ {
				var tok loadToken
				switch i % 3 {
				case 0:
					tok = valid[(g+i)%len(valid)]
				case 1:
					tok = invalid[(g+i)%len(invalid)]
				case 2:
					rot.RLock()
					if rotated {
						tok = []loadToken{{"b after removal", bTok, 401}, {"c after rotation", cTok, 200}}[i%2]
					} else {
						tok = []loadToken{{"b before removal", bTok, 200}, {"c before rotation", cTok, 401}}[i%2]
					}
					code, _ := quickStatus(m, tok.token)
					rot.RUnlock()
					tally.record(tok, code)
					continue
				}
				code, _ := quickStatus(m, tok.token)
				tally.record(tok, code)
			}
		}()
	}
	close(start)
	time.Sleep(10 * time.Millisecond)
	rot.Lock()
	srv.serveJWKS(hostileJWKS(t, a.jwk(t), c.jwk(t)), http.StatusOK, 0)
	// Refresh always answers with a fetch that started after the call, so
	// one successful Refresh puts the new set in.
	require.NoError(t, rs.Refresh(context.Background()))
	_, err = rs.LookupKey(context.Background(), "c")
	require.NoError(t, err)
	rotated = true
	rot.Unlock()
	wg.Wait()
	tally.check(t)
}
