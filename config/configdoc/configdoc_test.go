package configdoc_test

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/config/configdoc"
)

// docPath is docs/config.md from this package's folder.
const docPath = "../../docs/config.md"

// docs/config.md is generated: it must be what the generator writes from
// the types, comments, examples and forms as they are now.
func TestDocsConfigIsWhatTheGeneratorWrites(t *testing.T) {
	want, err := configdoc.Generate(".")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		i := 0
		for i < len(g) && i < len(w) && g[i] == w[i] {
			i++
		}
		line := func(l []string) string {
			if i < len(l) {
				return l[i]
			}
			return "(end of file)"
		}
		t.Fatalf("docs/config.md is not what the generator writes now: run `go generate ./config/`\nline %d is\n\t%s\nand should be\n\t%s", i+1, line(g), line(w))
	}
}

// Every JSON field of the configuration has its entry in docs/config.md,
// found by a walk of the types of its own.
func TestEveryFieldIsInDocsConfig(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	paths := jsonPaths(reflect.TypeFor[config.Config](), "")
	if len(paths) < 100 {
		t.Fatalf("only %d fields found: %v", len(paths), paths)
	}
	for _, p := range paths {
		if !bytes.Contains(doc, []byte("\n### `"+p+"`\n")) {
			t.Errorf("docs/config.md has no entry for %s", p)
		}
	}
}

// jsonPaths lists the JSON paths of t's fields and of the objects they
// hold, a list's entries written "[]".
func jsonPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		out = append(out, p)
		ft := f.Type
		switch {
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
			out = append(out, jsonPaths(ft.Elem(), p)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, jsonPaths(ft.Elem(), p+"[]")...)
		case ft.Kind() == reflect.Struct:
			out = append(out, jsonPaths(ft, p)...)
		}
	}
	return out
}
