package integrations_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// docSnippet is one ```go block of a Markdown file: its text and the line of
// the file where its first line of code is.
type docSnippet struct {
	file  string // relative to the repository root
	line  int
	code  string
	alias string // the package directory it is built in
}

// testFunc finds a test function, which makes a block a test block.
var testFunc = regexp.MustCompile(`(?m)^func Test\w*\(t \*testing\.T\)`)

// isTest reports whether the block is a test: it has a func TestX(t *testing.T).
func (s docSnippet) isTest() bool { return testFunc.MatchString(s.code) }

// fileName is the name the block is written under: main_test.go for a test
// block, so that go test runs it, main.go for any other.
func (s docSnippet) fileName() string {
	if s.isTest() {
		return "main_test.go"
	}
	return "main.go"
}

// snippetModules are the repository's modules a snippet may import, by path
// relative to the repository root. The throwaway module that builds the
// snippets replaces each with the checkout, so the docs are built against the
// code beside them.
var snippetModules = map[string]string{
	"github.com/scopedtoken/scopedtoken":              ".",
	"github.com/scopedtoken/scopedtoken/integrations": "integrations",
	"github.com/scopedtoken/scopedtoken/redisstore":   "redisstore",
	"github.com/scopedtoken/scopedtoken/scopedotel":   "scopedotel",
}

// TestDocsSnippetsCompile builds every Go block of README.md and docs/*.md, so
// that the docs never show code that does not compile. Each block must be a
// whole file (package clause, imports, no elisions). All blocks are built in
// one throwaway module, one package directory per block, with one `go vet`,
// which type-checks them and runs vet's checks; a failure is reported at the
// Markdown file and line of the offending code. Which blocks also run is the
// rule of TestDocsTestBlocksPass and TestDocsServersAnswer (docs_run_test.go).
func TestDocsSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	_, dir, snippets := snippetModule(t)
	out, err := goCommand(dir, "vet", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("the Go blocks of the docs do not build:\n%s", locate(string(out), snippets))
	}
}

// snippetModule writes every Go block of README.md and docs/*.md into a
// throwaway module, one package directory per block (a test block as
// main_test.go, any other as main.go), and returns the repository root, the
// module's directory and the blocks.
func snippetModule(t *testing.T) (root, dir string, snippets []docSnippet) {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	for _, f := range docPages(t, root) {
		rel, err := filepath.Rel(root, f)
		require.NoError(t, err)
		found, err := goBlocks(f, rel)
		require.NoError(t, err)
		snippets = append(snippets, found...)
	}
	require.NotEmpty(t, snippets)

	dir = t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(snippetGoMod(root)), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), snippetGoSum(t, root), 0o644))
	for i := range snippets {
		s := &snippets[i]
		s.alias = fmt.Sprintf("snippet%03d", i+1)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, s.alias), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, s.alias, s.fileName()), []byte(s.code), 0o644))
	}
	return root, dir, snippets
}

// docPages returns README.md and docs/*.md, the pages whose blocks are built.
func docPages(t *testing.T, root string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	return append([]string{filepath.Join(root, "README.md")}, files...)
}

// goCommand is the go command run in the snippets' module dir. It is offline
// after the first run: every module comes from the module cache, with the
// checksums of the repository's own go.sum files.
func goCommand(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	return cmd
}

// goBlocks returns the ```go blocks of one Markdown file.
func goBlocks(path, rel string) ([]docSnippet, error) {
	blocks, err := fencedBlocks(path, rel)
	var out []docSnippet
	for _, b := range blocks {
		if b.lang == "go" {
			out = append(out, docSnippet{file: rel, line: b.line, code: b.text})
		}
	}
	return out, err
}

// fencedBlock is one fenced block of a Markdown file: its language, the line
// of its first line of content, the text, and the number of the section
// (counted by headings) it is in.
type fencedBlock struct {
	lang    string
	line    int
	text    string
	section int
}

// fencedBlocks returns the fenced blocks (```lang ... ```) of one Markdown file.
func fencedBlocks(path, rel string) ([]fencedBlock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		out     []fencedBlock
		cur     *fencedBlock
		lines   []string
		n       int
		section int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur, lines = &fencedBlock{lang: strings.TrimPrefix(trimmed, "```"), line: n + 1, section: section}, nil
		case cur != nil && trimmed == "```":
			cur.text = strings.Join(lines, "\n") + "\n"
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			lines = append(lines, line)
		case strings.HasPrefix(line, "#"):
			section++
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: unterminated ```%s block", rel, cur.line-1, cur.lang)
	}
	return out, sc.Err()
}

// snippetGoMod requires every module of the repository and replaces each with
// its directory in the checkout.
func snippetGoMod(root string) string {
	var b strings.Builder
	b.WriteString("module snippets\n\ngo 1.26.0\n\n")
	paths := make([]string, 0, len(snippetModules))
	for p := range snippetModules {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		fmt.Fprintf(&b, "require %s v0.0.0\n", p)
	}
	for _, p := range paths {
		fmt.Fprintf(&b, "replace %s => %s\n", p, filepath.Join(root, snippetModules[p]))
	}
	return b.String()
}

// snippetGoSum merges the go.sum files of the repository's modules.
func snippetGoSum(t *testing.T, root string) []byte {
	seen := map[string]bool{}
	var b bytes.Buffer
	for _, dir := range snippetModules {
		data, err := os.ReadFile(filepath.Join(root, dir, "go.sum"))
		require.NoError(t, err)
		for line := range strings.Lines(string(data)) {
			if !seen[line] {
				seen[line] = true
				b.WriteString(line)
			}
		}
	}
	return b.Bytes()
}

var (
	snippetPos = regexp.MustCompile(`(?:[^\s:]*/)?(snippet\d{3})(?:run)?/main(?:_test)?\.go:(\d+)`)
	snippetPkg = regexp.MustCompile(`snippets/snippet\d{3}\b`)
)

// locate rewrites the positions in go's output (snippet007/main.go:12) as
// positions in the Markdown files (docs/routers.md:80).
func locate(out string, snippets []docSnippet) string {
	byAlias := map[string]docSnippet{}
	for _, s := range snippets {
		byAlias[s.alias] = s
	}
	out = snippetPos.ReplaceAllStringFunc(out, func(m string) string {
		sub := snippetPos.FindStringSubmatch(m)
		s, ok := byAlias[sub[1]]
		if !ok {
			return m
		}
		var line int
		fmt.Sscan(sub[2], &line)
		return fmt.Sprintf("%s:%d", s.file, s.line+line-1)
	})
	return snippetPkg.ReplaceAllStringFunc(out, func(m string) string {
		if s, ok := byAlias[strings.TrimPrefix(m, "snippets/")]; ok {
			return fmt.Sprintf("the go block at %s:%d", s.file, s.line-1)
		}
		return m
	})
}
