package configdoc

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"

	"github.com/danzen-gw/danzen/internal/msg"
)

// comments are the doc comments of the struct types of the packages read
// so far, by package path and type name.
type comments struct {
	root, module string
	pkgs         map[string]map[string]typeDoc
}

// typeDoc is one struct type's doc comment and its fields' (the comment
// above a field, else the one after it on its line).
type typeDoc struct {
	doc    string
	fields map[string]string
}

// moduleRoot finds the directory holding go.mod from dir upwards, and the
// module's path.
func moduleRoot(dir string) (root, module string, err error) {
	if dir, err = filepath.Abs(dir); err != nil {
		return "", "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		f, err := os.Open(filepath.Join(d, "go.mod"))
		if err == nil {
			module, err := modulePath(f)
			_ = f.Close() // read-only, read to the end or failed already
			return d, module, err
		}
		if filepath.Dir(d) == d {
			return "", "", msg.Errorf("%s とその上に go.mod がありません。リポジトリの中で実行してください", "no go.mod in %s or above it: run this inside the repository", dir)
		}
	}
}

func modulePath(f *os.File) (string, error) {
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.TrimSpace(m), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", msg.Errorf("%s に module 行がありません", "%s has no module line", f.Name())
}

// of returns the doc comments of the struct type name in package pkg.
func (c *comments) of(pkg, name string) (typeDoc, error) {
	if c.pkgs[pkg] == nil {
		docs, err := c.read(pkg)
		if err != nil {
			return typeDoc{}, err
		}
		c.pkgs[pkg] = docs
	}
	return c.pkgs[pkg][name], nil
}

// read parses the package's non-test files for their struct types.
func (c *comments) read(pkg string) (map[string]typeDoc, error) {
	rel, ok := strings.CutPrefix(pkg, c.module)
	if !ok {
		return nil, msg.Errorf("パッケージ %s はこのモジュールの外にあります", "package %s is outside this module", pkg)
	}
	dir := filepath.Join(c.root, filepath.FromSlash(strings.TrimPrefix(rel, "/")))
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	out := map[string]typeDoc{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		structDocs(f, out)
	}
	return out, nil
}

// structDocs adds f's struct types to out.
func structDocs(f *ast.File, out map[string]typeDoc) {
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			doc := ts.Doc
			if doc == nil && len(gd.Specs) == 1 {
				doc = gd.Doc
			}
			td := typeDoc{doc: doc.Text(), fields: map[string]string{}}
			for _, fl := range st.Fields.List {
				text := fl.Doc.Text()
				if text == "" {
					text = fl.Comment.Text()
				}
				for _, n := range fl.Names {
					td.fields[n.Name] = text
				}
			}
			out[ts.Name.Name] = td
		}
	}
}
