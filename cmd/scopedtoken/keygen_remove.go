package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/scopedtoken/scopedtoken/internal/names"
)

// removeKey takes the key kid out of DIR/jwks.json, the last step of a
// rotation (docs/keys.md, "Rotating keys"), and deletes its public PEM from
// dir and, when privateDir is given, its private key from there. It refuses a
// kid the set does not hold and the set's last key: an empty set verifies no
// token at all, which is never what a rotation wants. The set is rewritten
// before any file is deleted, so that a failure leaves the key published
// rather than a published kid without its files.
func removeKey(dir, privateDir, kid string, stdout, stderr io.Writer) error {
	if !names.PlainFileName(kid) {
		return usagef("--remove %q must be a plain file name: letters, digits, '-', '_' and '.', not starting with '.'", kid)
	}
	jwksPath := filepath.Join(dir, "jwks.json")
	set, err := readJWKS(jwksPath, false)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s does not exist; --remove takes a key out of the JWK Set that --out holds", jwksPath)
	} else if err != nil {
		return err
	}
	kept := jwkSet{Keys: []json.RawMessage{}}
	for _, raw := range set.Keys {
		if jwkKID(raw) != kid {
			kept.Keys = append(kept.Keys, raw)
		}
	}
	switch {
	case len(kept.Keys) == len(set.Keys):
		return fmt.Errorf("%s has no key with kid %q; nothing is removed", jwksPath, kid)
	case len(kept.Keys) == 0:
		return fmt.Errorf("%q is the last key of %s; add its successor first (keygen --alg ... --kid NEW), then remove it", kid, jwksPath)
	}
	data, err := marshalJWKS(kept)
	if err != nil {
		return err
	}
	if err := replaceFile(jwksPath, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintln(stdout, jwksPath)
	files := []string{filepath.Join(dir, kid+".pub.pem")}
	if privateDir != "" {
		files = append(files, filepath.Join(privateDir, kid+".pem"))
	}
	for _, p := range files {
		switch err := os.Remove(p); {
		case err == nil:
			fmt.Fprintf(stdout, "removed %s\n", p)
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
	}
	fmt.Fprintf(stderr, "Removed %q from %s. Verifiers that fetched the set keep the key until their next fetch "+
		"(jwks.Config.RefreshInterval, or sooner as the response's Cache-Control asks; jwks.Set.Refresh fetches now); "+
		"for a leaked key, also run scopedtoken revoke --kid %s --before a time in the future (docs/keys.md).\n", kid, jwksPath, kid)
	return nil
}
