package mint

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pemTestKeys holds keys generated once per test binary; private keys are
// never checked in.
type pemTestKeys struct {
	rsa                       *rsa.PrivateKey
	p256, p384, p521          *ecdsa.PrivateKey
	ed                        ed25519.PrivateKey
	x25519                    *ecdh.PrivateKey
	rsaCert, p256Cert, edCert string
}

var pemTestKeysOnce = sync.OnceValues(func() (*pemTestKeys, error) {
	k := &pemTestKeys{}
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		dst   **ecdsa.PrivateKey
		curve elliptic.Curve
	}{{&k.p256, elliptic.P256()}, {&k.p384, elliptic.P384()}, {&k.p521, elliptic.P521()}} {
		if *c.dst, err = ecdsa.GenerateKey(c.curve, rand.Reader); err != nil {
			return nil, err
		}
	}
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		return nil, err
	}
	if k.x25519, err = ecdh.X25519().GenerateKey(rand.Reader); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		dst *string
		key crypto.Signer
	}{{&k.rsaCert, k.rsa}, {&k.p256Cert, k.p256}, {&k.edCert, k.ed}} {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "scopedtoken test"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, c.key.Public(), c.key)
		if err != nil {
			return nil, err
		}
		*c.dst = pemTestEncode("CERTIFICATE", der)
	}
	return k, nil
})

func pemTestSetup(t *testing.T) *pemTestKeys {
	t.Helper()
	k, err := pemTestKeysOnce()
	require.NoError(t, err)
	return k
}

func pemTestEncode(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func pemTestPKCS8(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pemTestEncode("PRIVATE KEY", der)
}

func pemTestSEC1(t *testing.T, key *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return pemTestEncode("EC PRIVATE KEY", der)
}

func pemTestPKIX(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	require.NoError(t, err)
	return pemTestEncode("PUBLIC KEY", der)
}

func pemTestPKCS1(key *rsa.PrivateKey) string {
	return pemTestEncode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))
}

func pemTestRandom(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// pemTestFakePKCS8 builds a well-formed PKCS#8 wrapper around random bytes,
// enough to exercise algorithm detection for key types Go cannot generate.
func pemTestFakePKCS8(t *testing.T, oid asn1.ObjectIdentifier) string {
	t.Helper()
	inner, err := asn1.Marshal(pemTestRandom(t, 32))
	require.NoError(t, err)
	der, err := asn1.Marshal(struct {
		Version int
		Algo    pkix.AlgorithmIdentifier
		Key     []byte
	}{0, pkix.AlgorithmIdentifier{Algorithm: oid}, inner})
	require.NoError(t, err)
	return pemTestEncode("PRIVATE KEY", der)
}

// pemTestBody returns the base64 body lines of a clean PEM.
func pemTestBody(p string) []string {
	var body []string
	for _, line := range strings.Split(strings.TrimSpace(p), "\n") {
		if !strings.HasPrefix(line, "-----") {
			body = append(body, line)
		}
	}
	return body
}

// pemTestReplaceLine swaps body line n (1-based) of a clean PEM.
func pemTestReplaceLine(p string, n int, edit func(string) string) string {
	lines := strings.Split(p, "\n")
	lines[n] = edit(lines[n])
	return strings.Join(lines, "\n")
}

func pemTestParsePrivate(b []byte) (any, error) { return ParsePrivateKeyPEM(b) }
func pemTestParsePublic(b []byte) (any, error)  { return ParsePublicKeyPEM(b) }

func pemTestAssertSame(t *testing.T, want, got any) {
	t.Helper()
	require.IsType(t, want, got)
	switch w := want.(type) {
	case interface{ Equal(crypto.PrivateKey) bool }:
		assert.True(t, w.Equal(got), "parsed private key differs from the original")
	case interface{ Equal(crypto.PublicKey) bool }:
		assert.True(t, w.Equal(got), "parsed public key differs from the original")
	default:
		t.Fatalf("cannot compare %T", want)
	}
}

func TestParsePrivateKeyPEM(t *testing.T) {
	k := pemTestSetup(t)
	tests := []struct {
		name string
		pem  string
		want crypto.Signer
	}{
		{name: "RSA PKCS#1", pem: pemTestPKCS1(k.rsa), want: k.rsa},
		{name: "RSA PKCS#8", pem: pemTestPKCS8(t, k.rsa), want: k.rsa},
		{name: "P-256 SEC 1", pem: pemTestSEC1(t, k.p256), want: k.p256},
		{name: "P-256 PKCS#8", pem: pemTestPKCS8(t, k.p256), want: k.p256},
		{name: "P-384 SEC 1", pem: pemTestSEC1(t, k.p384), want: k.p384},
		{name: "P-384 PKCS#8", pem: pemTestPKCS8(t, k.p384), want: k.p384},
		{name: "P-521 SEC 1", pem: pemTestSEC1(t, k.p521), want: k.p521},
		{name: "P-521 PKCS#8", pem: pemTestPKCS8(t, k.p521), want: k.p521},
		{name: "Ed25519 PKCS#8", pem: pemTestPKCS8(t, k.ed), want: k.ed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrivateKeyPEM([]byte(tt.pem))
			require.NoError(t, err)
			pemTestAssertSame(t, tt.want, got)
		})
	}
}

func TestParsePublicKeyPEM(t *testing.T) {
	k := pemTestSetup(t)
	tests := []struct {
		name string
		pem  string
		want crypto.PublicKey
	}{
		{name: "RSA PKIX", pem: pemTestPKIX(t, &k.rsa.PublicKey), want: &k.rsa.PublicKey},
		{name: "RSA PKCS#1", pem: pemTestEncode("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)), want: &k.rsa.PublicKey},
		{name: "RSA certificate", pem: k.rsaCert, want: &k.rsa.PublicKey},
		{name: "P-256 PKIX", pem: pemTestPKIX(t, &k.p256.PublicKey), want: &k.p256.PublicKey},
		{name: "P-384 PKIX", pem: pemTestPKIX(t, &k.p384.PublicKey), want: &k.p384.PublicKey},
		{name: "P-521 PKIX", pem: pemTestPKIX(t, &k.p521.PublicKey), want: &k.p521.PublicKey},
		{name: "P-256 certificate", pem: k.p256Cert, want: &k.p256.PublicKey},
		{name: "Ed25519 PKIX", pem: pemTestPKIX(t, k.ed.Public()), want: k.ed.Public()},
		{name: "Ed25519 certificate", pem: k.edCert, want: k.ed.Public()},
		{name: "public half of RSA PKCS#1 private key", pem: pemTestPKCS1(k.rsa), want: &k.rsa.PublicKey},
		{name: "public half of P-384 SEC 1 private key", pem: pemTestSEC1(t, k.p384), want: &k.p384.PublicKey},
		{name: "public half of Ed25519 PKCS#8 private key", pem: pemTestPKCS8(t, k.ed), want: k.ed.Public()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePublicKeyPEM([]byte(tt.pem))
			require.NoError(t, err)
			pemTestAssertSame(t, tt.want, got)
		})
	}
}

func TestParsePEMRepairs(t *testing.T) {
	k := pemTestSetup(t)
	fixtures := []struct {
		name  string
		pem   string
		parse func([]byte) (any, error)
		want  any
	}{
		{name: "RSA PKCS#1 private", pem: pemTestPKCS1(k.rsa), parse: pemTestParsePrivate, want: k.rsa},
		{name: "P-256 SEC 1 private", pem: pemTestSEC1(t, k.p256), parse: pemTestParsePrivate, want: k.p256},
		{name: "Ed25519 PKCS#8 private", pem: pemTestPKCS8(t, k.ed), parse: pemTestParsePrivate, want: k.ed},
		{name: "P-384 PKIX public", pem: pemTestPKIX(t, &k.p384.PublicKey), parse: pemTestParsePublic, want: &k.p384.PublicKey},
		{name: "RSA certificate", pem: k.rsaCert, parse: pemTestParsePublic, want: &k.rsa.PublicKey},
	}
	jsonString := func(p string) string {
		b, err := json.Marshal(p)
		require.NoError(t, err)
		return string(b)
	}
	eachLine := func(p string, edit func(string) string) string {
		lines := strings.Split(strings.TrimSuffix(p, "\n"), "\n")
		for i := range lines {
			lines[i] = edit(lines[i])
		}
		return strings.Join(lines, "\n") + "\n"
	}
	mangles := []struct {
		name   string
		mangle func(string) string
	}{
		{name: "literal \\n escapes", mangle: func(p string) string { return strings.ReplaceAll(p, "\n", `\n`) }},
		{name: "literal \\r\\n escapes", mangle: func(p string) string { return strings.ReplaceAll(p, "\n", `\r\n`) }},
		{name: "CRLF line endings", mangle: func(p string) string { return strings.ReplaceAll(p, "\n", "\r\n") }},
		{name: "lone CR line endings", mangle: func(p string) string { return strings.ReplaceAll(p, "\n", "\r") }},
		{name: "indented with spaces", mangle: func(p string) string {
			return eachLine(p, func(l string) string { return "    " + l })
		}},
		{name: "tabs and trailing spaces", mangle: func(p string) string {
			return eachLine(p, func(l string) string { return "\t" + l + " \t " })
		}},
		{name: "blank lines and surrounding whitespace", mangle: func(p string) string {
			return "\n \n\t" + strings.ReplaceAll(p, "\n", "\n\n") + "  \n\n"
		}},
		{name: "JSON string", mangle: jsonString},
		{name: "JSON string with trailing comma", mangle: func(p string) string { return "  " + jsonString(p) + ",\n" }},
		{name: "JSON string with escaped slashes", mangle: func(p string) string {
			return strings.ReplaceAll(jsonString(p), "/", `\/`) + ","
		}},
		{name: "single quoted", mangle: func(p string) string { return "'" + p + "'" }},
		{name: "body on the BEGIN line", mangle: func(p string) string { return strings.Replace(p, "-----\n", "-----", 1) }},
		{name: "one line with spaces", mangle: func(p string) string {
			return strings.ReplaceAll(strings.TrimSpace(p), "\n", " ")
		}},
		{name: "one line without separators", mangle: func(p string) string { return strings.ReplaceAll(p, "\n", "") }},
		{name: "body wrapped at 40 columns", mangle: func(p string) string {
			body := strings.Join(pemTestBody(p), "")
			lines := strings.Split(strings.TrimSpace(p), "\n")
			out := lines[0] + "\n"
			for len(body) > 0 {
				n := min(40, len(body))
				out, body = out+body[:n]+"\n", body[n:]
			}
			return out + lines[len(lines)-1] + "\n"
		}},
		{name: "openssl text around the block", mangle: func(p string) string {
			return "Bag Attributes\n    localKeyID: 01 02 03\nsubject=/CN=test\n" + p + "some trailing note\n"
		}},
		{name: "indented CRLF escaped JSON with trailing comma", mangle: func(p string) string {
			p = eachLine(p, func(l string) string { return "  " + l })
			return "\t" + jsonString(strings.ReplaceAll(p, "\n", "\r\n")) + ",\r\n"
		}},
	}
	for _, f := range fixtures {
		for _, m := range mangles {
			t.Run(f.name+"/"+m.name, func(t *testing.T) {
				input := m.mangle(f.pem)
				require.False(t, input == f.pem, "mangle changed nothing")
				got, err := f.parse([]byte(input))
				require.NoError(t, err)
				pemTestAssertSame(t, f.want, got)
			})
		}
	}
}

func TestParsePEMMultipleBlocks(t *testing.T) {
	k := pemTestSetup(t)
	p256Params, err := asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7})
	require.NoError(t, err)
	pkcs8RSA, err := x509.MarshalPKCS8PrivateKey(k.rsa)
	require.NoError(t, err)
	tests := []struct {
		name  string
		input string
		parse func([]byte) (any, error)
		want  any
	}{
		{name: "private key then its certificate", input: pemTestPKCS8(t, k.p256) + k.p256Cert, parse: pemTestParsePrivate, want: k.p256},
		{name: "certificate then private key", input: k.rsaCert + pemTestPKCS1(k.rsa), parse: pemTestParsePrivate, want: k.rsa},
		{name: "openssl ecparam output with EC PARAMETERS", input: pemTestEncode("EC PARAMETERS", p256Params) + pemTestSEC1(t, k.p256), parse: pemTestParsePrivate, want: k.p256},
		{name: "PKCS#8 body under an RSA PRIVATE KEY label", input: pemTestEncode("RSA PRIVATE KEY", pkcs8RSA), parse: pemTestParsePrivate, want: k.rsa},
		{name: "certificate chain uses the leaf", input: k.edCert + k.rsaCert, parse: pemTestParsePublic, want: k.ed.Public()},
		{name: "private key then public key uses the private key", input: pemTestSEC1(t, k.p521) + pemTestPKIX(t, &k.rsa.PublicKey), parse: pemTestParsePublic, want: &k.p521.PublicKey},
		{name: "public key then private key uses the public key", input: pemTestPKIX(t, &k.rsa.PublicKey) + pemTestSEC1(t, k.p521), parse: pemTestParsePublic, want: &k.rsa.PublicKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.parse([]byte(tt.input))
			require.NoError(t, err)
			pemTestAssertSame(t, tt.want, got)
		})
	}
}

func TestParsePEMErrors(t *testing.T) {
	k := pemTestSetup(t)
	rsa1 := pemTestPKCS1(k.rsa)
	rsa8 := pemTestPKCS8(t, k.rsa)
	ec1 := pemTestSEC1(t, k.p256)
	pub := pemTestPKIX(t, &k.p256.PublicKey)
	oneLine := strings.ReplaceAll(strings.TrimSpace(rsa8), "\n", " ")
	rsa8Body := pemTestBody(rsa8)

	der, err := x509.MarshalPKCS8PrivateKey(k.rsa)
	require.NoError(t, err)
	corrupt := append([]byte{0x31}, der[1:]...)
	truncatedLines := strings.Join(pemTestBody(rsa8)[4:10], "\n") + "\n"
	withoutLines := strings.Replace(rsa8, truncatedLines, "", 1)
	withoutLinesDER, err := base64.StdEncoding.DecodeString(strings.Join(pemTestBody(withoutLines), ""))
	require.NoError(t, err)
	certDER, _ := pem.Decode([]byte(k.rsaCert))
	require.NotNil(t, certDER)
	pubDER, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	require.NoError(t, err)
	x25519Priv := pemTestPKCS8(t, k.x25519)
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "test"}}, k.p256)
	require.NoError(t, err)
	procType := string(pem.EncodeToMemory(&pem.Block{
		Type:    "RSA PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"},
		Bytes:   pemTestRandom(t, 1200),
	}))
	openssh := pemTestEncode("OPENSSH PRIVATE KEY", append([]byte("openssh-key-v1\x00"), pemTestRandom(t, 400)...))
	dsaPKIX, err := asn1.Marshal(struct {
		Algo pkix.AlgorithmIdentifier
		Key  asn1.BitString
	}{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}}, asn1.BitString{Bytes: pemTestRandom(t, 128), BitLength: 1024}})
	require.NoError(t, err)
	secp256k1, err := asn1.Marshal(struct {
		Version int
		Key     []byte
		Curve   asn1.ObjectIdentifier `asn1:"explicit,tag:0"`
	}{1, pemTestRandom(t, 32), asn1.ObjectIdentifier{1, 3, 132, 0, 10}})
	require.NoError(t, err)

	tests := []struct {
		name  string
		input string
		parse func([]byte) (any, error)
		want  []string
	}{
		{name: "empty input", input: "", parse: pemTestParsePrivate, want: []string{"empty input"}},
		{name: "whitespace only", input: " \r\n\t\n", parse: pemTestParsePublic, want: []string{"empty input"}},
		{name: "empty JSON string", input: `"",`, parse: pemTestParsePrivate, want: []string{"empty input"}},
		{name: "not PEM at all", input: "not a key at all, just words", parse: pemTestParsePrivate, want: []string{"no -----BEGIN ...----- line found"}},
		{name: "bare base64", input: strings.Join(rsa8Body, "\n"), parse: pemTestParsePrivate, want: []string{"missing the -----BEGIN ...----- line", "bare base64"}},
		{name: "bare base64 on one line", input: strings.Join(rsa8Body, ""), parse: pemTestParsePublic, want: []string{"missing the -----BEGIN ...----- line"}},
		{name: "BEGIN line cut off", input: strings.SplitN(rsa8, "\n", 2)[1], parse: pemTestParsePrivate, want: []string{"missing the -----BEGIN PRIVATE KEY----- line"}},
		{name: "END line cut off", input: strings.Join(strings.Split(rsa1, "\n")[:10], "\n"), parse: pemTestParsePrivate, want: []string{"missing the -----END RSA PRIVATE KEY----- line; the key may be truncated"}},
		{name: "one-line key cut off", input: oneLine[:len(oneLine)/2], parse: pemTestParsePrivate, want: []string{"missing the -----END PRIVATE KEY----- line; the key may be truncated"}},
		{name: "certificate after the key cut off", input: rsa8 + k.rsaCert[:200], parse: pemTestParsePrivate, want: []string{"missing the -----END CERTIFICATE----- line; the key may be truncated"}},
		{name: "BEGIN and END types differ", input: strings.Replace(rsa1, "END RSA PRIVATE KEY", "END PRIVATE KEY", 1), parse: pemTestParsePrivate, want: []string{"BEGIN line says RSA PRIVATE KEY but the END line says PRIVATE KEY"}},
		{name: "bad character on body line 3", input: pemTestReplaceLine(rsa8, 3, func(l string) string { return l[:10] + "!" + l[11:] }), parse: pemTestParsePrivate, want: []string{"invalid base64", "body line 3, column 11"}},
		{name: "non-ASCII character on body line 2", input: pemTestReplaceLine(ec1, 2, func(l string) string { return "\u201c" + l[1:] }), parse: pemTestParsePrivate, want: []string{"invalid base64", "body line 2, column 1"}},
		{name: "bad character in a one-line key", input: strings.Replace(oneLine, rsa8Body[1], rsa8Body[1][:4]+"*"+rsa8Body[1][5:], 1), parse: pemTestParsePrivate, want: []string{"invalid base64", fmt.Sprintf("body line 1, column %d", len(rsa8Body[0])+1+5)}},
		{name: "double-escaped line breaks", input: strings.ReplaceAll(rsa8, "\n", `\\n`), parse: pemTestParsePrivate, want: []string{"looks double-escaped", "body line 1"}},
		{name: "double-escaped public key", input: strings.ReplaceAll(pub, "\n", `\\n`), parse: pemTestParsePublic, want: []string{"looks double-escaped"}},
		{name: "misplaced padding", input: pemTestReplaceLine(pub, 2, func(l string) string { return l[:8] + "==" + l[10:] }), parse: pemTestParsePublic, want: []string{"misplaced '=' padding at body line 2, column 9"}},
		{name: "character missing from the body", input: pemTestReplaceLine(rsa1, 5, func(l string) string { return l[1:] }), parse: pemTestParsePrivate, want: []string{"invalid base64", "not a multiple of 4"}},
		{name: "body lines missing", input: withoutLines, parse: pemTestParsePrivate, want: []string{fmt.Sprintf("key data is truncated or corrupted (%d bytes decoded)", len(withoutLinesDER))}},
		{name: "corrupted DER", input: pemTestEncode("PRIVATE KEY", corrupt), parse: pemTestParsePrivate, want: []string{fmt.Sprintf("key data is truncated or corrupted (%d bytes decoded)", len(corrupt))}},
		{name: "truncated public key DER", input: pemTestEncode("PUBLIC KEY", pubDER[:100]), parse: pemTestParsePublic, want: []string{"key data is truncated or corrupted (100 bytes decoded)"}},
		{name: "truncated certificate DER", input: pemTestEncode("CERTIFICATE", certDER.Bytes[:300]), parse: pemTestParsePublic, want: []string{"key data is truncated or corrupted (300 bytes decoded)"}},
		{name: "empty block", input: "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n", parse: pemTestParsePrivate, want: []string{"the PRIVATE KEY block is empty"}},
		{name: "encrypted PKCS#8", input: strings.ReplaceAll(rsa8, "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"), parse: pemTestParsePrivate, want: []string{"is encrypted and must be decrypted first", "openssl pkcs8 -topk8 -nocrypt"}},
		{name: "Proc-Type encrypted", input: procType, parse: pemTestParsePrivate, want: []string{"is encrypted and must be decrypted first"}},
		{name: "Proc-Type encrypted on one line", input: strings.ReplaceAll(procType, "\n", " "), parse: pemTestParsePrivate, want: []string{"is encrypted and must be decrypted first"}},
		{name: "encrypted key given for a public key", input: procType, parse: pemTestParsePublic, want: []string{"is encrypted and must be decrypted first"}},
		{name: "PKIX public key given for a private key", input: pub, parse: pemTestParsePrivate, want: []string{"this is a public key; a private key is needed", "PUBLIC KEY"}},
		{name: "PKCS#1 public key given for a private key", input: pemTestEncode("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)), parse: pemTestParsePrivate, want: []string{"this is a public key; a private key is needed"}},
		{name: "certificate given for a private key", input: k.p256Cert, parse: pemTestParsePrivate, want: []string{"this is a public key; a private key is needed", "CERTIFICATE"}},
		{name: "OpenSSH private key", input: openssh, parse: pemTestParsePrivate, want: []string{"OpenSSH private keys", "not supported", "ssh-keygen -p -m PEM"}},
		{name: "OpenSSH private key given for a public key", input: openssh, parse: pemTestParsePublic, want: []string{"not supported", "ssh-keygen -p -m PEM"}},
		{name: "two private keys", input: rsa1 + ec1, parse: pemTestParsePrivate, want: []string{"found 2 keys; give one"}},
		{name: "three private keys with a certificate", input: rsa1 + k.rsaCert + ec1 + rsa8, parse: pemTestParsePrivate, want: []string{"found 3 keys; give one"}},
		{name: "two private keys given for a public key", input: ec1 + rsa8, parse: pemTestParsePublic, want: []string{"found 2 keys; give one"}},
		{name: "DSA PRIVATE KEY block", input: pemTestEncode("DSA PRIVATE KEY", pemTestRandom(t, 400)), parse: pemTestParsePrivate, want: []string{"unsupported key type DSA"}},
		{name: "DSA PKCS#8", input: pemTestFakePKCS8(t, asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}), parse: pemTestParsePrivate, want: []string{"unsupported key type DSA"}},
		{name: "DSA PKIX public key", input: pemTestEncode("PUBLIC KEY", dsaPKIX), parse: pemTestParsePublic, want: []string{"unsupported key type DSA"}},
		{name: "X25519 private key", input: x25519Priv, parse: pemTestParsePrivate, want: []string{"unsupported key type X25519"}},
		{name: "X25519 private key given for a public key", input: x25519Priv, parse: pemTestParsePublic, want: []string{"unsupported key type X25519"}},
		{name: "X25519 public key", input: pemTestPKIX(t, k.x25519.PublicKey()), parse: pemTestParsePublic, want: []string{"unsupported key type X25519"}},
		{name: "Ed448 private key", input: pemTestFakePKCS8(t, asn1.ObjectIdentifier{1, 3, 101, 113}), parse: pemTestParsePrivate, want: []string{"unsupported key type Ed448"}},
		{name: "secp256k1 SEC 1 key", input: pemTestEncode("EC PRIVATE KEY", secp256k1), parse: pemTestParsePrivate, want: []string{"unsupported key type ECDSA secp256k1"}},
		{name: "unknown algorithm", input: pemTestFakePKCS8(t, asn1.ObjectIdentifier{1, 2, 3, 4}), parse: pemTestParsePrivate, want: []string{"unsupported key type with algorithm OID 1.2.3.4"}},
		{name: "certificate request given for a private key", input: pemTestEncode("CERTIFICATE REQUEST", csr), parse: pemTestParsePrivate, want: []string{"no private key found", "CERTIFICATE REQUEST"}},
		{name: "certificate request given for a public key", input: pemTestEncode("CERTIFICATE REQUEST", csr), parse: pemTestParsePublic, want: []string{"no public key found", "CERTIFICATE REQUEST"}},
	}

	// Every base64 body line of every key and certificate in play must stay
	// out of every message.
	secrets := []string{rsa1, rsa8, ec1, pub, k.rsaCert, k.p256Cert, k.edCert}
	for _, tt := range tests {
		secrets = append(secrets, tt.input)
	}
	var bodyLines []string
	for _, s := range secrets {
		bodyLines = append(bodyLines, pemTestBase64Runs(s)...)
	}
	require.NotEmpty(t, bodyLines)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := tt.parse([]byte(tt.input))
			require.Error(t, err)
			assert.Nil(t, key)
			assert.ErrorIs(t, err, ErrPEM)
			msg := err.Error()
			for _, want := range tt.want {
				assert.Contains(t, msg, want)
			}
			assert.Regexp(t, `^[\x20-\x7e]+$`, msg, "message must be printable ASCII, never decoded bytes")
			for _, line := range bodyLines {
				// Any 12-character window of a body line is enough to leak it.
				for i := 0; i+12 <= len(line); i += 4 {
					require.NotContains(t, msg, line[i:i+12], "error message leaks key material")
				}
			}
		})
	}
}

var (
	pemTestMarkerRE    = regexp.MustCompile(`-----(BEGIN|END) [A-Z0-9 ]+-----|\\[rn]`)
	pemTestBase64RunRE = regexp.MustCompile(`[A-Za-z0-9+/=]{12,}`)
)

// pemTestBase64Runs returns the base64-looking runs of text, ignoring the
// BEGIN/END markers and undoing the escapes the tests add.
func pemTestBase64Runs(s string) []string {
	return pemTestBase64RunRE.FindAllString(pemTestMarkerRE.ReplaceAllString(s, " "), -1)
}
