package jwks

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// maxJWKSRedirects is the most redirects one JWK Set fetch follows.
const maxJWKSRedirects = 10

var (
	errRedirectOrigin = errors.New("scopedtoken: JWK Set redirect to another scheme, host or port refused")
	errRedirectCount  = errors.New("scopedtoken: JWK Set fetch stopped after too many redirects")
)

// sameOriginRedirects returns the CheckRedirect of a key set's client: a
// redirect is followed only to the scheme, host and port of the URL the fetch
// started from (the configured or discovered JWKS URL, or the OpenID
// configuration URL), so never from https to http, nor to a host that the
// operator or the issuer did not name; at most maxJWKSRedirects times; and
// only then is the user's own CheckRedirect (if any) asked. The keys are the
// root of trust of every token, so where they may come from is not left to
// the client's default, which follows redirects anywhere.
func sameOriginRedirects(user func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > maxJWKSRedirects { // via holds the requests made so far
			return errRedirectCount
		}
		if origin(req.URL) != origin(via[0].URL) {
			return errRedirectOrigin
		}
		if user != nil {
			return user(req, via)
		}
		return nil
	}
}

// origin is the scheme, lower-case host and port of u, with the scheme's
// default port made explicit so that "host" and "host:443" are one origin.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
