package site

import "github.com/scopedtoken/scopedtoken"

// SecretKey is a scopedtoken.SigningKeySource holding one HMAC secret in memory,
// for a demo whose key is generated at start; a real site reads its keys
// with scopedtoken.DirKeySource or scopedtoken.EnvKeySource.
type SecretKey struct {
	ID     string
	Secret []byte
}

// SigningKey returns the secret for k.ID, with HS256.
func (k SecretKey) SigningKey(keyID string) (scopedtoken.SigningKey, error) {
	if keyID != k.ID {
		return scopedtoken.SigningKey{}, scopedtoken.ErrKeyNotFound
	}
	return scopedtoken.SigningKey{Algorithm: "HS256", Secret: k.Secret}, nil
}
