package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
)

const mintSynopsis = `Usage:
  scopedtoken mint --kid K [--secret S | --secret-file F | --key PRIVATE.pem] [--alg A]
                   --aud P [--aud P ...] [--query k=v ...] [--expire-in 5m]
                   [--once] [--dpop-jkt JKT] [--verify] [--url BASE]
  scopedtoken mint --config tokens.json --page /some/page [--keys DIR]

The first form mints one token and prints it (or, with --url, the link that
carries it as ?jwt=) as the last line of stdout. The algorithm is --alg, or
HS256 for a secret and RS256/ES256/ES384/ES512/EdDSA from the private key
(an Ed25519 key bound to the RFC 9864 name needs --alg Ed25519). A secret is
used as the raw bytes given (a secret file less one final line ending).
Prefer --secret-file to --secret: command lines are visible to other users of
the machine. Without --secret, --secret-file and --key, the key of K comes
from the environment, as for --config below. --expire-in takes a duration
such as 5m or 300s. --verify checks the minted token with the verifier before
printing it (its signature, key and claims; "me" passes without a business,
which only the verifier's key knows). A --query name given several times gets
several values. --once mints a single-use token (a random jti and "once":
true): a service with shared revocation state accepts it once in its whole
fleet. --dpop-jkt binds the token to a client's key (cnf.jkt, RFC 9449): JKT
is the RFC 7638 thumbprint of its public key, and a service with DPoP
allowed accepts the token only with a DPoP proof signed by that key
(docs/dpop.md).

The second form loads a named token spec file and prints, as a JSON object
by spec name, a token for every spec whose scope matches the page. Keys come
from DIR (K.pem or K.secret, as keygen writes them to --private-out) or,
without --keys, from the environment: SCOPEDTOKEN_KEY_<K> (PEM) or SCOPEDTOKEN_SECRET_<K>, where
<K> is the key ID with every character other than A-Z, a-z, 0-9 and _
replaced by _.
`

// longLifetime is where mint and inspect start warning: scoped tokens are
// handed to browsers and emailed, so they should not live for long.
const longLifetime = time.Hour

func runMint(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("mint")
	kid := fs.String("kid", "", "key ID written into the token header")
	secret := fs.String("secret", "", "HMAC secret (visible in the process list; prefer --secret-file)")
	secretFile := fs.String("secret-file", "", "file holding the HMAC secret")
	keyFile := fs.String("key", "", "PEM file holding the private key")
	alg := fs.String("alg", "", "algorithm (default: from the key)")
	var aud, query listFlag
	fs.Var(&aud, "aud", "audience path, e.g. /v2/accounts/me/search (repeatable)")
	fs.Var(&query, "query", "query claim parameter name=value (repeatable)")
	expireIn := durationFlag(fs, "expire-in", mint.DefaultLifetime, "lifetime, a duration such as 5m or 300s")
	verify := fs.Bool("verify", false, "verify the minted token before printing it")
	base := fs.String("url", "", "print a link: BASE with ?jwt=TOKEN added")
	once := fs.Bool("once", false, "mint a single-use token")
	dpopJKT := fs.String("dpop-jkt", "", "bind the token to the DPoP key of this RFC 7638 thumbprint")
	config := fs.String("config", "", "named token spec file (JSON)")
	page := fs.String("page", "", "page path to mint the named tokens for (with --config)")
	keysDir := fs.String("keys", "", "directory of K.pem / K.secret files, keygen's --private-out (with --config; default: environment)")
	rest, err := parseFlags(fs, args, mintSynopsis, stdout)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	given := setFlags(fs)
	if given["config"] || given["page"] || given["keys"] {
		for _, name := range []string{"kid", "secret", "secret-file", "key", "alg", "aud", "query", "expire-in", "verify", "url", "once", "dpop-jkt"} {
			if given[name] {
				return usagef("--%s cannot be used with --config: the spec file says what to mint", name)
			}
		}
		if *config == "" || *page == "" {
			return usagef("--config and --page go together")
		}
		return mintNamed(*config, *page, *keysDir, stdout)
	}

	switch {
	case *kid == "":
		return usagef("--kid is required")
	case countSet(given, "secret", "secret-file", "key") > 1:
		return usagef("give exactly one of --secret, --secret-file and --key")
	case len(aud) == 0:
		return usagef("at least one --aud is required")
	case *expireIn <= 0:
		return usagef("--expire-in must be positive")
	}
	for _, a := range aud {
		if err := mint.CheckAudience("", a); err != nil {
			return usageError{err}
		}
	}
	q, err := parseQuery(query)
	if err != nil {
		return err
	}
	if *base != "" {
		if u, err := url.Parse(*base); err != nil || u.Scheme == "" || u.Host == "" {
			return usagef("--url must be an absolute URL")
		}
	}

	key, err := signingKey(*kid, *alg, *secret, *secretFile, *keyFile, countSet(given, "secret", "secret-file", "key") == 0)
	if err != nil {
		return err
	}
	cfg := mint.Config{Key: key, Lifetime: *expireIn}
	m, err := mint.New(cfg) // first, for its precise message about an unfit key
	if err != nil {
		return err
	}
	if *verify {
		if cfg.Verify, err = verifierFor(key); err != nil {
			return err
		}
		if m, err = mint.New(cfg); err != nil {
			return err
		}
	}
	token, err := m.Mint(mint.Claims{Audience: aud, Query: q, Once: *once, DPoPThumbprint: *dpopJKT})
	if err != nil {
		return err
	}
	if *expireIn > longLifetime {
		fmt.Fprintf(stderr, "warning: the token lives %s, longer than %s; scoped tokens are meant to be short-lived\n", *expireIn, longLifetime)
	}
	if *verify {
		fmt.Fprintln(stderr, "verified: the token passes the verifier with this key")
	}
	if *base != "" {
		link, err := mint.TokenURL(*base, token)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, link)
		return nil
	}
	fmt.Fprintln(stdout, token)
	return nil
}

func mintNamed(config, page, keysDir string, stdout io.Writer) error {
	f, err := os.Open(config)
	if err != nil {
		return err
	}
	defer f.Close()
	var keys mint.KeySource = mint.EnvKeySource{}
	if keysDir != "" {
		keys = mint.DirKeySource(keysDir)
	}
	specs, err := mint.LoadSpecs(f, mint.SpecsConfig{Keys: keys})
	if err != nil {
		return fmt.Errorf("%s: %w", config, err)
	}
	tokens, err := specs.MintForPage(page)
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(tokens, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(out))
	return nil
}

func parseQuery(pairs []string) (url.Values, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	q := url.Values{}
	for _, p := range pairs {
		name, value, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return nil, usagef("--query %q must be name=value", p)
		}
		q[name] = append(q[name], value)
	}
	return q, nil
}

// signingKey loads the key given by the flags or, without any, from the
// environment as "mint --config" reads it (SCOPEDTOKEN_SECRET_<K> or
// SCOPEDTOKEN_KEY_<K>). Errors name files and variables, never their content.
func signingKey(kid, alg, secret, secretFile, keyFile string, fromEnv bool) (mint.Key, error) {
	key := mint.Key{ID: kid, Algorithm: alg}
	switch {
	case fromEnv:
		env, err := envKey(kid)
		if err != nil {
			return key, err
		}
		key.Secret, key.PrivateKey = env.Secret, env.PrivateKey
	case keyFile != "":
		data, err := os.ReadFile(keyFile)
		if err != nil {
			return key, err
		}
		if key.PrivateKey, err = mint.ParsePrivateKeyPEM(data); err != nil {
			return key, fmt.Errorf("%s: %w", keyFile, err)
		}
	default:
		s, err := readSecret(secret, secretFile)
		if err != nil {
			return key, err
		}
		key.Secret = s
	}
	if key.Algorithm == "" && key.PrivateKey != nil {
		key.Algorithm = mint.DefaultAlgorithm(key.PrivateKey)
	} else if key.Algorithm == "" {
		key.Algorithm = mint.DefaultAlgorithm(key.Secret)
	}
	return key, nil
}

// envKey reads the key of kid from SCOPEDTOKEN_SECRET_<K> or
// SCOPEDTOKEN_KEY_<K>, as keygen suggests; without either it is a usage error.
func envKey(kid string) (mint.Key, error) {
	key, err := mint.EnvKeySource{}.SigningKey(kid)
	if errors.Is(err, mint.ErrKeyNotFound) {
		name := mint.EnvKeyName(kid)
		return key, usagef("give exactly one of --secret, --secret-file and --key, or set %s%s (or %s%s)",
			mint.EnvSecretPrefix, name, mint.EnvKeyPrefix, name)
	}
	return key, err
}

// readSecret returns the secret's raw bytes: the flag's value exactly, or the
// file's content less one final line ending.
func readSecret(secret, file string) ([]byte, error) {
	if file == "" {
		if secret == "" {
			return nil, usagef("the secret is empty")
		}
		return []byte(secret), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	s, ok := strings.CutSuffix(string(data), "\r\n")
	if !ok {
		s = strings.TrimSuffix(s, "\n")
	}
	if s == "" {
		return nil, fmt.Errorf("%s is empty", file)
	}
	return []byte(s), nil
}

// verifierFor builds a middleware that knows exactly the signing key, for
// --verify. The minting side does not know which business the verifier's key
// has, so "me" is accepted without one (AllowMeWithoutBusiness): --verify
// checks the signature, the key's fit and the claims, not the business.
func verifierFor(k mint.Key) (*scopedtoken.Middleware, error) {
	vk := scopedtoken.Key{ID: k.ID, Algorithm: k.Algorithm, Secret: k.Secret}
	if k.PrivateKey != nil {
		vk.PublicKey = k.PrivateKey.Public()
	}
	set, err := scopedtoken.StaticKeys(vk)
	if err != nil {
		return nil, err
	}
	// A revocation store, so that a single-use token passes (the check does
	// not use it up), and DPoP allowed, so that a bound one does.
	return scopedtoken.New(scopedtoken.Config{Keys: set, Revocations: scopedtoken.NewMemoryRevocations(nil),
		AllowMeWithoutBusiness: true, DPoPAllowed: true})
}

func countSet(given map[string]bool, names ...string) int {
	n := 0
	for _, name := range names {
		if given[name] {
			n++
		}
	}
	return n
}
