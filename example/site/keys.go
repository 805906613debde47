package site

import "github.com/scopedtoken/scopedtoken/mint"

// SecretKey is a mint.KeySource holding one HMAC secret in memory,
// for a demo whose key is generated at start; a real site reads its keys
// with mint.DirKeySource or mint.EnvKeySource.
type SecretKey struct {
	ID     string
	Secret []byte
}

// SigningKey returns the secret for k.ID, with HS256.
func (k SecretKey) SigningKey(keyID string) (mint.Key, error) {
	if keyID != k.ID {
		return mint.Key{}, mint.ErrKeyNotFound
	}
	return mint.Key{Algorithm: "HS256", Secret: k.Secret}, nil
}
