package testkit_test

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// Send puts a token through a guard, as a middleware's Handler is one, and
// tells what came back: the status, the reason of a refusal's JSON body, and
// whether the handler behind the guard ran. Unsigned builds a token with any
// header and claims and a signature segment of the test's choice.
func ExampleSend() {
	// A guard that lets only unsigned tokens with the test's claims through.
	guard := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if _, claims, _ := strings.Cut(token, "."); !strings.HasPrefix(claims, testkit.B64(testkit.Claims(""))) {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"reason":"bad_claims"}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	good := testkit.Unsigned(`{"alg":"none"}`, testkit.Claims(""), "")
	other := testkit.Unsigned(`{"alg":"none"}`, `{"aud":"/elsewhere"}`, "")
	for _, token := range []string{good, other} {
		res := testkit.Send(guard, token)
		fmt.Printf("%d %q ran=%v\n", res.Code, res.Reason, res.Ran)
	}
	// Output:
	// 200 "" ran=true
	// 401 "bad_claims" ran=false
}
