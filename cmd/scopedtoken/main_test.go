package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// testNow is the fixed clock of the tests; the CLI gets it with --now.
var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const (
	testNowFlag = "2026-01-02T03:04:05Z"
	searchPath  = "/v2/accounts/me/search"
	// testSecret is 32 bytes: hex-looking, but used as its raw bytes.
	testSecret = "00112233445566778899aabbccddeeff"
)

type result struct {
	code           int
	stdout, stderr string
}

// lastLine is the last line of stdout, where mint puts the token.
func (r result) lastLine() string {
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	return lines[len(lines)-1]
}

func cli(args ...string) result {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func writeFile(t *testing.T, dir, name, content string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), perm))
	return p
}

// publicPEM writes the issuer's asymmetric public key as PEM.
func publicPEM(t *testing.T, iss *scopedtokentest.Issuer, dir string) string {
	t.Helper()
	for _, k := range iss.Keys() {
		if k.ID == iss.KeyID() {
			der, err := x509.MarshalPKIXPublicKey(k.PublicKey)
			require.NoError(t, err)
			return writeFile(t, dir, "pub.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), 0o644)
		}
	}
	t.Fatal("no public key")
	return ""
}

func TestRunCommandsAndHelp(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "no arguments", args: nil, code: exitUsage, stderr: "Usage: scopedtoken COMMAND"},
		{name: "unknown command", args: []string{"sign"}, code: exitUsage, stderr: `unknown command "sign"`},
		{name: "help", args: []string{"help"}, code: exitOK, stdout: "inspect"},
		{name: "--help", args: []string{"--help"}, code: exitOK, stdout: "keygen"},
		{name: "help mint", args: []string{"help", "mint"}, code: exitOK, stdout: "--config tokens.json"},
		{name: "keygen --help", args: []string{"keygen", "--help"}, code: exitOK, stdout: "Usage: scopedtoken keygen"},
		{name: "mint --help", args: []string{"mint", "--help"}, code: exitOK, stdout: "-expire-in"},
		{name: "verify -h", args: []string{"verify", "-h"}, code: exitOK, stdout: "-jwks"},
		{name: "inspect --help", args: []string{"inspect", "--help"}, code: exitOK, stdout: "WITHOUT"},
		{name: "unknown flag", args: []string{"mint", "--nope"}, code: exitUsage, stderr: "--help' for usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cli(tt.args...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			assert.Contains(t, r.stdout, tt.stdout)
			assert.Contains(t, r.stderr, tt.stderr)
		})
	}
}

func TestKeygen(t *testing.T) {
	for _, alg := range []string{"HS256", "HS384", "HS512"} {
		t.Run(alg, func(t *testing.T) {
			dir, private := t.TempDir(), t.TempDir()
			r := cli("keygen", "--alg", alg, "--kid", "h1", "--out", dir, "--private-out", private)
			require.Equal(t, exitOK, r.code, r.stderr)
			path := filepath.Join(private, "h1.secret")
			assert.Equal(t, path, r.lastLine())
			info, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
			secret, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, len(secret), hmacBytes[alg], "the secret's bytes are the key, at least the hash size")
			assert.NotContains(t, r.stdout+r.stderr, string(secret))
			assert.NoFileExists(t, filepath.Join(dir, "jwks.json"), "a secret is never published")
			assert.NoFileExists(t, filepath.Join(private, "jwks.json"))
			assert.NoFileExists(t, filepath.Join(dir, "h1.secret"), "the published directory holds no secret")
		})
	}
	for _, alg := range []string{"RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"} {
		t.Run(alg, func(t *testing.T) {
			dir, private := t.TempDir(), t.TempDir()
			r := cli("keygen", "--alg", alg, "--kid", "k-"+alg, "--out", dir, "--private-out", private)
			require.Equal(t, exitOK, r.code, r.stderr)
			priv := filepath.Join(private, "k-"+alg+".pem")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			var published []string
			for _, e := range entries {
				published = append(published, e.Name())
			}
			assert.ElementsMatch(t, []string{"jwks.json", "k-" + alg + ".pub.pem"}, published, "the published directory holds only public files")
			info, err := os.Stat(priv)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
			data, err := os.ReadFile(priv)
			require.NoError(t, err)
			assert.Contains(t, string(data), "-----BEGIN PRIVATE KEY-----", "PKCS#8")
			signer, err := mint.ParsePrivateKeyPEM(data)
			require.NoError(t, err)
			assert.NotContains(t, r.stdout+r.stderr, "PRIVATE KEY")

			pubData, err := os.ReadFile(filepath.Join(dir, "k-"+alg+".pub.pem"))
			require.NoError(t, err)
			pub, err := mint.ParsePublicKeyPEM(pubData)
			require.NoError(t, err)
			assert.True(t, signer.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub))

			var set struct {
				Keys []map[string]any `json:"keys"`
			}
			jwks, err := os.ReadFile(filepath.Join(dir, "jwks.json"))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(jwks, &set))
			require.Len(t, set.Keys, 1)
			assert.Equal(t, "k-"+alg, set.Keys[0]["kid"])
			assert.Equal(t, alg, set.Keys[0]["alg"])
			assert.Equal(t, "sig", set.Keys[0]["use"])
			assert.NotContains(t, set.Keys[0], "d")
		})
	}
}

// TestKeygenKeepsPrivateKeysApart: the directory whose jwks.json is published
// never receives a private key or secret, and keygen refuses a private
// directory that is, or lies inside, the published one.
func TestKeygenKeepsPrivateKeysApart(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(dir, link))
	for _, tc := range []struct {
		name    string
		private string
	}{
		{name: "missing --private-out"},
		{name: "same directory", private: dir},
		{name: "same directory, another spelling", private: dir + "/./"},
		{name: "inside the published directory", private: filepath.Join(dir, "private")},
		{name: "inside it through a symbolic link", private: filepath.Join(link, "private")},
	} {
		for _, alg := range []string{"ES256", "HS256"} {
			t.Run(tc.name+" "+alg, func(t *testing.T) {
				args := []string{"keygen", "--alg", alg, "--kid", "k", "--out", dir}
				if tc.private != "" {
					args = append(args, "--private-out", tc.private)
				}
				r := cli(args...)
				assert.Equal(t, exitUsage, r.code, r.stderr)
				assert.Contains(t, r.stderr, "--private-out")
				entries, err := os.ReadDir(dir)
				require.NoError(t, err)
				assert.Empty(t, entries, "nothing is written")
			})
		}
	}

	t.Run("a sibling is fine, and old private files in the published directory are warned about", func(t *testing.T) {
		writeFile(t, dir, "old.pem", "x", 0o600)
		private := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+"-private")
		t.Cleanup(func() { os.RemoveAll(private) })
		r := cli("keygen", "--alg", "ES256", "--kid", "k", "--out", dir, "--private-out", private)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.FileExists(t, filepath.Join(private, "k.pem"))
		assert.NoFileExists(t, filepath.Join(dir, "k.pem"))
		assert.Contains(t, r.stderr, "old.pem")
		assert.Contains(t, r.stderr, "warning")
	})
}

func TestKeygenRotationAndRefusals(t *testing.T) {
	dir, private := t.TempDir(), t.TempDir()
	keygen := func(args ...string) result {
		return cli(append(append([]string{"keygen"}, args...), "--private-out", private)...)
	}
	require.Equal(t, exitOK, keygen("--alg", "ES256", "--kid", "k1", "--out", dir).code)
	r := keygen("--alg", "EdDSA", "--kid", "k2", "--out", dir)
	require.Equal(t, exitOK, r.code, r.stderr)
	jwks, err := os.ReadFile(filepath.Join(dir, "jwks.json"))
	require.NoError(t, err)
	assert.Contains(t, string(jwks), `"k1"`, "a second key is added to the set")
	assert.Contains(t, string(jwks), `"k2"`)

	r = keygen("--alg", "ES256", "--kid", "k1", "--out", dir)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, `already has a key with kid "k1"`)

	require.NoError(t, os.Remove(filepath.Join(dir, "jwks.json")))
	r = keygen("--alg", "ES256", "--kid", "k1", "--out", dir)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "never overwritten")

	require.Equal(t, exitOK, keygen("--alg", "HS256", "--kid", "h", "--out", dir).code)
	r = keygen("--alg", "HS256", "--kid", "h", "--out", dir)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "never overwritten")

	bad := t.TempDir()
	writeFile(t, bad, "jwks.json", "not json", 0o644)
	badPrivate := t.TempDir()
	r = cli("keygen", "--alg", "ES256", "--kid", "k1", "--out", bad, "--private-out", badPrivate)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "not a JWK Set")
	assert.NoFileExists(t, filepath.Join(badPrivate, "k1.pem"), "nothing is written when the set cannot be updated")

	for _, args := range [][]string{
		{"keygen", "--kid", "k"},
		{"keygen", "--alg", "ES256"},
		{"keygen", "--alg", "ES256", "--kid", "../k"},
		{"keygen", "--alg", "ES256", "--kid", ".k"},
		{"keygen", "--alg", "none", "--kid", "k"},
		{"keygen", "--alg", "RS256", "--kid", "k", "--bits", "1024"},
		{"keygen", "--alg", "ES256", "--kid", "k", "extra"},
	} {
		r := cli(append(args, "--out", t.TempDir(), "--private-out", t.TempDir())...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", args, r.stderr)
	}
}

func TestMint(t *testing.T) {
	dir := t.TempDir()
	secretFile := writeFile(t, dir, "s.secret", testSecret+"\n", 0o600)

	t.Run("secret file, verified with the wall clock", func(t *testing.T) {
		r := cli("mint", "--kid", "k1", "--secret-file", secretFile, "--aud", searchPath, "--aud", "/v2/accounts/me/answers", "--query", "f=1", "--query", "f=2", "--expire-in", "2m", "--verify")
		assert.NotContains(t, r.stdout+r.stderr, testSecret)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stderr, "verified")
		set, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "k1", Algorithm: "HS256", Secret: []byte(testSecret)})
		require.NoError(t, err)
		wall, err := scopedtoken.New(scopedtoken.Config{Keys: set, AllowMeWithoutBusiness: true})
		require.NoError(t, err)
		tok, err := wall.Verify(context.Background(), r.lastLine(), "/v2/accounts/me/answers/x")
		require.NoError(t, err, "the file's final newline is not part of the secret")
		assert.Equal(t, url.Values{"f": {"1", "2"}}, tok.Query().URLValues())
		assert.WithinDuration(t, time.Now().Add(2*time.Minute), tok.ExpiresAt(), 10*time.Second)
	})
	t.Run("link", func(t *testing.T) {
		r := cli("mint", "--kid", "k1", "--secret", testSecret, "--aud", searchPath, "--url", "https://example.com/page?a=1")
		require.Equal(t, exitOK, r.code, r.stderr)
		u, err := url.Parse(r.lastLine())
		require.NoError(t, err)
		assert.Equal(t, "1", u.Query().Get("a"))
		assert.Len(t, strings.Split(u.Query().Get("jwt"), "."), 3)
	})
	t.Run("long lifetime warns", func(t *testing.T) {
		r := cli("mint", "--kid", "k1", "--secret", testSecret, "--aud", searchPath, "--expire-in", "2h")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stderr, "warning")
	})

	usage := []struct {
		name string
		args []string
		want string
	}{
		{name: "no kid", args: []string{"--secret", testSecret, "--aud", searchPath}, want: "--kid is required"},
		{name: "no key", args: []string{"--kid", "k", "--aud", searchPath}, want: "exactly one of"},
		{name: "two keys", args: []string{"--kid", "k", "--secret", testSecret, "--secret-file", secretFile, "--aud", searchPath}, want: "exactly one of"},
		{name: "no aud", args: []string{"--kid", "k", "--secret", testSecret}, want: "--aud is required"},
		{name: "bad aud", args: []string{"--kid", "k", "--secret", testSecret, "--aud", "/v2/accounts/me"}, want: "needs a business and an endpoint"},
		{name: "bad query", args: []string{"--kid", "k", "--secret", testSecret, "--aud", searchPath, "--query", "novalue"}, want: "name=value"},
		{name: "bad duration", args: []string{"--kid", "k", "--secret", testSecret, "--aud", searchPath, "--expire-in", "soon"}, want: "expire-in"},
		{name: "negative duration", args: []string{"--kid", "k", "--secret", testSecret, "--aud", searchPath, "--expire-in", "-5m"}, want: "positive"},
		{name: "bad url", args: []string{"--kid", "k", "--secret", testSecret, "--aud", searchPath, "--url", "/relative"}, want: "absolute URL"},
		{name: "positional", args: []string{"--kid", "k", "--secret", testSecret, "--aud", searchPath, "extra"}, want: "unexpected argument"},
		{name: "config with kid", args: []string{"--config", "x.json", "--page", "/", "--kid", "k"}, want: "--kid cannot be used with --config"},
		{name: "config without page", args: []string{"--config", "x.json"}, want: "go together"},
	}
	for _, tt := range usage {
		t.Run("usage: "+tt.name, func(t *testing.T) {
			r := cli(append([]string{"mint"}, tt.args...)...)
			assert.Equal(t, exitUsage, r.code)
			assert.Contains(t, r.stderr, tt.want)
			assert.Empty(t, r.stdout)
			assert.NotContains(t, r.stderr, testSecret)
		})
	}

	keyDir := t.TempDir()
	require.Equal(t, exitOK, cli("keygen", "--alg", "ES256", "--kid", "ec", "--out", t.TempDir(), "--private-out", keyDir).code)
	ecKey := filepath.Join(keyDir, "ec.pem")
	refused := []struct {
		name string
		args []string
		want string
	}{
		{name: "short secret", args: []string{"--kid", "k", "--secret", "0123456789abcdef", "--aud", searchPath}, want: "16 bytes"},
		{name: "secret for RS256", args: []string{"--kid", "k", "--secret", testSecret, "--alg", "RS256", "--aud", searchPath}, want: "needs a private key, but a secret was given"},
		{name: "EC key for RS256", args: []string{"--kid", "k", "--key", ecKey, "--alg", "RS256", "--aud", searchPath}, want: "RS256 needs an RSA key"},
		{name: "unknown alg", args: []string{"--kid", "k", "--secret", testSecret, "--alg", "none", "--aud", searchPath}, want: "unsupported algorithm"},
		{name: "missing key file", args: []string{"--kid", "k", "--key", filepath.Join(dir, "nope.pem"), "--aud", searchPath}, want: "nope.pem"},
		{name: "broken PEM", args: []string{"--kid", "k", "--key", writeFile(t, dir, "broken.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n", 0o600), "--aud", searchPath}, want: "END"},
		{name: "empty secret file", args: []string{"--kid", "k", "--secret-file", writeFile(t, dir, "empty.secret", "\n", 0o600), "--aud", searchPath}, want: "empty"},
	}
	for _, tt := range refused {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			r := cli(append([]string{"mint"}, tt.args...)...)
			assert.Equal(t, exitFailed, r.code)
			assert.Contains(t, r.stderr, tt.want)
			assert.Empty(t, r.stdout)
			assert.NotContains(t, r.stderr, testSecret)
		})
	}
}

func TestMintConfig(t *testing.T) {
	keyDir := t.TempDir()
	require.Equal(t, exitOK, cli("keygen", "--alg", "EdDSA", "--kid", "ed", "--out", t.TempDir(), "--private-out", keyDir).code)
	writeFile(t, keyDir, "hs.secret", testSecret, 0o600)
	config := writeFile(t, t.TempDir(), "tokens.json", `[
	  {"name": "search", "keyId": "hs", "claims": {"aud": "/v2/accounts/me/search", "expiresIn": 60000, "query": {"experienceKey": "X"}}, "scope": "^/search"},
	  {"name": "all", "keyId": "ed", "claims": {"aud": ["/v2/accounts/me/answers"]}}
	]`, 0o644)

	r := cli("mint", "--config", config, "--page", "/search/x", "--keys", keyDir)
	require.Equal(t, exitOK, r.code, r.stderr)
	var tokens map[string]string
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &tokens))
	assert.Len(t, tokens, 2)
	assert.NotContains(t, r.stdout+r.stderr, testSecret)

	r = cli("mint", "--config", config, "--page", "/about", "--keys", keyDir)
	require.Equal(t, exitOK, r.code, r.stderr)
	tokens = nil
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &tokens))
	assert.Len(t, tokens, 1)
	assert.Contains(t, tokens, "all")

	t.Run("keys from the environment", func(t *testing.T) {
		t.Setenv("SCOPEDTOKEN_SECRET_hs", testSecret)
		edPEM, err := os.ReadFile(filepath.Join(keyDir, "ed.pem"))
		require.NoError(t, err)
		t.Setenv("SCOPEDTOKEN_KEY_ed", strings.ReplaceAll(string(edPEM), "\n", `\n`))
		r := cli("mint", "--config", config, "--page", "/search")
		require.Equal(t, exitOK, r.code, r.stderr)
		var tokens map[string]string
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &tokens))
		assert.Len(t, tokens, 2)
	})

	bad := writeFile(t, t.TempDir(), "bad.json", `[{"name": "x", "keyId": "hs", "claims": {"aud": "/v2/accounts/me/search"}, "scope": "("}]`, 0o644)
	r = cli("mint", "--config", bad, "--page", "/", "--keys", keyDir)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, `"x"`)
	assert.Contains(t, r.stderr, "regular expression")

	r = cli("mint", "--config", filepath.Join(keyDir, "missing.json"), "--page", "/")
	assert.Equal(t, exitFailed, r.code)
}

func TestVerify(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	dir := t.TempDir()
	pubPEM := publicPEM(t, iss, dir)
	good := iss.Mint(scopedtokentest.Query("experienceKey", "X"), scopedtokentest.Subject("u1"))
	hmacTok := iss.Mint(scopedtokentest.SignWith(iss.HMACKeyID()))
	secretFile := writeFile(t, dir, "s.secret", string(iss.Secret())+"\n", 0o600)
	withKey := []string{"verify", "--kid", iss.KeyID(), "--key", pubPEM, "--now", testNowFlag}

	t.Run("public key", func(t *testing.T) {
		r := cli(append(withKey, "--allow-me-without-business", "--path", searchPath+"/x", good)...)
		require.Equal(t, exitOK, r.code, r.stderr)
		var out struct {
			Kid    string              `json:"kid"`
			Alg    string              `json:"alg"`
			Aud    []string            `json:"aud"`
			Query  map[string][]string `json:"query"`
			Exp    time.Time           `json:"exp"`
			Sub    string              `json:"sub"`
			Claims map[string]any      `json:"claims"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
		assert.Equal(t, iss.KeyID(), out.Kid)
		assert.Equal(t, "ES256", out.Alg)
		assert.Equal(t, []string{searchPath}, out.Aud)
		assert.Equal(t, map[string][]string{"experienceKey": {"X"}}, out.Query)
		assert.True(t, testNow.Add(5*time.Minute).Equal(out.Exp))
		assert.Equal(t, "u1", out.Sub)
		assert.Equal(t, "u1", out.Claims["sub"])
		assert.NotContains(t, r.stdout+r.stderr, good, "the token itself is never echoed")
	})
	t.Run("flags after the token", func(t *testing.T) {
		r := cli("verify", good, "--kid", iss.KeyID(), "--key", pubPEM, "--now", testNowFlag, "--allow-me-without-business", "--path", searchPath)
		assert.Equal(t, exitOK, r.code, r.stderr)
	})
	t.Run("secret and secret file", func(t *testing.T) {
		r := cli("verify", "--kid", iss.HMACKeyID(), "--secret", string(iss.Secret()), "--now", testNowFlag, "--business", "b1", "--path", searchPath, hmacTok)
		assert.Equal(t, exitOK, r.code, r.stderr)
		assert.NotContains(t, r.stdout+r.stderr, string(iss.Secret()))
		r = cli("verify", "--kid", iss.HMACKeyID(), "--secret-file", secretFile, "--now", testNowFlag, "--business", "b1", "--path", searchPath, hmacTok)
		assert.Equal(t, exitOK, r.code, r.stderr)
	})
	t.Run("me without a business is refused unless allowed", func(t *testing.T) {
		r := cli(append(withKey, "--path", searchPath, good)...)
		assert.Equal(t, exitFailed, r.code)
		assert.Contains(t, r.stderr, "me_without_business")
		assert.Contains(t, r.stdout, `"status":403`)
		r = cli(append(withKey, "--allow-me-without-business", "--path", searchPath, good)...)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stdout, `"businessId": ""`)
		r = cli(append(withKey, "--allow-me-without-business", "--business", "b1", "--path", searchPath, good)...)
		assert.Equal(t, exitUsage, r.code)
	})
	t.Run("business", func(t *testing.T) {
		r := cli(append(withKey, "--business", "b1", "--path", "/v2/accounts/b1/search", good)...)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stdout, `"businessId": "b1"`)
		r = cli(append(withKey, "--path", "/v2/accounts/b1/search", good)...)
		assert.Equal(t, exitFailed, r.code, "without --business, me is not b1")
	})

	refused := []struct {
		name   string
		args   []string
		reason string
	}{
		{name: "expired", args: append(withKey, "--path", searchPath, iss.Expired()), reason: "expired"},
		{name: "expired by --now", args: []string{"verify", "--kid", iss.KeyID(), "--key", pubPEM, "--now", "2026-01-02T04:04:05Z", "--path", searchPath, good}, reason: "expired"},
		{name: "wrong audience", args: append(withKey, "--path", searchPath, iss.WrongAudience()), reason: "audience_mismatch"},
		{name: "outside aud", args: append(withKey, "--path", "/v2/accounts/me/searchx", good), reason: "audience_mismatch"},
		{name: "wrong key", args: append(withKey, "--path", searchPath, iss.WrongKey()), reason: "bad_signature"},
		{name: "tampered", args: append(withKey, "--path", searchPath, iss.Tampered()), reason: "bad_signature"},
		{name: "alg none", args: append(withKey, "--path", searchPath, iss.AlgNone()), reason: "malformed_token"},
		{name: "unknown kid", args: append(withKey, "--path", searchPath, iss.UnknownKID()), reason: "unknown_kid"},
		{name: "alg of another key", args: append(withKey, "--path", searchPath, iss.Mint(scopedtokentest.Alg("ES384"))), reason: "alg_mismatch"},
		{name: "wrong secret", args: []string{"verify", "--kid", iss.HMACKeyID(), "--secret", testSecret, "--now", testNowFlag, "--path", searchPath, hmacTok}, reason: "bad_signature"},
		{name: "bad path", args: append(withKey, "--path", "/v2/accounts/me/search/%2e%2e", good), reason: "bad_path"},
		{name: "not a token", args: append(withKey, "--path", searchPath, "abc"), reason: "malformed_token"},
	}
	for _, tt := range refused {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			r := cli(tt.args...)
			assert.Equal(t, exitFailed, r.code, r.stderr)
			assert.Contains(t, r.stderr, "refused ("+tt.reason+")")
			var out struct {
				Reason  string `json:"reason"`
				Message string `json:"message"`
				Status  int    `json:"status"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
			assert.Equal(t, tt.reason, out.Reason)
			assert.NotEmpty(t, out.Message)
		})
	}

	usage := []struct {
		name string
		args []string
	}{
		{name: "no token", args: []string{"--kid", "k", "--secret", testSecret, "--path", searchPath}},
		{name: "two tokens", args: []string{"--kid", "k", "--secret", testSecret, "--path", searchPath, "a", "b"}},
		{name: "no path", args: []string{"--kid", "k", "--secret", testSecret, good}},
		{name: "no kid", args: []string{"--secret", testSecret, "--path", searchPath, good}},
		{name: "no key", args: []string{"--kid", "k", "--path", searchPath, good}},
		{name: "two keys", args: []string{"--kid", "k", "--secret", testSecret, "--key", pubPEM, "--path", searchPath, good}},
		{name: "jwks with kid", args: []string{"--jwks", "http://127.0.0.1:1/jwks", "--kid", "k", "--path", searchPath, good}},
		{name: "bad now", args: []string{"--kid", "k", "--secret", testSecret, "--path", searchPath, "--now", "yesterday", good}},
		{name: "jwks not http", args: []string{"--jwks", "file:///etc/passwd", "--path", searchPath, good}},
	}
	for _, tt := range usage {
		t.Run("usage: "+tt.name, func(t *testing.T) {
			r := cli(append([]string{"verify"}, tt.args...)...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Empty(t, r.stdout)
			assert.NotContains(t, r.stderr, testSecret)
		})
	}

	t.Run("key file problems", func(t *testing.T) {
		r := cli("verify", "--kid", "k", "--key", filepath.Join(dir, "nope.pem"), "--path", searchPath, good)
		assert.Equal(t, exitFailed, r.code)
		r = cli("verify", "--kid", "k", "--secret", "short", "--path", searchPath, good)
		assert.Equal(t, exitFailed, r.code)
		assert.Contains(t, r.stderr, "at least 32")
		assert.NotContains(t, r.stderr, "short\"")
	})
}

func TestVerifyJWKS(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow), scopedtokentest.WithBusiness("b9"))
	srv := iss.JWKSServer()
	r := cli("verify", "--jwks", srv.URL, "--business", "b9", "--now", testNowFlag, "--path", "/v2/accounts/b9/search", iss.Mint())
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"businessId": "b9"`)

	kid := srv.Rotate()
	r = cli("verify", "--jwks", srv.URL, "--now", testNowFlag, "--business", "b9", "--path", searchPath, iss.Mint())
	require.Equal(t, exitOK, r.code, "a new process fetches the rotated set: %s", r.stderr)
	assert.Contains(t, r.stdout, kid)

	r = cli("verify", "--jwks", srv.URL, "--now", testNowFlag, "--path", searchPath, iss.Mint(scopedtokentest.SignWith(iss.HMACKeyID())))
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "unknown_kid")

	srv.FailWith(500)
	r = cli("verify", "--jwks", srv.URL, "--now", testNowFlag, "--path", searchPath, iss.Mint())
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "keys_unavailable")
	assert.Contains(t, r.stderr, "Cause:")
}

func TestInspect(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	tests := []struct {
		name     string
		token    string
		problems []string
		warnings []string
		expiry   string
	}{
		{name: "good", token: iss.Mint(), expiry: "expires 2026-01-02T03:09:05Z, in 5 minutes"},
		{name: "expired", token: iss.Expired(), expiry: "ago", problems: []string{"expired (10 minutes ago)"}},
		{name: "alg none", token: iss.AlgNone(), problems: []string{`alg is "none"`}},
		{name: "missing kid", token: iss.Mint(scopedtokentest.Header("kid", scopedtokentest.Omit)), problems: []string{"missing kid"}},
		{name: "empty kid", token: iss.Mint(scopedtokentest.KeyID("")), problems: []string{"missing kid"}},
		{name: "bad aud", token: iss.Mint(scopedtokentest.Audience("/v2/accounts/me/search", "/v2/accounts/me", "/v1/x/y")), problems: []string{`"/v2/accounts/me" needs a business`, `"/v1/x/y" does not start with`}},
		{name: "aud not a string", token: iss.Mint(scopedtokentest.Claim("aud", 5)), problems: []string{"aud must be a string"}},
		{name: "no aud", token: iss.Mint(scopedtokentest.Claim("aud", scopedtokentest.Omit)), problems: []string{"no aud"}},
		{name: "long lifetime", token: iss.Mint(scopedtokentest.ExpiresIn(3 * time.Hour)), warnings: []string{"lives 3 hours from iat, longer than 1 hour"}},
		{name: "long lifetime without iat", token: iss.Mint(scopedtokentest.ExpiresIn(25*time.Hour), scopedtokentest.NoIssuedAt()), warnings: []string{"lives 25 hours from now"}},
		{name: "no exp", token: iss.Mint(scopedtokentest.NoExpiry()), expiry: "never", problems: []string{"no exp"}},
		{name: "exp a string", token: iss.Mint(scopedtokentest.Claim("exp", "tomorrow")), problems: []string{`exp must be a number`}},
		{name: "expired within the leeway", token: iss.Mint(scopedtokentest.ExpiresAt(testNow.Add(-10 * time.Second))), expiry: "10 seconds ago", warnings: []string{"leeway"}},
		{name: "iat in the future", token: iss.Mint(scopedtokentest.IssuedAt(testNow.Add(time.Hour))), problems: []string{"iat lies in the future"}},
		{name: "nbf in the future", token: iss.Mint(scopedtokentest.NotBefore(testNow.Add(time.Minute))), warnings: []string{"not valid before"}},
		{name: "crit and jku", token: iss.Mint(scopedtokentest.Header("crit", []string{"x"}), scopedtokentest.Header("jku", "https://evil")), problems: []string{`"crit"`}, warnings: []string{`"jku"`}},
		{name: "case variant", token: iss.Mint(scopedtokentest.Claim("EXP", 1)), problems: []string{`"EXP" differs from "exp" only in case`}},
		{name: "duplicate member", token: iss.Mint(scopedtokentest.RawClaims([]byte(`{"aud":"/v2/accounts/me/search","exp":1767323345,"exp":1}`))), problems: []string{`repeats the member name "exp"`}},
		{name: "query shapes", token: iss.Mint(scopedtokentest.Claim("query", map[string]any{"a": nil, "b": []any{}, "c": map[string]any{}, "d": []any{"x", 1, true}})), problems: []string{`"a" holds null`, `"b" is an empty array`, `"c" holds {}`}},
		{name: "typ", token: iss.Mint(scopedtokentest.Header("typ", "at+jwt")), problems: []string{`typ is "at+jwt"`}},
		{name: "signature size", token: iss.Mint(scopedtokentest.Alg("ES384")), problems: []string{"ES384 signatures are 96"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cli("inspect", "--json", "--now", testNowFlag, tt.token)
			require.Equal(t, exitOK, r.code, r.stderr)
			var in inspection
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &in))
			assert.False(t, in.Verified)
			assert.Equal(t, notVerified, in.Note)
			if tt.problems == nil {
				assert.Empty(t, in.Problems)
			}
			for _, p := range tt.problems {
				assert.Contains(t, strings.Join(in.Problems, "\n"), p)
			}
			if tt.warnings == nil {
				assert.Empty(t, in.Warnings)
			}
			for _, w := range tt.warnings {
				assert.Contains(t, strings.Join(in.Warnings, "\n"), w)
			}
			assert.Contains(t, in.Expiry, tt.expiry)
		})
	}
}

func TestInspectText(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithTime(testNow))
	tok := iss.Mint(scopedtokentest.Query("experienceKey", "X"))
	for _, arg := range []string{tok, "Bearer " + tok, "https://example.com/p?a=1&jwt=" + tok} {
		r := cli("inspect", "--now", testNowFlag, arg)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.True(t, strings.HasPrefix(r.stdout, "NOT VERIFIED"))
		assert.Contains(t, r.stdout, `"experienceKey": "X"`)
		assert.Contains(t, r.stdout, `"kid": "`+iss.KeyID()+`"`)
		assert.Contains(t, r.stdout, "Expiry: expires 2026-01-02T03:09:05Z, in 5 minutes")
		assert.Contains(t, r.stdout, "Nothing was verified")
		assert.NotContains(t, r.stdout, strings.Split(tok, ".")[2], "the signature is not printed")
	}

	parts := strings.Split(tok, ".")
	r := cli("inspect", "--now", testNowFlag, parts[0]+"=."+parts[1]+"."+parts[2])
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "padding")

	for _, arg := range []string{"abc", "a.b", "!!!.e30.e30", "https://example.com/?x=1"} {
		r := cli("inspect", arg)
		assert.Equal(t, exitFailed, r.code, arg)
		assert.Empty(t, r.stdout)
	}
	assert.Equal(t, exitUsage, cli("inspect").code)
	assert.Equal(t, exitUsage, cli("inspect", "a", "b").code)
	assert.Equal(t, exitUsage, cli("inspect", "--now", "x", tok).code)
}

func TestWords(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{d: 0, want: "0 seconds"},
		{d: time.Second, want: "1 second"},
		{d: 90 * time.Second, want: "1 minute 30 seconds"},
		{d: time.Hour, want: "1 hour"},
		{d: 26*time.Hour + 5*time.Minute, want: "26 hours 5 minutes"},
		{d: 72 * time.Hour, want: "3 days"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, words(tt.d))
	}
}

// TestEndToEnd builds the binary and runs keygen, mint, verify and inspect
// for each algorithm family, and checks that the CLI and the Go API accept
// each other's tokens.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "scopedtoken")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	exe := func(t *testing.T, stdin string, args ...string) result {
		t.Helper()
		cmd := exec.Command(bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr, cmd.Stdin = &stdout, &stderr, strings.NewReader(stdin)
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	}

	for _, alg := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			root := t.TempDir()
			dir, private := filepath.Join(root, "public"), filepath.Join(root, "private")
			kid := "e2e-" + alg
			r := exe(t, "", "keygen", "--alg", alg, "--kid", kid, "--out", dir, "--private-out", private)
			require.Equal(t, 0, r.code, r.stderr)

			mintArgs := []string{"mint", "--kid", kid, "--aud", searchPath, "--query", "experienceKey=X", "--verify"}
			verifyArgs := []string{"verify", "--kid", kid, "--business", "b1", "--path", searchPath + "/x"}
			if alg == "HS256" {
				mintArgs = append(mintArgs, "--secret-file", filepath.Join(private, kid+".secret"))
				verifyArgs = append(verifyArgs, "--secret-file", filepath.Join(private, kid+".secret"))
			} else {
				mintArgs = append(mintArgs, "--key", filepath.Join(private, kid+".pem"))
				verifyArgs = append(verifyArgs, "--key", filepath.Join(dir, kid+".pub.pem"))
			}
			r = exe(t, "", mintArgs...)
			require.Equal(t, 0, r.code, r.stderr)
			token := r.lastLine()

			r = exe(t, "", append(verifyArgs, token)...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Contains(t, r.stdout, `"alg": "`+alg+`"`)

			r = exe(t, token+"\n", append(verifyArgs, "-")...)
			require.Equal(t, 0, r.code, "token from stdin: %s", r.stderr)

			r = exe(t, "", append(verifyArgs[:len(verifyArgs):len(verifyArgs)], "--now", time.Now().Add(time.Hour).UTC().Format(time.RFC3339), token)...)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, "expired")

			r = exe(t, "", "inspect", token)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Contains(t, r.stdout, "NOT VERIFIED")
			assert.Contains(t, r.stdout, `"alg": "`+alg+`"`)

			r = exe(t, "", "verify", "--path", searchPath, token)
			assert.Equal(t, 2, r.code, "usage error")

			// The CLI's token passes the Go middleware with the keygen files.
			key := scopedtoken.Key{ID: kid, Algorithm: alg, BusinessID: "b1"}
			if alg == "HS256" {
				secret, err := os.ReadFile(filepath.Join(private, kid+".secret"))
				require.NoError(t, err)
				key.Secret = secret
			} else {
				pubData, err := os.ReadFile(filepath.Join(dir, kid+".pub.pem"))
				require.NoError(t, err)
				key.PublicKey, err = mint.ParsePublicKeyPEM(pubData)
				require.NoError(t, err)
			}
			set, err := scopedtoken.StaticKeys(key)
			require.NoError(t, err)
			mw, err := scopedtoken.New(scopedtoken.Config{Keys: set})
			require.NoError(t, err)
			tok, err := mw.Verify(context.Background(), token, searchPath)
			require.NoError(t, err)
			assert.Equal(t, url.Values{"experienceKey": {"X"}}, tok.Query().URLValues())

			// A token from the Go Minter passes the CLI.
			sk := mint.Key{ID: kid, Algorithm: alg, Secret: key.Secret}
			if alg != "HS256" {
				privData, err := os.ReadFile(filepath.Join(private, kid+".pem"))
				require.NoError(t, err)
				sk.PrivateKey, err = mint.ParsePrivateKeyPEM(privData)
				require.NoError(t, err)
			}
			m, err := mint.New(mint.Config{Key: sk})
			require.NoError(t, err)
			goToken, err := m.Mint(mint.Claims{Audience: []string{searchPath}, Subject: "from-go"})
			require.NoError(t, err)
			r = exe(t, "", append(verifyArgs, goToken)...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Contains(t, r.stdout, `"sub": "from-go"`)
		})
	}

	t.Run("usage and help", func(t *testing.T) {
		assert.Equal(t, 2, exe(t, "").code)
		r := exe(t, "", "mint", "--help")
		assert.Equal(t, 0, r.code)
		assert.Contains(t, r.stdout, "Usage:")
	})
}
