package jwks

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// Credentials of the JWKS URLs below; none may appear in a log or an error.
var urlSecrets = []string{"alice-user", "s3cret-pass", "k3y-value-123", "tok-456", "frag-789", "sig-target-000", "bob-user", "bob-pass"}

// withCredentials returns base (a test server's URL) with userinfo, query
// values and a fragment that are all secrets.
func withCredentials(t testing.TB, base, path string) string {
	t.Helper()
	u, err := url.Parse(base + path)
	require.NoError(t, err)
	u.User = url.UserPassword("alice-user", "s3cret-pass")
	u.RawQuery = "api_key=k3y-value-123&token=tok-456"
	u.Fragment = "frag-789"
	return u.String()
}

// assertNoSecrets fails if any credential appears in text.
func assertNoSecrets(t testing.TB, what, text string) {
	t.Helper()
	for _, s := range urlSecrets {
		assert.NotContains(t, text, s, "%s reveals a credential", what)
	}
}

// TestJWKSURLCredentialsRedacted: a failing fetch never logs or returns the
// JWKS URL's userinfo, query values or fragment, whatever failed.
func TestJWKSURLCredentialsRedacted(t *testing.T) {
	closed := testkit.ClosedURL(t)
	other := testkit.NewJWKSServer(t, testkit.JWKSet(t))
	otherWithSecrets := strings.Replace(other.URL, "//", "//bob-user:bob-pass@", 1) + "/jwks?sig=sig-target-000&api_key=k3y-value-123"
	tests := []struct {
		name    string
		refused bool // connection refused; else the server answers reply
		reply   testkit.Reply
	}{
		{name: "connection refused", refused: true},
		{name: "500", reply: testkit.Reply{Status: http.StatusInternalServerError, Body: []byte("internal error")}},
		{name: "bad JSON", reply: testkit.Reply{Body: []byte("<html>")}},
		{name: "redirect refused", reply: testkit.Redirect(otherWithSecrets)},
		{name: "Location that does not parse", reply: testkit.Redirect("http://alice-user:s3cret-pass@x/%zz?api_key=k3y-value-123")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := closed
			if !tt.refused {
				srv := testkit.NewJWKSServer(t, nil)
				srv.Reply("", tt.reply)
				base = srv.URL
			}
			var logs logRecorder
			rs := newFaultRemote(t, withCredentials(t, base, "/jwks"), func(c *Config) { c.Logger = logs.logger() })
			err := rs.Refresh(context.Background())
			require.Error(t, err)
			assertNoSecrets(t, "the error of Refresh", err.Error())
			_, err = rs.LookupKey(context.Background(), "a")
			require.Error(t, err)
			assertNoSecrets(t, "the error of LookupKey", err.Error())
			failures := logs.records(t, logFirstFetchFailed)
			require.NotEmpty(t, failures, "the failure is logged")
			assert.Equal(t, strings.TrimPrefix(base, "http://")+"/jwks?api_key=REDACTED&token=REDACTED#REDACTED",
				strings.TrimPrefix(failures[0]["url"].(string), "http://"), "the log still names the endpoint")
			assertNoSecrets(t, "the log", logs.String())
		})
	}
	assert.Zero(t, other.Hits.Load(), "the refused redirect was not followed")
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{in: "https://u:p@h/jwks?a=1&b=2#f", want: "https://h/jwks?a=REDACTED&b=REDACTED#REDACTED"},
		{in: "https://h:8443/jwks?token", want: "https://h:8443/jwks?REDACTED"},
		{in: "https://u@h/jwks", want: "https://h/jwks"},
		{in: "https://h/jwks", want: "https://h/jwks"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, redactURLString(tt.in))
		})
	}
}
