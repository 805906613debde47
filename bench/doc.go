// Package bench measures the scopedtoken middleware against other Go JWT
// middleware on the same tokens and requests: bare golang-jwt
// ParseWithClaims as the floor, auth0 go-jwt-middleware (v2 and v3; v3 also
// on a DPoP-bound request, BenchmarkDPoP), go-chi/jwtauth and lestrrat-go/jwx
// (v2 and v3, used directly) as contenders, and the floor benchmarks of a
// cached and an uncached
// request that BENCHMARKS.md compares releases with. It is a module of its
// own so that the contenders stay out of the library's dependencies; its
// code is all in tests (go test -bench . in this directory), and the load
// test is the command in loadtest.
package bench
