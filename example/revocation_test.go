package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/redisstore"
	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
)

// TestTwoInstancesShareRevocations runs two demo instances with the same
// -redis and -secret-file: each accepts the other's tokens, a single-use
// token passes once across both, and a revocation reaches both.
func TestTwoInstancesShareRevocations(t *testing.T) {
	srv := redistest.Start(t)
	secretFile := filepath.Join(t.TempDir(), "demo.secret")
	require.NoError(t, os.WriteFile(secretFile, []byte("c2NvcGVkdG9rZW4tZGVtby1zZWNyZXQtZm9yLXRlc3Rz\n"), 0o600))
	url := "redis://:pw@" + srv.Addr()
	require.NoError(t, srv.Client(t).ConfigSet(t.Context(), "requirepass", "pw").Err())

	instance := func() *demo {
		o, closeStore, err := loadOptions(t.Context(), url, secretFile)
		require.NoError(t, err)
		t.Cleanup(closeStore)
		d, err := newDemo(time.Now, o)
		require.NoError(t, err)
		return d
	}
	a, b := instance(), instance()
	var out bytes.Buffer
	a.printCommands(&out, "http://127.0.0.1:8080")
	assert.Contains(t, out.String(), "revoke --redis 'redis://:xxxxx@"+srv.Addr()+"'")
	assert.NotContains(t, out.String(), ":pw@")
	cmds := parseCommands(t, out.String())
	var wants []int
	for _, c := range cmds {
		wants = append(wants, c.want)
	}
	assert.Equal(t, []int{200, 403, 401, 401, 400, 200, 401}, wants)

	status := func(d *demo, target, token string) int {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		d.handler.ServeHTTP(rec, req)
		return rec.Code
	}
	search, once := cmds[0], cmds[5]
	dots := cmds[4]
	assert.Equal(t, http.StatusBadRequest, status(a, dots.rawURL, dots.token), "the middleware sees the dot segments (a ServeMux in front redirects them when the module says go 1.26)")
	assert.Equal(t, http.StatusOK, status(b, search.rawURL, search.token), "b accepts a's token")
	assert.Equal(t, http.StatusOK, status(b, once.rawURL, once.token))
	assert.Equal(t, http.StatusUnauthorized, status(a, once.rawURL, once.token), "used in b")

	r, err := scopedtoken.TokenRevocation(search.token)
	require.NoError(t, err)
	ro, err := redis.ParseURL(url)
	require.NoError(t, err)
	client := redis.NewClient(ro)
	defer client.Close()
	require.NoError(t, redisstore.Revoke(t.Context(), client, "", r))
	for name, d := range map[string]*demo{"a": a, "b": b} {
		assert.Eventually(t, func() bool { return status(d, search.rawURL, search.token) == http.StatusUnauthorized },
			time.Second, 5*time.Millisecond, "instance %s enforces the revocation", name)
	}

	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	var h redisstore.Health
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &h))
	assert.True(t, h.Connected)
	assert.Equal(t, 1, h.Entries)
}
