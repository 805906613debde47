package alg_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/alg"
	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// These tests run the signature checks against C2SP Wycheproof. Every case of
// every file is either run or skipped with a counted reason, and the number of
// cases run is asserted. The JWS and JWK files, which need the whole
// middleware, are run by the root package's tests.

func mustLookup(t *testing.T, name string) *alg.Spec {
	t.Helper()
	s, ok := alg.Lookup(name)
	require.True(t, ok, name)
	return s
}

// wpSigFile is the shape shared by the raw-signature files.
type wpSigFile struct {
	TestGroups []struct {
		Type         string `json:"type"`
		SHA          string `json:"sha"`
		PublicKeyDer string `json:"publicKeyDer"`
		PublicKey    struct {
			PK string `json:"pk"`
		} `json:"publicKey"`
		KeySize int `json:"keySize"`
		TagSize int `json:"tagSize"`
		SLen    int `json:"sLen"`
		MGFSHA  string
		Tests   []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			Key     string   `json:"key"`
			Msg     string   `json:"msg"`
			Sig     string   `json:"sig"`
			Tag     string   `json:"tag"`
			Result  string   `json:"result"`
			Flags   []string `json:"flags"`
		} `json:"tests"`
	} `json:"testGroups"`
}

func unhexT(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// TestWycheproofSignatures runs the raw-signature files through the key
// checks and the Verifier that every verification key uses, with the message
// bytes as the signing input.
func TestWycheproofSignatures(t *testing.T) {
	files := []struct {
		name, alg, sha string
		wantRun        int
		wantSkipped    map[string]int
	}{
		{name: "ecdsa_secp256r1_sha256_p1363_test.json", alg: "ES256", sha: "SHA-256", wantRun: 262},
		{name: "ecdsa_secp384r1_sha384_p1363_test.json", alg: "ES384", sha: "SHA-384", wantRun: 280},
		{name: "rsa_signature_2048_sha256_test.json", alg: "RS256", sha: "SHA-256", wantRun: 259},
		{name: "rsa_pss_2048_sha256_mgf1_32_test.json", alg: "PS256", sha: "SHA-256", wantRun: 108},
		{name: "ed25519_test.json", alg: "EdDSA", wantRun: 151},
		{name: "ed25519_test.json", alg: "Ed25519", wantRun: 151},
	}
	for _, file := range files {
		t.Run(file.alg, func(t *testing.T) {
			var f wpSigFile
			testkit.Wycheproof(t, file.name, &f)
			var tally testkit.Tally
			for _, g := range f.TestGroups {
				if file.sha != "" && g.SHA != file.sha {
					tally.Skip("hash differs from the JWS algorithm's")
					continue
				}
				if file.alg == "PS256" {
					// RFC 7518 §3.5: the salt is as long as the hash.
					require.Equal(t, 32, g.SLen)
				}
				var pub any
				if file.alg == "EdDSA" || file.alg == "Ed25519" {
					pub = ed25519.PublicKey(unhexT(t, g.PublicKey.PK))
				} else {
					var err error
					pub, err = x509.ParsePKIXPublicKey(unhexT(t, g.PublicKeyDer))
					require.NoError(t, err)
				}
				var vk alg.Verifier
				require.NoError(t, vk.Init(mustLookup(t, file.alg), nil, pub), "group key must be accepted")
				for _, tc := range g.Tests {
					tally.Run++
					got := vk.Verify(unhexT(t, tc.Msg), unhexT(t, tc.Sig))
					switch tc.Result {
					case "valid":
						assert.True(t, got, "tcId %d (%s %v): must verify", tc.TcID, tc.Comment, tc.Flags)
					case "invalid":
						assert.False(t, got, "tcId %d (%s %v): must be refused", tc.TcID, tc.Comment, tc.Flags)
					default:
						// "acceptable" (one RS256 case: DigestInfo without
						// the NULL parameter). Decided: refused, the strict
						// reading.
						assert.False(t, got, "tcId %d (%s %v): acceptable case, refused by choice", tc.TcID, tc.Comment, tc.Flags)
					}
				}
			}
			tally.Report(t, file.wantRun, file.wantSkipped)
		})
	}
}

// TestWycheproofHMAC runs HMAC-SHA256 through HS256 keys. Only full 256-bit
// tags are JWS signatures; keys shorter than 32 bytes are refused by key
// validation by design, which the test asserts instead of running them.
func TestWycheproofHMAC(t *testing.T) {
	var f wpSigFile
	testkit.Wycheproof(t, "hmac_sha256_test.json", &f)
	var tally testkit.Tally
	refusedAtKey := 0
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			if g.TagSize != 256 {
				tally.Skip("truncated tag (JWS HS256 uses the full 256-bit tag)")
				continue
			}
			key := unhexT(t, tc.Key)
			var vk alg.Verifier
			err := vk.Init(mustLookup(t, "HS256"), key, nil)
			if len(key) < 32 {
				assert.ErrorContains(t, err, "at least 32", "tcId %d: a %d-byte secret must be refused", tc.TcID, len(key))
				refusedAtKey++
				continue
			}
			require.NoError(t, err)
			tally.Run++
			got := vk.Verify(unhexT(t, tc.Msg), unhexT(t, tc.Tag))
			assert.Equal(t, tc.Result == "valid", got, "tcId %d (%s %v)", tc.TcID, tc.Comment, tc.Flags)
		}
	}
	t.Logf("refused at key validation (secret shorter than 32 bytes): %d", refusedAtKey)
	assert.Equal(t, 3, refusedAtKey)
	tally.Report(t, 84, map[string]int{"truncated tag (JWS HS256 uses the full 256-bit tag)": 87})
}

// TestWycheproofPSSSaltLength signs PS256 with salt lengths other than the
// hash length. RFC 7518 §3.5 fixes the salt at 32 bytes for PS256; libraries
// that auto-detect the salt accept these, the package must not.
func TestWycheproofPSSSaltLength(t *testing.T) {
	priv := testkit.Keys(t).RSA
	var vk alg.Verifier
	require.NoError(t, vk.Init(mustLookup(t, "PS256"), nil, &priv.PublicKey))
	msg := []byte("header.payload")
	digest := sha256.Sum256(msg)
	tests := []struct {
		name string
		salt int
		want bool
	}{
		{name: "hash length", salt: 32, want: true},
		{name: "zero", salt: 0, want: false},
		{name: "20 bytes", salt: 20, want: false},
		{name: "64 bytes", salt: 64, want: false},
		{name: "maximum", salt: rsa.PSSSaltLengthAuto, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := rsa.SignPSS(rand.Reader, priv, 0x5 /* crypto.SHA256 */, digest[:], &rsa.PSSOptions{SaltLength: tt.salt})
			require.NoError(t, err)
			assert.Equal(t, tt.want, vk.Verify(msg, sig))
		})
	}
}
