package scopedtoken

import (
	"errors"
	"net/http"
	"strings"
)

// This file compares a DPoP proof's htu with the request's URI (RFC 9449
// §4.3 step 9): the URI without query and fragment, its scheme and host
// from Config.DPoPOrigin when set (behind a proxy or load balancer,
// docs/dpop.md) or else from the request, its path as the client sent it.
// Both sides are normalized as RFC 3986 §6.2.2 and §6.2.3 allow, and no
// further: scheme and host in lower case, the default port dropped, an
// empty path as "/", percent-encodings with upper-case hex digits and the
// unreserved characters decoded. Dot segments are compared as written.

// htuMatches reports whether htu names the URI of r.
func (d *dpopConfig) htuMatches(htu string, r *http.Request) bool {
	origin, path, ok := splitHTTPURI(htu)
	if !ok {
		return false
	}
	want := d.origin
	if want == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		if want, ok = normalizeOrigin(scheme, r.Host); !ok {
			return false
		}
	}
	if origin != want {
		return false
	}
	reqPath, ok := requestTargetPath(r)
	if !ok {
		return false
	}
	return path == reqPath || normalizePath(path) == normalizePath(reqPath)
}

// requestTargetPath is the path of the request-target the client sent (r.RequestURI,
// which http.StripPrefix and routers leave alone), or of r.URL for a
// request that was not received by a server.
func requestTargetPath(r *http.Request) (string, bool) {
	target := r.RequestURI
	if target == "" {
		if r.URL == nil || r.URL.Opaque != "" {
			return "", false
		}
		return orSlash(r.URL.EscapedPath()), true
	}
	if target[0] != '/' { // absolute-form (RFC 9112 §3.2.2), or "*"
		_, p, ok := splitHTTPURI(target)
		return p, ok
	}
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	return target, true
}

// splitHTTPURI splits an http or https URI into its normalized origin and
// its path as written, without query and fragment. A URI with user
// information, another scheme or no host is refused.
func splitHTTPURI(uri string) (origin, path string, ok bool) {
	scheme, rest, found := strings.Cut(uri, "://")
	if !found {
		return "", "", false
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	authority := rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	origin, ok = normalizeOrigin(scheme, authority)
	return origin, orSlash(path), ok
}

// normalizeOrigin returns scheme://host[:port] in lower case without the
// scheme's default port, or false for a scheme other than http and https,
// user information, an empty host or a port that is not decimal.
func normalizeOrigin(scheme, authority string) (string, bool) {
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" || authority == "" ||
		strings.ContainsAny(authority, "@ \t\r\n\\/?#%") {
		return "", false
	}
	host, port := authority, ""
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.Contains(authority[i:], "]") {
		host, port = authority[:i], authority[i+1:]
		for _, c := range []byte(port) {
			if c < '0' || c > '9' {
				return "", false
			}
		}
	}
	if host == "" {
		return "", false
	}
	if port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		return scheme + "://" + strings.ToLower(host), true
	}
	return scheme + "://" + strings.ToLower(host) + ":" + port, true
}

// normalizePath writes each percent-encoding with upper-case hex digits and
// decodes those of unreserved characters (RFC 3986 §6.2.2.1, §6.2.2.2). A
// malformed encoding is kept as it is, and so compares only with itself.
func normalizePath(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' || i+2 >= len(p) {
			b.WriteByte(c)
			continue
		}
		hi, lo := unhex(p[i+1]), unhex(p[i+2])
		if hi < 0 || lo < 0 {
			b.WriteByte(c)
			continue
		}
		dec := byte(hi<<4 | lo)
		if isUnreserved(dec) {
			b.WriteByte(dec)
		} else {
			const hexDigits = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hexDigits[dec>>4])
			b.WriteByte(hexDigits[dec&15])
		}
		i += 2
	}
	return b.String()
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// isUnreserved reports whether c is an RFC 3986 §2.3 unreserved character.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func orSlash(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// parseDPoPOrigin checks Config.DPoPOrigin: scheme and host (and a port) of
// an http or https URL, nothing else but an optional final "/".
func parseDPoPOrigin(s string) (string, error) {
	origin, path, ok := splitHTTPURI(s)
	if !ok || path != "/" || strings.ContainsAny(s, "?#") {
		return "", errors.New(`scopedtoken: Config.DPoPOrigin must be an http or https origin such as "https://api.example.com", without path, query or user information`)
	}
	return origin, nil
}
