package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// printedCommand is one curl command as the demo printed it.
type printedCommand struct {
	want   int
	token  string
	rawURL string
}

var (
	expectLine = regexp.MustCompile(`^# \d+\. expect (\d{3}): `)
	curlLine   = regexp.MustCompile(`^curl -sS -i(?: -H 'Authorization: Bearer ([A-Za-z0-9_.-]+)')? '(http://[^' ]+)'$`)
)

// parseCommands reads the printed instructions back: every "expect" comment
// must be followed by a curl command in the one shape the demo prints.
func parseCommands(t *testing.T, text string) []printedCommand {
	t.Helper()
	var cmds []printedCommand
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		m := expectLine.FindStringSubmatch(line)
		if m == nil {
			assert.False(t, strings.HasPrefix(line, "curl"), "curl line without an expected status: %q", line)
			continue
		}
		i++ // the curl line, read here
		require.Less(t, i, len(lines), "expect line is the last line")
		c := curlLine.FindStringSubmatch(lines[i])
		require.NotNil(t, c, "line after %q is not a curl command: %q", line, lines[i])
		want, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		cmds = append(cmds, printedCommand{want: want, token: c[1], rawURL: c[2]})
	}
	return cmds
}

// checkCommands asserts the printed commands are the ones the brief asks for.
func checkCommands(t *testing.T, cmds []printedCommand) {
	t.Helper()
	var wants []int
	for _, c := range cmds {
		wants = append(wants, c.want)
	}
	assert.Equal(t, []int{http.StatusOK, http.StatusForbidden, http.StatusUnauthorized, http.StatusUnauthorized, http.StatusBadRequest}, wants)
}

// checkResponse asserts one command got what the demo promised and, for the
// allowed one, that the token's query claim won over the request's.
func checkResponse(t *testing.T, c printedCommand, status int, header http.Header, body []byte) {
	t.Helper()
	assert.Equal(t, c.want, status, "%s: %s", c.rawURL, body)
	if status != http.StatusOK {
		assert.Contains(t, header.Get("WWW-Authenticate"), "Bearer ")
		return
	}
	var got reply
	require.NoError(t, json.Unmarshal(body, &got))
	assert.Equal(t, "search", got.Endpoint)
	assert.Equal(t, demoBusinessID, got.Business)
	assert.Equal(t, "me", got.BusinessIDInPath)
	assert.Equal(t, []string{demoExperience}, got.Query["experienceKey"], "the token's experienceKey wins")
	assert.Equal(t, []string{"pizza"}, got.Query["input"])
	assert.Equal(t, []string{demoExperience}, got.TokenQuery["experienceKey"])
	assert.False(t, got.ExpiresAt.IsZero())
	assert.Contains(t, c.rawURL, "experienceKey=my-own-choice", "the request tries to override the bound value")
}

func TestPrintedCommandsInProcess(t *testing.T) {
	d, err := newDemo(func() time.Time { return fixedNow }, options{})
	require.NoError(t, err)
	var out bytes.Buffer
	d.printCommands(&out, "http://127.0.0.1:8080")
	cmds := parseCommands(t, out.String())
	require.Len(t, cmds, len(d.requests))
	checkCommands(t, cmds)

	for _, c := range cmds {
		t.Run(strconv.Itoa(c.want)+" "+c.rawURL, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, c.rawURL, nil)
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			rec := httptest.NewRecorder()
			d.handler.ServeHTTP(rec, req)
			checkResponse(t, c, rec.Code, rec.Header(), rec.Body.Bytes())
		})
	}
}

func TestServeOverLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, ln, pw, time.Now, options{})
		pw.Close()
	}()

	// Read the instructions up to the ready line, then drain the rest so
	// that serve never blocks on its output.
	var printed strings.Builder
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		printed.WriteString(sc.Text() + "\n")
		if sc.Text() == readyLine {
			break
		}
	}
	require.NoError(t, sc.Err())
	require.Contains(t, printed.String(), readyLine, "serve stopped before printing its commands")
	go io.Copy(io.Discard, pr) //nolint:errcheck // drained until serve closes it

	cmds := parseCommands(t, printed.String())
	checkCommands(t, cmds)
	client := &http.Client{Timeout: 10 * time.Second}
	for _, c := range cmds {
		require.True(t, strings.HasPrefix(c.rawURL, "http://"+ln.Addr().String()+"/"), "printed URL %q names the listener", c.rawURL)
		t.Run(strconv.Itoa(c.want)+" "+c.rawURL, func(t *testing.T) {
			status, header, body := sendCommand(t, client, c)
			checkResponse(t, c, status, header, body)
		})
	}

	cancel()
	require.NoError(t, <-done, "serve shuts down cleanly")
	client.CloseIdleConnections()
	_, err = net.Dial("tcp", ln.Addr().String())
	assert.Error(t, err, "the listener is closed after shutdown")
}

// sendCommand sends one printed command over client, as curl would.
func sendCommand(t *testing.T, client *http.Client, c printedCommand) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.rawURL, nil)
	require.NoError(t, err)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, body
}

func TestBaseURL(t *testing.T) {
	tests := []struct {
		name string
		addr string
		want string
	}{
		{name: "loopback", addr: "127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{name: "all IPv4 addresses", addr: "0.0.0.0:8080", want: "http://127.0.0.1:8080"},
		{name: "all IPv6 addresses", addr: "[::]:8080", want: "http://127.0.0.1:8080"},
		{name: "IPv6 loopback", addr: "[::1]:8080", want: "http://[::1]:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := net.ResolveTCPAddr("tcp", tt.addr)
			require.NoError(t, err)
			assert.Equal(t, tt.want, baseURL(a))
		})
	}
}
