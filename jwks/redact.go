package jwks

import (
	"errors"
	"net/url"
	"slices"
	"strings"
)

// redactedText replaces credentials in URLs that the package logs or returns.
const redactedText = "REDACTED"

// urlRedactor keeps the credentials of a JWKS URL (userinfo, query values,
// fragment) out of every log line and error of its Set. It is built once, in
// New, from the configured URL.
type urlRedactor struct {
	// url is the configured URL with its credentials replaced, for logs.
	url string
	// secrets replaces the configured URL's credentials, in the forms they
	// take in error texts (as written and percent-decoded), wherever they
	// appear: a CheckRedirect error or a bad Location header may quote them.
	secrets *strings.Replacer
}

func newURLRedactor(u *url.URL) urlRedactor {
	var secrets []string
	add := func(raw string) {
		if raw == "" {
			return
		}
		secrets = append(secrets, raw)
		if dec, err := url.QueryUnescape(raw); err == nil && dec != raw && dec != "" {
			secrets = append(secrets, dec)
		}
	}
	if u.User != nil {
		add(u.User.Username())
		p, _ := u.User.Password()
		add(p)
		escUser, escPass, _ := strings.Cut(u.User.String(), ":") // the escaped forms
		add(escUser)
		add(escPass)
	}
	for _, pair := range strings.Split(u.RawQuery, "&") {
		if name, v, ok := strings.Cut(pair, "="); ok {
			add(v)
		} else {
			add(name) // a bare "?token" is a value too
		}
	}
	add(u.Fragment)
	add(u.EscapedFragment())
	// Longest first: the replacer tries its pairs in order, and a secret
	// that is a prefix of another must not leave the other's tail behind.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		pairs = append(pairs, s, redactedText)
	}
	return urlRedactor{url: redactURL(u), secrets: strings.NewReplacer(pairs...)}
}

// redactURL returns u without userinfo, with every query value and the
// fragment replaced by REDACTED; scheme, host, path and query names stay, so
// that the log still tells which endpoint failed.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		parts := strings.Split(c.RawQuery, "&")
		for i, pair := range parts {
			if name, _, ok := strings.Cut(pair, "="); ok {
				parts[i] = name + "=" + redactedText
			} else if pair != "" {
				parts[i] = redactedText
			}
		}
		c.RawQuery = strings.Join(parts, "&")
	}
	if c.Fragment != "" || c.RawFragment != "" {
		c.Fragment, c.RawFragment = redactedText, ""
	}
	return c.String()
}

// redactURLString is redactURL for a URL in text form; text that does not
// parse is replaced whole.
func redactURLString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return redactedText
	}
	return redactURL(u)
}

// error returns err with the credentials removed from its text: the URL of
// a *url.Error (the HTTP client's, naming the request or a redirect target,
// whose credentials may not be the configured ones) is redacted whole, and
// the configured URL's credentials are replaced wherever else they appear
// (a bad Location header or a CheckRedirect error may quote them). The
// result matches what err matched with errors.Is but does not unwrap to err,
// whose text holds them.
func (r urlRedactor) error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if ue, ok := err.(*url.Error); ok {
		msg = (&url.Error{Op: ue.Op, URL: redactURLString(ue.URL), Err: ue.Err}).Error()
	}
	return &redactedError{msg: r.secrets.Replace(msg), orig: err}
}

// redactedError is an error whose text had credentials removed.
type redactedError struct {
	msg  string
	orig error
}

func (e *redactedError) Error() string { return e.msg }

// Is lets errors.Is see the original error (errBodyTooLarge, a context
// deadline) without exposing it to errors.Unwrap or errors.As.
func (e *redactedError) Is(target error) bool { return errors.Is(e.orig, target) }
