package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/example/site"
)

// TestBrowserSide follows, without a browser, what the demo's pages do (the
// browser/ module drives a real one): the printed page URL serves the page,
// its token from the site works at the API, and the printed emailed link
// lands on the site, whose cookie then works at the API.
func TestBrowserSide(t *testing.T) {
	d, err := newDemo(func() time.Time { return fixedNow }, options{})
	require.NoError(t, err)
	var out bytes.Buffer
	d.printCommands(&out, "http://127.0.0.1:8080")
	printed := out.String()
	assert.Contains(t, printed, "# In a browser: http://127.0.0.1:8080/ ")
	m := regexp.MustCompile(`(?m)^# an emailed link.*: http://127\.0\.0\.1:8080(/answers\?jwt=[A-Za-z0-9_.-]+)$`).FindStringSubmatch(printed)
	require.NotNil(t, m, "the emailed link is printed:\n%s", printed)

	get := func(target string, header ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		d.handler.ServeHTTP(rec, r)
		return rec
	}

	page := get("/")
	require.Equal(t, http.StatusOK, page.Code)
	assert.NotEmpty(t, page.Header().Get("Content-Security-Policy"))
	assert.Contains(t, page.Body.String(), `data-token-spec="search"`)

	tokens := get("/site/tokens?page=/")
	require.Equal(t, http.StatusOK, tokens.Code)
	var toks map[string]string
	require.NoError(t, json.Unmarshal(tokens.Body.Bytes(), &toks))
	require.NotEmpty(t, toks["search"])
	search := get("/v2/accounts/me/search?input=pizza", "Authorization", "Bearer "+toks["search"])
	require.Equal(t, http.StatusOK, search.Code, search.Body.String())
	var got reply
	require.NoError(t, json.Unmarshal(search.Body.Bytes(), &got))
	assert.Equal(t, []string{demoExperience}, got.Query["experienceKey"], "the page token's query claim")

	landing := get(m[1])
	require.Equal(t, http.StatusSeeOther, landing.Code)
	assert.Equal(t, "/answers", landing.Header().Get("Location"))
	cookies := landing.Result().Cookies()
	require.Len(t, cookies, 1)
	assert.Equal(t, site.DefaultLinkCookie, cookies[0].Name)
	answers := get("/v2/accounts/me/answers?input=pizza", "Cookie", cookies[0].Name+"="+cookies[0].Value)
	require.Equal(t, http.StatusOK, answers.Code, answers.Body.String())
	require.NoError(t, json.Unmarshal(answers.Body.Bytes(), &got))
	assert.Equal(t, "answers", got.Endpoint)
	assert.Equal(t, demoBusinessID, got.Business)
}
