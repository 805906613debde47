package jwks

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// TestJWKSRedirectToAnotherOrigin: a JWKS endpoint that redirects to another
// host (another loopback port), or from https to http, is not followed, the
// refusal is logged (redacted), and the keys served there are never trusted.
func TestJWKSRedirectToAnotherOrigin(t *testing.T) {
	attacker := testkit.NewSigner(t, "evil")
	tests := []struct {
		name  string
		start func(t *testing.T, target string) (url string, client *http.Client)
	}{
		{name: "http to another host", start: func(t *testing.T, target string) (string, *http.Client) {
			srv := testkit.NewJWKSServer(t, nil)
			srv.Reply("", testkit.Redirect(target+"/jwks"))
			return srv.URL, nil
		}},
		{name: "https to http", start: func(t *testing.T, target string) (string, *http.Client) {
			srv := testkit.NewTLSJWKSServer(t, nil)
			srv.Reply("", testkit.Redirect(target+"/jwks"))
			return srv.URL, srv.Client()
		}},
		{name: "a client whose own CheckRedirect allows everything", start: func(t *testing.T, target string) (string, *http.Client) {
			srv := testkit.NewJWKSServer(t, nil)
			srv.Reply("", testkit.Redirect(target+"/jwks"))
			return srv.URL, &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evil := testkit.NewJWKSServer(t, testkit.JWKSet(t, attacker.JWK(t)))
			start, client := tt.start(t, strings.Replace(evil.URL, "//", "//bob-user:bob-pass@", 1))
			var logs logRecorder
			rs := newFaultRemote(t, withCredentials(t, start, "/jwks"), func(c *Config) {
				c.Client, c.Logger = client, logs.logger()
			})
			err := rs.Refresh(context.Background())
			assert.ErrorIs(t, err, errRedirectOrigin)
			code, _ := quickStatus(remoteMiddleware(t, rs), attacker.Token(t, ""))
			assert.Equal(t, http.StatusServiceUnavailable, code, "the keys behind the redirect are not trusted")
			assert.Zero(t, evil.Hits.Load(), "the redirect was not followed")
			failures := logs.records(t, logFirstFetchFailed)
			require.NotEmpty(t, failures)
			assert.Contains(t, failures[0]["error"], "redirect")
			assertNoSecrets(t, "the log", logs.String())
		})
	}
}

// TestJWKSRedirectSameOrigin: redirects within the configured scheme, host
// and port are followed (at most 10), and a client's own CheckRedirect is
// still asked after the package's rule.
func TestJWKSRedirectSameOrigin(t *testing.T) {
	a := testkit.NewSigner(t, "a")
	srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, a.JWK(t)))
	srv.Reply("/old", testkit.Redirect("/jwks"))
	srv.Reply("/loop", testkit.Redirect("/loop"))

	t.Run("followed", func(t *testing.T) {
		rs := newFaultRemote(t, srv.URL+"/old", nil)
		require.NoError(t, rs.Refresh(context.Background()))
		code, _ := quickStatus(remoteMiddleware(t, rs), a.Token(t, ""))
		assert.Equal(t, http.StatusOK, code)
	})
	t.Run("the scheme's default port is the same origin", func(t *testing.T) {
		assert.Equal(t, origin(mustParseURL(t, "https://H/x")), origin(mustParseURL(t, "https://h:443/y")))
		assert.NotEqual(t, origin(mustParseURL(t, "http://h/x")), origin(mustParseURL(t, "https://h/x")))
	})
	t.Run("at most 10 redirects", func(t *testing.T) {
		rs := newFaultRemote(t, srv.URL+"/loop", nil)
		before := srv.HitsOf("/loop")
		assert.ErrorIs(t, rs.Refresh(context.Background()), errRedirectCount)
		assert.EqualValues(t, 1+maxJWKSRedirects, srv.HitsOf("/loop")-before, "the request and 10 redirects")
	})
	t.Run("the client's CheckRedirect is kept", func(t *testing.T) {
		var asked atomic.Int32
		refuse := errors.New("refused by the application")
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { asked.Add(1); return refuse }}
		rs := newFaultRemote(t, srv.URL+"/old", func(c *Config) { c.Client = client })
		assert.ErrorIs(t, rs.Refresh(context.Background()), refuse)
		assert.Positive(t, asked.Load())
		code, _ := quickStatus(remoteMiddleware(t, rs), a.Token(t, ""))
		assert.Equal(t, http.StatusServiceUnavailable, code)
	})
}

func mustParseURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}
