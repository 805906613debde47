package demo_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/integrations/internal/demo"
	"github.com/scopedtoken/scopedtoken/mint"
)

// A kit's middleware in front of the demo handler: the reply says what the
// handler saw of the verified token and the request.
func ExampleNewKit() {
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	kit, err := demo.NewKit(scopedtoken.Config{}, now)
	if err != nil {
		log.Fatal(err)
	}
	token, err := kit.Minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}, Query: url.Values{"experienceKey": {"docs"}}})
	if err != nil {
		log.Fatal(err)
	}
	h := kit.Middleware.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		demo.WriteReply(w, r, "search", "me")
	}))
	req := httptest.NewRequest(http.MethodGet, "/v2/accounts/me/search?experienceKey=other&input=pizza", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 200 {"endpoint":"search","business":"42","pathBusiness":"me","query":{"experienceKey":["docs"],"input":["pizza"]},"tokenQuery":{"experienceKey":["docs"]},"expiresAt":"2026-01-02T04:04:05Z"}
}
