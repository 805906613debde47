package jwks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// discoveryPath is appended to an issuer to find its OpenID Provider
// Configuration (OpenID Connect Discovery 1.0 §4).
const discoveryPath = "/.well-known/openid-configuration"

var (
	errDiscoveryDocument = errors.New("scopedtoken: the OpenID configuration is not a JSON object with string issuer and jwks_uri members")
	errDiscoveryIssuer   = errors.New("scopedtoken: the OpenID configuration names another issuer than jwks.Config.Issuer; none of its keys is used")
	errDiscoveryJWKSURI  = errors.New("scopedtoken: the OpenID configuration's jwks_uri is not an absolute https URL (http only under an http issuer)")
)

// endpoint is a URL the key set fetches, with the redactor of its
// credentials.
type endpoint struct {
	url    string
	redact urlRedactor
}

func newEndpoint(u *url.URL) *endpoint {
	return &endpoint{url: u.String(), redact: newURLRedactor(u)}
}

// discoveryURL returns where the configuration of issuer is published: the
// issuer without one trailing '/', then discoveryPath (OpenID Connect
// Discovery 1.0 §4). The issuer must be an absolute http or https URL with a
// host and no userinfo, query or fragment (§2 forbids the last two; userinfo
// would put credentials into the iss of every token).
func discoveryURL(issuer string) (*url.URL, error) {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(issuer, "#") {
		return nil, errors.New("jwks: Config.Issuer must be an absolute http or https URL without userinfo, query or fragment to discover its keys")
	}
	return url.Parse(strings.TrimSuffix(issuer, "/") + discoveryPath)
}

// discover fetches the OpenID Provider Configuration and returns its
// jwks_uri. The document's issuer must equal Config.Issuer exactly
// (OpenID Connect Discovery 1.0 §4.3), or nothing of it is used. The fetch
// shares the JWKS fetch's client, body cap, timeout and redirect rule (here:
// only within the configuration URL's scheme, host and port).
func (r *Set) discover(ctx context.Context) (*endpoint, error) {
	body, _, err := r.get(ctx, r.discovery, "application/json")
	if err != nil {
		return nil, fmt.Errorf("OpenID discovery: %w", err)
	}
	var doc map[string]json.RawMessage
	var issuer, jwksURI string
	if json.Unmarshal(body, &doc) != nil || doc == nil ||
		json.Unmarshal(doc["issuer"], &issuer) != nil || json.Unmarshal(doc["jwks_uri"], &jwksURI) != nil {
		return nil, errDiscoveryDocument
	}
	if issuer != r.cfg.Issuer {
		return nil, errDiscoveryIssuer
	}
	u, err := url.Parse(jwksURI)
	httpIssuer := strings.HasPrefix(r.discovery.url, "http:") // url.Parse lower-cases schemes
	if err != nil || u.Host == "" || (u.Scheme != "https" && (u.Scheme != "http" || !httpIssuer)) {
		return nil, errDiscoveryJWKSURI
	}
	return newEndpoint(u), nil
}
