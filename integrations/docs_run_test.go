package integrations_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDocsTestBlocksPass runs the test blocks of README.md and docs/*.md: a
// Go block that has a `func TestX(t *testing.T)` is written as a _test.go
// file and must pass `go test`, one subtest per block, named by its page and
// line. Every other block is only built (TestDocsSnippetsCompile).
func TestDocsTestBlocksPass(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	_, dir, snippets := snippetModule(t)
	ran := 0
	for _, s := range snippets {
		if !s.isTest() {
			continue
		}
		ran++
		t.Run(fmt.Sprintf("%s:%d", s.file, s.line-1), func(t *testing.T) {
			out, err := goCommand(dir, "test", "-count=1", "./"+s.alias).CombinedOutput()
			if err != nil {
				t.Fatalf("the test block at %s:%d fails:\n%s", s.file, s.line-1, locate(string(out), snippets))
			}
		})
	}
	require.NotZero(t, ran, "no test block found in the docs")
}

// TestDocsServersAnswer starts the server blocks of README.md and docs/*.md
// and sends them their own page's curl lines. The rules, also in
// docs/README.md:
//
//   - A server block is a `package main` Go block that calls
//     http.ListenAndServe or net.Listen. It listens on 127.0.0.1:PORT literals
//     only (a block with a listener and no such literal fails).
//   - Its section is the part of its page between the headings around it. A
//     server runs when a ```sh block of its section has a curl line; one
//     without is only built. A section holds at most one server block.
//   - The ```sh blocks of the section are read in page order, before and after
//     the server block. Lines ending in \ continue on the next line. Run are:
//     `scopedtoken ARGS` (the CLI, built once from cmd/scopedtoken),
//     `NAME=VALUE` and `export NAME=VALUE` (VALUE may be `$(scopedtoken ...)`
//     or `$(cat FILE)`), `go run PKG ARGS` (starts the server with ARGS) and
//     `curl` lines, which start the server with no arguments if no go run line
//     did. Every other line (git, go mod, go get, redis-server...) is set-up
//     for a reader and is skipped, logged with -v.
//   - A curl line ends in a comment giving the status it gets: `# 200`. It may
//     use -H, -X, -d, -s, -S, -i and one http://127.0.0.1 URL; anything else
//     fails the test. A line right after it that starts with `#   ` (a hash
//     and three spaces) is text the response body must contain. Requests are sent with net/http and redirects are not
//     followed, as curl does by default.
//   - Every 127.0.0.1:PORT of the block and of its section's sh lines is moved
//     to a free loopback port, the same one everywhere. A redis://127.0.0.1
//     URL gets a redis-server of its own on its port (when redis-server is not
//     installed the subtest fails, or skips with SCOPEDTOKEN_SKIP_REDIS=1); an
//     http://127.0.0.1 URL in a go run line on a port the block does not
//     listen on is served, as static files, from the --out folder of the
//     page's last `scopedtoken keygen` (the folder it publishes).
//   - Everything runs in a temporary directory; the server and redis-server
//     are killed by the process handle when the subtest ends.
func TestDocsServersAnswer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command and servers")
	}
	root, dir, snippets := snippetModule(t)
	cli := &cliBuild{root: root, bin: filepath.Join(t.TempDir(), "scopedtoken")}
	started := 0
	for _, page := range docPages(t, root) {
		rel, err := filepath.Rel(root, page)
		require.NoError(t, err)
		blocks, err := fencedBlocks(page, rel)
		require.NoError(t, err)
		for _, srv := range pageServers(t, rel, blocks, snippets) {
			started++
			t.Run(fmt.Sprintf("%s:%d", rel, srv.block.line-1), func(t *testing.T) {
				runServerSection(t, root, dir, cli, srv, snippets)
			})
		}
	}
	require.NotZero(t, started, "no server block with curl lines found in the docs")
}

// docServer is a server block of a page with the sh blocks of its section.
type docServer struct {
	block docSnippet
	sh    []fencedBlock
}

var (
	listener     = regexp.MustCompile(`\b(?:ListenAndServe|ListenAndServeTLS|net\.Listen)\(`)
	loopbackPort = regexp.MustCompile(`127\.0\.0\.1:(\d+)`)
	curlLine     = regexp.MustCompile(`(?m)^\s*curl\s`)
)

// pageServers returns the server blocks of one page that have curl lines in
// their section.
func pageServers(t *testing.T, rel string, blocks []fencedBlock, snippets []docSnippet) []docServer {
	t.Helper()
	var out []docServer
	for _, b := range blocks {
		if b.lang != "go" || !strings.HasPrefix(b.text, "package main") && !strings.Contains(b.text, "\npackage main\n") || !listener.MatchString(b.text) {
			continue
		}
		if !loopbackPort.MatchString(b.text) {
			t.Errorf("%s:%d: a server block must listen on a 127.0.0.1:PORT literal (docs/README.md)", rel, b.line-1)
			continue
		}
		srv := docServer{}
		for _, s := range snippets {
			if s.file == rel && s.line == b.line {
				srv.block = s
			}
		}
		require.NotEmpty(t, srv.block.alias, "%s:%d", rel, b.line)
		hasCurl := false
		for _, o := range blocks {
			if o.section != b.section {
				continue
			}
			if o.lang == "go" && o.line != b.line && listener.MatchString(o.text) && strings.Contains(o.text, "package main") {
				t.Errorf("%s:%d: two server blocks in one section (docs/README.md)", rel, o.line-1)
			}
			if o.lang == "sh" {
				srv.sh = append(srv.sh, o)
				hasCurl = hasCurl || curlLine.MatchString(o.text)
			}
		}
		if hasCurl {
			out = append(out, srv)
		}
	}
	return out
}

// shLine is one logical line of a sh block (continuations joined) and where it starts.
type shLine struct {
	text string
	line int
}

// shLines splits sh blocks into logical lines, joining lines that end in \.
func shLines(blocks []fencedBlock) []shLine {
	var out []shLine
	for _, b := range blocks {
		var cur *shLine
		for i, l := range strings.Split(strings.TrimSuffix(b.text, "\n"), "\n") {
			if cur == nil {
				cur = &shLine{line: b.line + i}
			}
			if body, ok := strings.CutSuffix(l, "\\"); ok {
				cur.text += body + " "
				continue
			}
			cur.text += l
			out = append(out, *cur)
			cur = nil
		}
		if cur != nil {
			out = append(out, *cur)
		}
	}
	return out
}

// portMap gives every 127.0.0.1:PORT of the texts a free loopback port.
func portMap(t *testing.T, texts ...string) map[string]string {
	t.Helper()
	ports := map[string]string{}
	for _, text := range texts {
		for _, m := range loopbackPort.FindAllStringSubmatch(text, -1) {
			if _, ok := ports[m[1]]; ok {
				continue
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			ports[m[1]] = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
			require.NoError(t, ln.Close())
		}
	}
	return ports
}

// movePorts rewrites every 127.0.0.1:PORT of text that ports maps.
func movePorts(text string, ports map[string]string) string {
	return loopbackPort.ReplaceAllStringFunc(text, func(m string) string {
		if to, ok := ports[loopbackPort.FindStringSubmatch(m)[1]]; ok {
			return "127.0.0.1:" + to
		}
		return m
	})
}

// runServerSection builds the server block with its ports moved, then runs
// the section's sh lines by the rules of TestDocsServersAnswer.
func runServerSection(t *testing.T, root, dir string, cli *cliBuild, srv docServer, snippets []docSnippet) {
	lines := shLines(srv.sh)
	texts := []string{srv.block.code}
	for _, l := range lines {
		texts = append(texts, l.text)
	}
	ports := portMap(t, texts...)
	code := movePorts(srv.block.code, ports)
	serverPorts := map[string]bool{}
	for _, m := range loopbackPort.FindAllStringSubmatch(code, -1) {
		serverPorts[m[1]] = true
	}

	pkg := srv.block.alias + "run"
	require.NoError(t, os.MkdirAll(filepath.Join(dir, pkg), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, pkg, "main.go"), []byte(code), 0o644))
	bin := filepath.Join(t.TempDir(), "server")
	if out, err := goCommand(dir, "build", "-o", bin, "./"+pkg).CombinedOutput(); err != nil {
		t.Fatalf("the server block does not build:\n%s", locate(string(out), snippets))
	}

	sess := &shSession{t: t, root: root, cli: cli, work: t.TempDir(), vars: map[string]string{}, env: map[string]string{},
		bin: bin, serverPorts: serverPorts}
	for _, l := range lines {
		sess.run(shLine{text: movePorts(l.text, ports), line: l.line}, srv.block.file)
	}
	require.NotZero(t, sess.curls, "no curl line was run")
	t.Logf("%d curl lines answered as the page says", sess.curls)
}

// shSession is the state of one section's sh lines: shell variables, the
// exported environment, the working directory and the server once started.
type shSession struct {
	t           *testing.T
	root        string
	cli         *cliBuild
	work        string
	vars        map[string]string
	env         map[string]string
	bin         string
	serverPorts map[string]bool
	server      *exec.Cmd
	serverOut   *lockedBuffer
	curls       int
	lastBody    *string // the body of the curl line just run, for a `#   text` line after it
	published   string  // the --out folder of the last keygen run
}

var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// run runs one logical sh line, or skips it if it is not one of the forms run.
func (s *shSession) run(l shLine, file string) {
	t := s.t
	t.Helper()
	at := fmt.Sprintf("%s:%d", file, l.line)
	trimmed := strings.TrimSpace(l.text)
	if want, ok := strings.CutPrefix(l.text, "#   "); ok && s.lastBody != nil {
		assert.Contains(t, *s.lastBody, strings.TrimSpace(want), "%s: the body the page shows", at)
	}
	s.lastBody = nil
	if trimmed == "" || strings.HasPrefix(trimmed, "#") {
		return
	}
	first, _, _ := strings.Cut(trimmed, " ")
	switch {
	case first == "scopedtoken", first == "curl", first == "export", first == "go" && strings.HasPrefix(trimmed, "go run "),
		assignment.MatchString(first):
	default:
		t.Logf("%s: not run (set-up for a reader): %s", at, trimmed)
		return
	}
	words, comment, err := s.words(trimmed)
	require.NoError(t, err, "%s: %s", at, trimmed)
	switch {
	case words[0] == "scopedtoken":
		_, err := s.cli.run(t, s.work, s.environ(), words[1:])
		require.NoError(t, err, "%s: %s", at, trimmed)
		if i := slices.Index(words, "--out"); len(words) > 1 && words[1] == "keygen" && i > 0 && i+1 < len(words) {
			s.published = words[i+1]
		}
	case words[0] == "export":
		for _, w := range words[1:] {
			name, value, ok := strings.Cut(w, "=")
			require.True(t, ok, "%s: export NAME=VALUE only", at)
			s.vars[name], s.env[name] = value, value
		}
	case words[0] == "go":
		args := words[2:]
		if len(args) > 0 { // the package path; the rest are the server's flags
			args = args[1:]
		}
		s.start(at, args)
	case words[0] == "curl":
		if s.server == nil {
			s.start(at, nil)
		}
		s.curl(at, words[1:], comment)
	default:
		for _, w := range words {
			name, value, ok := strings.Cut(w, "=")
			require.True(t, ok && assignment.MatchString(w), "%s: only NAME=VALUE assignments are run: %s", at, trimmed)
			s.vars[name] = value
		}
	}
}

// environ is the process environment with the exported variables.
func (s *shSession) environ() []string {
	env := os.Environ()
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	return env
}

// start starts Redis for a redis:// URL, keygen's --out folder for an
// http:// URL the server does not listen on, then the server, and waits until
// it listens.
func (s *shSession) start(at string, args []string) {
	t := s.t
	t.Helper()
	require.Nil(t, s.server, "%s: the server is started once", at)
	var all []string
	all = append(all, args...)
	for _, v := range s.env {
		all = append(all, v)
	}
	for _, a := range all {
		for _, m := range regexp.MustCompile(`redis://127\.0\.0\.1:(\d+)`).FindAllStringSubmatch(a, -1) {
			startRedis(t, m[1])
		}
		for _, m := range regexp.MustCompile(`http://127\.0\.0\.1:(\d+)`).FindAllStringSubmatch(a, -1) {
			if !s.serverPorts[m[1]] {
				require.NotEmpty(t, s.published, "%s: static files are served from keygen's --out, and no keygen ran", at)
				serveFiles(t, m[1], filepath.Join(s.work, s.published))
			}
		}
	}
	s.serverOut = &lockedBuffer{}
	cmd := exec.Command(s.bin, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.work, s.environ(), s.serverOut, s.serverOut
	require.NoError(t, cmd.Start(), "%s", at)
	s.server = cmd
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("the server's output:\n%s", s.serverOut.String())
		}
	})
	for port := range s.serverPorts {
		waitListening(t, at, port, exited, s.serverOut)
	}
}

// waitListening waits, for at most 30 s, until 127.0.0.1:port accepts a
// connection; it fails at once if the server exits.
func waitListening(t *testing.T, at, port string, exited <-chan struct{}, out *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("%s: the server exited before listening on 127.0.0.1:%s:\n%s", at, port, out.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: the server does not listen on 127.0.0.1:%s after 30 s:\n%s", at, port, out.String())
}

// startRedis starts a redis-server on 127.0.0.1:port, without persistence,
// until the test ends.
func startRedis(t *testing.T, port string) {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("SCOPEDTOKEN_SKIP_REDIS") == "1" {
			t.Skip("the page's server needs redis-server; SCOPEDTOKEN_SKIP_REDIS=1")
		}
		t.Fatalf("the page's server needs redis-server on PATH (apt-get install redis-server, or SCOPEDTOKEN_SKIP_REDIS=1): %v", err)
	}
	cmd := exec.Command(path, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	waitListening(t, "redis-server", port, exited, out)
}

// serveFiles serves dir as static files on 127.0.0.1:port until the test ends.
func serveFiles(t *testing.T, port, dir string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	require.NoError(t, err)
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}
