package scopedtoken

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecurityTableNamesRealTests keeps SECURITY.md's attack → test table
// true: every test or fuzz target it names exists in some _test.go file of
// the repository, so a renamed or deleted test cannot leave an attack with no
// test behind it.
func TestSecurityTableNamesRealTests(t *testing.T) {
	table, err := os.ReadFile("SECURITY.md")
	require.NoError(t, err)
	defined := map[string]bool{}
	funcRE := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)\w+)\(`)
	require.NoError(t, filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range funcRE.FindAllSubmatch(src, -1) {
			defined[string(m[1])] = true
		}
		return nil
	}))
	nameRE := regexp.MustCompile("`((?:Test|Fuzz)[A-Z0-9]\\w*)")
	named := 0
	for line := range strings.Lines(string(table)) {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		for _, m := range nameRE.FindAllStringSubmatch(line, -1) {
			named++
			assert.True(t, defined[m[1]], "SECURITY.md names %s, which no _test.go file defines", m[1])
		}
	}
	assert.Greater(t, named, 100, "the table names its tests in backquotes")
}
