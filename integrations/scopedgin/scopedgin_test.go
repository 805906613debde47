package scopedgin_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/integrations/internal/demotest"
	"github.com/scopedtoken/scopedtoken/integrations/scopedgin"
	"github.com/scopedtoken/scopedtoken/mint"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// seen is what the handler after the adapter observed.
type seen struct {
	ran        bool
	token      *scopedtoken.Token
	query      []string // c.QueryArray("experienceKey")
	input      string   // c.Query("input")
	businessID string   // c.Param("businessId")
}

func TestWrap(t *testing.T) {
	kit := demotest.NewKit(t)
	tok, err := kit.Minter.Mint(mint.Claims{
		Audience: []string{"/v2/accounts/me/search"},
		Query:    url.Values{"experienceKey": {"bound"}},
	})
	require.NoError(t, err)

	tests := []struct {
		name           string
		target         string
		token          string
		readQueryFirst bool // a gin middleware before the adapter reads the query
		wantStatus     int
		wantRan        bool
		wantQuery      []string
		wantErr        error // recorded in c.Errors
	}{
		{name: "allowed, query rewritten", target: "/v2/accounts/me/search?experienceKey=mine&input=pizza", token: tok,
			wantStatus: http.StatusOK, wantRan: true, wantQuery: []string{"bound"}},
		{name: "allowed, bound parameter filled in", target: "/v2/accounts/42/search?input=pizza", token: tok,
			wantStatus: http.StatusOK, wantRan: true, wantQuery: []string{"bound"}},
		{name: "allowed, nothing to rewrite, query read earlier", target: "/v2/accounts/me/search?experienceKey=bound&input=pizza", token: tok,
			readQueryFirst: true, wantStatus: http.StatusOK, wantRan: true, wantQuery: []string{"bound"}},
		{name: "stale gin query cache refused", target: "/v2/accounts/me/search?experienceKey=mine&input=pizza", token: tok,
			readQueryFirst: true, wantStatus: http.StatusInternalServerError, wantErr: scopedgin.ErrStaleQuery},
		{name: "no token", target: "/v2/accounts/me/search", wantStatus: http.StatusUnauthorized},
		{name: "outside aud", target: "/v2/accounts/me/answers", token: tok, wantStatus: http.StatusForbidden},
		{name: "bad path", target: "/v2/accounts/me/search/%2E%2E/answers", token: tok, wantStatus: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got seen
			var outerStatus int
			var errs []*gin.Error
			r := gin.New()
			r.Use(func(c *gin.Context) {
				if tt.readQueryFirst {
					c.Query("experienceKey")
				}
				c.Next()
				outerStatus, errs = c.Writer.Status(), c.Errors
			})
			r.Use(scopedgin.Wrap(kit.Middleware.Handler))
			h := func(c *gin.Context) {
				got.ran = true
				got.token, _ = scopedtoken.FromContext(c.Request.Context())
				got.query = c.QueryArray("experienceKey")
				got.input = c.Query("input")
				got.businessID = c.Param("businessId")
				c.String(http.StatusOK, "handled")
			}
			r.GET("/v2/accounts/:businessId/:endpoint", h)
			r.GET("/v2/accounts/:businessId/:endpoint/*rest", h)

			req := httptest.NewRequest(http.MethodGet, tt.target, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)

			assert.Equal(t, tt.wantStatus, rec.Code, "body: %s", rec.Body)
			assert.Equal(t, tt.wantStatus, outerStatus, "status seen by an outer gin middleware")
			assert.Equal(t, tt.wantRan, got.ran, "handler ran")
			if tt.wantErr != nil {
				require.Len(t, errs, 1)
				assert.ErrorIs(t, errs[0].Err, tt.wantErr)
			} else {
				assert.Empty(t, errs)
			}
			if !tt.wantRan {
				return
			}
			assert.Equal(t, "handled", rec.Body.String(), "nothing written after the chain")
			require.NotNil(t, got.token)
			assert.Equal(t, "42", got.token.BusinessID())
			assert.Equal(t, tt.wantQuery, got.query)
			assert.Equal(t, "pizza", got.input)
			assert.Equal(t, url.Values{"experienceKey": {"bound"}}, got.token.Query().URLValues())
		})
	}
}

func TestWrapRefusalAbortsAndKeepsBody(t *testing.T) {
	kit := demotest.NewKit(t)
	r := gin.New()
	later := false
	r.GET("/v2/accounts/:businessId/search", scopedgin.Wrap(kit.Middleware.Handler), func(c *gin.Context) {
		later = true
		c.String(http.StatusTeapot, "should not run")
	})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2/accounts/me/search", nil))

	assert.False(t, later)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `Bearer realm="api"`, rec.Header().Get("WWW-Authenticate"))
	var body map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "only the middleware's JSON is written: %s", rec.Body)
	assert.Equal(t, "missing_token", body["reason"])
}

func TestWrapGenericMiddleware(t *testing.T) {
	tests := []struct {
		name       string
		middleware func(next http.Handler) http.Handler
		wantStatus int
		wantRuns   int
		wantHeader string
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
			name: "sets a header and passes the writer on",
			middleware: func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("X-Seen", "yes")
					next.ServeHTTP(w, r)
				})
			},
			wantStatus: http.StatusOK, wantRuns: 1, wantHeader: "yes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := 0
			r := gin.New()
			r.GET("/", scopedgin.Wrap(tt.middleware), func(c *gin.Context) {
				runs++
				c.Status(http.StatusOK)
			})
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			assert.Equal(t, tt.wantStatus, rec.Code)
			assert.Equal(t, tt.wantRuns, runs)
			assert.Equal(t, tt.wantHeader, rec.Header().Get("X-Seen"))
		})
	}
}

func TestWrapPassesGinWriter(t *testing.T) {
	r := gin.New()
	var sameWriter bool
	r.GET("/", func(c *gin.Context) {
		scopedgin.Wrap(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				sameWriter = w == http.ResponseWriter(c.Writer)
				next.ServeHTTP(w, req)
			})
		})(c)
	})
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	assert.True(t, sameWriter, "the middleware writes through c.Writer")
}
