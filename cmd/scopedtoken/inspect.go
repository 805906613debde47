package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
)

const inspectSynopsis = `Usage: scopedtoken inspect [--json] [--now RFC3339] TOKEN

Decodes TOKEN WITHOUT verifying it, shows its header and claims, and
explains: when it expires relative to now, aud entries that break the path
grammar, a missing kid, alg "none", a lifetime longer than an hour, and
everything else the middleware would refuse it for. Nothing is verified:
the signature is not checked and the claims are not trusted. Use
"scopedtoken verify" for that.

Strings from the token are shown quoted, with control characters, bidi
controls and invalid UTF-8 escaped (\u001b, \u202e, \ufffd): a token cannot
write to the terminal.

Exit status 0 when the token could be decoded (whatever it says), 1 when it
is not a compact JWS at all.

` + tokenForms + `(inspect also lets '=', '+' and '/' through, to explain them.)
`

// inspection is what inspect found. Problems are reasons the middleware
// would refuse the token; warnings are legal but unwise.
type inspection struct {
	Verified       bool            `json:"verified"` // always false
	Note           string          `json:"note"`
	Header         json.RawMessage `json:"header,omitempty"`
	Claims         json.RawMessage `json:"claims,omitempty"`
	SignatureBytes int             `json:"signatureBytes"`
	Expiry         string          `json:"expiry,omitempty"`
	Problems       []string        `json:"problems"`
	Warnings       []string        `json:"warnings"`
}

const notVerified = "NOT VERIFIED: this only decodes the token; its signature, key and claims were not checked."

func runInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	nowFlag := fs.String("now", "", "the current time, RFC 3339 (default: now)")
	rest, err := parseFlags(fs, args, inspectSynopsis, stdout)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("give exactly one TOKEN")
	}
	now := time.Now()
	if *nowFlag != "" {
		if now, err = time.Parse(time.RFC3339, *nowFlag); err != nil {
			return usagef("--now %q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", *nowFlag)
		}
	}
	token, err := readTokenArg(rest[0], diagnosableJWS)
	if err != nil {
		return err
	}
	in, err := inspect(token, now)
	if err != nil {
		return err
	}
	if *asJSON {
		out, err := json.MarshalIndent(in, "", "  ")
		if err != nil {
			return err
		}
		// encoding/json leaves DEL, C1 controls and bidi controls raw.
		fmt.Fprintln(stdout, string(safeJSON(out)))
		return nil
	}
	printInspection(stdout, in)
	return nil
}

func inspect(token string, now time.Time) (*inspection, error) {
	in := &inspection{Note: notVerified, Problems: []string{}, Warnings: []string{}}
	if token == "" {
		return nil, errors.New("the token is empty")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a compact JWS: it has %d segment(s) separated by '.', a token has 3", len(parts))
	}
	var seg [3][]byte
	for i, name := range []string{"header", "claims", "signature"} {
		b, problem, ok := decodeLenient(parts[i])
		if !ok {
			return nil, fmt.Errorf("the %s segment is not base64url", name)
		}
		if problem != "" {
			in.problem("the %s segment %s; the middleware accepts only unpadded base64url", name, problem)
		}
		seg[i] = b
		if i < 2 && !utf8.Valid(b) {
			in.problem("the %s is not valid UTF-8 (shown as \\ufffd); the middleware accepts only valid UTF-8", name)
		}
	}
	in.SignatureBytes = len(seg[2])
	header := in.object("header", seg[0])
	claims := in.object("claims", seg[1])
	if header != nil {
		in.Header = indent(seg[0])
		in.checkHeader(header)
	}
	if claims != nil {
		in.Claims = indent(seg[1])
		in.checkClaims(claims, now)
	}
	return in, nil
}

func (in *inspection) problem(format string, args ...any) {
	in.Problems = append(in.Problems, fmt.Sprintf(format, args...))
}

func (in *inspection) warn(format string, args ...any) {
	in.Warnings = append(in.Warnings, fmt.Sprintf(format, args...))
}

// decodeLenient decodes a segment strictly, or failing that as leniently as
// needed to show it, saying what was wrong.
func decodeLenient(s string) (data []byte, problem string, ok bool) {
	strict := strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) < 0
	if strict {
		if b, err := base64.RawURLEncoding.Strict().DecodeString(s); err == nil {
			return b, "", true
		}
	}
	var what []string
	if strings.ContainsAny(s, "=") {
		what = append(what, "has '=' padding")
	}
	if strings.ContainsAny(s, "+/") {
		what = append(what, "uses the standard base64 alphabet (+ or /)")
	}
	if strings.ContainsAny(s, " \t\r\n") {
		what = append(what, "contains whitespace")
	}
	clean := strings.NewReplacer("=", "", "+", "-", "/", "_", " ", "", "\t", "", "\r", "", "\n", "").Replace(s)
	b, err := base64.RawURLEncoding.DecodeString(clean)
	if err != nil {
		return nil, "", false
	}
	if len(what) == 0 {
		what = append(what, "has non-zero trailing bits")
	}
	return b, strings.Join(what, " and "), true
}

// object parses a segment as a JSON object, noting what the middleware would
// refuse: not an object, repeated member names.
func (in *inspection) object(name string, data []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		in.problem("the %s is not a JSON object", name)
		return nil
	}
	for _, dup := range duplicateNames(data) {
		in.problem("the %s repeats the member name %q", name, dup)
	}
	return m
}

func (in *inspection) checkHeader(h map[string]any) {
	alg, _ := h["alg"].(string)
	switch {
	case h["alg"] == nil:
		in.problem("the header has no alg")
	case strings.EqualFold(alg, "none"):
		in.problem("alg is %q: unsigned tokens are never accepted", alg)
	case !knownAlg(alg):
		in.problem("alg %s is not a supported algorithm", show(h["alg"]))
	}
	if kid, ok := h["kid"].(string); !ok || kid == "" {
		in.problem("missing kid: the header must name its key with a non-empty kid string; the middleware never tries a token against every key")
	}
	if typ, ok := h["typ"]; ok {
		if s, _ := typ.(string); !strings.EqualFold(s, "JWT") {
			in.problem("typ is %s; only JWT is accepted", show(typ))
		}
	}
	for _, name := range []string{"crit", "b64"} {
		if _, ok := h[name]; ok {
			in.problem("the header has %q, which makes the token invalid", name)
		}
	}
	for _, name := range []string{"jku", "x5u", "jwk", "x5c"} {
		if _, ok := h[name]; ok {
			in.warn("the header has %q; it is ignored: keys are never taken from a token", name)
		}
	}
	if n := sigSize(alg); n > 0 && !strings.HasPrefix(alg, "RS") && !strings.HasPrefix(alg, "PS") && n != in.SignatureBytes {
		in.problem("the signature is %d bytes; %s signatures are %d", in.SignatureBytes, alg, n)
	}
	in.caseVariants("header", h, []string{"alg", "kid", "typ", "crit", "b64"})
}

func (in *inspection) checkClaims(c map[string]any, now time.Time) {
	in.caseVariants("claims", c, []string{"aud", "exp", "nbf", "iat", "query", "iss", "sub", "jti"})
	exp, hasExp := in.date(c, "exp")
	nbf, hasNbf := in.date(c, "nbf")
	iat, hasIat := in.date(c, "iat")
	switch {
	case !hasExp:
		in.Expiry = "never (no exp)"
		if _, present := c["exp"]; !present {
			in.problem("the token has no exp; it is refused unless the verifier allows tokens without expiry")
		}
	case exp.After(now):
		in.Expiry = fmt.Sprintf("expires %s, in %s", exp.UTC().Format(time.RFC3339), words(exp.Sub(now)))
	default:
		in.Expiry = fmt.Sprintf("expired %s, %s ago", exp.UTC().Format(time.RFC3339), words(now.Sub(exp)))
		if now.Sub(exp) < scopedtoken.DefaultLeeway {
			in.warn("the token expired %s ago; the middleware's default leeway of %s still accepts it", words(now.Sub(exp)), words(scopedtoken.DefaultLeeway))
		} else {
			in.problem("the token has expired (%s ago)", words(now.Sub(exp)))
		}
	}
	if hasNbf && nbf.After(now) {
		in.warn("not valid before %s (in %s)", nbf.UTC().Format(time.RFC3339), words(nbf.Sub(now)))
	}
	if hasIat && iat.Sub(now) > scopedtoken.DefaultLeeway {
		in.problem("iat lies in the future (%s from now)", words(iat.Sub(now)))
	}
	if hasExp {
		start, from := now, "from now"
		if hasIat {
			start, from = iat, "from iat"
		}
		if life := exp.Sub(start); life > longLifetime {
			in.warn("the token lives %s %s, longer than %s; scoped tokens are meant to be short-lived", words(life), from, words(longLifetime))
		}
	}
	in.checkAudience(c["aud"], c["aud"] != nil)
	in.checkQuery(c["query"])
	for _, name := range []string{"iss", "sub", "jti"} {
		if v, ok := c[name]; ok {
			if _, isString := v.(string); !isString {
				in.problem("%s must be a string", name)
			}
		}
	}
}

// date reads a NumericDate claim as the middleware does.
func (in *inspection) date(c map[string]any, name string) (time.Time, bool) {
	v, ok := c[name]
	if !ok {
		return time.Time{}, false
	}
	n, isNum := v.(json.Number)
	f, err := n.Float64()
	if !isNum || err != nil || f < 0 || f > 253402300799 {
		in.problem("%s must be a number of seconds since 1970 (up to year 9999), not %s", name, jsonText(v))
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

func (in *inspection) checkAudience(aud any, present bool) {
	var entries []string
	switch a := aud.(type) {
	case string:
		entries = []string{a}
	case []any:
		if len(a) == 0 {
			in.problem("aud is an empty array")
		}
		for _, e := range a {
			s, ok := e.(string)
			if !ok {
				in.problem("aud holds %s, which is not a string", jsonText(e))
				continue
			}
			entries = append(entries, s)
		}
	default:
		if present {
			in.problem("aud must be a string or an array of strings")
		} else {
			in.problem("the token has no aud")
		}
	}
	for _, e := range entries {
		if err := mint.CheckAudience("", e); err != nil {
			in.problem("%s (with the default prefix %s)", escapeUnsafe(err.Error()), scopedtoken.DefaultPrefix)
		}
	}
}

func (in *inspection) checkQuery(q any) {
	if q == nil {
		return
	}
	m, ok := q.(map[string]any)
	if !ok {
		in.problem("query must be an object")
		return
	}
	for _, name := range sortedKeys(m) {
		vals, isArray := m[name].([]any)
		if !isArray {
			vals = []any{m[name]}
		} else if len(vals) == 0 {
			in.problem("query parameter %q is an empty array", name)
		}
		for _, v := range vals {
			switch v.(type) {
			case string, json.Number, bool:
			default:
				in.problem("query parameter %q holds %s; only strings, numbers and booleans (or arrays of them) are allowed", name, jsonText(v))
			}
		}
	}
}

// caseVariants notes member names that differ from a registered one only in
// case, which the middleware refuses.
func (in *inspection) caseVariants(where string, m map[string]any, registered []string) {
	for _, name := range sortedKeys(m) {
		for _, r := range registered {
			if name != r && strings.EqualFold(name, r) {
				in.problem("the %s member %q differs from %q only in case", where, name, r)
			}
		}
	}
}

func printInspection(w io.Writer, in *inspection) {
	fmt.Fprintln(w, notVerified)
	section := func(title string, body json.RawMessage) {
		if body == nil {
			return
		}
		fmt.Fprintf(w, "\n%s:\n  %s\n", title, strings.ReplaceAll(string(body), "\n", "\n  "))
	}
	section("Header", in.Header)
	section("Claims", in.Claims)
	fmt.Fprintf(w, "\nSignature: %d bytes, not checked\n", in.SignatureBytes)
	if in.Expiry != "" {
		fmt.Fprintf(w, "Expiry: %s\n", in.Expiry)
	}
	list := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, it := range items {
			fmt.Fprintf(w, "  - %s\n", it)
		}
	}
	list("Problems (the middleware would refuse the token)", in.Problems)
	list("Warnings", in.Warnings)
	if len(in.Problems) == 0 {
		fmt.Fprintln(w, "\nNo problems found in its form.")
	}
	fmt.Fprintln(w, "\nNothing was verified. Use 'scopedtoken verify' with the key to check the token.")
}

func knownAlg(alg string) bool { return sigSize(alg) != 0 }

// sigSize is the signature length of each algorithm; RSA's depends on the
// key (256 for 2048 bits).
func sigSize(alg string) int {
	return map[string]int{
		"HS256": 32, "HS384": 48, "HS512": 64, "ES256": 64, "ES384": 96, "ES512": 132, "EdDSA": 64, "Ed25519": 64,
		"RS256": 256, "RS384": 256, "RS512": 256, "PS256": 256, "PS384": 256, "PS512": 256,
	}[alg]
}

// words says a duration the way a person would, to the second.
func words(d time.Duration) string {
	d = d.Round(time.Second)
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return fmt.Sprintf("%d %ss", n, name)
	}
	parts := func(a int64, an string, b int64, bn string) string {
		if b == 0 {
			return unit(a, an)
		}
		return unit(a, an) + " " + unit(b, bn)
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return unit(s, "second")
	case s < 3600:
		return parts(s/60, "minute", s%60, "second")
	case s < 48*3600:
		return parts(s/3600, "hour", s%3600/60, "minute")
	}
	return parts(s/86400, "day", s%86400/3600, "hour")
}

// indent returns a segment's JSON indented, with every rune a terminal could
// act on escaped (escapeUnsafe): json.Indent copies strings byte for byte.
func indent(data []byte) json.RawMessage {
	var b bytes.Buffer
	if json.Indent(&b, data, "", "  ") != nil {
		return nil
	}
	return safeJSON(bytes.TrimSpace(b.Bytes()))
}

// jsonText writes a value from a token as JSON, escaped by escapeUnsafe.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return strconv.Quote(fmt.Sprint(v))
	}
	return escapeUnsafe(string(b))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// duplicateNames lists member names repeated within one object, at any depth.
func duplicateNames(data []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(data))
	var dups []string
	var walk func() bool
	walk = func() bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				name, err := dec.Token()
				if err != nil {
					return false
				}
				s, _ := name.(string)
				if seen[s] {
					dups = append(dups, s)
				}
				seen[s] = true
				if !walk() {
					return false
				}
			}
			_, err = dec.Token()
			return err == nil
		case json.Delim('['):
			for dec.More() {
				if !walk() {
					return false
				}
			}
			_, err = dec.Token()
			return err == nil
		}
		return true
	}
	walk()
	return dups
}
