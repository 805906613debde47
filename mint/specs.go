package mint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/internal/alg"
	"github.com/scopedtoken/scopedtoken/internal/names"
	"github.com/scopedtoken/scopedtoken/internal/strictjson"
)

// Spec is one named token as a site configures it (docs/minting.md): which key
// signs it, what it says, and on which pages it is handed out.
type Spec struct {
	Name      string
	KeyID     string
	Algorithm string        // the spec's "alg"; "" when the key decides
	Audience  []string      // claims.aud
	ExpiresIn time.Duration // claims.expiresIn; 0 means DefaultLifetime
	Query     url.Values    // claims.query
	Scope     string        // a regular expression over page paths; "" matches every page
	// DPoP requires the spec's tokens to be bound to a client's key (the
	// spec's "dpop": true; docs/dpop.md): MintForPage leaves the spec out,
	// and only MintForPageBound mints its tokens, with cnf.jkt.
	DPoP bool
}

// SpecsConfig configures LoadSpecs. Only Keys is required.
type SpecsConfig struct {
	// Keys finds the signing key of every keyId. Required. See DirKeySource
	// and EnvKeySource.
	Keys KeySource
	// Now is the minting clock. Default time.Now.
	Now func() time.Time
	// Verify, when set, checks every minted token with this middleware
	// before it is returned (Config.Verify).
	Verify *scopedtoken.Middleware
	// Prefix is the aud prefix the specs are checked against, as
	// scopedtoken.Config.Prefix. Default scopedtoken.DefaultPrefix.
	Prefix string
}

// Specs is a loaded spec file, ready to mint. It is safe for concurrent
// use.
type Specs struct {
	specs []loadedSpec
}

type loadedSpec struct {
	Spec
	scope  *regexp.Regexp // nil: every page
	minter *Minter
}

// ErrSpec is wrapped by every error about the content of a spec file.
var ErrSpec = errors.New("mint: bad token spec")

// maxSpecFileBytes bounds what LoadSpecs reads; real files are a few KB.
const maxSpecFileBytes = 4 << 20

// LoadSpecs reads a JSON array of token specs:
//
//	[{"name": "search", "keyId": "k1", "alg": "HS256",
//	  "claims": {"aud": "/v2/accounts/me/search", "expiresIn": 300000,
//	             "query": {"experienceKey": "MySearchExperience"}},
//	  "scope": "^/search(/|$)"}]
//
// name, keyId and claims.aud (a string or a non-empty array of API paths) are
// required; alg, claims.expiresIn (milliseconds, at least 1000; default five
// minutes), claims.query (strings, numbers, booleans or non-empty arrays of
// them), scope and dpop (true: the tokens are handed out DPoP-bound only, see
// Spec.DPoP) are optional. The file is read strictly: unknown or
// wrongly-cased member names, repeated member names and repeated spec names
// are errors, every aud must fit the audience grammar (docs/security.md), and every scope must
// compile (Go's RE2 syntax). Each error names the spec it is about.
//
// Every keyId is resolved through cfg.Keys once, here, so a missing or unfit
// key fails at startup rather than on a page view. The algorithm is the
// spec's alg when given, else the key source's, else chosen from the key:
// RS256 for RSA, ES256/ES384/ES512 for P-256/P-384/P-521, EdDSA for Ed25519,
// HS256 for a secret.
func LoadSpecs(r io.Reader, cfg SpecsConfig) (*Specs, error) {
	if cfg.Keys == nil {
		return nil, errors.New("mint: SpecsConfig.Keys is required")
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = scopedtoken.DefaultPrefix
	}
	if !names.ValidPrefix(prefix) {
		return nil, fmt.Errorf("mint: SpecsConfig.Prefix %q must start and end with '/' and hold only valid path segments", prefix)
	}
	specs, err := parseSpecs(r, prefix)
	if err != nil {
		return nil, err
	}
	if err := checkKeyNames(cfg.Keys, specs); err != nil {
		return nil, err
	}
	minters := map[[2]string]*Minter{} // by keyId and alg: each key is loaded once
	loaded := make([]loadedSpec, len(specs))
	for i, s := range specs {
		ls := loadedSpec{Spec: s}
		if s.Scope != "" {
			if ls.scope, err = regexp.Compile(s.Scope); err != nil {
				return nil, fmt.Errorf("%w %q: scope %q is not a valid regular expression: %w", ErrSpec, s.Name, s.Scope, err)
			}
		}
		id := [2]string{s.KeyID, s.Algorithm}
		if ls.minter = minters[id]; ls.minter == nil {
			key, err := cfg.Keys.SigningKey(s.KeyID)
			if err != nil {
				return nil, fmt.Errorf("%w %q: %w", ErrSpec, s.Name, err)
			}
			key.ID = s.KeyID
			if s.Algorithm != "" {
				key.Algorithm = s.Algorithm
			} // else the key's, or New's DefaultAlgorithm
			ls.minter, err = New(Config{Key: key, Now: cfg.Now, Verify: cfg.Verify})
			if err != nil {
				return nil, fmt.Errorf("%w %q: key %q: %w", ErrSpec, s.Name, s.KeyID, err)
			}
			minters[id] = ls.minter
		}
		loaded[i] = ls
	}
	return &Specs{specs: loaded}, nil
}

// Specs returns the loaded specs in file order.
func (t *Specs) Specs() []Spec {
	out := make([]Spec, len(t.specs))
	for i, s := range t.specs {
		out[i] = s.Spec
		out[i].Audience = append([]string(nil), s.Audience...)
		out[i].Query = cloneValues(s.Query)
	}
	return out
}

// MintForPage mints a token for every spec whose scope matches page (every
// spec with an empty scope) and returns them by spec name; no match is an
// empty map. A scope matches when the regular expression matches anywhere in
// page, as regexp.MatchString does: anchor it ("^/search$") to match whole
// paths only. A spec with DPoP set is left out, whatever its scope: its
// tokens are never handed out unbound (MintForPageBound mints them). Any
// minting failure fails the whole call.
func (t *Specs) MintForPage(page string) (map[string]string, error) {
	return t.mintForPage(page, "")
}

// MintForPageBound mints, as MintForPage does, a token for every spec whose
// scope matches page, the specs with DPoP set included, each bound to the
// client key whose RFC 7638 thumbprint is jkt (cnf.jkt, as
// Claims.DPoPThumbprint): the key of the DPoP proof that the page's token
// endpoint checked with scopedtoken.Middleware.VerifyDPoPProof (RFC 9449
// §5, docs/dpop.md). An empty jkt is an error, never an unbound token.
func (t *Specs) MintForPageBound(page, jkt string) (map[string]string, error) {
	if jkt == "" {
		return nil, fmt.Errorf("%w: MintForPageBound needs the thumbprint of the client's key", ErrMint)
	}
	return t.mintForPage(page, jkt)
}

// mintForPage mints the tokens of page: bound to jkt, or unbound when jkt
// is "" and then none of a spec that requires binding.
func (t *Specs) mintForPage(page, jkt string) (map[string]string, error) {
	out := make(map[string]string)
	for _, s := range t.specs {
		if s.scope != nil && !s.scope.MatchString(page) || s.DPoP && jkt == "" {
			continue
		}
		tok, err := s.minter.Mint(Claims{Audience: s.Audience, Query: s.Query, ExpiresIn: s.ExpiresIn, DPoPThumbprint: jkt})
		if err != nil {
			return nil, fmt.Errorf("token spec %q: %w", s.Name, err)
		}
		out[s.Name] = tok
	}
	return out, nil
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for name, vals := range v {
		out[name] = append([]string(nil), vals...)
	}
	return out
}

// rawSpec and rawClaims are what a spec file may hold; any other member is an
// error.
var (
	specMembers   = []string{"name", "keyId", "alg", "claims", "scope", "dpop"}
	claimsMembers = []string{"aud", "expiresIn", "query"}
)

func parseSpecs(r io.Reader, prefix string) ([]Spec, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSpecFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading: %w", ErrSpec, err)
	}
	if len(data) > maxSpecFileBytes {
		return nil, fmt.Errorf("%w: the file is larger than %d bytes", ErrSpec, maxSpecFileBytes)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, fmt.Errorf("%w: the file must be a JSON array of specs: %w", ErrSpec, err)
	}
	// encoding/json keeps the last of repeated names; the strict scanner
	// refuses them, so that no spec says two things. A name in another case is
	// left to exactMembers, which names it as an unknown member.
	if strictjson.Check(data, true) != strictjson.OK {
		return nil, fmt.Errorf("%w: the file repeats a JSON member name or is not strictly valid JSON", ErrSpec)
	}
	specs := make([]Spec, 0, len(items))
	seen := make(map[string]bool, len(items))
	for i, item := range items {
		spec, err := parseSpec(item, prefix)
		if err != nil {
			label := fmt.Sprintf("#%d", i+1)
			if spec.Name != "" {
				label = fmt.Sprintf("%q", spec.Name)
			}
			return nil, fmt.Errorf("%w %s: %w", ErrSpec, label, err)
		}
		if seen[spec.Name] {
			return nil, fmt.Errorf("%w: two specs are named %q", ErrSpec, spec.Name)
		}
		seen[spec.Name] = true
		specs = append(specs, spec)
	}
	return specs, nil
}

// parseSpec reads one spec. It returns the name as soon as it is known,
// even with an error, so the error can name the spec.
func parseSpec(item json.RawMessage, prefix string) (Spec, error) {
	var spec Spec
	members, err := exactMembers(item, specMembers)
	if err != nil {
		return spec, err
	}
	if err := stringMember(members, "name", &spec.Name); err != nil {
		return spec, err
	}
	if spec.Name == "" {
		return spec, errors.New(`"name" is required`)
	}
	if err := stringMember(members, "keyId", &spec.KeyID); err != nil {
		return spec, err
	}
	if spec.KeyID == "" {
		return spec, errors.New(`"keyId" is required`)
	}
	if err := stringMember(members, "alg", &spec.Algorithm); err != nil {
		return spec, err
	}
	if _, ok := members["alg"]; ok {
		if _, known := alg.Lookup(spec.Algorithm); !known {
			return spec, fmt.Errorf(`"alg" %q is not a supported algorithm`, spec.Algorithm)
		}
	}
	if err := stringMember(members, "scope", &spec.Scope); err != nil {
		return spec, err
	}
	if raw, ok := members["dpop"]; ok {
		if string(raw) != "true" && string(raw) != "false" {
			return spec, errors.New(`"dpop" must be true or false`)
		}
		spec.DPoP = string(raw) == "true"
	}
	raw, ok := members["claims"]
	if !ok {
		return spec, errors.New(`"claims" is required`)
	}
	claims, err := exactMembers(raw, claimsMembers)
	if err != nil {
		return spec, fmt.Errorf("claims: %w", err)
	}
	if spec.Audience, err = parseSpecAudience(claims["aud"], prefix); err != nil {
		return spec, err
	}
	if spec.ExpiresIn, err = parseExpiresIn(claims["expiresIn"]); err != nil {
		return spec, err
	}
	if spec.Query, err = parseSpecQuery(claims["query"]); err != nil {
		return spec, err
	}
	return spec, nil
}

// exactMembers decodes an object and refuses any member name not in allowed,
// compared exactly: encoding/json would match "Name" to "name" silently.
func exactMembers(raw json.RawMessage, allowed []string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, errors.New("must be a JSON object")
	}
	for name := range m {
		known := false
		for _, a := range allowed {
			known = known || name == a
		}
		if !known {
			return nil, fmt.Errorf("unknown member %q (allowed: %s)", name, strings.Join(allowed, ", "))
		}
	}
	return m, nil
}

// stringMember reads an optional string member; present, it must be a string.
func stringMember(m map[string]json.RawMessage, name string, dst *string) error {
	raw, ok := m[name]
	if !ok {
		return nil
	}
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, dst) != nil {
		return fmt.Errorf("%q must be a string", name)
	}
	return nil
}

func parseSpecAudience(raw json.RawMessage, prefix string) ([]string, error) {
	if raw == nil {
		return nil, errors.New(`"claims.aud" is required`)
	}
	var aud []string
	var one string
	switch {
	case json.Unmarshal(raw, &one) == nil && raw[0] == '"':
		aud = []string{one}
	case json.Unmarshal(raw, &aud) == nil && raw[0] == '[':
		if len(aud) == 0 {
			return nil, errors.New(`"claims.aud" must not be an empty array`)
		}
	default:
		return nil, errors.New(`"claims.aud" must be a string or an array of strings`)
	}
	for _, a := range aud {
		if err := CheckAudience(prefix, a); err != nil {
			return nil, fmt.Errorf(`"claims.aud": %w`, err)
		}
	}
	return aud, nil
}

func parseExpiresIn(raw json.RawMessage) (time.Duration, error) {
	if raw == nil {
		return 0, nil
	}
	var ms float64
	if raw[0] == '"' || json.Unmarshal(raw, &ms) != nil {
		return 0, errors.New(`"claims.expiresIn" must be a number of milliseconds`)
	}
	switch {
	case ms < 1000:
		return 0, fmt.Errorf(`"claims.expiresIn" is in milliseconds and must be at least 1000; %v ms is less than a second (for %v seconds write %v)`, ms, ms, ms*1000)
	case ms > float64(100*365*24*time.Hour/time.Millisecond):
		return 0, fmt.Errorf(`"claims.expiresIn" of %v ms is more than a century`, ms)
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
}

// parseSpecQuery reads the query claim of a spec with the rules of docs/query-claim.md:
// strings, numbers and booleans (kept as their JSON text), or non-empty arrays
// of them.
func parseSpecQuery(raw json.RawMessage) (url.Values, error) {
	if raw == nil {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, errors.New(`"claims.query" must be a JSON object`)
	}
	q := make(url.Values, len(m))
	for name, v := range m {
		if name == "" {
			return nil, errors.New(`"claims.query" has an empty parameter name`)
		}
		var list []json.RawMessage
		if v[0] == '[' {
			if json.Unmarshal(v, &list) != nil || len(list) == 0 {
				return nil, fmt.Errorf(`"claims.query" parameter %q must not be an empty array`, name)
			}
		} else {
			list = []json.RawMessage{v}
		}
		for _, item := range list {
			val, ok := queryScalar(item)
			if !ok {
				return nil, fmt.Errorf(`"claims.query" parameter %q must be a string, number or boolean, or an array of them`, name)
			}
			q[name] = append(q[name], val)
		}
	}
	return q, nil
}

func queryScalar(raw json.RawMessage) (string, bool) {
	switch c := raw[0]; {
	case c == '"':
		var s string
		return s, json.Unmarshal(raw, &s) == nil
	case c == 't' || c == 'f', c == '-' || c >= '0' && c <= '9':
		return string(bytes.TrimSpace(raw)), true
	}
	return "", false
}
