// Package docprogram checks that a program shown in docs/metrics.md is the
// one in the repository, which its own test compiles and runs.
package docprogram

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Check asserts that the Markdown file doc shows the Go file program once,
// whole, as the Go block that starts with firstLine.
func Check(t *testing.T, doc, program, firstLine string) {
	t.Helper()
	page, err := os.ReadFile(doc)
	require.NoError(t, err)
	src, err := os.ReadFile(program)
	require.NoError(t, err)
	var shown []string
	for _, part := range strings.Split(string(page), "```go\n")[1:] {
		block, _, found := strings.Cut(part, "```\n")
		require.True(t, found, "an unterminated Go block")
		if strings.HasPrefix(block, firstLine) {
			shown = append(shown, block)
		}
	}
	require.Len(t, shown, 1, "%s shows the program once, as a whole", doc)
	assert.Equal(t, string(src), shown[0], "the program of %s must be %s", doc, program)
}
