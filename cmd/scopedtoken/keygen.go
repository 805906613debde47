package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/scopedtoken/scopedtoken/internal/names"

	"github.com/MicahParks/jwkset"
	"github.com/scopedtoken/scopedtoken/mint"
)

const keygenSynopsis = `Usage: scopedtoken keygen --alg A --kid K --private-out PRIVATE [--out DIR] [--bits N]
       scopedtoken keygen --remove K [--out DIR] [--private-out PRIVATE]

Generates a signing key. Public files go to DIR (default: the current
directory), the one to publish; private files go to PRIVATE, which must be
neither DIR nor inside it, so that serving DIR never serves a private key:

  HS256/384/512     PRIVATE/K.secret   the secret (0600): a random base64url
                                       string whose bytes are the secret, as
                                       tokens use it; nothing is written to DIR
  RS*, PS*, ES*,    PRIVATE/K.pem      the private key, PKCS#8 PEM (0600)
  EdDSA, Ed25519    DIR/K.pub.pem      the public key, PKIX PEM (for verify --key)
                    DIR/jwks.json      the public JWK Set: the key is added, with
                                       kid, alg and use "sig", to the keys
                                       already there

DIR is created 0755 if missing and its files are 0644: they are public, and
the web server that publishes them may run as another user. PRIVATE is
created 0700. Ed25519 is the RFC 9864 name of EdDSA with an Ed25519 key: the
key accepts only tokens with alg "Ed25519", so mint and verify --key need
--alg Ed25519 (without it they take EdDSA).
HMAC secrets are never put in jwks.json: a JWKS is public. Existing key files
are never overwritten. The written paths are printed to stdout. PRIVATE is
what "scopedtoken mint --config ... --keys PRIVATE" reads (K.pem / K.secret).

--remove K ends a rotation: it takes the key K out of DIR/jwks.json and
deletes DIR/K.pub.pem and, with --private-out, PRIVATE/K.pem. It refuses a
kid the set does not hold and the set's last key. Remove a key only once every
token signed with it has expired and verifiers have fetched the new set
(docs/keys.md, "Rotating keys"). A leaked key is removed at once and cut
off with "scopedtoken revoke --kid K --before T", T in the future: its
holder chooses the iat of the tokens it forges.
`

// hmacBytes is how much randomness each HMAC secret gets: the hash size.
var hmacBytes = map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}

func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen")
	alg := fs.String("alg", "", "algorithm: HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512, EdDSA or Ed25519 (required)")
	kid := fs.String("kid", "", "key ID, also the file name: letters, digits, '-', '_', '.' (required)")
	out := fs.String("out", ".", "directory of the public files, the one to publish (created 0755 if missing)")
	privateOut := fs.String("private-out", "", "directory of the private key or secret, outside --out (required; created 0700 if missing)")
	bits := fs.Int("bits", 2048, "RSA modulus size for RS*/PS*: 2048, 3072 or 4096")
	remove := fs.String("remove", "", "remove the key with this kid from --out's jwks.json (and its files) instead of generating one")
	rest, err := parseFlags(fs, args, keygenSynopsis, stdout)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usagef("unexpected argument %q", rest[0])
	case *remove != "" && (*alg != "" || *kid != ""):
		return usagef("--remove takes no --alg or --kid: it removes a key, it does not make one")
	case *remove != "":
		return removeKey(*out, *privateOut, *remove, stdout, stderr)
	case *alg == "":
		return usagef("--alg is required")
	case *kid == "":
		return usagef("--kid is required")
	case !names.PlainFileName(*kid):
		return usagef("--kid %q must be a plain file name: letters, digits, '-', '_' and '.', not starting with '.'", *kid)
	case *bits != 2048 && *bits != 3072 && *bits != 4096:
		return usagef("--bits must be 2048, 3072 or 4096")
	case *privateOut == "":
		return usagef("--private-out is required: the directory of the private key or secret, outside --out (which is published)")
	}
	if inside, err := within(*privateOut, *out); err != nil {
		return err
	} else if inside {
		return usagef("--private-out %q is --out %q or inside it; --out holds what is published, so keep private keys elsewhere", *privateOut, *out)
	}
	if n, ok := hmacBytes[*alg]; ok {
		return writeSecret(*privateOut, *kid, n, stdout, stderr)
	}
	key, err := generate(*alg, *bits)
	if err != nil {
		return err
	}
	if err := writeKeyPair(*out, *privateOut, *kid, *alg, key, stdout); err != nil {
		return err
	}
	warnPrivateFiles(*out, stderr)
	return nil
}

// within reports whether dir is parent or inside it, after resolving both to
// absolute paths with their symbolic links (as far as they exist).
func within(dir, parent string) (bool, error) {
	d, err := resolve(dir)
	if err != nil {
		return false, err
	}
	p, err := resolve(parent)
	if err != nil {
		return false, err
	}
	rel, err := filepath.Rel(p, d)
	if err != nil {
		return false, nil // on another volume
	}
	return rel == "." || rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)), nil
}

// resolve returns the absolute form of path with the symbolic links of its
// longest existing ancestor resolved.
func resolve(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	var missing []string
	for {
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			return filepath.Join(append([]string{real}, missing...)...), nil
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return filepath.Join(append([]string{abs}, missing...)...), nil
		}
		missing = append([]string{filepath.Base(abs)}, missing...)
		abs = parent
	}
}

// warnPrivateFiles warns about private key files that an older keygen (which
// wrote everything to --out) left in the directory that is published.
func warnPrivateFiles(dir string, stderr io.Writer) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var found []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".secret") || strings.HasSuffix(name, ".pem") && !strings.HasSuffix(name, ".pub.pem") {
			found = append(found, name)
		}
	}
	if len(found) > 0 {
		fmt.Fprintf(stderr, "warning: %s, the directory to publish, holds private key files (%s); move them to the --private-out directory before serving it\n", dir, strings.Join(found, ", "))
	}
}

func generate(alg string, bits int) (crypto.Signer, error) {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return rsa.GenerateKey(rand.Reader, bits)
	case "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ES512":
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "EdDSA", "Ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, usagef("unsupported --alg %q", alg)
}

func writeSecret(dir, kid string, n int, stdout, stderr io.Writer) error {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	path := filepath.Join(dir, kid+".secret")
	if err := mkdir(dir, privateDirPerm); err != nil {
		return err
	}
	if err := writeNew(path, []byte(base64.RawURLEncoding.EncodeToString(b)), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Wrote the secret of %q. It is not published in a JWKS: give the verifier the same secret, for example as %s%s, which mint and verify read when no key flag is given.\n", kid, mint.EnvSecretPrefix, mint.EnvKeyName(kid))
	fmt.Fprintln(stdout, path)
	return nil
}

func writeKeyPair(dir, privateDir, kid, alg string, key crypto.Signer, stdout io.Writer) error {
	privDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding the private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return fmt.Errorf("encoding the public key: %w", err)
	}
	jwksPath := filepath.Join(dir, "jwks.json")
	jwks, err := addToJWKS(jwksPath, kid, alg, key.Public())
	if err != nil {
		return err
	}
	privPath := filepath.Join(privateDir, kid+".pem")
	pubPath := filepath.Join(dir, kid+".pub.pem")
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s already exists; keys are never overwritten", p)
		}
	}
	if err := mkdir(dir, publicDirPerm); err != nil {
		return err
	}
	if err := mkdir(privateDir, privateDirPerm); err != nil {
		return err
	}
	if err := writeNew(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		return err
	}
	if err := writeNew(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return err
	}
	if err := replaceFile(jwksPath, jwks, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n%s\n%s\n", privPath, pubPath, jwksPath)
	return nil
}

// jwkSet is a JWK Set (RFC 7517 section 5) whose keys are kept as written,
// so that keygen rewrites the members it does not know unchanged.
type jwkSet struct {
	Keys []json.RawMessage `json:"keys"`
}

// readJWKS reads the JWK Set at path; a missing file is an empty set when
// missingOK, else an error.
func readJWKS(path string, missingOK bool) (jwkSet, error) {
	set := jwkSet{Keys: []json.RawMessage{}}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &set); err != nil || set.Keys == nil {
			return set, fmt.Errorf("%s exists but is not a JWK Set ({\"keys\": [...]}); move it away first", path)
		}
	case missingOK && errors.Is(err, fs.ErrNotExist):
	default:
		return set, err
	}
	return set, nil
}

// jwkKID returns the kid of one key of a set ("" if it has none).
func jwkKID(raw json.RawMessage) string {
	var k struct {
		KID string `json:"kid"`
	}
	_ = json.Unmarshal(raw, &k)
	return k.KID
}

// marshalJWKS formats a set as keygen writes jwks.json.
func marshalJWKS(set jwkSet) ([]byte, error) {
	out, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// addToJWKS returns the JWK Set at path (or an empty one) with the public key
// added, refusing a kid it already has.
func addToJWKS(path, kid, alg string, pub crypto.PublicKey) ([]byte, error) {
	set, err := readJWKS(path, true)
	if err != nil {
		return nil, err
	}
	for _, raw := range set.Keys {
		if jwkKID(raw) == kid {
			return nil, fmt.Errorf("%s already has a key with kid %q", path, kid)
		}
	}
	// jwkset refuses any alg but EdDSA for an Ed25519 key, so the RFC 9864
	// name is written into the JWK after it is built.
	built := jwkset.ALG(alg)
	if alg == "Ed25519" {
		built = jwkset.AlgEdDSA
	}
	jwk, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: built, USE: jwkset.UseSig},
	})
	if err != nil {
		return nil, fmt.Errorf("building the JWK: %w", err)
	}
	m := jwk.Marshal()
	m.ALG = jwkset.ALG(alg)
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	set.Keys = append(set.Keys, raw)
	return marshalJWKS(set)
}

// The modes of the directories keygen creates: --out holds what is published
// (a web server running as another user must read it), --private-out what
// only the owner may read.
const (
	publicDirPerm  os.FileMode = 0o755
	privateDirPerm os.FileMode = 0o700
)

// mkdir creates dir, and its missing parents, with perm. The mode is set
// explicitly on every directory it creates, so that a umask cannot make the
// published directory (or a parent keygen made for it) unreadable to the web
// server; an existing directory keeps the mode its owner gave it.
func mkdir(dir string, perm os.FileMode) error {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		missing = append(missing, d)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if err := os.Mkdir(d, perm); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("creating %s: %w", dir, err)
		} else if err == nil {
			if err := os.Chmod(d, perm); err != nil {
				return fmt.Errorf("creating %s: %w", dir, err)
			}
		}
	}
	return nil
}

// writeNew creates path with perm, failing if it exists, so that a key is
// never overwritten and the mode is set from the start.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists; keys are never overwritten", path)
		}
		return err
	}
	// The mode is set explicitly: a umask must not make a public file
	// unreadable to the web server that publishes it.
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// replaceFile writes path through a temporary file and a rename, so that a
// server reading jwks.json never sees half of it.
func replaceFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".jwks-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, bytes.NewReader(data)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
