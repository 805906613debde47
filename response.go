package scopedtoken

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// response is a refusal's precomputed headers and body, built once per reason
// in New so that refusing costs no formatting.
type response struct {
	status          int
	wwwAuthenticate []string
	retryAfter      []string
	body            []byte
}

var (
	jsonContentType = []string{"application/json"}
	noSniff         = []string{"nosniff"}
	noStore         = []string{"no-store"}
)

// buildResponses precomputes the response of every reason for realm.
func buildResponses(realm string, retryAfter int) map[*Error]*response {
	out := make(map[*Error]*response, len(reasons))
	for _, e := range reasons {
		out[e] = buildResponse(e, realm, retryAfter)
	}
	return out
}

// buildResponse makes e's response. Only a refusal of the user's own making
// (see Config.Check) is built per request: its message goes into the
// challenge as RFC 6750 §3 allows, any other byte replaced.
func buildResponse(e *Error, realm string, retryAfter int) *response {
	challenge := `Bearer realm=` + quote(realm)
	if e != errMissingToken {
		challenge += `, error=` + quote(e.oauthCode()) + `, error_description=` + quote(descriptionSafe(e.message))
	}
	body, _ := json.Marshal(struct {
		Error   string `json:"error"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	}{e.oauthCode(), e.reason, e.message})
	resp := &response{status: e.Status(), wwwAuthenticate: []string{challenge}, body: append(body, '\n')}
	if resp.status == http.StatusServiceUnavailable {
		resp.retryAfter = []string{strconv.Itoa(retryAfter)}
	}
	return resp
}

// descriptionSafe replaces every character that RFC 6750 §3 does not allow
// in error_description (%x20-21 / %x23-5B / %x5D-7E) with '?'.
func descriptionSafe(s string) string {
	return strings.Map(func(c rune) rune {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return '?'
		}
		return c
	}, s)
}

// quote makes an RFC 7230 quoted-string; the texts here are fixed ASCII.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// WriteError writes the package's standard response for err: the status of
// its category, an RFC 6750 WWW-Authenticate challenge and a JSON body with
// error, reason and message. A custom ErrorHandler can call it for the cases
// it does not handle itself. An err that is not from this package is answered
// as an invalid token.
func (m *Middleware) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := asPackageError(err)
	resp := m.responses[reasonOf(e)]
	switch {
	case m.dpop != nil: // its challenges (docs/dpop.md)
		resp = m.dpop.response(r, e, m.realm, m.retryAfter)
	case resp == nil: // a refusal of the user's own making
		resp = buildResponse(e, m.realm, m.retryAfter)
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["X-Content-Type-Options"] = noSniff
	h["Cache-Control"] = noStore
	h["Www-Authenticate"] = resp.wwwAuthenticate
	if resp.retryAfter != nil {
		h["Retry-After"] = resp.retryAfter
	}
	w.WriteHeader(resp.status)
	w.Write(resp.body)
}

// reasonOf returns the reason sentinel behind err.
func reasonOf(err error) *Error {
	e := asPackageError(err)
	if e.sentinel != nil {
		return e.sentinel
	}
	return e
}

func asPackageError(err error) *Error {
	if e, ok := err.(*Error); ok { // the middleware's own refusals: no allocation
		return e
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return errMalformedToken
}
