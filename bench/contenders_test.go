package bench

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	jwtmiddlewarev3 "github.com/auth0/go-jwt-middleware/v3"
	validatorv3 "github.com/auth0/go-jwt-middleware/v3/validator"
	"github.com/go-chi/jwtauth/v5"
	"github.com/golang-jwt/jwt/v5"
	jwxjwa "github.com/lestrrat-go/jwx/v2/jwa"
	jwxjwt "github.com/lestrrat-go/jwx/v2/jwt"
	jwxv3jwa "github.com/lestrrat-go/jwx/v3/jwa"
	jwxv3jwt "github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
)

// Every contender sees the same token (same key, same claims, same query
// claim) on the same request. auth0's validator reads the real clock and has
// no option to replace it, so the tokens are minted at the real time of the
// run with a lifetime of an hour; every other contender is given that same
// instant as a fixed clock.

var benchNow = time.Now().Truncate(time.Second)

func benchClock() time.Time { return benchNow }

const (
	benchAud    = "/v2/accounts/me/search"
	benchIssuer = "https://issuer.example/"
	benchTarget = "/v2/accounts/me/search?experienceKey=MySearchExperience"
)

var benchSecret = []byte("bench-secret-bench-secret-bench!")

// fixture is one algorithm's keys and tokens.
type fixture struct {
	alg    string
	sign   mint.Key
	verify scopedtoken.Key
	pub    any // what the other libraries verify with
	good   string
	bad    string // the good token with one signature character changed
}

var rsaKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

func fixtures(tb testing.TB) []fixture {
	tb.Helper()
	fs := []fixture{
		{
			alg:    "HS256",
			sign:   mint.Key{ID: "k-HS256", Algorithm: "HS256", Secret: benchSecret},
			verify: scopedtoken.Key{ID: "k-HS256", Algorithm: "HS256", Secret: benchSecret},
			pub:    benchSecret,
		},
		{
			alg:    "RS256",
			sign:   mint.Key{ID: "k-RS256", Algorithm: "RS256", PrivateKey: rsaKey},
			verify: scopedtoken.Key{ID: "k-RS256", Algorithm: "RS256", PublicKey: &rsaKey.PublicKey},
			pub:    &rsaKey.PublicKey,
		},
	}
	for i := range fs {
		f := &fs[i]
		mt, err := mint.New(mint.Config{Key: f.sign, Now: benchClock, Lifetime: time.Hour})
		if err != nil {
			tb.Fatal(err)
		}
		f.good, err = mt.Mint(mint.Claims{
			Audience: []string{benchAud},
			Issuer:   benchIssuer,
			Query:    url.Values{"experienceKey": {"MySearchExperience"}},
		})
		if err != nil {
			tb.Fatal(err)
		}
		i := len(f.good) - 10
		c := byte('A')
		if f.good[i] == 'A' {
			c = 'B'
		}
		f.bad = f.good[:i] + string(c) + f.good[i+1:]
	}
	return fs
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })

// ours is this package's middleware in front of next; cacheSize as in
// Config.CacheSize.
func ours(tb testing.TB, f fixture, cacheSize int, next http.Handler) http.Handler {
	tb.Helper()
	set, err := scopedtoken.StaticKeys(f.verify)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := scopedtoken.New(scopedtoken.Config{Keys: set, Now: benchClock, CacheSize: cacheSize, AllowMeWithoutBusiness: true})
	if err != nil {
		tb.Fatal(err)
	}
	return m.Handler(next)
}

// floorClaims is the struct golang-jwt decodes into: the registered claims
// and the query claim.
type floorClaims struct {
	jwt.RegisteredClaims
	Query map[string]any `json:"query"`
}

// floor is bare golang-jwt: ParseWithClaims into a struct, the least any
// verifying middleware must do. The algorithm is pinned, as it must be.
func floor(f fixture) func(token string) error {
	parser := jwt.NewParser(jwt.WithValidMethods([]string{f.alg}), jwt.WithTimeFunc(benchClock))
	keyFunc := func(*jwt.Token) (any, error) { return f.pub, nil }
	return func(token string) error {
		var c floorClaims
		_, err := parser.ParseWithClaims(token, &c, keyFunc)
		return err
	}
}

// auth0Claims carries the query claim through auth0's validator.
type auth0Claims struct {
	Query map[string]any `json:"query"`
}

func (c *auth0Claims) Validate(context.Context) error {
	if len(c.Query) == 0 {
		return errors.New("no query claim")
	}
	return nil
}

// auth0 is github.com/auth0/go-jwt-middleware/v2 with its validator, which
// requires an issuer and an audience.
func auth0(tb testing.TB, f fixture) http.Handler {
	tb.Helper()
	v, err := validator.New(
		func(context.Context) (any, error) { return f.pub, nil },
		validator.SignatureAlgorithm(f.alg),
		benchIssuer,
		[]string{benchAud},
		validator.WithCustomClaims(func() validator.CustomClaims { return &auth0Claims{} }),
	)
	if err != nil {
		tb.Fatal(err)
	}
	return jwtmiddleware.New(v.ValidateToken).CheckJWT(okHandler)
}

// auth0V3 is github.com/auth0/go-jwt-middleware/v3 (built on jwx v3) with
// the same checks as auth0: issuer, audience, the query claim.
func auth0V3(tb testing.TB, f fixture) http.Handler {
	tb.Helper()
	v, err := validatorv3.New(
		validatorv3.WithKeyFunc(func(context.Context) (any, error) { return f.pub, nil }),
		validatorv3.WithAlgorithm(validatorv3.SignatureAlgorithm(f.alg)),
		validatorv3.WithIssuer(benchIssuer),
		validatorv3.WithAudience(benchAud),
		validatorv3.WithCustomClaims(func() *auth0Claims { return &auth0Claims{} }),
	)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := jwtmiddlewarev3.New(jwtmiddlewarev3.WithValidator(v))
	if err != nil {
		tb.Fatal(err)
	}
	return m.CheckJWT(okHandler)
}

// jwxV2 is github.com/lestrrat-go/jwx/v2 used directly, as jwtauth uses it
// (the bearer token, the pinned algorithm and key, exp/nbf/iat on the fixed
// clock, the audience) without jwtauth's own layer; jwxV3 is the same with
// jwx v3, so that the two majors compare like for like.
func jwxV2(tb testing.TB, f fixture) http.Handler {
	tb.Helper()
	var alg jwxjwa.SignatureAlgorithm
	if err := alg.Accept(f.alg); err != nil {
		tb.Fatalf("jwx v2 has no %s: %v", f.alg, err)
	}
	opts := []jwxjwt.ParseOption{jwxjwt.WithHeaderKey("Authorization"), jwxjwt.WithKey(alg, f.pub), jwxjwt.WithValidate(true),
		jwxjwt.WithClock(jwxjwt.ClockFunc(benchClock)), jwxjwt.WithAudience(benchAud)}
	return jwxMiddleware(func(r *http.Request) (any, error) { return jwxjwt.ParseRequest(r, opts...) })
}

func jwxV3(tb testing.TB, f fixture) http.Handler {
	tb.Helper()
	alg, ok := jwxv3jwa.LookupSignatureAlgorithm(f.alg)
	if !ok {
		tb.Fatalf("jwx v3 has no %s", f.alg)
	}
	opts := []jwxv3jwt.ParseOption{jwxv3jwt.WithHeaderKey("Authorization"), jwxv3jwt.WithKey(alg, f.pub), jwxv3jwt.WithValidate(true),
		jwxv3jwt.WithClock(jwxv3jwt.ClockFunc(benchClock)), jwxv3jwt.WithAudience(benchAud)}
	return jwxMiddleware(func(r *http.Request) (any, error) { return jwxv3jwt.ParseRequest(r, opts...) })
}

// jwxToken is the context key under which jwxMiddleware passes the token on.
type jwxToken struct{}

// jwxMiddleware is the least middleware around a jwx parse: 401 on an
// error, else the token in the request's context for the next handler.
func jwxMiddleware(parse func(*http.Request) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := parse(r)
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		okHandler.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), jwxToken{}, tok)))
	})
}

// chiJWTAuth is github.com/go-chi/jwtauth/v5: Verifier then Authenticator.
func chiJWTAuth(f fixture) http.Handler {
	ja := jwtauth.New(f.alg, nil, f.pub,
		jwxjwt.WithClock(jwxjwt.ClockFunc(benchClock)),
		jwxjwt.WithAudience(benchAud))
	return jwtauth.Verifier(ja)(jwtauth.Authenticator(ja)(okHandler))
}

// contenders are the middlewares measured through HTTP.
func contenders(tb testing.TB, f fixture) []struct {
	name string
	h    http.Handler
} {
	return []struct {
		name string
		h    http.Handler
	}{
		{"scopedtoken_cached", ours(tb, f, 0, okHandler)},
		{"scopedtoken_uncached", ours(tb, f, -1, okHandler)},
		{"auth0", auth0(tb, f)},
		{"auth0_v3", auth0V3(tb, f)},
		{"jwtauth", chiJWTAuth(f)},
		{"jwx_v2", jwxV2(tb, f)},
		{"jwx_v3", jwxV3(tb, f)},
	}
}

func request(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, benchTarget, nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}
