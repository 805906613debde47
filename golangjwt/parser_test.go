package golangjwt_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"

	"github.com/scopedtoken/scopedtoken/golangjwt"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
	"github.com/scopedtoken/scopedtoken/mint"
)

// TestParserOptions: each option that ParserOptions sets changes what
// golang-jwt accepts, as the middleware's defaults would, and options given
// after them win.
func TestParserOptions(t *testing.T) {
	ks := keySet(t)
	es := fixtureOf(t, "es")
	now := testkit.Now
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	claims := func(extra string) string { return `{"aud":"` + testkit.Path + `"` + extra + `}` }
	sign := func(claims string) string {
		return testkit.SignRaw(t, "ES256", es.signer, `{"alg":"ES256","kid":"es"}`, claims)
	}
	valid := es.mint(t, mint.Claims{})
	// The last base64url character of an ES256 signature carries 4 bits
	// that decode to nothing (zero in the canonical spelling): setting one
	// gives the same signature in another spelling, which strict decoding
	// refuses.
	stray := valid[:len(valid)-1] + string(b64Alphabet[indexB64(valid[len(valid)-1])|1])

	tests := []struct {
		name  string
		token string
		extra []jwt.ParserOption
		want  error // with ParserOptions
		plain error // with golang-jwt's defaults (and the clock)
	}{
		{name: "expired long ago", token: sign(claims(`,"exp":` + itoa(at(-time.Hour)))), want: jwt.ErrTokenExpired, plain: jwt.ErrTokenExpired},
		{name: "expired within the leeway", token: sign(claims(`,"exp":` + itoa(at(-10*time.Second)))), plain: jwt.ErrTokenExpired},
		{name: "a later WithLeeway wins", token: sign(claims(`,"exp":` + itoa(at(-10*time.Second)))), extra: []jwt.ParserOption{jwt.WithLeeway(0)}, want: jwt.ErrTokenExpired, plain: jwt.ErrTokenExpired},
		{name: "not valid yet", token: sign(claims(`,"exp":` + itoa(at(time.Hour)) + `,"nbf":` + itoa(at(time.Minute)))), want: jwt.ErrTokenNotValidYet, plain: jwt.ErrTokenNotValidYet},
		{name: "issued in the future", token: sign(claims(`,"exp":` + itoa(at(time.Hour)) + `,"iat":` + itoa(at(time.Minute)))), want: jwt.ErrTokenUsedBeforeIssued},
		{name: "issued within the leeway", token: sign(claims(`,"exp":` + itoa(at(time.Hour)) + `,"iat":` + itoa(at(10*time.Second))))},
		{name: "stray bits in the signature", token: stray, want: jwt.ErrTokenMalformed},
		{name: "valid", token: valid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(ks, tc.token, tc.extra...)
			assertErrorIs(t, tc.want, err, "with ParserOptions")
			opts := append([]jwt.ParserOption{jwt.WithTimeFunc(clock)}, tc.extra...)
			_, err = jwt.NewParser(opts...).Parse(tc.token, golangjwt.Keyfunc(t.Context(), ks))
			assertErrorIs(t, tc.plain, err, "with golang-jwt's defaults")
		})
	}
}

// assertErrorIs checks that err is want, or nil when want is.
func assertErrorIs(t *testing.T, want, err error, what string) {
	t.Helper()
	if want == nil {
		assert.NoError(t, err, what)
		return
	}
	assert.ErrorIs(t, err, want, what)
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func indexB64(c byte) int {
	for i := range len(b64Alphabet) {
		if b64Alphabet[i] == c {
			return i
		}
	}
	return -1
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
