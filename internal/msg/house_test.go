package msg

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// maxInlineBilingual is how many "日本語 / English" literals may remain in
// the tree's Go code outside this package: text a person reads is made
// with T, Sprintf or Errorf, so each language stays whole.
const maxInlineBilingual = 10

var (
	japanese = regexp.MustCompile(`[\p{Hiragana}\p{Katakana}\p{Han}]`)
	latin    = regexp.MustCompile(`[A-Za-z]`)
)

// repoFiles parses every non-test Go file of the repository.
func repoFiles(t *testing.T) (*token.FileSet, map[string]*ast.File) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[rel] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fset, files
}

// inlineBilingual reports whether s is "日本語 … / English …" in one literal.
func inlineBilingual(s string) bool {
	i := strings.Index(s, " / ")
	return i >= 0 && japanese.MatchString(s[:i]) && latin.MatchString(s[i:])
}

func TestInlineBilingualLiterals(t *testing.T) {
	fset, files := repoFiles(t)
	per := map[string][]string{}
	total := 0
	for rel, f := range files {
		if strings.HasPrefix(rel, "internal/msg/") {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			bl, ok := n.(*ast.BasicLit)
			if !ok || bl.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(bl.Value)
			if err == nil && inlineBilingual(s) {
				total++
				dir := filepath.Dir(rel)
				per[dir] = append(per[dir], fmt.Sprintf("%s: %.60q", fset.Position(bl.Pos()), s))
			}
			return true
		})
	}
	if total <= maxInlineBilingual {
		return
	}
	dirs := make([]string, 0, len(per))
	for d := range per {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		t.Logf("%3d %s", len(per[d]), d)
		if testing.Verbose() {
			for _, s := range per[d] {
				t.Log("    ", s)
			}
		}
	}
	t.Errorf("%d inline \"日本語 / English\" literals (at most %d): use msg.T, msg.Sprintf or msg.Errorf", total, maxInlineBilingual)
}

// TestFormatsAgree checks every call of Errorf and Sprintf with literal
// formats: both languages must use every argument (a missing or extra one
// prints %!s(MISSING) to a person) and wrap the same ones.
func TestFormatsAgree(t *testing.T) {
	fset, files := repoFiles(t)
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Errorf" && sel.Sel.Name != "Sprintf") {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "msg" {
				return true
			}
			ja, okJ := literal(call.Args[0])
			en, okE := literal(call.Args[1])
			if !okJ || !okE {
				return true
			}
			nargs := len(call.Args) - 2
			if call.Ellipsis.IsValid() {
				return true
			}
			pos := fset.Position(call.Pos())
			uj, wj := usage(ja, nargs)
			ue, we := usage(en, nargs)
			for i := 0; i < nargs; i++ {
				if !uj[i] || !ue[i] {
					t.Errorf("%s: argument %d is not used by both formats (%q, %q)", pos, i+1, ja, en)
				}
			}
			if fmt.Sprint(wj) != fmt.Sprint(we) {
				t.Errorf("%s: the formats wrap different arguments (%v, %v)", pos, wj, we)
			}
			for _, u := range []map[int]bool{uj, ue} {
				for i := range u {
					if i >= nargs {
						t.Errorf("%s: a format refers to argument %d of %d", pos, i+1, nargs)
					}
				}
			}
			return true
		})
	}
}

func literal(e ast.Expr) (string, bool) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(bl.Value)
	return s, err == nil
}

// usage returns which arguments format consumes and which it wraps.
func usage(format string, nargs int) (map[int]bool, []int) {
	used := map[int]bool{}
	verbs(format, func(_, arg int) { used[arg] = true })
	return used, wrapIndexes(format, nargs)
}
