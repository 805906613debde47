package scopedtoken_test

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
)

// TestErrorValuesCannotBeChanged: an importer cannot change the text of a
// reason sentinel (or of any *Error), whose response New precomputes. Every
// field of Error is unexported, its exported methods only read, and the
// statements an importer would write to change one do not compile.
func TestErrorValuesCannotBeChanged(t *testing.T) {
	typ := reflect.TypeFor[scopedtoken.Error]()
	for i := range typ.NumField() {
		assert.False(t, typ.Field(i).IsExported(), "field %s of Error is exported", typ.Field(i).Name)
	}
	var methods []string
	ptr := reflect.PointerTo(typ)
	for i := range ptr.NumMethod() {
		methods = append(methods, ptr.Method(i).Name)
	}
	assert.Equal(t, []string{"Error", "Is", "Message", "Reason", "Status", "Unwrap"}, methods,
		"a new exported method must not change an Error")

	check := typeChecker(t)
	require.NoError(t, check(`_ = scopedtoken.ErrExpired.Message() + scopedtoken.ErrExpired.Reason()`), "the harness type-checks a valid importer")
	for _, stmt := range []string{
		`scopedtoken.ErrExpired.Message = "changed"`,
		`scopedtoken.ErrExpired.Reason = "changed"`,
		`scopedtoken.ErrExpired.message = "changed"`,
		`_ = &scopedtoken.Error{Reason: "read_only", Message: "changed"}`,
	} {
		assert.Error(t, check(stmt), "an importer compiles %s", stmt)
	}
}

// typeChecker returns a function that type-checks one statement in a
// package importing scopedtoken, as an importer's compiler would, from the
// export data the go command builds.
func typeChecker(t *testing.T) func(stmt string) error {
	t.Helper()
	out, err := exec.Command("go", "list", "-export", "-deps", "-f", "{{.ImportPath}}={{.Export}}", "github.com/scopedtoken/scopedtoken").Output()
	require.NoError(t, err)
	exports := map[string]string{}
	for line := range strings.Lines(string(out)) {
		path, file, _ := strings.Cut(strings.TrimSpace(line), "=")
		exports[path] = file
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) { return os.Open(exports[path]) })
	return func(stmt string) error {
		src := "package p\n\nimport \"github.com/scopedtoken/scopedtoken\"\n\nfunc f() {\n\t" + stmt + "\n}\n"
		f, err := parser.ParseFile(fset, "p.go", src, 0)
		require.NoError(t, err, src)
		_, err = (&types.Config{Importer: imp}).Check("p", fset, []*ast.File{f}, nil)
		return err
	}
}
