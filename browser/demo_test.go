package browser_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDemoInBrowser builds and runs the demo as "go run ./example" runs it,
// on a free loopback port, and opens the page URL and the emailed link it
// prints in Chromium.
func TestDemoInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the demo with the go command")
	}
	ctx := newBrowser(t)
	bin := filepath.Join(t.TempDir(), "demo")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = "../example" // with its own go.mod, as its users build it
	build.Env = append(os.Environ(), "GOWORK=off")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build the demo:\n%s", out)

	runCtx, stop := context.WithTimeout(context.Background(), browserTimeout)
	defer stop()
	demo := exec.CommandContext(runCtx, bin, "-addr", "127.0.0.1:0")
	stdout, err := demo.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, demo.Start())
	t.Cleanup(func() {
		stop()      // ends the demo: CommandContext kills the process it started
		demo.Wait() //nolint:errcheck // killed on purpose
	})

	var page, link string
	pageLine := regexp.MustCompile(`^# In a browser: (http://127\.0\.0\.1:\d+/) `)
	linkLine := regexp.MustCompile(`^# an emailed link.*: (http://127\.0\.0\.1:\d+/answers\?jwt=[A-Za-z0-9_.-]+)$`)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() && sc.Text() != "Press Ctrl-C to stop." {
		if m := pageLine.FindStringSubmatch(sc.Text()); m != nil {
			page = m[1]
		}
		if m := linkLine.FindStringSubmatch(sc.Text()); m != nil {
			link = m[1]
		}
	}
	require.NotEmpty(t, page, "the demo prints its page URL")
	require.NotEmpty(t, link, "the demo prints an emailed link")
	go func() {
		for sc.Scan() { // drained so that the demo never blocks on its output
		}
	}()

	res := openPage(t, ctx, page)
	assert.Equal(t, "200", res.status, res.text)
	assert.Contains(t, res.text, `"endpoint": "search"`)
	assert.Contains(t, res.text, `"demo-experience"`, "the page token's query claim")

	res = openPage(t, ctx, link)
	assert.Equal(t, "200", res.status, res.text)
	assert.Contains(t, res.text, `"endpoint": "answers"`)
	assert.Equal(t, strings.TrimSuffix(page, "/")+"/answers", res.href, "the token left the address bar")
}
