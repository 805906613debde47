package jwks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/MicahParks/jwkset"
)

var (
	errJWKSStatus   = errors.New("scopedtoken: response status is not 2xx")
	errJWKSDocument = errors.New("scopedtoken: JWK Set response is not a JSON object with a keys array")
)

// download fetches the JWK Set document and returns it with its response
// header. With discovery (Config.Issuer and no URL), the jwks_uri is
// discovered first whenever none is known or the set is unhealthy (the last
// fetch failed), and kept once a fetch succeeds.
func (r *Set) download(ctx context.Context) ([]byte, http.Header, error) {
	e := r.jwks.Load()
	if r.discovery != nil && (e == nil || !r.snapshot.Load().healthy) {
		var err error
		if e, err = r.discover(ctx); err != nil {
			return nil, nil, err
		}
		r.jwks.Store(e)
	}
	return r.get(ctx, e, "application/jwk-set+json, application/json")
}

// get fetches e through the set's client, bounded by HTTPTimeout and ended
// by the set's own context (never a request's cancellation, so that a
// cancelled request cannot abort a fetch others wait for). ctx gives the
// request its values: the set's own context, or what Config.OnFetch returned
// (a trace span, say), which carries no caller's cancellation. The body is
// capped by the client's limitTransport and redirects are checked by
// sameOriginRedirects. Errors are redacted with e's redactor.
func (r *Set) get(ctx context.Context, e *endpoint, accept string) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.HTTPTimeout)
	defer cancel()
	stop := context.AfterFunc(r.ctx, cancel) // Close ends the fetch
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url, nil)
	if err != nil {
		return nil, nil, e.redact.error(err)
	}
	req.Header.Set("Accept", accept)
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, nil, e.redact.error(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, fmt.Errorf("%w: %d", errJWKSStatus, resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, e.redact.error(err)
	}
	return body, resp.Header, nil
}

// jwkMembers are the members of one JWK that are read before jwkset parses
// it: the kid, to log skips and find duplicates even among keys that do not
// parse, and the private members, whose presence alone refuses the key.
type jwkMembers struct {
	KID string `json:"kid"`
	// Private and symmetric members (RFC 7518 §6.3.2, §6.2.2, §6.4). jwkset
	// keeps "d" of an RSA key only when every CRT member is there too, so
	// their presence is checked on the raw JSON.
	D   json.RawMessage `json:"d"`
	P   json.RawMessage `json:"p"`
	Q   json.RawMessage `json:"q"`
	DP  json.RawMessage `json:"dp"`
	DQ  json.RawMessage `json:"dq"`
	QI  json.RawMessage `json:"qi"`
	OTH json.RawMessage `json:"oth"`
}

func (m *jwkMembers) private() bool {
	return m.D != nil || m.P != nil || m.Q != nil || m.DP != nil || m.DQ != nil || m.QI != nil || m.OTH != nil
}

// parseJWKSet reads a JWK Set (RFC 7517 §5) key by key. The document must be
// one JSON object whose "keys" member is an array, or the fetch fails and the
// last good set stays. Each member is parsed and validated by jwkset on its
// own: one that cannot be parsed (an unknown kty, use or key_ops, bad
// parameters, a kid that is not a string), that carries private material, or
// whose kid appears more than once in the document, is skipped and logged
// with its kid and the reason, and the others are used. A document with no
// usable key is a successful fetch: it removes every key, as a publisher
// revoking all of its keys expects.
func (r *Set) parseJWKSet(body []byte) ([]jwkset.JWK, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Keys == nil {
		return nil, errJWKSDocument
	}
	members := make([]jwkMembers, len(doc.Keys))
	count := make(map[string]int, len(doc.Keys))
	for i, raw := range doc.Keys {
		// An error here (a kid that is not a string, a member that is not an
		// object) leaves the kid empty; jwkset refuses the key below.
		json.Unmarshal(raw, &members[i])
		count[members[i].KID]++
	}
	jwks := make([]jwkset.JWK, 0, len(doc.Keys))
	for i, raw := range doc.Keys {
		m := &members[i]
		var reason string
		switch {
		case m.KID != "" && count[m.KID] > 1:
			reason = "duplicated kid"
		case m.private():
			reason = "the JWK holds private material"
		default:
			// Private: true so that jwkset keeps any private or symmetric
			// material it finds, and convert refuses the key for it.
			j, err := parseJWK(raw)
			if err == nil {
				jwks = append(jwks, j)
				continue
			}
			reason = err.Error()
		}
		r.logger.Warn("scopedtoken: JWK skipped", "kid", m.KID, "reason", reason)
	}
	return jwks, nil
}

// parseJWK parses and validates one JWK with jwkset. Private: true so that
// jwkset keeps any private or symmetric material it finds, and convert
// refuses the key for it.
//
// jwkset (v0.11.4) knows the algorithm of an Ed25519 X.509 certificate only
// as EdDSA, and refuses a JWK whose x5c holds one next to "alg":"Ed25519",
// the RFC 9864 name. Such a JWK is validated in full under "EdDSA", then given
// back its own alg, which convert binds the key to.
func parseJWK(raw json.RawMessage) (jwkset.JWK, error) {
	opts := jwkset.JWKMarshalOptions{Private: true}
	var m jwkset.JWKMarshal
	if err := json.Unmarshal(raw, &m); err != nil {
		return jwkset.JWK{}, fmt.Errorf("failed to unmarshal JSON Web Key: %w", err)
	}
	if m.ALG != algEd25519 || len(m.X5C) == 0 {
		return jwkset.NewJWKFromMarshal(m, opts, jwkset.JWKValidateOptions{})
	}
	m.ALG = jwkset.AlgEdDSA
	j, err := jwkset.NewJWKFromMarshal(m, opts, jwkset.JWKValidateOptions{})
	if err != nil {
		return jwkset.JWK{}, err
	}
	checked := j.Marshal()
	checked.ALG = algEd25519
	return jwkset.NewJWKFromMarshal(checked, opts, jwkset.JWKValidateOptions{SkipAll: true})
}

// algEd25519 is RFC 9864's name, which jwkset has no constant for.
const algEd25519 jwkset.ALG = "Ed25519"

// limitTransport caps response bodies, so a huge JWK Set fails its fetch
// instead of filling memory.
type limitTransport struct {
	base http.RoundTripper
	max  int64
}

var errBodyTooLarge = errors.New("scopedtoken: JWK Set response is larger than MaxBodyBytes")

func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, errBodyTooLarge
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: t.max}
	return resp, nil
}

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, errBodyTooLarge
	}
	return n, err
}
