package scopedtoken

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptionalHooksMatrix: the steps that the request path skips when they
// are off (revocations, Check, single use, the custom source's
// WithoutToken) behave, for every combination of them, as the rules say.
// A single-use token without exp is refused with missing_exp, with or
// without Revocations; one with exp is refused with single_use_unsupported
// without Revocations, and is used up by its first passing request with
// them. A revoked token is refused only when Revocations is set. Check runs
// on every request that passes the other checks (cache hits too) and sees
// the request the handler sees: without the token of a custom source or the
// query parameter. Verify refuses as the first request does.
func TestOptionalHooksMatrix(t *testing.T) {
	kinds := []struct {
		name   string
		claims map[string]any
	}{
		{"ordinary", nil},
		{"ordinary without exp", map[string]any{"exp": nil}},
		{"single use", map[string]any{"once": true}},
		{"single use without exp", map[string]any{"once": true, "exp": nil}},
		{"revoked", map[string]any{"jti": "revoked"}},
	}
	sources := []string{"header", "query", "custom"}
	n := 0
	for _, withStore := range []bool{false, true} {
		for _, withCheck := range []bool{false, true} {
			for _, source := range sources {
				for _, kind := range kinds {
					name := fmt.Sprintf("store=%v check=%v source=%s %s", withStore, withCheck, source, kind.name)
					t.Run(name, func(t *testing.T) {
						var store *MemoryRevocations
						var checked []string // what Check saw of each request's token places
						m := newTestMiddleware(t, func(c *Config) {
							c.AllowMissingExp = true
							c.TokenQueryParam = "jwt"
							c.TokenSources = []TokenSource{headerSource{name: "X-Token"}}
							if withStore {
								store = NewMemoryRevocations(fixedClock)
								require.NoError(t, store.Revoke(t.Context(), Revocation{Kind: RevokeID, Value: "revoked"}))
								c.Revocations = store
							}
							if withCheck {
								c.Check = func(r *http.Request, _ *Token) error {
									checked = append(checked, r.Header.Get("X-Token")+"|"+r.URL.RawQuery+"|"+r.RequestURI)
									return nil
								}
							}
						})
						n++
						extra := map[string]any{"jti": fmt.Sprint("t", n)}
						maps.Copy(extra, kind.claims)
						claims := revClaims(extra)
						token := hsToken(t, claims)
						once, hasExp := claims["once"] == true, claims["exp"] != nil
						var first, second string // the reasons the model expects
						switch {
						case once && !hasExp:
							first, second = "missing_exp", "missing_exp"
						case once && !withStore:
							first, second = "single_use_unsupported", "single_use_unsupported"
						case once:
							second = "token_used"
						case claims["jti"] == "revoked" && withStore:
							first, second = "revoked", "revoked"
						}

						request := func() *http.Request {
							switch source {
							case "query":
								return bearer(revPath+"?a=1&jwt="+token, "")
							case "custom":
								req := bearer(revPath+"?a=1", "")
								req.Header.Set("X-Token", token)
								return req
							}
							return bearer(revPath+"?a=1", token)
						}
						wantChecks := 0
						for i, want := range []string{first, second} {
							req := request()
							before := req.Header.Clone()
							res := serve(t, m, req)
							assert.Equal(t, before, req.Header, "the caller's request is never changed")
							if want != "" {
								assertRefused(t, res, http.StatusUnauthorized, want)
							} else {
								require.Equal(t, http.StatusOK, res.code, "request %d: %s", i, res.body)
								assert.Empty(t, res.req.Header.Get("X-Token"), "the handler sees no custom-source token")
								assert.NotContains(t, res.req.URL.RawQuery, token)
								assert.NotContains(t, res.req.RequestURI, token)
							}
							// Check runs before the token is used, but not for a replay
							// that this instance saw used (docs/revocation.md).
							if withCheck && want == "" {
								wantChecks++
							}
						}
						assert.Len(t, checked, wantChecks, "Check runs once per request that passes the other checks")
						for _, c := range checked {
							assert.Equal(t, "|a=1|"+revPath+"?a=1", c, "Check sees the request without the token")
							assert.False(t, strings.Contains(c, token))
						}

						// Verify, on a fresh token of the same kind.
						n++
						claims["jti"] = fmt.Sprint("t", n)
						if kind.name == "revoked" {
							claims["jti"] = "revoked"
						}
						fresh := hsToken(t, claims)
						for _, want := range []string{first, second} {
							_, err := m.Verify(t.Context(), fresh, revPath)
							if want == "" {
								assert.NoError(t, err)
								continue
							}
							var e *Error
							require.ErrorAs(t, err, &e)
							assert.Equal(t, want, e.Reason())
						}
					})
				}
			}
		}
	}
}
