package scopedtoken

import (
	"context"
	"net/http"
	"time"
)

// passAnonymous lets a request that carries no token at all reach next, with
// Config.CredentialsOptional. Its context holds no token: not even one that an
// outer middleware verified from a place this one does not read.
func (m *Middleware) passAnonymous(w http.ResponseWriter, r *http.Request, next http.Handler, start time.Duration) {
	if _, ok := FromContext(r.Context()); ok {
		r = r.WithContext(context.WithValue(r.Context(), contextKey{}, (*Token)(nil)))
	}
	if m.onDecision != nil {
		m.onDecision(r.Context(), Decision{Allowed: true, Anonymous: true, Path: r.URL.EscapedPath(), Duration: m.decisionClock() - start})
	}
	next.ServeHTTP(w, r)
}
