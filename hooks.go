package scopedtoken

import (
	"errors"
	"net/http"
)

// runCheck runs Config.Check, if any, on the request as the next handler will
// see it and on that request's own token. It runs only once every built-in
// check has passed.
func (m *Middleware) runCheck(r *http.Request, t *Token) *Error {
	if m.check == nil {
		return nil // inlined into the request path
	}
	return m.runCheckSlow(r, t)
}

// runCheckSlow is runCheck's call of Config.Check.
func (m *Middleware) runCheckSlow(r *http.Request, t *Token) *Error {
	if err := m.check(r, t); err != nil {
		return adoptError(err, errCheckFailed)
	}
	return nil
}

// adoptError turns what a user's function (Config.Check, a TokenSource)
// returned into the refusal. An *Error in err's chain is the refusal: as it
// is when err is that *Error, and otherwise a copy whose cause is err, so that
// the ErrorHandler and OnDecision can still reach err's text. Any other
// error, and an *Error that NewError did not make (a typed nil, a zero
// Error), becomes fallback wrapping err: its text may hold anything, so it is
// never sent to the client, only reachable with errors.Unwrap.
func adoptError(err error, fallback *Error) *Error {
	var e *Error
	switch {
	case !errors.As(err, &e) || e != nil && e.category == nil:
		return fallback.withCause(err)
	case e == nil: // a typed nil *Error: a refusal all the same, with nothing to say
		return fallback
	}
	if err == error(e) {
		return e
	}
	sentinel := e
	if e.sentinel != nil {
		sentinel = e.sentinel
	}
	return sentinel.withCause(err)
}
