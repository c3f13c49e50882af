package configdoc

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
)

// example is one file of config/examples, as a JSON tree.
type example struct {
	name string
	tree any
}

func readExamples(dir string) ([]example, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, msg.Errorf("%s に例がありません", "no examples in %s", dir)
	}
	var out []example
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		tree, err := decodeTree(data)
		if err != nil {
			return nil, msg.Errorf("%s: %w", "%s: %w", n, err)
		}
		out = append(out, example{name: filepath.Base(n), tree: tree})
	}
	return out, nil
}

// decodeTree reads JSON keeping numbers as written.
func decodeTree(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var tree any
	err := d.Decode(&tree)
	return tree, err
}

// segments splits "media[].s3.bucket" into "media", "[]", "s3", "bucket".
func segments(path string) []string {
	var out []string
	for _, s := range strings.Split(path, ".") {
		if name, ok := strings.CutSuffix(s, "[]"); ok {
			out = append(out, name, "[]")
		} else {
			out = append(out, s)
		}
	}
	return out
}

// lookup finds the value at segs in tree, in the first list entry that
// has it.
func lookup(tree any, segs []string) (any, bool) {
	if len(segs) == 0 {
		return tree, true
	}
	switch n := tree.(type) {
	case map[string]any:
		if v, ok := n[segs[0]]; ok && segs[0] != "[]" {
			return lookup(v, segs[1:])
		}
	case []any:
		if segs[0] == "[]" {
			for _, e := range n {
				if v, ok := lookup(e, segs[1:]); ok {
					return v, true
				}
			}
		}
	}
	return nil, false
}

// remove deletes the value at segs from tree, in the first list entry
// that has it, and says whether there was one.
func remove(tree any, segs []string) bool {
	switch n := tree.(type) {
	case map[string]any:
		v, ok := n[segs[0]]
		switch {
		case !ok || segs[0] == "[]":
			return false
		case len(segs) == 1:
			delete(n, segs[0])
			return true
		}
		return remove(v, segs[1:])
	case []any:
		if segs[0] != "[]" {
			return false
		}
		for _, e := range n {
			if remove(e, segs[1:]) {
				return true
			}
		}
	}
	return false
}

// example is the value of path in the first example file that has it,
// as compact JSON, and the file's name; a value that says something
// ("40MB/s" rather than "0") is preferred.
func (c *collector) example(path string) (string, string) {
	var first, from string
	for _, ex := range c.examples {
		v, ok := lookup(ex.tree, segments(path))
		if !ok {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			continue
		}
		if !blank(string(b)) {
			return string(b), ex.name
		}
		if first == "" {
			first, from = string(b), ex.name
		}
	}
	return first, from
}

func blank(j string) bool {
	switch j {
	case `""`, `"0"`, "0", "[]", "{}", "false", "null":
		return true
	}
	return false
}

var index = regexp.MustCompile(`\[\d+\]`)

// required is what validation says (in English) when path is left out
// of the example files that have it, when it says so in each of them;
// "" when the field may be left out. An example file is a complete
// configuration: what none of them can lose is required.
func (c *collector) required(path string) string {
	said := ""
	segs := segments(path)
	for _, ex := range c.examples {
		if lacks(ex.tree, segs) {
			return "" // a complete configuration does without it
		}
		tree, err := decodeTree(mustJSON(ex.tree))
		if err != nil || !remove(tree, segs) {
			continue
		}
		s := refusal(tree, path)
		if s == "" {
			return ""
		}
		said = cmp.Or(said, s)
	}
	return said
}

// lacks says whether tree holds an object where segs's field would be,
// without that field.
func lacks(tree any, segs []string) bool {
	switch n := tree.(type) {
	case map[string]any:
		if len(segs) == 1 {
			_, ok := n[segs[0]]
			return !ok
		}
		v, ok := n[segs[0]]
		return ok && segs[0] != "[]" && lacks(v, segs[1:])
	case []any:
		if segs[0] != "[]" {
			return false
		}
		for _, e := range n {
			if lacks(e, segs[1:]) {
				return true
			}
		}
	}
	return false
}

// refusal is what validation of tree says about path, "" when nothing.
func refusal(tree any, path string) string {
	_, err := config.Parse(mustJSON(tree))
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		return ""
	}
	for _, f := range ve.Fields {
		if index.ReplaceAllString(f.Field, "[]") == path {
			return f.Text.EN
		}
	}
	return ""
}

// mustJSON encodes a tree decoded from JSON, which always encodes.
func mustJSON(tree any) []byte {
	b, _ := json.Marshal(tree)
	return b
}

// exampleNames are the example files, for the page's introduction.
func exampleNames(exs []example) []string {
	var out []string
	for _, e := range exs {
		out = append(out, e.name)
	}
	slices.Sort(out)
	return out
}
