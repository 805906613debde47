package scopedecho_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/integrations/internal/demo"
	"github.com/scopedtoken/scopedtoken/integrations/scopedecho"
	"github.com/scopedtoken/scopedtoken/mint"
)

// The middleware runs in front of an echo group: handlers find the verified
// token in the request's context, and c.QueryParam sees the value the token
// fixes, even after an earlier middleware read the query. (demo.NewKit
// generates a key, the middleware that trusts it and a minter.)
func ExampleWrap() {
	kit, err := demo.NewKit(scopedtoken.Config{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			_ = c.QueryParam("experienceKey") // a logger, say: echo caches the query now
			return next(c)
		}
	})
	api := e.Group("/v2/accounts/:businessId", scopedecho.Wrap(kit.Middleware.Handler))
	api.GET("/search", func(c echo.Context) error {
		tok, _ := scopedtoken.FromContext(c.Request().Context())
		return c.String(http.StatusOK, fmt.Sprintf("business %s searches %s", tok.BusinessID(), c.QueryParam("experienceKey")))
	})

	token, err := kit.Minter.Mint(mint.Claims{
		Audience: []string{"/v2/accounts/me/search"},
		Query:    url.Values{"experienceKey": {"docs"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, bearer := range []string{token, token[:len(token)-4] + "AAAA"} {
		req := httptest.NewRequest(http.MethodGet, "/v2/accounts/me/search?experienceKey=other", nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 200 business 42 searches docs
	// 401 {"error":"invalid_token","reason":"bad_signature","message":"The token signature does not verify."}
}
