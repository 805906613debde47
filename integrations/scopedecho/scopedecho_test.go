package scopedecho_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/integrations/internal/demotest"
	"github.com/scopedtoken/scopedtoken/integrations/scopedecho"
	"github.com/scopedtoken/scopedtoken/mint"
)

func TestWrap(t *testing.T) {
	kit := demotest.NewKit(t)
	tok, err := kit.Minter.Mint(mint.Claims{
		Audience: []string{"/v2/accounts/me/search"},
		Query:    url.Values{"experienceKey": {"bound"}},
	})
	require.NoError(t, err)

	wrappers := []struct {
		name string
		wrap func(func(http.Handler) http.Handler) echo.MiddlewareFunc
		// safeAfterQueryRead: the wrapper refreshes echo's query cache.
		safeAfterQueryRead bool
	}{
		{name: "scopedecho.Wrap", wrap: scopedecho.Wrap, safeAfterQueryRead: true},
		{name: "echo.WrapMiddleware", wrap: echo.WrapMiddleware},
	}
	tests := []struct {
		name           string
		target         string
		token          string
		readQueryFirst bool // an echo middleware before the wrapper reads the query
		wantStatus     int
		wantRan        bool
	}{
		{name: "allowed, query rewritten", target: "/v2/accounts/me/search?experienceKey=mine&input=pizza", token: tok,
			wantStatus: http.StatusOK, wantRan: true},
		{name: "allowed, bound parameter filled in", target: "/v2/accounts/42/search/deeper?input=pizza", token: tok,
			wantStatus: http.StatusOK, wantRan: true},
		{name: "allowed, query read before the middleware", target: "/v2/accounts/me/search?experienceKey=mine&input=pizza", token: tok,
			readQueryFirst: true, wantStatus: http.StatusOK, wantRan: true},
		{name: "no token", target: "/v2/accounts/me/search", wantStatus: http.StatusUnauthorized},
		{name: "outside aud", target: "/v2/accounts/me/answers", token: tok, wantStatus: http.StatusForbidden},
		{name: "bad path", target: "/v2/accounts/me/search/%2e%2E/answers", token: tok, wantStatus: http.StatusBadRequest},
	}
	for _, w := range wrappers {
		for _, tt := range tests {
			if tt.readQueryFirst && !w.safeAfterQueryRead {
				continue // echo.WrapMiddleware keeps echo's stale cache: see the package doc
			}
			t.Run(w.name+"/"+tt.name, func(t *testing.T) {
				var (
					ran         bool
					token       *scopedtoken.Token
					query       []string
					input       string
					outerStatus int
				)
				e := echo.New()
				e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
					return func(c echo.Context) error {
						if tt.readQueryFirst {
							c.QueryParam("experienceKey")
						}
						err := next(c)
						outerStatus = c.Response().Status
						return err
					}
				})
				e.Use(w.wrap(kit.Middleware.Handler))
				h := func(c echo.Context) error {
					ran = true
					token, _ = scopedtoken.FromContext(c.Request().Context())
					query = c.QueryParams()["experienceKey"]
					input = c.QueryParam("input")
					return c.String(http.StatusOK, "handled")
				}
				e.GET("/v2/accounts/:businessId/:endpoint", h)
				e.GET("/v2/accounts/:businessId/:endpoint/*", h)

				req := httptest.NewRequest(http.MethodGet, tt.target, nil)
				if tt.token != "" {
					req.Header.Set("Authorization", "Bearer "+tt.token)
				}
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)

				assert.Equal(t, tt.wantStatus, rec.Code, "body: %s", rec.Body)
				assert.Equal(t, tt.wantStatus, outerStatus, "status seen by an outer echo middleware")
				assert.Equal(t, tt.wantRan, ran, "handler ran")
				if !tt.wantRan {
					assert.Contains(t, rec.Header().Get("WWW-Authenticate"), "Bearer ")
					return
				}
				assert.Equal(t, "handled", rec.Body.String())
				require.NotNil(t, token)
				assert.Equal(t, "42", token.BusinessID())
				assert.Equal(t, []string{"bound"}, query)
				assert.Equal(t, "pizza", input)
			})
		}
	}
}

func TestWrapGenericMiddleware(t *testing.T) {
	tests := []struct {
		name       string
		middleware func(next http.Handler) http.Handler
		wantStatus int
		wantRuns   int
	}{
		{
			name: "refuses without calling next",
			middleware: func(http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
			},
			wantStatus: http.StatusTeapot,
		},
		{
			name: "calls next twice",
			middleware: func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					next.ServeHTTP(w, r)
					next.ServeHTTP(w, r)
				})
			},
			wantStatus: http.StatusOK, wantRuns: 1,
		},
		{
			name: "wraps the writer",
			middleware: func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					next.ServeHTTP(headerWriter{w}, r)
				})
			},
			wantStatus: http.StatusOK, wantRuns: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := 0
			e := echo.New()
			e.GET("/", func(c echo.Context) error {
				runs++
				return c.NoContent(http.StatusOK)
			}, scopedecho.Wrap(tt.middleware))
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			assert.Equal(t, tt.wantStatus, rec.Code)
			assert.Equal(t, tt.wantRuns, runs)
			if tt.name == "wraps the writer" {
				assert.Equal(t, "yes", rec.Header().Get("X-Wrapped"), "the handler wrote through the middleware's writer")
			}
		})
	}
}

// headerWriter marks the response when the handler writes its header.
type headerWriter struct{ http.ResponseWriter }

func (h headerWriter) WriteHeader(code int) {
	h.Header().Set("X-Wrapped", "yes")
	h.ResponseWriter.WriteHeader(code)
}

// TestBindersSeeTheTokensValue: echo's binders read case variants of a bound
// name. DefaultBinder (c.Bind) looks the tag up exactly first and, when that
// name is absent, takes any name equal under strings.EqualFold; so a handler
// whose tag differs in case from the claim's name would bind ?experiencekey=
// unless the middleware removes case variants. QueryParamsBinder looks names
// up exactly.
func TestBindersSeeTheTokensValue(t *testing.T) {
	kit := demotest.NewKit(t)
	tok, err := kit.Minter.Mint(mint.Claims{
		Audience: []string{"/v2/accounts/me/search"},
		Query:    url.Values{"experienceKey": {"bound"}},
	})
	require.NoError(t, err)
	type sameCase struct {
		ExperienceKey string `query:"experienceKey"`
	}
	type otherCase struct {
		ExperienceKey string `query:"experiencekey"`
	}
	for _, sent := range []string{"experiencekey=evil", "EXPERIENCEKEY=evil", "%65xperiencekey=evil", "experience%E2%84%AAey=evil",
		"experienceKey=evil&experiencekey=evil", "experiencekey=evil&experienceKey=bound"} {
		t.Run(sent, func(t *testing.T) {
			var (
				bound, boundOther        string
				exactBinder, otherBinder string
			)
			e := echo.New()
			e.Use(scopedecho.Wrap(kit.Middleware.Handler))
			e.GET("/v2/accounts/:businessId/:endpoint", func(c echo.Context) error {
				var same sameCase
				if err := c.Bind(&same); err != nil {
					return err
				}
				var other otherCase
				if err := c.Bind(&other); err != nil {
					return err
				}
				bound, boundOther = same.ExperienceKey, other.ExperienceKey
				if err := echo.QueryParamsBinder(c).
					String("experienceKey", &exactBinder).
					String("experiencekey", &otherBinder).BindError(); err != nil {
					return err
				}
				return c.NoContent(http.StatusOK)
			})
			req := httptest.NewRequest(http.MethodGet, "/v2/accounts/me/search?"+sent, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, "bound", bound, "c.Bind, tag as in the claim")
			assert.Equal(t, "bound", boundOther, "c.Bind, tag in another case")
			assert.Equal(t, "bound", exactBinder, "QueryParamsBinder, name as in the claim")
			assert.Empty(t, otherBinder, "QueryParamsBinder, name in another case")
		})
	}
}
