package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/jwks"
	"github.com/scopedtoken/scopedtoken/scopedotel"
	"github.com/scopedtoken/scopedtoken/scopedotel/internal/docprogram"
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
	// The keys are business 42's, given as --business would: "me" in the
	// path stands for it.
	const path = "/v2/accounts/me/search"
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithBusiness("42"))
	api, metrics := listen(t), listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, jwks.Config{URL: iss.JWKSServer().URL, BusinessID: "42"}, api, metrics) }()
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
		`scopedtoken_requests_total{otel_scope_name="github.com/scopedtoken/scopedtoken/scopedotel",otel_scope_schema_url="",otel_scope_version="",scopedtoken_cache_hit="false",scopedtoken_outcome="allowed"} 1`,
		`scopedtoken_requests_total{error_type="missing_token",http_response_status_code="401",otel_scope_name="github.com/scopedtoken/scopedtoken/scopedotel",otel_scope_schema_url="",otel_scope_version="",scopedtoken_cache_hit="false",scopedtoken_outcome="refused"} 1`,
		`scopedtoken_decision_duration_seconds_count{`,
		`scopedtoken_keyset_fetches_total{otel_scope_name="github.com/scopedtoken/scopedtoken/scopedotel",otel_scope_schema_url="",otel_scope_version="",scopedtoken_fetch_result="success",scopedtoken_keyset="issuer"} 1`,
		`scopedtoken_keyset_healthy{`,
		`scopedtoken_keyset_keys{`,
		`scopedtoken_keyset_age_seconds{`,
	} {
		// The scope's version is the module's, as this build recorded it.
		want = strings.ReplaceAll(want, `otel_scope_version=""`, `otel_scope_version="`+scopedotel.ScopeVersion()+`"`)
		assert.Contains(t, body, want)
	}
}

// TestDocsShowThisProgram keeps docs/metrics.md and this program identical,
// so the documented program is the one that compiles and is tested here. The
// page's other Go blocks (the Redis store's wiring, which this module cannot
// import) are built by TestDocsSnippetsCompile in the integrations module.
func TestDocsShowThisProgram(t *testing.T) {
	docprogram.Check(t, "../../../docs/metrics.md", "main.go", "// Command prometheus-example")
}
