package mint

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// ErrPEM is wrapped by every error ParsePrivateKeyPEM and ParsePublicKeyPEM return.
var ErrPEM = errors.New("mint: bad PEM key")

var (
	// Markers are found anywhere in the text, not per line, because pasted keys
	// often have the body glued to the BEGIN line or everything on one line.
	pemMarkerRE    = regexp.MustCompile(`-----(BEGIN|END) ([A-Z0-9][A-Z0-9 ]*)-----`)
	pemEncryptedRE = regexp.MustCompile(`Proc-Type:\s*4,\s*ENCRYPTED`)
	// Undo the escaping a key picks up in JSON, YAML and env files. Base64 never
	// contains a backslash, so this cannot damage a key body.
	pemUnescaper = strings.NewReplacer(`\r\n`, "\n", `\n`, "\n", `\r`, "\n", `\/`, "/", "\r\n", "\n", "\r", "\n")
)

const pemBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

// pemOIDNames names key algorithms and curves by OID. An empty name marks one
// we support, so a failure to parse it means the data is damaged.
var pemOIDNames = map[string]string{
	"1.2.840.113549.1.1.1": "", "1.3.101.112": "", "1.3.132.0.33": "",
	"1.2.840.10045.3.1.7": "", "1.3.132.0.34": "", "1.3.132.0.35": "",
	"1.2.840.10040.4.1": "DSA", "1.3.101.110": "X25519", "1.3.101.111": "X448",
	"1.3.101.113": "Ed448", "1.2.840.113549.1.1.10": "RSA-PSS", "1.3.132.0.10": "ECDSA secp256k1",
}

// pemBlock is one BEGIN/END pair with its raw, still unrepaired body.
type pemBlock struct{ typ, body string }

// ParsePrivateKeyPEM parses one PEM private key: PKCS#1 ("RSA PRIVATE KEY"),
// PKCS#8 ("PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY"). It returns
// *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey (as crypto.Signer).
//
// It repairs common copy-paste damage first: literal "\n" sequences, CR or CRLF
// line endings, indentation, blank lines, surrounding JSON quotes and a
// trailing comma, and a body collapsed onto one line. Other blocks such as
// certificates or EC PARAMETERS are skipped, but more than one private key is
// an error. Every error wraps ErrPEM and never contains key material.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	blocks, err := pemSplit(data)
	if err != nil {
		return nil, err
	}
	for _, b := range blocks {
		if pemIsPrivate(b.typ) {
			return b.private()
		}
	}
	if public := pemTypes(blocks, pemIsPublic); len(public) > 0 {
		return nil, pemErrorf("this is a public key; a private key is needed (the block type is %s)", public[0])
	}
	return nil, pemErrorf("no private key found; the PEM block types present are: %s", strings.Join(pemTypes(blocks, nil), ", "))
}

// ParsePublicKeyPEM parses one PEM public key: PKIX ("PUBLIC KEY"), PKCS#1
// ("RSA PUBLIC KEY"), or a certificate ("CERTIFICATE", taking its public key).
// It returns *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey.
//
// To be forgiving it also accepts a private key in any form ParsePrivateKeyPEM
// accepts and returns its public half. It applies the same repairs as
// ParsePrivateKeyPEM and uses the first key block, so for a certificate chain
// that is the leaf. Every error wraps ErrPEM and never contains key material.
func ParsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	blocks, err := pemSplit(data)
	if err != nil {
		return nil, err
	}
	for _, b := range blocks {
		switch {
		case pemIsPublic(b.typ):
			return b.public()
		case pemIsPrivate(b.typ):
			key, err := b.private()
			if err != nil {
				return nil, err
			}
			return key.Public(), nil
		}
	}
	return nil, pemErrorf("no public key found; the PEM block types present are: %s", strings.Join(pemTypes(blocks, nil), ", "))
}

func pemErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrPEM}, args...)...)
}

func pemIsPrivate(typ string) bool { return strings.HasSuffix(typ, "PRIVATE KEY") }

func pemIsPublic(typ string) bool {
	return strings.HasSuffix(typ, "PUBLIC KEY") || typ == "CERTIFICATE"
}

// pemTypes lists the block types that keep accepts, or all of them if it is nil.
func pemTypes(blocks []pemBlock, keep func(string) bool) (types []string) {
	for _, b := range blocks {
		if keep == nil || keep(b.typ) {
			types = append(types, b.typ)
		}
	}
	return types
}

// pemSplit undoes pasting damage around the key and finds the BEGIN/END pairs.
// Text outside the pairs is ignored, as openssl and pem.Decode do.
func pemSplit(data []byte) ([]pemBlock, error) {
	s := strings.TrimSpace(string(data))
	s = strings.TrimSpace(strings.TrimSuffix(s, ","))
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		s = s[1 : len(s)-1]
	}
	s = pemUnescaper.Replace(s)
	if strings.TrimSpace(s) == "" {
		return nil, pemErrorf("empty input; expected a PEM key starting with -----BEGIN")
	}
	var blocks []pemBlock
	var open []int // the BEGIN marker awaiting its END
	for _, m := range pemMarkerRE.FindAllStringSubmatchIndex(s, -1) {
		isBegin, typ := s[m[2]:m[3]] == "BEGIN", s[m[4]:m[5]]
		switch {
		case isBegin && open != nil:
			return nil, pemErrorf("missing the -----END %s----- line; the key may be truncated", s[open[4]:open[5]])
		case isBegin:
			open = m
		case open == nil:
			return nil, pemErrorf("missing the -----BEGIN %s----- line (found only its END line); the start of the key may be cut off", typ)
		case s[open[4]:open[5]] != typ:
			return nil, pemErrorf("the BEGIN line says %s but the END line says %s; they must match", s[open[4]:open[5]], typ)
		default:
			blocks = append(blocks, pemBlock{typ: typ, body: s[open[1]:m[0]]})
			open = nil
		}
	}
	if open != nil {
		return nil, pemErrorf("missing the -----END %s----- line; the key may be truncated", s[open[4]:open[5]])
	}
	if len(blocks) == 0 {
		bare := strings.Join(strings.Fields(s), "")
		if len(bare) >= 16 && strings.Trim(bare, pemBase64) == "" {
			return nil, pemErrorf("missing the -----BEGIN ...----- line; the input looks like bare base64, paste the whole PEM including its BEGIN and END lines")
		}
		return nil, pemErrorf("no -----BEGIN ...----- line found; the input is not a PEM key")
	}
	// Picking one of several private keys would silently sign with the wrong one.
	if n := len(pemTypes(blocks, pemIsPrivate)); n > 1 {
		return nil, pemErrorf("found %d keys; give one (the input holds %d private key blocks)", n, n)
	}
	return blocks, nil
}

// der re-wraps the body as a clean PEM block and decodes it. It checks the
// base64 itself first so that it can point at the bad spot.
func (b pemBlock) der() ([]byte, error) {
	var body []byte
	var where [][2]int // body line and column of each byte of body
	line := 0
	for _, text := range strings.Split(b.body, "\n") {
		text = strings.TrimSpace(text)
		if text == "" || (line == 0 && strings.Contains(text, ":")) {
			continue // RFC 1421 headers precede the body
		}
		line++
		col := 0
		for _, r := range text {
			if col++; unicode.IsSpace(r) {
				continue
			}
			if r == '\\' {
				// What is left of "\\n" once its "\n" became a line break.
				return nil, pemErrorf("invalid base64 in the %s block: a backslash at body line %d, column %d; the key looks double-escaped (\\\\n where a line break belongs): unescape it once, or store the PEM with real line breaks", b.typ, line, col)
			}
			if !strings.ContainsRune(pemBase64, r) {
				return nil, pemErrorf("invalid base64 in the %s block: unexpected character at body line %d, column %d", b.typ, line, col)
			}
			body = append(body, byte(r))
			where = append(where, [2]int{line, col})
		}
	}
	if len(body) == 0 {
		return nil, pemErrorf("the %s block is empty; there is no key data between its BEGIN and END lines", b.typ)
	}
	if i := bytes.IndexByte(body, '='); i >= 0 && (len(body)-i > 2 || len(bytes.Trim(body[i:], "=")) > 0) {
		return nil, pemErrorf("invalid base64 in the %s block: misplaced '=' padding at body line %d, column %d", b.typ, where[i][0], where[i][1])
	}
	if len(body)%4 != 0 {
		return nil, pemErrorf("invalid base64 in the %s block: its %d base64 characters are not a multiple of 4; the key may be truncated or have characters missing", b.typ, len(body))
	}
	clean := "-----BEGIN " + b.typ + "-----\n"
	for len(body) > 0 {
		n := min(64, len(body))
		clean, body = clean+string(body[:n])+"\n", body[n:]
	}
	block, _ := pem.Decode([]byte(clean + "-----END " + b.typ + "-----\n"))
	if block == nil {
		return nil, pemErrorf("invalid base64 in the %s block", b.typ)
	}
	return block.Bytes, nil
}

func (b pemBlock) private() (crypto.Signer, error) {
	switch {
	case b.typ == "ENCRYPTED PRIVATE KEY" || pemEncryptedRE.MatchString(b.body):
		return nil, pemErrorf("the private key is encrypted and must be decrypted first, e.g. with: openssl pkcs8 -topk8 -nocrypt -in encrypted.pem -out key.pem")
	case b.typ == "OPENSSH PRIVATE KEY":
		return nil, pemErrorf("OpenSSH private keys (OPENSSH PRIVATE KEY) are not supported; convert a copy of the file with: ssh-keygen -p -m PEM -f <file> (or -m PKCS8 for PKCS#8), which rewrites it in place")
	case b.typ == "DSA PRIVATE KEY":
		return nil, pemErrorf("unsupported key type DSA; use an RSA, ECDSA or Ed25519 key")
	}
	der, err := b.der()
	if err != nil {
		return nil, err
	}
	// Labels are often wrong after hand edits, so every format is tried.
	var key any
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		key = k
	} else if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		key = k
	} else if k, err := x509.ParseECPrivateKey(der); err == nil {
		key = k
	}
	switch k := key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return k.(crypto.Signer), nil
	}
	return nil, pemKeyError(der, key)
}

func (b pemBlock) public() (crypto.PublicKey, error) {
	der, err := b.der()
	if err != nil {
		return nil, err
	}
	var key any
	if cert, err := x509.ParseCertificate(der); err == nil {
		key, der = cert.PublicKey, cert.RawSubjectPublicKeyInfo
	} else if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		key = k
	} else if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		key = k
	}
	switch k := key.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return k, nil
	}
	return nil, pemKeyError(der, key)
}

// pemKeyError explains DER that the standard library would not turn into a
// key type we support, telling unsupported algorithms apart from damage.
func pemKeyError(der []byte, key any) error {
	name := pemUnsupportedName(der)
	if name == "" && key != nil {
		name = fmt.Sprintf("%T", key)
	}
	if name != "" {
		return pemErrorf("unsupported key type %s; use an RSA, ECDSA or Ed25519 key", name)
	}
	return pemErrorf("key data is truncated or corrupted (%d bytes decoded)", len(der))
}

// pemUnsupportedName looks inside PKCS#8, PKIX and SEC 1 structures
// for an algorithm we do not support, and returns "" if it finds none.
func pemUnsupportedName(der []byte) string {
	var p8 struct {
		Version int
		Algo    pkix.AlgorithmIdentifier
		Key     []byte
	}
	var spki struct {
		Algo pkix.AlgorithmIdentifier
		Key  asn1.BitString
	}
	var sec1 struct {
		Version int
		Key     []byte
		Curve   asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	}
	var algo pkix.AlgorithmIdentifier
	switch {
	case pemUnmarshal(der, &p8):
		algo = p8.Algo
	case pemUnmarshal(der, &spki):
		algo = spki.Algo
	case pemUnmarshal(der, &sec1) && sec1.Curve != nil:
		algo.Algorithm = sec1.Curve
	default:
		return ""
	}
	if algo.Algorithm.String() == "1.2.840.10045.2.1" { // id-ecPublicKey names its curve in the parameters
		if _, err := asn1.Unmarshal(algo.Parameters.FullBytes, &algo.Algorithm); err != nil {
			return ""
		}
	}
	if name, ok := pemOIDNames[algo.Algorithm.String()]; ok {
		return name
	}
	return "with algorithm OID " + algo.Algorithm.String()
}

func pemUnmarshal(der []byte, v any) bool {
	rest, err := asn1.Unmarshal(der, v)
	return err == nil && len(rest) == 0
}
