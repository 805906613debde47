package scopedtoken

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wireTargets are request targets as a client writes them: plain paths, the
// ones checkPlainPath must leave to checkPath (empty and dot segments,
// escapes, bytes EscapedPath escapes, raw non-ASCII), the sub-delimiters it
// takes, "*" and the absolute form.
var wireTargets = []string{
	"/", "//", "///", "/v2/accounts/me/search", "/v2/accounts/me/search/", "/v2/accounts/me/search//",
	"//v2/accounts/me/search", "/v2/accounts/me//search", "/v2/accounts/me/./search", "/v2/accounts/me/search/.",
	"/v2/accounts/me/search/..", "/v2/accounts/me/search/../../42/search", "/v2/accounts/me/search/.../x",
	"/v2/accounts/me/a;b=c", "/v2/accounts/me/a;b=c/", "/v2/accounts/me/a%3Bb=c", "/v2/accounts/me/se%61rch",
	"/v2/accounts/me/search%2Fx", "/v2/accounts/me/search/%2e%2e", "/v2/accounts/me/search/%2E", "/v2/accounts/me/search%",
	"/v2/accounts/me/x~$&+,:=@", "/v2/accounts/me/x~$&+,:=@/y", "/v2/accounts/me/search!", "/v2/accounts/me/search*",
	"/v2/accounts/me/search'", "/v2/accounts/me/search(x)", "/v2/accounts/me/search/{", "/v2/accounts/me/search/\"",
	"/v2/accounts/me/search/\xc3\xa9", "/v2/accounts/me/search/\xff", "/v2/accounts/me/search/%C3%A9", "/v2/accounts/me/search\\x",
	"/v2/accounts/me/search/\x7f", "/v2/accounts/me/search?x=1", "/v2/accounts/me/search/?x=1", "/v2/accounts/me/search#f",
	"/v2/accounts/me/search/x?y=%2F", "/v2/accounts/me/SEARCH", "/V2/accounts/me/search", "*",
	"http://h/v2/accounts/me/search", "http://h/v2/accounts/me/search/..", "http://h", "/v2/accounts/me/search/x%20y",
	"/v2/accounts/me/search%21", "/v2/accounts/me/search%2A", "/v2/accounts/me/search%7E", "/v2/accounts/me/x~$&+,:=@%21",
}

// pathAuthority is a token whose aud holds the plain and sub-delimiter
// paths of wireTargets, the middleware that verified it, and what it read.
func pathAuthority(t testing.TB) (*Middleware, *verified, string) {
	m := newTestMiddleware(t, nil)
	claims := validClaims()
	claims["aud"] = []string{"/v2/accounts/me/search", "/v2/accounts/me/a;b=c", "/v2/accounts/me/x~$&+,:=@"}
	token := hsToken(t, claims)
	v, _, _, e := m.verify(context.Background(), token, m.cacheHit(token))
	require.Nil(t, e)
	return m, v, token
}

// checkRequestPath asserts what requestPath must give for a URL that net/http
// parsed: without a RawPath, EscapedPath itself; checked only without a
// RawPath and only for a path checkPath accepts; and the decision of
// authorize on that path whether checkPath runs or not. It returns checked.
func checkRequestPath(t testing.TB, m *Middleware, v *verified, r *http.Request) bool {
	t.Helper()
	u := r.URL
	path, checked := requestPath(u)
	if u.RawPath == "" && path != u.EscapedPath() {
		t.Fatalf("%q: requestPath %q, EscapedPath %q", r.RequestURI, path, u.EscapedPath())
	}
	if checked && (u.RawPath != "" || !checkPath(path)) {
		t.Fatalf("%q: requestPath says %q is checked, checkPath %v, RawPath %q", r.RequestURI, path, checkPath(path), u.RawPath)
	}
	entry, e := m.authorize(v, path, checked)
	wantEntry, wantE := m.authorize(v, path, false)
	if entry != wantEntry || e != wantE {
		t.Fatalf("%q: checked %v: entry %d, %v; checkPath first: %d, %v", r.RequestURI, checked, entry, e, wantEntry, wantE)
	}
	return checked
}

// TestRequestPathOnTheWire sends wireTargets as raw request lines to a
// loopback server, so that URL.Path and URL.RawPath are what net/http's
// server makes of them, and checks each as checkRequestPath does; the same
// requests through the middleware get the status of authorize on
// requestPath's answer, with checkPath run.
func TestRequestPathOnTheWire(t *testing.T) {
	m, v, token := pathAuthority(t)
	type seen struct {
		checked bool
		status  int
	}
	got := make(chan seen, 1)
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checked := checkRequestPath(t, m, v, r)
		path, _ := requestPath(r.URL)
		status := http.StatusOK
		if _, e := m.authorize(v, path, false); e != nil {
			status = e.Status()
		}
		got <- seen{checked, status}
	})
	plain := httptest.NewServer(record)
	defer plain.Close()
	guarded := httptest.NewServer(m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	defer guarded.Close()
	send := func(srv *httptest.Server, method, target string) int {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
		_, err = io.WriteString(c, method+" "+target+" HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer "+token+"\r\nConnection: close\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	var checked, unchecked int
	for _, target := range wireTargets {
		t.Run(strings.ToValidUTF8(target, "?"), func(t *testing.T) {
			method := http.MethodGet
			if target == "*" {
				method = http.MethodOptions
			}
			status := send(plain, method, target)
			var s seen
			select {
			case s = <-got: // sent before the response was written
			default:
				return // the server answered itself: a refused request line, or OPTIONS *
			}
			require.Equal(t, http.StatusOK, status)
			if s.checked {
				checked++
			} else {
				unchecked++
			}
			assert.Equal(t, s.status, send(guarded, method, target), "the middleware's status")
		})
	}
	assert.Greater(t, checked, 5, "targets that take the one-pass check")
	assert.Greater(t, unchecked, 20, "targets that take checkPath")
}

// FuzzRequestPathOnTheWire reads fuzzed request targets with net/http's own
// request parser and checks requestPath on the result as checkRequestPath
// does.
func FuzzRequestPathOnTheWire(f *testing.F) {
	for _, target := range wireTargets {
		f.Add(target)
	}
	m, v, _ := pathAuthority(f)
	f.Fuzz(func(t *testing.T, target string) {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n")))
		if err != nil {
			return
		}
		checkRequestPath(t, m, v, r)
	})
}
