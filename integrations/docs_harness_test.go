package integrations_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDocsCurlParsing keeps the curl syntax that TestDocsServersAnswer runs
// restricted: an option it does not know, or a URL off loopback, fails loudly
// instead of being sent as something else.
func TestDocsCurlParsing(t *testing.T) {
	req, err := parseCurl([]string{"-sS", "-X", "POST", "-H", "Authorization: Bearer abc", "-d", "a=1", "http://127.0.0.1:8080/v2/accounts/me/x"})
	require.NoError(t, err)
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Equal(t, "Bearer abc", req.Header.Get("Authorization"))
	assert.Equal(t, "application/x-www-form-urlencoded", req.Header.Get("Content-Type"))
	assert.Equal(t, "/v2/accounts/me/x", req.URL.Path)

	req, err = parseCurl([]string{"http://127.0.0.1:8080/healthz"})
	require.NoError(t, err)
	assert.Equal(t, http.MethodGet, req.Method)

	for name, args := range map[string][]string{
		"unknown option":  {"-L", "http://127.0.0.1:8080/"},
		"long option":     {"--data", "a=1", "http://127.0.0.1:8080/"},
		"second URL":      {"http://127.0.0.1:8080/", "http://127.0.0.1:8080/b"},
		"not loopback":    {"http://example.com/"},
		"https":           {"https://127.0.0.1:8080/"},
		"no URL":          {"-s"},
		"missing value":   {"http://127.0.0.1:8080/", "-H"},
		"header no colon": {"-H", "Authorization", "http://127.0.0.1:8080/"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseCurl(args)
			assert.Error(t, err)
		})
	}
}

// TestDocsShellWords checks the shell subset TestDocsServersAnswer reads:
// quoting, variables, $(cat FILE), the trailing comment, and the refusals.
func TestDocsShellWords(t *testing.T) {
	work := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(work, "k.secret"), []byte("s3cret\n"), 0o600))
	s := &shSession{t: t, work: work, vars: map[string]string{"TOKEN": "abc"}}

	for _, tc := range []struct {
		line    string
		words   []string
		comment string
	}{
		{`curl -H "Authorization: Bearer $TOKEN" 'http://127.0.0.1:1/a b'   # 200: ok`,
			[]string{"curl", "-H", "Authorization: Bearer abc", "http://127.0.0.1:1/a b"}, "# 200: ok"},
		{`curl "${TOKEN}x" \$TOKEN a#b`, []string{"curl", "abcx", "$TOKEN", "a#b"}, ""},
		{`export S="$(cat k.secret)" R=redis://127.0.0.1:6379`, []string{"export", "S=s3cret", "R=redis://127.0.0.1:6379"}, ""},
	} {
		words, comment, err := s.words(tc.line)
		require.NoError(t, err, tc.line)
		assert.Equal(t, tc.words, words, tc.line)
		assert.Equal(t, tc.comment, comment, tc.line)
	}
	for _, line := range []string{`curl $UNSET`, `X=$(ls)`, `curl "open`, `curl 'open`, `X=$(cat k.secret`} {
		_, _, err := s.words(line)
		assert.Error(t, err, line)
	}

	lines := shLines([]fencedBlock{{line: 10, text: "a \\\n  b\nc\n"}})
	assert.Equal(t, []shLine{{text: "a    b", line: 10}, {text: "c", line: 12}}, lines)

	ports := map[string]string{"8080": "40001", "6379": "40002"}
	assert.Equal(t, "http://127.0.0.1:40001/ redis://127.0.0.1:40002 127.0.0.1:80800",
		movePorts("http://127.0.0.1:8080/ redis://127.0.0.1:6379 127.0.0.1:80800", ports))
}
