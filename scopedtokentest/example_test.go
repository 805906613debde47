package scopedtokentest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

func Example() {
	t := &testing.T{} // in a real test, the test's *testing.T
	iss := scopedtokentest.NewIssuer(t)
	mw, err := scopedtoken.New(iss.Config())
	if err != nil {
		panic(err)
	}
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := scopedtoken.FromContext(r.Context())
		fmt.Fprint(w, tok.Query().Get("experienceKey"))
	}))

	for _, token := range []string{
		iss.Mint(scopedtokentest.Query("experienceKey", "MySearchExperience")),
		iss.Expired(),
		iss.WrongAudience(),
	} {
		req := httptest.NewRequest(http.MethodGet, "/v2/accounts/me/search", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String() != "")
	}
	// Output:
	// 200 true
	// 401 true
	// 403 true
}
