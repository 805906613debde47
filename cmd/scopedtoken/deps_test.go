package main

import (
	"testing"

	"github.com/scopedtoken/scopedtoken/internal/deppin"
)

// TestDependencyVersions pins the libraries that the installed CLI is built
// with, from this module's go.mod and not from the modules it requires
// (docs/keys.md, "Third-party libraries"): jwkset writes each public JWK of
// keygen (a key's private part must never reach jwks.json), and go-redis
// carries revoke's writes to Redis (redisstore's own test says why its
// behaviour matters). Both are pinned to the versions that the root module
// and redisstore pin. A change in go.mod fails here, so that its changes are
// read again before this test is updated.
func TestDependencyVersions(t *testing.T) {
	deppin.Check(t, "go.mod", map[string]string{
		"github.com/MicahParks/jwkset": "v0.11.5",
		"github.com/redis/go-redis/v9": "v9.23.0",
	})
}
