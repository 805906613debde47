package scopedgin_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/integrations/internal/demo"
	"github.com/scopedtoken/scopedtoken/integrations/scopedgin"
	"github.com/scopedtoken/scopedtoken/mint"
)

// The middleware runs in front of a gin route group: handlers find the
// verified token in the request's context, and c.Query sees the value the
// token fixes, whatever the request sent. (demo.NewKit generates a key, the
// middleware that trusts it and a minter.)
func ExampleWrap() {
	gin.SetMode(gin.ReleaseMode)
	kit, err := demo.NewKit(scopedtoken.Config{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	r := gin.New()
	api := r.Group("/v2/accounts/:businessId", scopedgin.Wrap(kit.Middleware.Handler))
	for _, endpoint := range []string{"search", "answers"} {
		api.GET("/"+endpoint, func(c *gin.Context) {
			tok, _ := scopedtoken.FromContext(c.Request.Context())
			c.String(http.StatusOK, "business %s, %s for %s", tok.BusinessID(), endpoint, c.Query("experienceKey"))
		})
	}

	token, err := kit.Minter.Mint(mint.Claims{
		Audience: []string{"/v2/accounts/me/search"},
		Query:    url.Values{"experienceKey": {"docs"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, target := range []string{"/v2/accounts/me/search?experienceKey=other", "/v2/accounts/me/answers"} {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 200 business 42, search for docs
	// 403 {"error":"insufficient_scope","reason":"audience_mismatch","message":"The request path is outside every audience of the token."}
}
