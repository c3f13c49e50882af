// Package configdoc writes docs/config.md, the reference of config.json,
// from what the code says: each field's JSON path from the configuration's
// Go types, its meaning from the field's doc comment, its default from
// config.Default and the types' own decoding, whether it may be left out
// from validation, an example from config/examples, and the form that
// edits it from the page (web.FormFields). So the page cannot drift from
// the code: a test fails when it is not what Generate writes.
package configdoc

import (
	"encoding"
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/web"
)

// Section is one JSON object of config.json: the top level, or the object
// or list entry one field holds.
type Section struct {
	Path   string // "" for the top level; "sources[]", "sources[].completion"
	Doc    string // what the object is, from its type's doc comment
	Fields []Field
}

// Field is one field of config.json.
type Field struct {
	Path string // the JSON path with list indexes left out: "sources[].port"
	Type reflect.Type
	Doc  string // what it means, from its Go doc comment
	// Default is what a file that leaves the field out gets, or what
	// validation says when it may not be left out (Markdown).
	Default string
	// Example is a value as JSON and the example file it is from ("" for
	// one of the generator's own); empty for an object.
	Example, ExampleFrom string
	Forms                []web.FormField // the page's forms that edit or show it
	Object               bool            // an object or a list of objects, documented in its own section
}

// Doc is what docs/config.md says.
type Doc struct {
	Sections []Section
	Examples []string // the example files' names
	// goNames maps the Go name of a field to its JSON name, for the doc
	// comments that name one field in another's; "" when two differ.
	goNames map[string]string
}

// Collect gathers every field of config.json from the Go types, with the
// doc comments read from the sources of the module dir is in and the
// examples in its config/examples. Every field without a doc comment, an
// example or (for a number) a unit is an error, all of them in one.
func Collect(dir string) (*Doc, error) {
	root, module, err := moduleRoot(dir)
	if err != nil {
		return nil, err
	}
	exs, err := readExamples(filepath.Join(root, "config", "examples"))
	if err != nil {
		return nil, err
	}
	c := &collector{docs: &comments{root: root, module: module, pkgs: map[string]map[string]typeDoc{}}, examples: exs,
		forms: map[string][]web.FormField{}, goNames: map[string]string{}}
	for _, f := range web.FormFields() {
		c.forms[f.Path] = append(c.forms[f.Path], f)
	}
	c.object("", reflect.TypeFor[config.Config](), reflect.ValueOf(*config.Default()))
	c.checkForms()
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	return &Doc{Sections: c.sections, Examples: exampleNames(exs), goNames: c.goNames}, nil
}

type collector struct {
	docs     *comments
	examples []example
	forms    map[string][]web.FormField
	sections []Section
	goNames  map[string]string
	errs     []error
}

// object adds the section of the struct type t at path, whose field
// values def holds when the fields are left out, and the sections of the
// objects its fields hold.
func (c *collector) object(path string, t reflect.Type, def reflect.Value) {
	td, err := c.docs.of(t.PkgPath(), t.Name())
	if err != nil {
		c.errs = append(c.errs, err)
	}
	idx := len(c.sections)
	c.sections = append(c.sections, Section{Path: path, Doc: sectionProse(td.doc, t.Name(), path)})
	for i := range t.NumField() {
		sf := t.Field(i)
		name, ok := jsonName(sf)
		if !ok {
			continue
		}
		p := join(path, name)
		c.goName(sf.Name, name)
		f := Field{Path: p, Type: sf.Type, Forms: c.forms[p]}
		if f.Doc = fieldProse(td.fields[sf.Name], sf.Name, name); f.Doc == "" {
			c.errs = append(c.errs, msg.Errorf("%s.%s(%s)にドキュメントコメントがありません", "%s.%s (%s) has no doc comment", t.Name(), sf.Name, p))
		}
		sub, subDef, subPath := objectOf(sf.Type, def.Field(i), p)
		f.Object = sub != nil
		c.describe(&f, def.Field(i))
		c.sections[idx].Fields = append(c.sections[idx].Fields, f)
		if sub != nil {
			c.object(subPath, sub, subDef)
		}
	}
}

// checkForms refuses a form field that names no field of the
// configuration: the page and the types have drifted apart.
func (c *collector) checkForms() {
	known := map[string]bool{}
	for _, s := range c.sections {
		for _, f := range s.Fields {
			known[f.Path] = true
		}
	}
	for _, p := range slices.Sorted(maps.Keys(c.forms)) {
		if !known[p] {
			c.errs = append(c.errs, msg.Errorf("画面の %s の項目 %s は設定にありません", "the page's form %s has a field %s that is not in the configuration", c.forms[p][0].Form, p))
		}
	}
}

// goName records that the Go field goName is written json, unless
// another field of that Go name is written otherwise.
func (c *collector) goName(goName, json string) {
	if j, seen := c.goNames[goName]; seen && j != json {
		json = ""
	}
	c.goNames[goName] = json
}

// describe fills in f's default and example.
func (c *collector) describe(f *Field, def reflect.Value) {
	if left := c.required(f.Path); left != "" {
		f.Default = "none; left out, the check says “" + left + "”"
	} else {
		f.Default = defaultOf(f, def)
	}
	if f.Object {
		return
	}
	f.Example, f.ExampleFrom = c.example(f.Path)
	if f.Example == "" {
		f.Example = extraExamples()[f.Path]
	}
	if f.Example == "" {
		c.errs = append(c.errs, msg.Errorf("%s に例がありません: config/examples のどれかに書くか、configdoc の extraExamples に加えてください",
			"%s has no example: give it in one of config/examples, or add it to configdoc's extraExamples", f.Path))
	}
	if _, ok := units()[f.Path]; !ok && isNumber(f.Type) {
		c.errs = append(c.errs, msg.Errorf("数値 %s に単位がありません: configdoc の units に加えてください", "the number %s has no unit: add it to configdoc's units", f.Path))
	}
}

// objectOf returns the struct type a field of type t holds, as an object
// or in a list, with the values its fields get when left out, and the
// path of its section; nil for a plain value.
func objectOf(t reflect.Type, def reflect.Value, path string) (reflect.Type, reflect.Value, string) {
	switch {
	case t.Kind() == reflect.Struct && !isLeaf(t):
		return t, def, path
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		return t.Elem(), leftOut(t.Elem()), path
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		return t.Elem(), leftOut(t.Elem()), path + "[]"
	}
	return nil, reflect.Value{}, ""
}

// leftOut is an object of type t decoded from "{}": its fields as a file
// that leaves them out gets them (a source's defaults, a target's port).
func leftOut(t reflect.Type) reflect.Value {
	v := reflect.New(t)
	if err := json.Unmarshal([]byte("{}"), v.Interface()); err != nil {
		return reflect.Zero(t)
	}
	return v.Elem()
}

// isLeaf says whether a struct type is written as one JSON value, a
// string (none of the configuration's is today).
func isLeaf(t reflect.Type) bool {
	return t.Implements(reflect.TypeFor[encoding.TextMarshaler]())
}

func isNumber(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return t != durationType && t != rateType
	}
	return false
}

// jsonName is a struct field's name in JSON; false when it has none.
func jsonName(sf reflect.StructField) (string, bool) {
	if !sf.IsExported() {
		return "", false
	}
	name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
	switch name {
	case "-":
		return "", false
	case "":
		return sf.Name, true
	}
	return name, true
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
