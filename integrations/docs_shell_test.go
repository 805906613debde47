package integrations_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// curlStatus is the status a curl line's comment expects: `# 200`.
var curlStatus = regexp.MustCompile(`^#\s*([1-5]\d\d)\b`)

// curl sends the request of a curl line with net/http and checks the status
// of its comment.
func (s *shSession) curl(at string, args []string, comment string) {
	t := s.t
	t.Helper()
	m := curlStatus.FindStringSubmatch(comment)
	require.NotNil(t, m, "%s: a curl line ends in the status it gets, as `# 200` (docs/README.md)", at)
	req, err := parseCurl(args)
	require.NoError(t, err, "%s: %s (docs/README.md)", at, strings.Join(args, " "))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req = req.WithContext(ctx)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err, "%s", at)
	defer resp.Body.Close()
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var body string
	assert.Equal(t, m[1], strconv.Itoa(resp.StatusCode), "%s: the page says curl gets %s; body: %s", at, m[1], got)
	s.curls++
	body = string(got)
	s.lastBody = &body
}

// parseCurl reads the arguments of a curl line into a request. It knows -H,
// -X, -d and the output options -s, -S, -sS, -i; any other option, a second
// URL or a URL other than http://127.0.0.1:PORT is an error.
func parseCurl(args []string) (*http.Request, error) {
	method, body, target := "", "", ""
	header := http.Header{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		value := ""
		if a == "-H" || a == "-X" || a == "-d" {
			if i++; i == len(args) {
				return nil, fmt.Errorf("curl %s needs a value", a)
			}
			value = args[i]
		}
		switch {
		case a == "-H":
			name, v, ok := strings.Cut(value, ":")
			if !ok {
				return nil, fmt.Errorf("curl -H %q: not 'Name: value'", value)
			}
			header.Add(strings.TrimSpace(name), strings.TrimSpace(v))
		case a == "-X":
			method = value
		case a == "-d":
			body = value
		case a == "-s", a == "-S", a == "-sS", a == "-i":
		case !strings.HasPrefix(a, "-") && target == "":
			target = a
		default:
			return nil, fmt.Errorf("curl %s is not supported by the docs' test", a)
		}
	}
	if !strings.HasPrefix(target, "http://127.0.0.1:") {
		return nil, fmt.Errorf("curl must call http://127.0.0.1:PORT, not %q", target)
	}
	if method == "" {
		method = http.MethodGet
		if body != "" {
			method = http.MethodPost
		}
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = header
	if body != "" && header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // as curl -d
	}
	return req, nil
}

// words splits a sh line into words as sh would, expanding $NAME, ${NAME}
// and $(...) (only `scopedtoken ...` and `cat FILE`), and returns the comment
// that ends it.
func (s *shSession) words(line string) (words []string, comment string, err error) {
	var (
		cur    strings.Builder
		inWord bool
	)
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !inWord:
			return words, line[i:], nil
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, "", errors.New("unterminated '")
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			inWord = true
			for i++; i < len(line) && line[i] != '"'; i++ {
				switch {
				case line[i] == '\\' && i+1 < len(line) && strings.IndexByte("\"\\$`", line[i+1]) >= 0:
					i++
					cur.WriteByte(line[i])
				case line[i] == '$':
					n, err := s.expand(line[i:], &cur)
					if err != nil {
						return nil, "", err
					}
					i += n - 1
				default:
					cur.WriteByte(line[i])
				}
			}
			if i >= len(line) {
				return nil, "", errors.New(`unterminated "`)
			}
		case c == '$':
			n, err := s.expand(line[i:], &cur)
			if err != nil {
				return nil, "", err
			}
			i += n - 1
			inWord = true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return words, "", nil
}

var varRef = regexp.MustCompile(`^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))`)

// expand writes the expansion of the $ reference at the start of text and
// returns its length.
func (s *shSession) expand(text string, out *strings.Builder) (int, error) {
	if inner, ok := strings.CutPrefix(text, "$("); ok {
		end := strings.IndexByte(inner, ')')
		if end < 0 {
			return 0, errors.New("unterminated $(")
		}
		words, _, err := s.words(inner[:end])
		if err != nil {
			return 0, err
		}
		var got string
		switch {
		case len(words) == 2 && words[0] == "cat":
			data, err := os.ReadFile(filepath.Join(s.work, words[1]))
			if err != nil {
				return 0, err
			}
			got = string(data)
		case len(words) > 0 && words[0] == "scopedtoken":
			if got, err = s.cli.run(s.t, s.work, s.environ(), words[1:]); err != nil {
				return 0, err
			}
		default:
			return 0, fmt.Errorf("$(%s) is not run by the docs' test: only $(scopedtoken ...) and $(cat FILE)", inner[:end])
		}
		out.WriteString(strings.TrimRight(got, "\n"))
		return len("$(") + end + 1, nil
	}
	m := varRef.FindStringSubmatch(text)
	if m == nil {
		return 0, fmt.Errorf("unsupported $ in %q", text)
	}
	name := m[1] + m[2]
	value, ok := s.vars[name]
	if !ok {
		return 0, fmt.Errorf("$%s is not set by the page", name)
	}
	out.WriteString(value)
	return len(m[0]), nil
}

// cliBuild builds the scopedtoken CLI once for every page.
type cliBuild struct {
	root string // the repository
	bin  string // where the binary is built, in the test's temporary directory
	once sync.Once
	err  error
}

// run runs the CLI with args in dir and returns its stdout.
func (c *cliBuild) run(t *testing.T, dir string, env, args []string) (string, error) {
	t.Helper()
	c.once.Do(func() {
		cmd := exec.Command("go", "build", "-o", c.bin, ".")
		cmd.Dir = filepath.Join(c.root, "cmd", "scopedtoken")
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			c.err = fmt.Errorf("building the CLI: %v\n%s", err, out)
		}
	})
	if c.err != nil {
		return "", c.err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(c.bin, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("scopedtoken %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// lockedBuffer is a bytes.Buffer that a process and the test share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
