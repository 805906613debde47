package mint

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/scopedtoken/scopedtoken/internal/names"
)

// KeySource finds signing keys by key ID, for token specs: where minting
// reads its keys, unlike scopedtoken.TokenSource, where the middleware finds
// a request's token. Implementations
// return a Key with either Secret or PrivateKey set (ID and Algorithm
// may be left empty: the caller fills in the ID, and the algorithm comes from
// the spec or DefaultAlgorithm), or an error wrapping ErrKeyNotFound
// when there is no such key. Errors must never contain key material.
type KeySource interface {
	SigningKey(keyID string) (Key, error)
}

// ErrKeyNotFound is wrapped by a KeySource's error when it has no key with
// the requested ID. It is minting's; a verifier that has no key for a
// token's kid refuses the token with scopedtoken.ErrUnknownKID.
var ErrKeyNotFound = errors.New("mint: signing key not found")

// DirKeySource is a directory of signing keys, one file per key ID:
// "<keyId>.pem" holds a private key in PEM (read with ParsePrivateKeyPEM, so
// copy-paste damage is repaired) and "<keyId>.secret" an HMAC secret, whose
// bytes are the secret exactly as written, less one final line ending ("\n"
// or "\r\n") that editors add. Both files for one ID is an error, as is a key
// ID that is not a plain file name (letters, digits, '-', '_' and '.', not
// starting with '.'). This is the layout of the private directory that
// "scopedtoken keygen --private-out DIR" writes (its public files, jwks.json
// and <keyId>.pub.pem, go to another directory, --out).
type DirKeySource string

// SigningKey reads the key file of keyID.
func (d DirKeySource) SigningKey(keyID string) (Key, error) {
	if !names.PlainFileName(keyID) {
		return Key{}, fmt.Errorf("key ID %q cannot name a key file: use letters, digits, '-', '_' and '.', not starting with '.'", keyID)
	}
	pemPath := filepath.Join(string(d), keyID+".pem")
	secretPath := filepath.Join(string(d), keyID+".secret")
	pemData, pemErr := os.ReadFile(pemPath)
	secret, secretErr := os.ReadFile(secretPath)
	for _, err := range []error{pemErr, secretErr} {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Key{}, fmt.Errorf("reading the key of %q: %w", keyID, err)
		}
	}
	switch {
	case pemErr == nil && secretErr == nil:
		return Key{}, fmt.Errorf("key %q: both %s and %s exist; keep only one", keyID, pemPath, secretPath)
	case pemErr == nil:
		return privateKey(keyID, pemPath, pemData)
	case secretErr == nil:
		secret = trimLineEnding(secret)
		if len(secret) == 0 {
			return Key{}, fmt.Errorf("key %q: %s is empty", keyID, secretPath)
		}
		return Key{ID: keyID, Secret: secret}, nil
	}
	return Key{}, fmt.Errorf("%w: %q (looked for %s and %s)", ErrKeyNotFound, keyID, pemPath, secretPath)
}

// EnvKeySource reads signing keys from environment variables. For a key ID,
// the name is the ID with every character other than an ASCII letter, digit
// or '_' replaced by '_' (case is kept), after one of two prefixes:
//
//	SCOPEDTOKEN_KEY_<ID>     a private key in PEM (ParsePrivateKeyPEM; literal
//	                         "\n" sequences from .env files are repaired)
//	SCOPEDTOKEN_SECRET_<ID>  an HMAC secret, used as the raw bytes of the
//	                         value: a 32-character hex-looking secret is 32
//	                         bytes, never 16 decoded ones
//
// so key ID "y0M8-ZSA.v1" reads SCOPEDTOKEN_SECRET_y0M8_ZSA_v1. Both variables
// set for one ID is an error, and so are two key IDs of one spec file that map
// to the same name (LoadSpecs checks).
type EnvKeySource struct {
	// Lookup reads a variable. Default os.LookupEnv.
	Lookup func(name string) (string, bool)
}

// Prefixes of the variables EnvKeySource reads.
const (
	EnvKeyPrefix    = "SCOPEDTOKEN_KEY_"
	EnvSecretPrefix = "SCOPEDTOKEN_SECRET_"
)

// EnvKeyName returns the part of the variable names that stands for keyID.
func EnvKeyName(keyID string) string {
	b := []byte(keyID)
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// SigningKey reads the variables of keyID.
func (e EnvKeySource) SigningKey(keyID string) (Key, error) {
	lookup := e.Lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	name := EnvKeyName(keyID)
	keyVar, secretVar := EnvKeyPrefix+name, EnvSecretPrefix+name
	pemText, hasPEM := lookup(keyVar)
	secret, hasSecret := lookup(secretVar)
	switch {
	case hasPEM && hasSecret:
		return Key{}, fmt.Errorf("key %q: both %s and %s are set; keep only one", keyID, keyVar, secretVar)
	case hasPEM:
		return privateKey(keyID, keyVar, []byte(pemText))
	case hasSecret:
		if secret == "" {
			return Key{}, fmt.Errorf("key %q: %s is empty", keyID, secretVar)
		}
		return Key{ID: keyID, Secret: []byte(secret)}, nil
	}
	return Key{}, fmt.Errorf("%w: %q (set %s to a PEM private key or %s to a secret)", ErrKeyNotFound, keyID, keyVar, secretVar)
}

func privateKey(keyID, where string, data []byte) (Key, error) {
	signer, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return Key{}, fmt.Errorf("key %q in %s: %w", keyID, where, err)
	}
	return Key{ID: keyID, PrivateKey: signer}, nil
}

// checkKeyNames refuses a spec file whose distinct key IDs would read the same
// environment variables.
func checkKeyNames(src KeySource, specs []Spec) error {
	switch src.(type) {
	case EnvKeySource, *EnvKeySource:
	default:
		return nil
	}
	byName := map[string]string{}
	for _, s := range specs {
		name := EnvKeyName(s.KeyID)
		if other, ok := byName[name]; ok && other != s.KeyID {
			return fmt.Errorf("%w: key IDs %q and %q both read the variables *_%s; rename one", ErrSpec, other, s.KeyID, name)
		}
		byName[name] = s.KeyID
	}
	return nil
}

func trimLineEnding(b []byte) []byte {
	if b2, ok := bytes.CutSuffix(b, []byte("\r\n")); ok {
		return b2
	}
	b, _ = bytes.CutSuffix(b, []byte("\n"))
	return b
}
