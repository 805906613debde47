package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// TestRun runs the documented program against a real JWK Set, sends requests
// and scrapes /metrics as Prometheus would.
func TestRun(t *testing.T) {
	// The example's key set names no business, so the path names one: "me"
	// would be refused (me_without_business).
	const path = "/v2/accounts/42/search"
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithAudience(path))
	api, metrics := listen(t), listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, iss.JWKSServer().URL, api, metrics) }()
	defer func() {
		cancel()
		assert.NoError(t, <-done)
	}()

	base := "http://" + api.Addr().String() + path
	code, body := get(t, base, iss.Mint())
	require.Equal(t, http.StatusOK, code, body)
	code, _ = get(t, base, "")
	require.Equal(t, http.StatusUnauthorized, code)

	code, body = get(t, "http://"+metrics.Addr().String()+"/metrics", "")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		`scopedtoken_requests_total{otel_scope_name="github.com/scopedtoken/scopedtoken/otelmetrics",otel_scope_schema_url="",otel_scope_version="",scopedtoken_cache_hit="false",scopedtoken_outcome="allowed"} 1`,
		`scopedtoken_requests_total{http_response_status_code="401",otel_scope_name="github.com/scopedtoken/scopedtoken/otelmetrics",otel_scope_schema_url="",otel_scope_version="",scopedtoken_cache_hit="false",scopedtoken_outcome="refused",scopedtoken_reason="missing_token"} 1`,
		`scopedtoken_decision_duration_seconds_count{`,
		`scopedtoken_keyset_fetches_total{otel_scope_name="github.com/scopedtoken/scopedtoken/otelmetrics",otel_scope_schema_url="",otel_scope_version="",scopedtoken_fetch_result="success",scopedtoken_keyset="issuer"} 1`,
		`scopedtoken_keyset_healthy{`,
		`scopedtoken_keyset_keys{`,
		`scopedtoken_keyset_age_seconds{`,
	} {
		assert.Contains(t, body, want)
	}
}

// TestDocsShowThisProgram keeps docs/metrics.md and this program identical,
// so the documented program is the one that compiles and is tested here.
func TestDocsShowThisProgram(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/metrics.md")
	require.NoError(t, err)
	program, err := os.ReadFile("main.go")
	require.NoError(t, err)
	parts := strings.Split(string(doc), "```go\n")
	require.Len(t, parts, 2, "docs/metrics.md has one Go block: a whole program")
	block, _, found := strings.Cut(parts[1], "```\n")
	require.True(t, found)
	assert.Equal(t, string(program), block, "the Go block of docs/metrics.md must be cmd/prometheus-example/main.go")
}
