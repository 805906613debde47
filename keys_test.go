package scopedtoken

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStaticKeysValidation(t *testing.T) {
	k := genKeys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	offCurve := &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)}
	tests := []struct {
		name string
		keys []Key
		want string // "" means valid
	}{
		{name: "one of each family", keys: []Key{
			{ID: "a", Algorithm: "HS256", Secret: testSecret},
			{ID: "b", Algorithm: "HS384", Secret: make([]byte, 48)},
			{ID: "c", Algorithm: "HS512", Secret: make([]byte, 64)},
			{ID: "d", Algorithm: "RS512", PublicKey: &k.rsa.PublicKey},
			{ID: "e", Algorithm: "PS384", PublicKey: &k.rsa.PublicKey},
			{ID: "f", Algorithm: "ES384", PublicKey: &p384.PublicKey},
			{ID: "g", Algorithm: "EdDSA", PublicKey: k.ed.Public(), BusinessID: "acme-1"},
		}},
		{name: "no keys", keys: nil, want: "no keys"},
		{name: "empty ID", keys: []Key{{Algorithm: "HS256", Secret: testSecret}}, want: "empty ID"},
		{name: "duplicate ID", keys: []Key{{ID: "a", Algorithm: "HS256", Secret: testSecret}, {ID: "a", Algorithm: "HS256", Secret: testSecret}}, want: "two keys"},
		{name: "unsupported algorithm", keys: []Key{{ID: "a", Algorithm: "none", Secret: testSecret}}, want: "unsupported algorithm"},
		{name: "algorithm in other case", keys: []Key{{ID: "a", Algorithm: "hs256", Secret: testSecret}}, want: `unsupported algorithm "hs256": names are case-sensitive; did you mean "HS256"?`},
		{name: "empty HMAC secret", keys: []Key{{ID: "a", Algorithm: "HS256"}}, want: "0 bytes"},
		{name: "HS256 secret of 31 bytes", keys: []Key{{ID: "a", Algorithm: "HS256", Secret: testSecret[:31]}}, want: "at least 32"},
		{name: "HS384 secret of 47 bytes", keys: []Key{{ID: "a", Algorithm: "HS384", Secret: make([]byte, 47)}}, want: "at least 48"},
		{name: "HS512 secret of 63 bytes", keys: []Key{{ID: "a", Algorithm: "HS512", Secret: make([]byte, 63)}}, want: "at least 64"},
		{name: "HS256 with a public key", keys: []Key{{ID: "a", Algorithm: "HS256", Secret: testSecret, PublicKey: &k.rsa.PublicKey}}, want: "not a PublicKey"},
		{name: "RS256 with a secret", keys: []Key{{ID: "a", Algorithm: "RS256", Secret: testSecret}}, want: "not a Secret"},
		{name: "RS256 with an EC key", keys: []Key{{ID: "a", Algorithm: "RS256", PublicKey: &k.ec.PublicKey}}, want: "needs an RSA key"},
		{name: "RS256 with 1024 bits", keys: []Key{{ID: "a", Algorithm: "RS256", PublicKey: &small.PublicKey}}, want: "1024 bits"},
		{name: "PS256 with 1024 bits", keys: []Key{{ID: "a", Algorithm: "PS256", PublicKey: &small.PublicKey}}, want: "1024 bits"},
		{name: "ES256 with an RSA key", keys: []Key{{ID: "a", Algorithm: "ES256", PublicKey: &k.rsa.PublicKey}}, want: "needs an ECDSA P-256"},
		{name: "ES256 with a P-384 key", keys: []Key{{ID: "a", Algorithm: "ES256", PublicKey: &p384.PublicKey}}, want: "needs curve P-256"},
		{name: "ES256 with a point off the curve", keys: []Key{{ID: "a", Algorithm: "ES256", PublicKey: offCurve}}, want: "not a valid point"},
		{name: "EdDSA with an RSA key", keys: []Key{{ID: "a", Algorithm: "EdDSA", PublicKey: &k.rsa.PublicKey}}, want: "needs an Ed25519"},
		{name: "RS256 with no key", keys: []Key{{ID: "a", Algorithm: "RS256"}}, want: "no key"},
		{name: "RS256 with a private key", keys: []Key{{ID: "a", Algorithm: "RS256", PublicKey: k.rsa}}, want: "needs an RSA key"},
		{name: "business me", keys: []Key{{ID: "a", Algorithm: "HS256", Secret: testSecret, BusinessID: "me"}}, want: "BusinessID"},
		{name: "business with a slash", keys: []Key{{ID: "a", Algorithm: "HS256", Secret: testSecret, BusinessID: "4/2"}}, want: "BusinessID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := StaticKeys(tc.keys...)
			if tc.want == "" {
				require.NoError(t, err)
				assert.NotNil(t, ks)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrBadKey)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), string(testSecret), "a secret never appears in an error")
		})
	}
}

// TestAlgorithmBinding: each key accepts exactly its own algorithm, whatever
// else its material could verify (docs/security.md).
func TestAlgorithmBinding(t *testing.T) {
	k := genKeys(t)
	claims := claimsJSON(t, validClaims())
	tests := []struct {
		name   string
		alg    string // the token's alg, and the algorithm it is signed with
		kid    string
		signer any
		reason string // "" means it passes
	}{
		{name: "HS256 key, HS256 token", alg: "HS256", kid: "hs", signer: testSecret},
		{name: "RS256 key, RS256 token", alg: "RS256", kid: "rs", signer: k.rsa},
		{name: "PS256 key, PS256 token", alg: "PS256", kid: "ps", signer: k.rsa},
		{name: "ES256 key, ES256 token", alg: "ES256", kid: "es", signer: k.ec},
		{name: "EdDSA key, EdDSA token", alg: "EdDSA", kid: "ed", signer: k.ed},
		{name: "RS256 key, PS256 token by the same key", alg: "PS256", kid: "rs", signer: k.rsa, reason: "alg_mismatch"},
		{name: "PS256 key, RS256 token by the same key", alg: "RS256", kid: "ps", signer: k.rsa, reason: "alg_mismatch"},
		{name: "RS256 key, RS512 token by the same key", alg: "RS512", kid: "rs", signer: k.rsa, reason: "alg_mismatch"},
		{name: "RS256 key, HS256 token keyed with its public key", alg: "HS256", kid: "rs",
			signer: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey), reason: "alg_mismatch"},
		{name: "HS256 key, HS512 token", alg: "HS512", kid: "hs", signer: append(append([]byte{}, testSecret...), testSecret...), reason: "alg_mismatch"},
		{name: "EdDSA key, ES256 token", alg: "ES256", kid: "ed", signer: k.ec, reason: "alg_mismatch"},
		{name: "ES256 key, wrong EC key", alg: "ES256", kid: "es", signer: mustEC(t), reason: "bad_signature"},
	}
	m := newTestMiddleware(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := signRaw(t, tc.alg, tc.signer, `{"alg":"`+tc.alg+`","kid":"`+tc.kid+`"}`, claims)
			res := serve(t, m, bearer("/v2/accounts/me/search", token))
			if tc.reason == "" {
				assert.Equal(t, http.StatusOK, res.code, res.body)
				return
			}
			assert.Equal(t, http.StatusUnauthorized, res.code)
			assert.Equal(t, tc.reason, res.reason)
			assert.False(t, res.ran)
		})
	}
}

func mustEC(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// TestSignatureEncodings: sizes that a lenient verifier would accept.
func TestSignatureEncodings(t *testing.T) {
	k := genKeys(t)
	claims := claimsJSON(t, validClaims())
	m := newTestMiddleware(t, nil)
	es := signRaw(t, "ES256", k.ec, `{"alg":"ES256","kid":"es"}`, claims)
	input, sig, _ := strings.Cut(es, ".")
	payload, sig, _ := strings.Cut(sig, ".")
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	require.NoError(t, err)
	tests := []struct {
		name string
		sig  []byte
	}{
		{name: "ECDSA signature with a leading zero byte", sig: append([]byte{0}, raw...)},
		{name: "ECDSA signature missing a byte", sig: raw[1:]},
		{name: "ECDSA r = s = 0", sig: make([]byte, 64)},
		{name: "ECDSA as ASN.1 DER", sig: derECDSA(raw)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := input + "." + payload + "." + base64.RawURLEncoding.EncodeToString(tc.sig)
			res := serve(t, m, bearer("/v2/accounts/me/search", token))
			assert.Equal(t, "bad_signature", res.reason)
			assert.False(t, res.ran)
		})
	}
}

func derECDSA(raw []byte) []byte {
	r, s := new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])
	b, _ := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	return b
}

func TestVerificationKeyCopiesSecret(t *testing.T) {
	secret := append([]byte(nil), testSecret...)
	ks, err := StaticKeys(Key{ID: "hs", Algorithm: "HS256", Secret: secret})
	require.NoError(t, err)
	secret[0] ^= 0xff
	m, err := New(Config{AllowMeWithoutBusiness: true, Keys: ks, Now: fixedClock})
	require.NoError(t, err)
	_, err = m.Verify(t.Context(), hsToken(t, validClaims()), "/v2/accounts/me/search")
	assert.NoError(t, err, "changing the caller's slice afterwards must not change the key")

	t.Run("Secret returns a copy", func(t *testing.T) {
		vk, err := ks.LookupKey(t.Context(), "hs")
		require.NoError(t, err)
		got := vk.Secret()
		assert.Equal(t, testSecret, got)
		got[0] ^= 0xff
		_, err = m.Verify(t.Context(), hsToken(t, validClaims()), "/v2/accounts/me/search")
		assert.NoError(t, err, "changing what Secret returned must not change the key")
		es, err := NewVerificationKey(Key{ID: "es", Algorithm: "ES256", PublicKey: &genKeys(t).ec.PublicKey})
		require.NoError(t, err)
		assert.Nil(t, es.Secret(), "a key with a public key has no secret")
	})
}

// TestStaticKeysCannotChange: a cache hit on a StaticKeys set skips the key
// lookup, so the set must never change once returned: it has no method that
// changes it, and even reflection cannot write the map that holds its keys.
func TestStaticKeysCannotChange(t *testing.T) {
	ks, err := StaticKeys(Key{ID: "hs", Algorithm: "HS256", Secret: testSecret})
	require.NoError(t, err)
	want, err := ks.LookupKey(t.Context(), "hs")
	require.NoError(t, err)
	v := reflect.ValueOf(ks)
	maps := []reflect.Value{v}
	if v.Kind() == reflect.Struct {
		maps = maps[:0]
		for i := range v.NumField() {
			maps = append(maps, v.Field(i))
		}
	}
	for _, mv := range maps {
		require.Equal(t, reflect.Map, mv.Kind())
		assert.Panics(t, func() { mv.SetMapIndex(reflect.ValueOf("hs"), reflect.Zero(mv.Type().Elem())) })
		assert.Panics(t, func() { mv.SetMapIndex(reflect.ValueOf("new"), reflect.ValueOf(want)) })
	}
	got, err := ks.LookupKey(t.Context(), "hs")
	require.NoError(t, err)
	assert.Same(t, want, got)
	_, err = ks.LookupKey(t.Context(), "new")
	assert.ErrorIs(t, err, ErrUnknownKID)
}

type mapKeys map[string]*VerificationKey

func (m mapKeys) LookupKey(_ context.Context, kid string) (*VerificationKey, error) {
	if k, ok := m[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKID
}

// combineTestKeys returns key a, another key with kid a, and key b.
func combineTestKeys(t testing.TB) (a, shadow, b *VerificationKey) {
	t.Helper()
	var err error
	a, err = NewVerificationKey(Key{ID: "a", Algorithm: "HS256", Secret: testSecret})
	require.NoError(t, err)
	shadow, err = NewVerificationKey(Key{ID: "a", Algorithm: "HS384", Secret: make([]byte, 48)})
	require.NoError(t, err)
	b, err = NewVerificationKey(Key{ID: "b", Algorithm: "HS256", Secret: testSecret})
	require.NoError(t, err)
	return a, shadow, b
}

func TestCombineKeys(t *testing.T) {
	a, shadow, b := combineTestKeys(t)
	tests := []struct {
		name string
		sets []KeySet
		kid  string
		want *VerificationKey
		err  error
	}{
		{name: "first set wins", sets: []KeySet{mapKeys{"a": a}, mapKeys{"a": shadow}}, kid: "a", want: a},
		{name: "second set", sets: []KeySet{mapKeys{"a": a}, mapKeys{"b": b}}, kid: "b", want: b},
		{name: "unknown everywhere", sets: []KeySet{mapKeys{"a": a}, mapKeys{"b": b}}, kid: "c", err: ErrUnknownKID},
		{name: "unknown, one set unavailable", sets: []KeySet{mapKeys{"a": a}, unavailableKeys{}}, kid: "c", err: ErrKeysUnavailable},
		{name: "known despite an unavailable set", sets: []KeySet{unavailableKeys{}, mapKeys{"a": a}}, kid: "a", want: a},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CombineKeys(tc.sets...).LookupKey(t.Context(), tc.kid)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Same(t, tc.want, got)
		})
	}
}

// wrongKeys answers every lookup with a key of another kid, or nil: a buggy
// custom KeySet must fail closed.
type wrongKeys struct{ key *VerificationKey }

func (w wrongKeys) LookupKey(context.Context, string) (*VerificationKey, error) { return w.key, nil }

func TestBuggyKeySetFailsClosed(t *testing.T) {
	other, err := NewVerificationKey(Key{ID: "other", Algorithm: "HS256", Secret: testSecret})
	require.NoError(t, err)
	for _, ks := range []KeySet{wrongKeys{}, wrongKeys{key: other}} {
		m, err := New(Config{AllowMeWithoutBusiness: true, Keys: ks, Now: fixedClock})
		require.NoError(t, err)
		_, err = m.Verify(t.Context(), hsToken(t, validClaims()), "/v2/accounts/me/search")
		assert.ErrorIs(t, err, ErrUnknownKID)
	}
}

// fetchingKeys is a KnownKeySet that holds no key until asked with
// LookupKey, which stands for a fetch and is counted.
type fetchingKeys struct {
	after   mapKeys // what a fetch would find
	fetches atomic.Int32
}

func (f *fetchingKeys) KnownKey(string) (*VerificationKey, bool) { return nil, false }

func (f *fetchingKeys) LookupKey(ctx context.Context, kid string) (*VerificationKey, error) {
	f.fetches.Add(1)
	return f.after.LookupKey(ctx, kid)
}

// knownMapKeys is mapKeys that also answers KnownKey.
type knownMapKeys struct{ mapKeys }

func (m knownMapKeys) KnownKey(kid string) (*VerificationKey, bool) {
	k, ok := m.mapKeys[kid]
	return k, ok
}

// TestCombineKeysKnownFirst: the keys every set holds now are asked before
// any set fetches; plain KeySets keep their turn; nesting keeps the order.
func TestCombineKeysKnownFirst(t *testing.T) {
	a, shadow, b := combineTestKeys(t)
	tests := []struct {
		name    string
		sets    func(f *fetchingKeys) []KeySet
		kid     string
		want    *VerificationKey
		err     error
		fetches int32
	}{
		{name: "a held kid never waits for a fetch of an earlier set", kid: "b", want: b,
			sets: func(f *fetchingKeys) []KeySet { return []KeySet{f, knownMapKeys{mapKeys{"b": b}}} }},
		{name: "a kid no set holds is fetched once", kid: "a", want: shadow, fetches: 1,
			sets: func(f *fetchingKeys) []KeySet { return []KeySet{f, knownMapKeys{mapKeys{"b": b}}} }},
		{name: "unknown after the fetch", kid: "c", err: ErrUnknownKID, fetches: 1,
			sets: func(f *fetchingKeys) []KeySet { return []KeySet{f, knownMapKeys{mapKeys{"b": b}}} }},
		{name: "a plain set first keeps its turn", kid: "a", want: a,
			sets: func(f *fetchingKeys) []KeySet { return []KeySet{mapKeys{"a": a}, knownMapKeys{mapKeys{"a": shadow}}} }},
		{name: "unavailable still reported", kid: "c", err: ErrKeysUnavailable, fetches: 1,
			sets: func(f *fetchingKeys) []KeySet { return []KeySet{f, unavailableKeys{}} }},
		{name: "nested: a held kid wins over a fetch", kid: "a", want: a,
			sets: func(f *fetchingKeys) []KeySet {
				return []KeySet{CombineKeys(f, knownMapKeys{mapKeys{"a": a}}), knownMapKeys{mapKeys{"a": shadow}}}
			}},
		{name: "nested: static keys do not wait for a nested fetch", kid: "b", want: b,
			sets: func(f *fetchingKeys) []KeySet {
				return []KeySet{CombineKeys(f), knownMapKeys{mapKeys{"b": b}}}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fetchingKeys{after: mapKeys{"a": shadow}}
			got, err := CombineKeys(tc.sets(f)...).LookupKey(t.Context(), tc.kid)
			assert.Equal(t, tc.fetches, f.fetches.Load(), "fetches")
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Same(t, tc.want, got)
		})
	}
}

// BenchmarkCombineKeys looks up a kid held by the second of two sets, the
// hot path of static keys combined with a remote set.
func BenchmarkCombineKeys(b *testing.B) {
	a, _, _ := combineTestKeys(b)
	static, err := StaticKeys(Key{ID: "b", Algorithm: "HS256", Secret: testSecret})
	require.NoError(b, err)
	ks := CombineKeys(knownMapKeys{mapKeys{"a": a}}, static)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ks.LookupKey(ctx, "b"); err != nil {
			b.Fatal(err)
		}
	}
}
