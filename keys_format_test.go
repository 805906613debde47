package scopedtoken

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVerificationKeyFormatHidesMaterial: printing a key with any verb shows
// its kid and algorithm, never its secret (in any encoding fmt could choose)
// nor its key material.
func TestVerificationKeyFormatHidesMaterial(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	hs, err := NewVerificationKey(Key{ID: "k1", Algorithm: "HS256", Secret: secret})
	require.NoError(t, err)
	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	es, err := NewVerificationKey(Key{ID: "k2", Algorithm: "ES256", PublicKey: &ecPriv.PublicKey})
	require.NoError(t, err)

	forbidden := []string{
		string(secret), hex.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret),
		fmt.Sprint(secret), fmt.Sprintf("%d", secret), ecPriv.X.String(), ecPriv.X.Text(16),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q"} {
		t.Run(verb, func(t *testing.T) {
			for _, k := range []*VerificationKey{hs, es} {
				out := fmt.Sprintf(verb, k)
				assert.Contains(t, out, k.ID())
				for _, f := range forbidden {
					assert.NotContains(t, out, f)
				}
				// As a struct field too, the way a log line of a config would print it.
				out = fmt.Sprintf(verb, struct{ Key *VerificationKey }{k})
				for _, f := range forbidden {
					assert.NotContains(t, out, f)
				}
			}
		})
	}
	var nilKey *VerificationKey
	assert.Equal(t, "<nil>", fmt.Sprint(nilKey))
}
