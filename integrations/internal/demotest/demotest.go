// Package demotest runs the same real requests through every router example,
// in process and over loopback.
package demotest

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/integrations/internal/demo"
	"github.com/scopedtoken/scopedtoken/mint"
)

// Clock is the fixed time of the tests.
var Clock = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// NewKit is demo.NewKit with the fixed clock and default configuration.
func NewKit(t *testing.T) *demo.Kit {
	t.Helper()
	return NewKitWith(t, scopedtoken.Config{})
}

// NewKitWith is demo.NewKit with the fixed clock and cfg.
func NewKitWith(t *testing.T, cfg scopedtoken.Config) *demo.Kit {
	t.Helper()
	kit, err := demo.NewKit(cfg, func() time.Time { return Clock })
	require.NoError(t, err)
	return kit
}

// Case is one request through a router and what must come back.
type Case struct {
	Name       string
	Target     string
	Header     http.Header
	WantStatus int
	WantReply  *demo.Reply // checked when the status is 200
}

// Cases are the requests every router example must answer alike.
func Cases(t *testing.T, kit *demo.Kit) []Case {
	t.Helper()
	search, err := kit.Minter.Mint(mint.Claims{
		Audience: []string{"/v2/accounts/me/search"},
		Query:    url.Values{"experienceKey": {"demo-experience"}},
	})
	require.NoError(t, err)
	expired, err := kit.Minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}, ExpiresIn: -time.Hour})
	require.NoError(t, err)
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	tampered := search[:len(search)-2] + "AA"
	if tampered == search {
		tampered = search[:len(search)-2] + "BA"
	}
	return []Case{
		{
			Name: "token query wins over the request's", Target: "/v2/accounts/me/search?experienceKey=other&input=pizza",
			Header: bearer(search), WantStatus: http.StatusOK,
			WantReply: &demo.Reply{Endpoint: "search", Business: demo.BusinessID, PathBusiness: "me",
				Query:      url.Values{"experienceKey": {"demo-experience"}, "input": {"pizza"}},
				TokenQuery: url.Values{"experienceKey": {"demo-experience"}}},
		},
		{
			Name: "key's own business by ID, deeper path", Target: "/v2/accounts/42/search/deeper/path",
			Header: bearer(search), WantStatus: http.StatusOK,
			WantReply: &demo.Reply{Endpoint: "search", Business: demo.BusinessID, PathBusiness: "42",
				Query:      url.Values{"experienceKey": {"demo-experience"}},
				TokenQuery: url.Values{"experienceKey": {"demo-experience"}}},
		},
		{Name: "endpoint outside aud", Target: "/v2/accounts/me/answers", Header: bearer(search), WantStatus: http.StatusForbidden},
		{Name: "another business", Target: "/v2/accounts/43/search", Header: bearer(search), WantStatus: http.StatusForbidden},
		{Name: "expired token", Target: "/v2/accounts/me/search", Header: bearer(expired), WantStatus: http.StatusUnauthorized},
		{Name: "bad signature", Target: "/v2/accounts/me/search", Header: bearer(tampered), WantStatus: http.StatusUnauthorized},
		{Name: "no token", Target: "/v2/accounts/me/search", WantStatus: http.StatusUnauthorized},
		{Name: "no token on a bad path", Target: "/v2/accounts/me/search/%2e%2e/answers", WantStatus: http.StatusUnauthorized},
		{Name: "encoded dot segment", Target: "/v2/accounts/me/search/%2e%2e/answers", Header: bearer(search), WantStatus: http.StatusBadRequest},
		{Name: "encoded slash", Target: "/v2/accounts/me/search/x%2Fy", Header: bearer(search), WantStatus: http.StatusBadRequest},
		{
			Name: "two Authorization headers", Target: "/v2/accounts/me/search",
			Header: http.Header{"Authorization": {"Bearer " + search, "Bearer " + search}}, WantStatus: http.StatusBadRequest,
		},
		{Name: "query with ';' under a query claim", Target: "/v2/accounts/me/search?a=1;b=2", Header: bearer(search), WantStatus: http.StatusBadRequest},
	}
}

// Check compares one response with c.
func Check(t *testing.T, c Case, status int, header http.Header, body []byte) {
	t.Helper()
	assert.Equal(t, c.WantStatus, status, "body: %s", body)
	switch {
	case status == http.StatusOK && c.WantReply != nil:
		var got demo.Reply
		require.NoError(t, json.Unmarshal(body, &got))
		assert.Equal(t, Clock.Add(time.Hour), got.ExpiresAt.UTC())
		got.ExpiresAt = time.Time{}
		assert.Equal(t, *c.WantReply, got)
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusBadRequest:
		assert.True(t, strings.HasPrefix(header.Get("WWW-Authenticate"), "Bearer "), "challenge: %q", header.Get("WWW-Authenticate"))
		assert.Equal(t, "application/json", header.Get("Content-Type"))
	}
}

// RunInProcess sends every case through h with httptest.
func RunInProcess(t *testing.T, h http.Handler, cases []Case) {
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, c.Target, nil)
			maps(req.Header, c.Header)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			Check(t, c, rec.Code, rec.Header(), rec.Body.Bytes())
		})
	}
}

// RunLoopback serves h with demo.Serve on 127.0.0.1, sends every case over a
// real connection, then shuts the server down and checks it stopped cleanly.
func RunLoopback(t *testing.T, h http.Handler, cases []Case) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- demo.Serve(ctx, ln, h) }()
	base := demo.BaseURL(ln.Addr())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, base+c.Target, nil)
			require.NoError(t, err)
			maps(req.Header, c.Header)
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			Check(t, c, resp.StatusCode, resp.Header, body)
		})
	}
	cancel()
	require.NoError(t, <-done)
	client.CloseIdleConnections()
}

func maps(dst, src http.Header) {
	for k, v := range src {
		dst[k] = append([]string(nil), v...)
	}
}
