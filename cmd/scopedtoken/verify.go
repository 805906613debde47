package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/jwks"
	"github.com/scopedtoken/scopedtoken/mint"
)

const verifySynopsis = `Usage:
  scopedtoken verify --kid K [--secret S | --secret-file F | --key PUBLIC.pem] [--alg A]
                     [--business B | --allow-me-without-business] --path P
                     [--now RFC3339] TOKEN
  scopedtoken verify --jwks URL [--business B | --allow-me-without-business]
                     --path P [--now RFC3339] TOKEN

Verifies TOKEN exactly as the middleware would for a request to the escaped
path P: signature, key and algorithm, exp/nbf/iat (30s leeway), aud against
P, and the query claim's shape. --now sets the clock.

Without --secret, --secret-file, --key and --jwks, the key of K comes from
the environment: SCOPEDTOKEN_SECRET_<K> (as keygen suggests for a secret) or
SCOPEDTOKEN_KEY_<K> (a private key in PEM, whose public half is used).

--business is the business that "me" stands for with the key
(Key.BusinessID, jwks.Config.BusinessID). Without it, a path that says "me"
is refused with me_without_business, as the middleware does by default,
unless --allow-me-without-business (Config.AllowMeWithoutBusiness) is given.

On success: exit 0 and the token as JSON on stdout, with control
characters, bidi controls and invalid UTF-8 in its strings escaped (\u001b,
\u202e, \ufffd). When refused: exit 1, the reason code and message on stderr,
and {"reason", "message", "status"} as JSON on stdout; a TOKEN that is not a
compact JWS in one of the forms below is refused as malformed_token.

` + tokenForms

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify")
	kid := fs.String("kid", "", "key ID of the key given with --secret, --secret-file or --key")
	secret := fs.String("secret", "", "HMAC secret (visible in the process list; prefer --secret-file)")
	secretFile := fs.String("secret-file", "", "file holding the HMAC secret")
	keyFile := fs.String("key", "", "PEM file holding the public key")
	alg := fs.String("alg", "", "algorithm of the key (default: HS256 for a secret, else from the key)")
	jwksURL := fs.String("jwks", "", "URL of a JWK Set to take the keys from")
	business := fs.String("business", "", "business ID that \"me\" stands for with the key")
	allowMe := fs.Bool("allow-me-without-business", false, "accept \"me\" in the path when the key has no business (Config.AllowMeWithoutBusiness)")
	path := fs.String("path", "", "escaped request path to check the token against (required)")
	nowFlag := fs.String("now", "", "the current time, RFC 3339 (default: now)")
	rest, err := parseFlags(fs, args, verifySynopsis, stdout)
	if err != nil {
		return err
	}
	given := setFlags(fs)
	switch {
	case len(rest) != 1:
		return usagef("give exactly one TOKEN")
	case *path == "":
		return usagef("--path is required")
	case *allowMe && *business != "":
		return usagef("--allow-me-without-business is for a key without a business: do not give --business with it")
	case given["jwks"] && countSet(given, "kid", "secret", "secret-file", "key", "alg") > 0:
		return usagef("--jwks takes the keys from the set: do not give --kid, --secret, --secret-file, --key or --alg with it")
	case !given["jwks"] && *kid == "":
		return usagef("give --kid with a key, or --jwks")
	case !given["jwks"] && countSet(given, "secret", "secret-file", "key") > 1:
		return usagef("give exactly one of --secret, --secret-file and --key")
	}
	// A store of its own, so that a single-use token is checked like any
	// other: using it up here uses it up nowhere else.
	cfg := scopedtoken.Config{Revocations: scopedtoken.NewMemoryRevocations(nil), AllowMeWithoutBusiness: *allowMe}
	if *nowFlag != "" {
		now, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return usagef("--now %q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", *nowFlag)
		}
		cfg.Now = func() time.Time { return now }
	}
	token, err := readTokenArg(rest[0], strictJWS)
	if bad := (*tokenInputError)(nil); errors.As(err, &bad) {
		// What the middleware would say of it, with what is wrong.
		return refuse(scopedtoken.ErrMalformedToken, bad.Error(), stdout)
	}
	if err != nil {
		return err
	}

	ctx := context.Background()
	if *jwksURL != "" {
		// A fetch that LookupKey started may still log after Close returns
		// (Close waits only for the refresh loop): its lines go nowhere once
		// the command is done with stderr.
		logOut := &closingWriter{w: stderr}
		defer logOut.close()
		remote, err := jwks.New(ctx, jwks.Config{
			URL:        *jwksURL,
			BusinessID: *business,
			Logger:     slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		if err != nil {
			return usageError{err}
		}
		defer remote.Close()
		cfg.Keys = remote
	} else {
		key, err := verificationKey(*kid, *alg, *secret, *secretFile, *keyFile, *business, countSet(given, "secret", "secret-file", "key") == 0)
		if err != nil {
			return err
		}
		if cfg.Keys, err = scopedtoken.StaticKeys(key); err != nil {
			return err
		}
	}
	mw, err := scopedtoken.New(cfg)
	if err != nil {
		return err
	}
	tok, err := mw.Verify(ctx, token, *path)
	if err != nil {
		return refusal(err, stdout)
	}
	out, err := json.MarshalIndent(tokenJSON(tok), "", "  ")
	if err != nil {
		return err
	}
	// encoding/json leaves DEL, C1 controls and bidi controls raw, and the
	// claims are the token's own bytes.
	fmt.Fprintln(stdout, string(safeJSON(out)))
	return nil
}

// closingWriter passes writes to w until close, and drops them after.
type closingWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (c *closingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return len(p), nil
	}
	return c.w.Write(p)
}

func (c *closingWriter) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

// refusal reports a refused token: JSON on stdout for programs, and an error
// (the reason and message, and the cause when keys were unavailable) for
// stderr and exit status 1.
func refusal(err error, stdout io.Writer) error {
	var e *scopedtoken.Error
	if !errors.As(err, &e) {
		return err
	}
	return refuse(e, "", stdout)
}

// refuse reports e as refusal does, with detail (when not "") after its
// message on stderr.
func refuse(e *scopedtoken.Error, detail string, stdout io.Writer) error {
	out, _ := json.Marshal(map[string]any{"reason": e.Reason(), "message": e.Message(), "status": e.Status()})
	fmt.Fprintln(stdout, string(safeJSON(out)))
	msg := fmt.Sprintf("refused (%s): %s", e.Reason(), e.Message())
	if detail != "" {
		msg += " (" + detail + ")"
	}
	if cause := errors.Unwrap(e); cause != nil {
		msg += " Cause: " + cause.Error()
	}
	return errors.New(msg)
}

func verificationKey(kid, alg, secret, secretFile, keyFile, business string, fromEnv bool) (scopedtoken.Key, error) {
	key := scopedtoken.Key{ID: kid, Algorithm: alg, BusinessID: business}
	if fromEnv {
		env, err := envKey(kid)
		if err != nil {
			return key, err
		}
		key.Secret = env.Secret
		if env.PrivateKey != nil {
			key.PublicKey = env.PrivateKey.Public()
		}
		return withDefaultAlgorithm(key), nil
	}
	if keyFile != "" {
		data, err := os.ReadFile(keyFile)
		if err != nil {
			return key, err
		}
		if key.PublicKey, err = mint.ParsePublicKeyPEM(data); err != nil {
			return key, fmt.Errorf("%s: %w", keyFile, err)
		}
		return withDefaultAlgorithm(key), nil
	}
	s, err := readSecret(secret, secretFile)
	if err != nil {
		return key, err
	}
	key.Secret = s
	return withDefaultAlgorithm(key), nil
}

// withDefaultAlgorithm gives a key without --alg the mint.DefaultAlgorithm of its
// public key or secret.
func withDefaultAlgorithm(key scopedtoken.Key) scopedtoken.Key {
	switch {
	case key.Algorithm != "":
	case key.PublicKey != nil:
		key.Algorithm = mint.DefaultAlgorithm(key.PublicKey)
	default:
		key.Algorithm = mint.DefaultAlgorithm(key.Secret)
	}
	return key
}

type tokenOut struct {
	KeyID      string              `json:"kid"`
	Algorithm  string              `json:"alg"`
	BusinessID string              `json:"businessId"`
	Audience   []string            `json:"aud"`
	Query      map[string][]string `json:"query,omitempty"`
	ExpiresAt  *time.Time          `json:"exp,omitempty"`
	NotBefore  *time.Time          `json:"nbf,omitempty"`
	IssuedAt   *time.Time          `json:"iat,omitempty"`
	Issuer     string              `json:"iss,omitempty"`
	Subject    string              `json:"sub,omitempty"`
	ID         string              `json:"jti,omitempty"`
	Claims     json.RawMessage     `json:"claims"`
}

func tokenJSON(t *scopedtoken.Token) tokenOut {
	out := tokenOut{KeyID: t.KeyID(), Algorithm: t.Algorithm(), BusinessID: t.BusinessID(), Audience: t.Audience(),
		Query: t.Query().URLValues(), Issuer: t.Issuer(), Subject: t.Subject(), ID: t.ID()}
	for _, p := range []struct {
		dst **time.Time
		t   time.Time
	}{{&out.ExpiresAt, t.ExpiresAt()}, {&out.NotBefore, t.NotBefore()}, {&out.IssuedAt, t.IssuedAt()}} {
		if !p.t.IsZero() {
			u := p.t.UTC()
			*p.dst = &u
		}
	}
	_ = t.DecodeClaims(&out.Claims)
	return out
}
