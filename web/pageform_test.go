package web_test

import (
	"cmp"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// A test submits a page's form as a browser does: it reads the fields the
// page rendered (every attribute value unescaped, as a browser's parser
// does), changes only what a person would type, and sends the button that
// was clicked. A test that builds the form by hand misses the fields the
// page adds and would not notice a value the page escapes twice.

var (
	formRE     = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	formAttrRE = regexp.MustCompile(`([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"]*)")?`)
	inputRE    = regexp.MustCompile(`<input\b([^>]*)>`)
	selectRE   = regexp.MustCompile(`(?s)<select\b([^>]*)>(.*?)</select>`)
	optionRE   = regexp.MustCompile(`<option\b([^>]*)>`)
	textareaRE = regexp.MustCompile(`(?s)<textarea\b([^>]*)>(.*?)</textarea>`)
	buttonRE   = regexp.MustCompile(`<button\b([^>]*)>`)
)

// attrs reads a tag's attributes; a value is unescaped as a browser does.
func attrs(tag string) map[string]string {
	out := map[string]string{}
	for _, m := range formAttrRE.FindAllStringSubmatch(tag, -1) {
		out[strings.ToLower(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

// pageForm is one form of a page as a browser holds it.
type pageForm struct {
	t      *testing.T
	action string
	values url.Values
	// buttons are the form's submit buttons by id: name and value.
	buttons map[string][2]string
}

// formIn finds the form with id in body (or the one holding the element
// with that id) and reads its fields as a browser would submit them.
func formIn(t *testing.T, body, id string) *pageForm {
	t.Helper()
	for _, m := range formRE.FindAllStringSubmatch(body, -1) {
		a := attrs(m[1])
		if a["id"] != id && !strings.Contains(m[2], `id="`+id+`"`) {
			continue
		}
		return readForm(t, a["action"], m[2])
	}
	t.Fatalf("no form %q in the page:\n%s", id, body)
	return nil
}

func readForm(t *testing.T, action, inner string) *pageForm {
	f := &pageForm{t: t, action: action, values: url.Values{}, buttons: map[string][2]string{}}
	for _, m := range inputRE.FindAllStringSubmatch(inner, -1) {
		a := attrs(m[1])
		name, typ := a["name"], strings.ToLower(a["type"])
		_, checked := a["checked"]
		switch {
		case name == "", typ == "submit", typ == "button":
		case typ == "checkbox" || typ == "radio":
			if checked {
				f.values.Add(name, cmp.Or(a["value"], "on"))
			}
		default:
			f.values.Add(name, a["value"])
		}
	}
	for _, m := range selectRE.FindAllStringSubmatch(inner, -1) {
		opts := optionRE.FindAllStringSubmatch(m[2], -1)
		if len(opts) == 0 {
			continue
		}
		pick := attrs(opts[0][1])
		for _, o := range opts {
			if oa := attrs(o[1]); hasAttr(oa, "selected") {
				pick = oa
			}
		}
		f.values.Set(attrs(m[1])["name"], pick["value"])
	}
	for _, m := range textareaRE.FindAllStringSubmatch(inner, -1) {
		// A browser drops the one newline that may follow the start tag.
		f.values.Set(attrs(m[1])["name"], html.UnescapeString(strings.TrimPrefix(m[2], "\n")))
	}
	for _, m := range buttonRE.FindAllStringSubmatch(inner, -1) {
		if a := attrs(m[1]); a["id"] != "" && a["type"] != "button" {
			f.buttons[a["id"]] = [2]string{a["name"], a["value"]}
		}
	}
	return f
}

func hasAttr(a map[string]string, name string) bool {
	_, ok := a[name]
	return ok
}

// set types value into the field called name.
func (f *pageForm) set(name, value string) *pageForm {
	f.values.Set(name, value)
	return f
}

// tick ticks the checkbox called name.
func (f *pageForm) tick(name string) *pageForm {
	f.values.Set(name, "on")
	return f
}

// click returns what the browser sends when the button with id is
// clicked: the fields, and the button's own name and value.
func (f *pageForm) click(id string) url.Values {
	f.t.Helper()
	b, ok := f.buttons[id]
	if !ok {
		f.t.Fatalf("the form to %s has no button %q (it has %v)", f.action, id, f.buttons)
	}
	out := url.Values{}
	for k, v := range f.values {
		out[k] = append([]string(nil), v...)
	}
	if b[0] != "" {
		out.Set(b[0], b[1])
	}
	return out
}

// submit clicks the button with id and posts the form to its action.
func (c *client) submit(f *pageForm, id string) resp {
	c.e.t.Helper()
	v := f.click(id)
	if v.Get("reauth_password") == "" {
		delete(v, "reauth_password") // post types the password as a person does
	}
	return c.post(f.action, v)
}

// TestPageFormReadsLikeABrowser: the test's form reader unescapes what the
// page escapes, takes only ticked boxes and the selected option.
func TestPageFormReadsLikeABrowser(t *testing.T) {
	page := `<form method="post" action="/x" id="f"><input type="hidden" name="fp" value="SHA256:a&#43;b/c&amp;d">
<input type="checkbox" name="on1" checked><input type="checkbox" name="off1"><select name="s"><option value="a">A</option><option value="b" selected>B</option></select>
<textarea name="ta">
x &lt; y</textarea><button type="submit" name="op" value="save" id="save">Save</button></form>`
	f := formIn(t, page, "f")
	v := f.click("save")
	want := url.Values{"fp": {"SHA256:a+b/c&d"}, "on1": {"on"}, "s": {"b"}, "ta": {"x < y"}, "op": {"save"}}
	if v.Encode() != want.Encode() {
		t.Fatalf("read %v, want %v", v, want)
	}
}
