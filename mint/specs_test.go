package mint_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
)

var specNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func specClock() time.Time { return specNow }

// specHexSecret looks like 16 hex-encoded bytes but is a 32-byte secret.
const specHexSecret = "00112233445566778899aabbccddeeff"

func specPEM(t *testing.T, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

var (
	specRSAOnce sync.Once
	specRSA     *rsa.PrivateKey
)

func specRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	specRSAOnce.Do(func() {
		var err error
		specRSA, err = rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
	})
	return specRSA
}

func specEnv(vars map[string]string) mint.EnvKeySource {
	return mint.EnvKeySource{Lookup: func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}}
}

func specLoad(t *testing.T, file string, keys mint.KeySource) (*mint.Specs, error) {
	t.Helper()
	return mint.LoadSpecs(strings.NewReader(file), mint.SpecsConfig{Keys: keys, Now: specClock})
}

func TestSpecMintForPage(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ec-1.pem"), []byte(specPEM(t, ec)), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hs-1.secret"), []byte(specHexSecret+"\n"), 0o600))
	file := `[
	  {"name": "everywhere", "keyId": "hs-1", "claims": {"aud": "/v2/accounts/me/search", "query": {"experienceKey": "X", "n": 5, "b": true, "many": ["a", 2]}}},
	  {"name": "search", "keyId": "ec-1", "claims": {"aud": ["/v2/accounts/me/search", "/v2/accounts/me/answers/x"], "expiresIn": 60000}, "scope": "^/search(/|$)"},
	  {"name": "empty-scope", "keyId": "hs-1", "claims": {"aud": "/v2/accounts/me/other"}, "scope": ""}
	]`
	specs, err := specLoad(t, file, mint.DirKeySource(dir))
	require.NoError(t, err)

	set, err := scopedtoken.StaticKeys(
		scopedtoken.Key{ID: "hs-1", Algorithm: "HS256", Secret: []byte(specHexSecret)},
		scopedtoken.Key{ID: "ec-1", Algorithm: "ES256", PublicKey: ec.Public()},
	)
	require.NoError(t, err)
	mw, err := scopedtoken.New(scopedtoken.Config{AllowMeWithoutBusiness: true, Keys: set, Now: specClock})
	require.NoError(t, err)

	tests := []struct {
		name string
		page string
		want []string
	}{
		{name: "scope matches", page: "/search/results", want: []string{"everywhere", "search", "empty-scope"}},
		{name: "scope matches exactly", page: "/search", want: []string{"everywhere", "search", "empty-scope"}},
		{name: "scope does not match", page: "/searchx", want: []string{"everywhere", "empty-scope"}},
		{name: "other page", page: "/about", want: []string{"everywhere", "empty-scope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens, err := specs.MintForPage(tt.page)
			require.NoError(t, err)
			names := make([]string, 0, len(tokens))
			for name := range tokens {
				names = append(names, name)
			}
			assert.ElementsMatch(t, tt.want, names)
		})
	}

	tokens, err := specs.MintForPage("/search")
	require.NoError(t, err)
	tok, err := mw.Verify(context.Background(), tokens["everywhere"], "/v2/accounts/me/search")
	require.NoError(t, err)
	assert.Equal(t, "HS256", tok.Algorithm())
	assert.Equal(t, url.Values{"experienceKey": {"X"}, "n": {"5"}, "b": {"true"}, "many": {"a", "2"}}, tok.Query().URLValues())
	assert.True(t, specNow.Add(mint.DefaultLifetime).Equal(tok.ExpiresAt()))

	tok, err = mw.Verify(context.Background(), tokens["search"], "/v2/accounts/me/answers/x/y")
	require.NoError(t, err)
	assert.Equal(t, "ES256", tok.Algorithm())
	assert.Equal(t, "ec-1", tok.KeyID())
	assert.True(t, specNow.Add(time.Minute).Equal(tok.ExpiresAt()), "expiresIn is in milliseconds")
}

func TestSpecSecretIsRawBytes(t *testing.T) {
	specs, err := specLoad(t, `[{"name":"a","keyId":"k","claims":{"aud":"/v2/accounts/me/search"}}]`,
		specEnv(map[string]string{"SCOPEDTOKEN_SECRET_k": specHexSecret}))
	require.NoError(t, err)
	tokens, err := specs.MintForPage("/")
	require.NoError(t, err)
	parts := strings.Split(tokens["a"], ".")
	require.Len(t, parts, 3)
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)

	raw := hmac.New(sha256.New, []byte(specHexSecret))
	raw.Write([]byte(parts[0] + "." + parts[1]))
	assert.Equal(t, raw.Sum(nil), sig, "the secret is the 32 bytes of the string")

	decoded, err := hex.DecodeString(specHexSecret)
	require.NoError(t, err)
	other := hmac.New(sha256.New, decoded)
	other.Write([]byte(parts[0] + "." + parts[1]))
	assert.NotEqual(t, other.Sum(nil), sig, "never the 16 hex-decoded bytes")
}

func TestSpecAlgorithmChoice(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	rsaKey := specRSAKey(t)
	long := strings.Repeat("s", 64)
	tests := []struct {
		name    string
		specAlg string
		env     map[string]string
		pub     crypto.PublicKey
		secret  string
		want    string
	}{
		{name: "RSA", env: map[string]string{"SCOPEDTOKEN_KEY_k": specPEM(t, rsaKey)}, pub: rsaKey.Public(), want: "RS256"},
		{name: "RSA with alg PS256", specAlg: "PS256", env: map[string]string{"SCOPEDTOKEN_KEY_k": specPEM(t, rsaKey)}, pub: rsaKey.Public(), want: "PS256"},
		{name: "P-384", env: map[string]string{"SCOPEDTOKEN_KEY_k": specPEM(t, p384)}, pub: p384.Public(), want: "ES384"},
		{name: "Ed25519", env: map[string]string{"SCOPEDTOKEN_KEY_k": specPEM(t, ed)}, pub: ed.Public(), want: "EdDSA"},
		{name: "secret", env: map[string]string{"SCOPEDTOKEN_SECRET_k": long}, secret: long, want: "HS256"},
		{name: "secret with alg HS512", specAlg: "HS512", env: map[string]string{"SCOPEDTOKEN_SECRET_k": long}, secret: long, want: "HS512"},
		{name: "PEM with literal \\n from an env file", env: map[string]string{"SCOPEDTOKEN_KEY_k": strings.ReplaceAll(specPEM(t, ed), "\n", `\n`)}, pub: ed.Public(), want: "EdDSA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alg := ""
			if tt.specAlg != "" {
				alg = `"alg":"` + tt.specAlg + `",`
			}
			specs, err := specLoad(t, `[{"name":"a","keyId":"k",`+alg+`"claims":{"aud":"/v2/accounts/me/search"}}]`, specEnv(tt.env))
			require.NoError(t, err)
			tokens, err := specs.MintForPage("/")
			require.NoError(t, err)
			key := scopedtoken.Key{ID: "k", Algorithm: tt.want, PublicKey: tt.pub}
			if tt.secret != "" {
				key.PublicKey, key.Secret = nil, []byte(tt.secret)
			}
			set, err := scopedtoken.StaticKeys(key)
			require.NoError(t, err)
			mw, err := scopedtoken.New(scopedtoken.Config{AllowMeWithoutBusiness: true, Keys: set, Now: specClock})
			require.NoError(t, err)
			tok, err := mw.Verify(context.Background(), tokens["a"], "/v2/accounts/me/search")
			require.NoError(t, err)
			assert.Equal(t, tt.want, tok.Algorithm())
		})
	}
}

func TestSpecRefusals(t *testing.T) {
	rsaPEM := specPEM(t, specRSAKey(t))
	secret := "a-secret-that-is-long-enough-for-hs256"
	env := specEnv(map[string]string{
		"SCOPEDTOKEN_SECRET_k":   secret,
		"SCOPEDTOKEN_SECRET_a_b": secret,
		"SCOPEDTOKEN_KEY_rsa":    rsaPEM,
		"SCOPEDTOKEN_SECRET_s16": "only-16-bytes!!!",
	})
	const aud = `"claims":{"aud":"/v2/accounts/me/search"}`
	tests := []struct {
		name string
		file string
		want []string // substrings of the error
	}{
		{name: "not an array", file: `{"name":"a"}`, want: []string{"JSON array"}},
		{name: "not JSON", file: `[{"name":"a",}]`, want: []string{"JSON array"}},
		{name: "spec not an object", file: `["a"]`, want: []string{"#1", "JSON object"}},
		{name: "unknown member", file: `[{"name":"a","keyId":"k",` + aud + `,"scopes":"x"}]`, want: []string{`"scopes"`}},
		{name: "member in another case", file: `[{"Name":"a","name":"b","keyId":"k",` + aud + `}]`, want: []string{`unknown member "Name"`}},
		{name: "unknown claims member", file: `[{"name":"a","keyId":"k","claims":{"aud":"/v2/accounts/me/search","exp":1}}]`, want: []string{`"a"`, `claims: unknown member "exp"`}},
		{name: "repeated member", file: `[{"name":"a","name":"b","keyId":"k",` + aud + `}]`, want: []string{"repeats a JSON member name"}},
		{name: "repeated member in claims", file: `[{"name":"a","keyId":"k","claims":{"aud":"/v2/accounts/me/x","aud":"/v2/accounts/me/search"}}]`, want: []string{"repeats a JSON member name"}},
		{name: "missing name", file: `[{"keyId":"k",` + aud + `}]`, want: []string{"#1", `"name" is required`}},
		{name: "empty name", file: `[{"name":"","keyId":"k",` + aud + `}]`, want: []string{`"name" is required`}},
		{name: "name not a string", file: `[{"name":1,"keyId":"k",` + aud + `}]`, want: []string{`"name" must be a string`}},
		{name: "missing keyId", file: `[{"name":"a",` + aud + `}]`, want: []string{`"a"`, `"keyId" is required`}},
		{name: "missing claims", file: `[{"name":"a","keyId":"k"}]`, want: []string{`"claims" is required`}},
		{name: "missing aud", file: `[{"name":"a","keyId":"k","claims":{}}]`, want: []string{`"claims.aud" is required`}},
		{name: "empty aud array", file: `[{"name":"a","keyId":"k","claims":{"aud":[]}}]`, want: []string{"empty array"}},
		{name: "aud of the wrong type", file: `[{"name":"a","keyId":"k","claims":{"aud":5}}]`, want: []string{"string or an array"}},
		{name: "aud off the grammar", file: `[{"name":"a","keyId":"k","claims":{"aud":"/v2/accounts/me"}}]`, want: []string{"needs a business and an endpoint"}},
		{name: "aud with percent-encoding", file: `[{"name":"a","keyId":"k","claims":{"aud":["/v2/accounts/me/search","/v2/accounts/me/a%2Fb"]}}]`, want: []string{`'%'`}},
		{name: "duplicate names", file: `[{"name":"a","keyId":"k",` + aud + `},{"name":"a","keyId":"k",` + aud + `}]`, want: []string{`two specs are named "a"`}},
		{name: "bad scope regex", file: `[{"name":"a","keyId":"k",` + aud + `,"scope":"^/search("}]`, want: []string{`"a"`, `scope "^/search("`, "regular expression"}},
		{name: "unknown alg", file: `[{"name":"a","keyId":"k","alg":"none",` + aud + `}]`, want: []string{`"alg" "none"`}},
		{name: "expiresIn in seconds by mistake", file: `[{"name":"a","keyId":"k","claims":{"aud":"/v2/accounts/me/search","expiresIn":300}}]`, want: []string{"milliseconds", "300000"}},
		{name: "expiresIn as a string", file: `[{"name":"a","keyId":"k","claims":{"aud":"/v2/accounts/me/search","expiresIn":"5m"}}]`, want: []string{"number of milliseconds"}},
		{name: "query nested", file: `[{"name":"a","keyId":"k","claims":{"aud":"/v2/accounts/me/search","query":{"a":{"b":1}}}}]`, want: []string{`parameter "a"`}},
		{name: "query null", file: `[{"name":"a","keyId":"k","claims":{"aud":"/v2/accounts/me/search","query":{"a":null}}}]`, want: []string{`parameter "a"`}},
		{name: "query empty array", file: `[{"name":"a","keyId":"k","claims":{"aud":"/v2/accounts/me/search","query":{"a":[]}}}]`, want: []string{"empty array"}},
		{name: "query not an object", file: `[{"name":"a","keyId":"k","claims":{"aud":"/v2/accounts/me/search","query":"a=b"}}]`, want: []string{"JSON object"}},
		{name: "key not found", file: `[{"name":"a","keyId":"missing",` + aud + `}]`, want: []string{`"a"`, "SCOPEDTOKEN_SECRET_missing", "SCOPEDTOKEN_KEY_missing"}},
		{name: "secret for RS256", file: `[{"name":"a","keyId":"k","alg":"RS256",` + aud + `}]`, want: []string{`"a"`, "RS256 needs a private key, but a secret was given"}},
		{name: "RSA key for ES256", file: `[{"name":"a","keyId":"rsa","alg":"ES256",` + aud + `}]`, want: []string{"ES256 needs an ECDSA"}},
		{name: "secret too short", file: `[{"name":"a","keyId":"s16",` + aud + `}]`, want: []string{"16 bytes"}},
		{name: "key IDs sharing a variable", file: `[{"name":"a","keyId":"a-b",` + aud + `},{"name":"b","keyId":"a_b",` + aud + `}]`, want: []string{`"a-b" and "a_b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			specs, err := specLoad(t, tt.file, env)
			require.Error(t, err)
			assert.Nil(t, specs)
			assert.ErrorIs(t, err, mint.ErrSpec)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, err.Error(), "PRIVATE KEY-----\n")
		})
	}
}

func TestSpecKeyErrorsWrapSentinels(t *testing.T) {
	_, err := specLoad(t, `[{"name":"a","keyId":"missing","claims":{"aud":"/v2/accounts/me/search"}}]`, specEnv(nil))
	assert.ErrorIs(t, err, mint.ErrSpec)
	assert.ErrorIs(t, err, mint.ErrKeyNotFound)

	_, err = specLoad(t, `[{"name":"a","keyId":"k","alg":"RS256","claims":{"aud":"/v2/accounts/me/search"}}]`,
		specEnv(map[string]string{"SCOPEDTOKEN_SECRET_k": specHexSecret}))
	assert.ErrorIs(t, err, mint.ErrSpec)
	assert.ErrorIs(t, err, mint.ErrMint)

	_, err = specLoad(t, `[{"name":"a","keyId":"k","claims":{"aud":"/v2/accounts/me/search"}}]`,
		specEnv(map[string]string{"SCOPEDTOKEN_KEY_k": "-----BEGIN PRIVATE KEY-----\nAAAA"}))
	assert.ErrorIs(t, err, mint.ErrPEM)
}

func TestSpecLoadConfig(t *testing.T) {
	_, err := mint.LoadSpecs(strings.NewReader(`[]`), mint.SpecsConfig{})
	assert.ErrorContains(t, err, "Keys is required")

	_, err = mint.LoadSpecs(strings.NewReader(`[]`), mint.SpecsConfig{Keys: specEnv(nil), Prefix: "v2"})
	assert.ErrorContains(t, err, "Prefix")

	specs, err := mint.LoadSpecs(strings.NewReader(`[{"name":"a","keyId":"k","claims":{"aud":"/api/b1/search"}}]`),
		mint.SpecsConfig{Keys: specEnv(map[string]string{"SCOPEDTOKEN_SECRET_k": specHexSecret}), Prefix: "/api/"})
	require.NoError(t, err, "aud is checked against the configured prefix")
	require.Len(t, specs.Specs(), 1)

	_, err = mint.LoadSpecs(strings.NewReader(strings.Repeat(" ", 4<<20+1)), mint.SpecsConfig{Keys: specEnv(nil)})
	assert.ErrorContains(t, err, "larger than")

	specs, err = specLoad(t, `[]`, specEnv(nil))
	require.NoError(t, err)
	tokens, err := specs.MintForPage("/")
	require.NoError(t, err)
	assert.NotNil(t, tokens)
	assert.Empty(t, tokens)
}

func TestSpecSpecsAccessor(t *testing.T) {
	specs, err := specLoad(t, `[{"name":"a","keyId":"k","alg":"HS256","claims":{"aud":["/v2/accounts/me/search"],"expiresIn":1500,"query":{"q":"1"}},"scope":"^/x"}]`,
		specEnv(map[string]string{"SCOPEDTOKEN_SECRET_k": specHexSecret}))
	require.NoError(t, err)
	got := specs.Specs()
	require.Len(t, got, 1)
	assert.Equal(t, mint.Spec{
		Name: "a", KeyID: "k", Algorithm: "HS256", Audience: []string{"/v2/accounts/me/search"},
		ExpiresIn: 1500 * time.Millisecond, Query: url.Values{"q": {"1"}}, Scope: "^/x",
	}, got[0])
	got[0].Audience[0] = "changed"
	got[0].Query["q"][0] = "changed"
	again := specs.Specs()
	assert.Equal(t, "/v2/accounts/me/search", again[0].Audience[0])
	assert.Equal(t, "1", again[0].Query["q"][0])
}

func TestSpecVerifyStep(t *testing.T) {
	set, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k", Algorithm: "HS256", Secret: []byte(specHexSecret), BusinessID: "b1"})
	require.NoError(t, err)
	mw, err := scopedtoken.New(scopedtoken.Config{AllowMeWithoutBusiness: true, Keys: set, Now: specClock, MaxLifetime: 10 * time.Minute})
	require.NoError(t, err)
	load := func(expiresIn string) *mint.Specs {
		specs, err := mint.LoadSpecs(strings.NewReader(`[{"name":"a","keyId":"k","claims":{"aud":"/v2/accounts/me/search","expiresIn":`+expiresIn+`}}]`),
			mint.SpecsConfig{Keys: specEnv(map[string]string{"SCOPEDTOKEN_SECRET_k": specHexSecret}), Now: specClock, Verify: mw})
		require.NoError(t, err)
		return specs
	}
	tokens, err := load("60000").MintForPage("/")
	require.NoError(t, err)
	assert.Len(t, tokens, 1)

	_, err = load("3600000").MintForPage("/")
	require.Error(t, err)
	assert.ErrorIs(t, err, scopedtoken.ErrLifetimeTooLong)
	assert.Contains(t, err.Error(), `token spec "a"`)
}

func TestSpecDirKeySource(t *testing.T) {
	dir := t.TempDir()
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	write := func(name, content string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	write("ed.pem", specPEM(t, ed))
	write("crlf.secret", "secret\r\n")
	write("two-newlines.secret", "secret\n\n")
	write("spaces.secret", " secret ")
	write("empty.secret", "\n")
	write("both.pem", specPEM(t, ed))
	write("both.secret", "secret")
	write("broken.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n")
	src := mint.DirKeySource(dir)

	tests := []struct {
		kid     string
		secret  string
		private bool
		err     string
	}{
		{kid: "ed", private: true},
		{kid: "crlf", secret: "secret"},
		{kid: "two-newlines", secret: "secret\n"},
		{kid: "spaces", secret: " secret "},
		{kid: "empty", err: "is empty"},
		{kid: "both", err: "keep only one"},
		{kid: "broken", err: "broken.pem"},
		{kid: "missing", err: "not found"},
		{kid: "../ed", err: "cannot name a key file"},
		{kid: ".hidden", err: "cannot name a key file"},
		{kid: "a/b", err: "cannot name a key file"},
	}
	for _, tt := range tests {
		t.Run(tt.kid, func(t *testing.T) {
			key, err := src.SigningKey(tt.kid)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.kid, key.ID)
			assert.Equal(t, tt.secret, string(key.Secret))
			assert.Equal(t, tt.private, key.PrivateKey != nil)
		})
	}
	_, err = src.SigningKey("missing")
	assert.ErrorIs(t, err, mint.ErrKeyNotFound)
}

func TestSpecEnvKeySource(t *testing.T) {
	assert.Equal(t, "y0M8_ZSA_v1", mint.EnvKeyName("y0M8-ZSA.v1"))
	assert.Equal(t, "A_b_", mint.EnvKeyName("A_b/"))

	src := specEnv(map[string]string{
		"SCOPEDTOKEN_SECRET_y0M8_ZSA_v1": " exact bytes\n",
		"SCOPEDTOKEN_SECRET_both":        "x",
		"SCOPEDTOKEN_KEY_both":           "x",
		"SCOPEDTOKEN_SECRET_empty":       "",
	})
	key, err := src.SigningKey("y0M8-ZSA.v1")
	require.NoError(t, err)
	assert.Equal(t, " exact bytes\n", string(key.Secret), "environment values are used exactly")

	_, err = src.SigningKey("both")
	assert.ErrorContains(t, err, "keep only one")
	_, err = src.SigningKey("empty")
	assert.ErrorContains(t, err, "is empty")
	_, err = src.SigningKey("nope")
	assert.ErrorIs(t, err, mint.ErrKeyNotFound)

	t.Setenv("SCOPEDTOKEN_SECRET_from_os", specHexSecret)
	key, err = mint.EnvKeySource{}.SigningKey("from-os")
	require.NoError(t, err)
	assert.Equal(t, specHexSecret, string(key.Secret))
}

func TestSpecCheckAudience(t *testing.T) {
	tests := []struct {
		aud  string
		want string // "" means valid
	}{
		{aud: "/v2/accounts/me/search"},
		{aud: "/v2/accounts/b1/search/x/"},
		{aud: "/v2/accounts/me/a:b@c"},
		{aud: "/v1/accounts/me/search", want: "does not start with"},
		{aud: "/v2/accounts/me", want: "needs a business and an endpoint"},
		{aud: "/v2/accounts/me/", want: "needs a business and an endpoint"},
		{aud: "/v2/accounts/me//x", want: "empty segment"},
		{aud: "/v2/accounts/me/../x", want: "dot segment"},
		{aud: "/v2/accounts/me/a b", want: "' '"},
		{aud: "/v2/accounts/me/a%20b", want: "'%'"},
	}
	for _, tt := range tests {
		t.Run(tt.aud, func(t *testing.T) {
			err := mint.CheckAudience("", tt.aud)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
