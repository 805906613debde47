package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDocsSnippetsCompile builds every Go snippet of docs/revocation.md as a
// program of its own, with this module's dependencies, so that the docs never
// show code that does not compile.
func TestDocsSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	doc, err := os.ReadFile("../docs/revocation.md")
	require.NoError(t, err)
	snippets := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatch(doc, -1)
	require.NotEmpty(t, snippets)
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	mod, err := os.ReadFile("go.mod")
	require.NoError(t, err)
	sum, err := os.ReadFile("go.sum")
	require.NoError(t, err)
	for i, s := range snippets {
		dir := t.TempDir()
		gomod := strings.Replace(string(mod), "module github.com/scopedtoken/scopedtoken/example", "module snippet", 1)
		gomod = strings.ReplaceAll(gomod, "=> ../redisstore", "=> "+filepath.Join(root, "redisstore"))
		gomod = strings.ReplaceAll(gomod, "=> ../", "=> "+root+"/")
		require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), s[1], 0o644))
		cmd := exec.Command("go", "vet", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "snippet %d of docs/revocation.md:\n%s", i+1, out)
	}
}
