package site_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/example/site"
)

func TestEmailedLinkLanding(t *testing.T) {
	f := newFixture(t, site.Config{})
	tests := []struct {
		name         string
		target       string
		tls          bool
		secure       bool   // Config.SecureCookies
		wantLocation string // "" when the page is served
		wantCookie   string // the exact Set-Cookie; "" for none
	}{
		{
			name: "the token moves into a cookie for the page's API path", target: "/answers?jwt=" + f.link,
			wantLocation: "/answers",
			wantCookie:   site.DefaultLinkCookie + "=" + f.link + "; Path=/v2/accounts/me/answers; HttpOnly; SameSite=Strict",
		},
		{
			name: "the rest of the query stays", target: "/answers?utm_source=mail&jwt=" + f.link + "&x=%2F",
			wantLocation: "/answers?utm_source=mail&x=%2F", // as sent, not re-encoded
			wantCookie:   site.DefaultLinkCookie + "=" + f.link + "; Path=/v2/accounts/me/answers; HttpOnly; SameSite=Strict",
		},
		{
			name: "Secure over TLS", target: "/answers?jwt=" + f.link, tls: true,
			wantLocation: "/answers",
			wantCookie:   site.DefaultLinkCookie + "=" + f.link + "; Path=/v2/accounts/me/answers; HttpOnly; Secure; SameSite=Strict",
		},
		{
			name: "Secure behind a TLS-terminating proxy", target: "/answers?jwt=" + f.link, secure: true,
			wantLocation: "/answers",
			wantCookie:   site.DefaultLinkCookie + "=" + f.link + "; Path=/v2/accounts/me/answers; HttpOnly; Secure; SameSite=Strict",
		},
		{
			name: "a value that is no token clears the cookie", target: "/answers?jwt=a.b;%20Path=/",
			wantLocation: "/answers",
			wantCookie:   site.DefaultLinkCookie + "=; Path=/v2/accounts/me/answers; Max-Age=0; HttpOnly; SameSite=Strict",
		},
		{
			name: "two tokens clear the cookie", target: "/answers?jwt=" + f.link + "&jwt=" + f.link,
			wantLocation: "/answers",
			wantCookie:   site.DefaultLinkCookie + "=; Path=/v2/accounts/me/answers; Max-Age=0; HttpOnly; SameSite=Strict",
		},
		{
			name: "an empty token clears the cookie", target: "/answers?jwt=",
			wantLocation: "/answers",
			wantCookie:   site.DefaultLinkCookie + "=; Path=/v2/accounts/me/answers; Max-Age=0; HttpOnly; SameSite=Strict",
		},
		{
			name: "a page that sends its own token drops the link's", target: "/?jwt=" + f.link,
			wantLocation: "/",
		},
		{
			name: "an escaped parameter name is the same parameter", target: "/answers?j%77t=" + f.link + "&a=1",
			wantLocation: "/answers?a=1",
			wantCookie:   site.DefaultLinkCookie + "=" + f.link + "; Path=/v2/accounts/me/answers; HttpOnly; SameSite=Strict",
		},
		{
			name: "a value that does not unescape clears the cookie", target: "/answers?jwt=%zz",
			wantLocation: "/answers",
			wantCookie:   site.DefaultLinkCookie + "=; Path=/v2/accounts/me/answers; Max-Age=0; HttpOnly; SameSite=Strict",
		},
		{name: "no token: the page", target: "/answers?utm_source=mail&jwtx=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := f.handler
			if tt.secure {
				h = newFixture(t, site.Config{SecureCookies: true}).handler
			}
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			header := rec.Header()
			assert.Equal(t, "no-referrer", header.Get("Referrer-Policy"))
			if tt.wantLocation == "" {
				assert.Equal(t, http.StatusOK, rec.Code)
				assert.Empty(t, header.Values("Set-Cookie"))
				return
			}
			assert.Equal(t, http.StatusSeeOther, rec.Code)
			assert.Equal(t, tt.wantLocation, header.Get("Location"))
			assert.Equal(t, "no-store", header.Get("Cache-Control"))
			if tt.wantCookie == "" {
				assert.Empty(t, header.Values("Set-Cookie"))
			} else {
				assert.Equal(t, []string{tt.wantCookie}, header.Values("Set-Cookie"))
			}
			assert.NotContains(t, rec.Body.String(), f.link, "the answer never repeats the token")
		})
	}
}

// TestLandingCookieWorksAtTheAPI follows the landing as a browser would: the
// cookie it sets is the API's token for the page's call, and only for it.
func TestLandingCookieWorksAtTheAPI(t *testing.T) {
	f := newFixture(t, site.Config{})
	landing := f.get("/answers?jwt=" + f.link)
	require.Equal(t, http.StatusSeeOther, landing.Code)
	cookies := landing.Result().Cookies()
	require.Len(t, cookies, 1)
	cookie := cookies[0].Name + "=" + cookies[0].Value

	assert.Equal(t, http.StatusNoContent, f.get("/v2/accounts/me/answers?input=pizza", "Cookie", cookie).Code)
	assert.Equal(t, http.StatusUnauthorized, f.get("/v2/accounts/me/answers?input=pizza").Code, "without the cookie")
}
