package scopedtoken

import (
	"net/http"
	"strings"

	"github.com/scopedtoken/scopedtoken/internal/chars"
)

// tokenSource says where the request's token was found.
type tokenSource uint8

const (
	fromHeader tokenSource = iota
	fromQuery
	fromCookie
	fromCustom // Config.TokenSources[i] is fromCustom+i
)

// extract finds the request's token: the Authorization header, then the opt-in
// query parameter, cookie and custom sources. More than one token, or two
// Authorization headers, is a malformed request (RFC 6750 §2: one method per
// request). hit is the cache's entry for a token from the Authorization
// header, found while checking its syntax; nil when there is none.
func (m *Middleware) extract(r *http.Request) (token string, src tokenSource, hit *verified, e *Error) {
	have := false
	if hdrs := r.Header["Authorization"]; len(hdrs) > 0 {
		if len(hdrs) > 1 {
			return "", fromHeader, nil, errMultipleTokens
		}
		t, h, isBearer, e := parseBearer(hdrs[0], m.cache)
		if !isBearer && e == nil && m.dpop != nil {
			t, h, isBearer, e = parseCredentials(hdrs[0], "DPoP", m.cache) // RFC 9449 §7.1
		}
		if e != nil {
			return "", fromHeader, nil, e
		}
		token, hit, have = t, h, isBearer
	}
	if m.queryParam != "" {
		t, found, multiple := queryToken(r.URL.RawQuery, m.queryParam)
		if multiple || found && have {
			return "", fromHeader, nil, errMultipleTokens
		}
		if found {
			token, hit, have, src = t, nil, true, fromQuery
		}
	}
	if m.cookieName != "" {
		switch cs := r.CookiesNamed(m.cookieName); {
		case len(cs) > 1 || len(cs) == 1 && have:
			return "", fromHeader, nil, errMultipleTokens
		case len(cs) == 1:
			token, hit, have, src = cs[0].Value, nil, true, fromCookie
		}
	}
	if len(m.sources) > 0 {
		t, s, found, e := m.customToken(r, have)
		if e != nil {
			return "", fromHeader, nil, e
		}
		if found {
			token, hit, have, src = t, nil, true, s
		}
	}
	if !have {
		return "", fromHeader, nil, errMissingToken
	}
	return token, src, hit, nil
}

// parseBearer reads RFC 6750 credentials: the scheme "Bearer" in any case,
// exactly one space, then a b64token. Another scheme is not a bearer token
// (isBearer false, no error); a Bearer scheme with anything else after it is
// malformed. A token that cache holds (hit) is known to be a b64token: every
// token it holds verified, and a compact JWS is made of base64url segments
// and dots. Its syntax is then not checked again.
func parseBearer(v string, cache *tokenCache) (token string, hit *verified, isBearer bool, e *Error) {
	return parseCredentials(v, "Bearer", cache)
}

// parseCredentials is parseBearer for the scheme name (Bearer, or DPoP,
// whose credentials have the same syntax: RFC 9449 §7.1).
func parseCredentials(v, name string, cache *tokenCache) (token string, hit *verified, isBearer bool, e *Error) {
	scheme, rest, hasSpace := v, "", false
	if len(v) > len(name)+1 && v[len(name)] == ' ' { // the usual case, without a search
		scheme, rest, hasSpace = v[:len(name)], v[len(name)+1:], true
	} else {
		scheme, rest, hasSpace = strings.Cut(v, " ")
	}
	if scheme != name && !strings.EqualFold(scheme, name) { // the usual spelling first: a compare is cheaper
		return "", nil, false, nil
	}
	if !hasSpace {
		return "", nil, false, errBadCredentials
	}
	if cache != nil {
		hit = cache.get(rest)
	}
	if hit == nil && !isB64Token(rest) {
		return "", nil, false, errBadCredentials
	}
	return rest, hit, true, nil
}

// isB64Token reports whether s is an RFC 6750 b64token: 1*( ALPHA / DIGIT /
// "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	i := chars.Span(s, chars.B64Token)
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}
