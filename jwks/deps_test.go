package jwks

import (
	"testing"

	"github.com/scopedtoken/scopedtoken/internal/deppin"
)

// TestDependencyVersions pins the third-party libraries that the module's
// packages use to the versions whose changes were read for them
// (docs/keys.md, "Third-party libraries"). jwkset v0.11.5 parses each JWK of
// this package: against v0.11.4 it changes only how *ecdh keys are marshalled
// (P-256/P-384/P-521 as EC JWKs, nil keys an error), which nothing here
// builds; parsing, validation and its HTTP client are unchanged. golang-jwt
// v5.3.1 parses for package golangjwt, whose Keyfunc relies on how it
// verifies (the key types of each method, PS* salts of any length unless the
// method is swapped, the method read after the Keyfunc returns;
// docs/golang-jwt.md). A change of either in go.mod fails here, so that its
// changes are read again before this test is updated.
func TestDependencyVersions(t *testing.T) {
	deppin.Check(t, "../go.mod", map[string]string{
		"github.com/MicahParks/jwkset": "v0.11.5",
		"github.com/golang-jwt/jwt/v5": "v5.3.1",
	})
}
