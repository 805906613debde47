package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

// tokenForms is the paragraph of inspect's, verify's and revoke's help that
// lists what readTokenArg accepts.
const tokenForms = `TOKEN may be pasted as it appears in a request or its log:
  TOKEN                          the compact JWS itself
  Bearer TOKEN                   the Authorization value; "Bearer" in any case,
                                 any spaces or tabs after it
  Authorization: Bearer TOKEN    the whole header line
  jwt=TOKEN                      the query parameter of an emailed link
  https://app.example/p?jwt=TOKEN, /p?a=1&jwt=TOKEN
                                 a link or request target with one jwt parameter
  -                              one line of stdin, in any of these forms
Whatever is left must be three '.'-separated base64url segments; anything
else is refused, and the input is never printed back.
`

// formsHint ends the errors about a token's shape.
const formsHint = `; give the token itself, "Bearer TOKEN", "Authorization: Bearer TOKEN", "jwt=TOKEN" or a link with ?jwt=TOKEN`

// stdin is where "-" reads the token; tests replace it.
var stdin io.Reader = os.Stdin

// maxTokenLine bounds what "-" reads from stdin.
const maxTokenLine = 1 << 20

// tokenShape says how much readTokenArg tolerates in the token it finds.
type tokenShape int

const (
	// strictJWS takes only base64url characters (RFC 7515 §7.1, RFC 4648 §5):
	// what verify and revoke need.
	strictJWS tokenShape = iota
	// diagnosableJWS also lets through '=' padding and the standard base64
	// alphabet's '+' and '/', which inspect decodes anyway to explain them.
	diagnosableJWS
)

// tokenInputError is an error about what the operator pasted: the form
// around the token or the token's shape. Its text never holds the input.
type tokenInputError struct{ msg string }

func (e *tokenInputError) Error() string { return e.msg }

func inputErrorf(format string, args ...any) error {
	return &tokenInputError{fmt.Sprintf(format, args...)}
}

// readTokenArg turns what an operator pastes (one of tokenForms, or "-" to
// read one line of stdin in any of them) into the token itself. It is the one
// reading of a token argument for inspect, verify and revoke --token, so that
// all three see the same token: revoke hashes the signing input of what it
// returns, so anything but the token itself there would record a revocation
// of nothing. What is left of the form must be a compact JWS in shape (three
// segments, the first two non-empty; alg "none" tokens have an empty third);
// anything else is a *tokenInputError whose text never echoes the input,
// which is a credential.
func readTokenArg(arg string, shape tokenShape) (string, error) {
	s := arg
	if arg == "-" {
		line, err := bufio.NewReader(io.LimitReader(stdin, maxTokenLine)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("cannot read the token from stdin: %w", err)
		}
		s = line
	}
	token, err := tokenFromForm(s)
	if err != nil {
		return "", err
	}
	if err := checkTokenShape(token, shape); err != nil {
		return "", err
	}
	return token, nil
}

// tokenFromForm takes the token out of the forms of tokenForms. It does not
// check what it returns.
func tokenFromForm(s string) (string, error) {
	s = strings.TrimSpace(s)
	// "Authorization: Bearer TOKEN", the header line as a log shows it; a
	// token has no ':', so a bare token never looks like one.
	if name, value, ok := strings.Cut(s, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "Authorization") {
		value = strings.TrimSpace(value)
		token, ok := afterBearer(value)
		if !ok {
			if value == "" {
				return "", inputErrorf("the Authorization line has no value")
			}
			return "", inputErrorf("the Authorization line does not use the Bearer scheme%s", formsHint)
		}
		return token, nil
	}
	if token, ok := afterBearer(s); ok {
		return token, nil
	}
	if strings.HasPrefix(s, "jwt=") {
		return tokenFromQuery(s)
	}
	// A link or request target: a token has no '?', in any base64 alphabet.
	if i := strings.IndexByte(s, '?'); i >= 0 {
		q := s[i+1:]
		if j := strings.IndexByte(q, '#'); j >= 0 {
			q = q[:j]
		}
		return tokenFromQuery(q)
	}
	if strings.Contains(s, "://") {
		return "", inputErrorf("the link has no query, so no jwt parameter")
	}
	return s, nil
}

// afterBearer returns what follows the Bearer scheme name (RFC 6750 §2.1),
// matched in any case and followed by spaces or tabs, and whether s starts
// with it. "Bearer" alone gives "".
func afterBearer(s string) (string, bool) {
	const scheme = "Bearer"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return "", false
	}
	rest := s[len(scheme):]
	if rest == "" {
		return "", true
	}
	if rest[0] != ' ' && rest[0] != '\t' {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

// tokenFromQuery returns the one jwt parameter of a query string, decoded as
// net/url decodes it. A query that net/url cannot read whole (a ';', a bad
// escape) is refused rather than read around.
func tokenFromQuery(q string) (string, error) {
	values, err := url.ParseQuery(q)
	if err != nil {
		// err may quote part of the query: not shown.
		return "", inputErrorf("the query holding the token cannot be read unambiguously (a ';' or a bad %%-escape)%s", formsHint)
	}
	switch n := len(values["jwt"]); n {
	case 0:
		return "", inputErrorf("the link has no jwt parameter")
	case 1:
		return values["jwt"][0], nil
	default:
		return "", inputErrorf("the link has %d jwt parameters; give the one token itself", n)
	}
}

// checkTokenShape refuses what is not a compact JWS in shape (RFC 7515 §7.1):
// three segments separated by '.', of base64url characters, the header and
// payload non-empty. It says what is wrong without quoting the token.
func checkTokenShape(token string, shape tokenShape) error {
	if token == "" {
		return inputErrorf("the token is empty")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return inputErrorf("not a compact JWS: it has %d segment(s) separated by '.', a token has 3%s", len(parts), formsHint)
	}
	for i, name := range []string{"header", "payload", "signature"} {
		p := parts[i]
		if p == "" && i < 2 {
			return inputErrorf("not a compact JWS: the %s segment is empty", name)
		}
		for j := 0; j < len(p); j++ {
			if what := badTokenByte(p[j], shape); what != "" {
				return inputErrorf("not a compact JWS: the %s segment has %s, which base64url does not use%s", name, what, formsHint)
			}
		}
	}
	return nil
}

// badTokenByte describes c when it may not be in a token segment, or returns
// "". A printable ASCII character is named: it cannot give a token away.
func badTokenByte(c byte, shape tokenShape) string {
	switch {
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		return ""
	case shape == diagnosableJWS && (c == '=' || c == '+' || c == '/'):
		return ""
	case c == ' ' || c == '\t':
		return "whitespace"
	case c < 0x20 || c == 0x7f:
		return "a control character"
	case c >= 0x80:
		return "a non-ASCII character"
	}
	return fmt.Sprintf("the character %q", rune(c))
}
