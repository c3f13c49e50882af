package web

import (
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/schedule"
)

// A binding ties one form field to one setting of a configuration copy.
// The page's forms are lists of bindings, so a field's label, value,
// parsing and validation messages are defined in one place.
type binding struct {
	key      string // form name; with the item's prefix, the validation path
	section  msg.Text
	label    msg.Text
	help     msg.Text
	kind     fieldKind
	options  []option
	get      func() string
	set      func(string) error
	readOnly bool
	// hidden bindings only collect validation messages for a part of the
	// form that is not a plain field (a source's host keys).
	hidden bool
	// variant is the item's type this field belongs to (a medium's "s3"
	// settings), or several separated by spaces (a relay's "gpio fake
	// simulated"); "" is every type. Only the chosen type's fields are read.
	variant string
	// path is the setting's validation path when it differs from key: two
	// types may show one setting under their own names (a relay's chip is a
	// GPIO chip, or the Modbus module chosen from a list).
	path string
}

// vpath is the binding's validation path, without the item's prefix.
func (b binding) vpath() string {
	if b.path != "" {
		return b.path
	}
	return b.key
}

// hasVariant says whether a binding of variant (one type or several
// separated by spaces; "" for every type) belongs to type v.
func hasVariant(variant, v string) bool {
	return variant == "" || slices.Contains(strings.Fields(variant), v)
}

// bindings is a form's fields in order.
type bindings []binding

func (b *bindings) add(sec msg.Text, key string, label, help msg.Text, kind fieldKind, get func() string, set func(string) error, opts ...option) {
	*b = append(*b, binding{key: key, section: sec, label: label, help: help, kind: kind, get: get, set: set, options: opts})
}

// addTimeouts adds a medium's appear and gone timeouts (prefix "disk.").
func (b *bindings) addTimeouts(sec msg.Text, prefix string, appear, gone *duration.Duration) {
	g, s := bindDuration(appear)
	b.add(sec, prefix+"appear_timeout", msg.T("認識の待ち時間", "Appear timeout"), emptyIsDefault(), durationField, g, s)
	g, s = bindDuration(gone)
	b.add(sec, prefix+"gone_timeout", msg.T("消失の待ち時間", "Gone timeout"), emptyIsDefault(), durationField, g, s)
}

// emptyIsDefault is the help of a field that may be left empty.
func emptyIsDefault() msg.Text { return msg.T("空欄で既定値", "empty for the default") }

// of marks b as the fields of one type (variant). It adds a hidden field
// for the type's copy of the item's name, whose messages already stand
// beside the name.
func (b bindings) of(variant string) bindings {
	b = append(b, binding{key: variant + ".name", hidden: true})
	for i := range b {
		b[i].variant = variant
	}
	return b
}

type fieldKind int

const (
	textField fieldKind = iota
	numberField
	checkField
	selectField
	linesField    // one value per line
	durationField // shown in words ("1時間30分"), read as a person types it
	scheduleField // "daily 02:00" or cron, explained in words beneath
)

type option struct {
	value string
	label msg.Text
}

// opt is an option of a select field.
func opt(value, ja, en string) option { return option{value, msg.T(ja, en)} }

func bindString(p *string) (func() string, func(string) error) {
	return func() string { return *p }, func(v string) error { *p = strings.TrimSpace(v); return nil }
}

func bindInt(p *int) (func() string, func(string) error) {
	return func() string { return strconv.Itoa(*p) }, func(v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return msg.New("整数で入力してください", "enter a whole number")
		}
		*p = n
		return nil
	}
}

func bindBool(p *bool) (func() string, func(string) error) {
	return func() string {
			if *p {
				return "on"
			}
			return ""
		}, func(v string) error {
			*p = v != ""
			return nil
		}
}

// bindDuration reads what a person types ("90s", "30分", "4時間", "1 day");
// empty is 0 (the default). Its field shows the value in words.
func bindDuration(p *duration.Duration) (func() string, func(string) error) {
	return func() string {
			if *p == 0 {
				return ""
			}
			return duration.Compact(p.Std())
		}, func(v string) error {
			v = strings.TrimSpace(v)
			if v == "" {
				*p = 0
				return nil
			}
			d, err := duration.Parse(v)
			if err != nil {
				return msg.New("時間は「30分」「4時間」「1日」「90s」のように入力してください", "enter a duration such as \"30 minutes\", \"4 hours\", \"1 day\" or \"90s\"")
			}
			*p = duration.Duration(d)
			return nil
		}
}

func bindLines(p *[]string) (func() string, func(string) error) {
	return func() string { return strings.Join(*p, "\n") }, func(v string) error {
		var out []string
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
		*p = out
		return nil
	}
}

// bindWords is a list typed on one line, separated by spaces or commas.
func bindWords(p *[]string) (func() string, func(string) error) {
	return func() string { return strings.Join(*p, " ") }, func(v string) error {
		*p = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '、' || unicode.IsSpace(r) })
		return nil
	}
}

func bindRate(p *config.Rate) (func() string, func(string) error) {
	return func() string { return p.String() }, func(v string) error {
		r, err := config.ParseRate(v)
		if err != nil {
			return msg.New("帯域は \"40MB/s\" のように入力してください(制限なしは 0)", "enter a rate such as \"40MB/s\" (0 for no limit)")
		}
		*p = r
		return nil
	}
}

// fieldView is one field as the template draws it.
type fieldView struct {
	Name, ID, Value              string
	Shown                        msg.Text // the value in words, shown instead of Value
	Explain                      msg.Text // what the value means, in words
	Label, Help                  msg.Text
	Number, Check, Select, Lines bool
	ReadOnly                     bool
	Checked                      bool
	Options                      []optionView
	Errors                       []msg.Text
	Rows                         int
}

type optionView struct {
	Value    string
	Label    msg.Text
	Selected bool
}

type sectionView struct {
	Legend  msg.Text
	Variant string // shown by form.js only while this type is chosen
	Fields  []fieldView
}

// views draws the bindings. raw holds what was typed into fields that did
// not parse, so the person sees their input beside the message.
func views(binds []binding, raw map[string]string, errs map[string][]msg.Text) []sectionView {
	var out []sectionView
	for _, b := range binds {
		if b.hidden {
			continue
		}
		if len(out) == 0 || out[len(out)-1].Legend != b.section || out[len(out)-1].Variant != b.variant {
			out = append(out, sectionView{Legend: b.section, Variant: b.variant})
		}
		v := b.get()
		r, typed := raw[b.key]
		if typed {
			v = r
		}
		f := fieldView{Name: b.key, ID: "f-" + b.key, Label: b.label, Help: b.help, Value: v, Errors: errs[b.key], ReadOnly: b.readOnly}
		switch b.kind {
		case durationField:
			if d, err := duration.Parse(v); err == nil && !typed && v != "" {
				f.Shown = duration.Words(d)
			}
		case scheduleField:
			if v != "" {
				f.Explain = schedule.Describe(v)
			}
		case numberField:
			f.Number = true
		case checkField:
			f.Check, f.Checked = true, v != ""
		case selectField:
			f.Select = true
			for _, o := range b.options {
				f.Options = append(f.Options, optionView{Value: o.value, Label: o.label, Selected: o.value == v})
			}
		case linesField:
			f.Lines, f.Rows = true, max(3, strings.Count(v, "\n")+2)
		}
		sec := &out[len(out)-1]
		sec.Fields = append(sec.Fields, f)
	}
	return out
}

// matchErrors sorts validation messages to the fields they belong to. A
// message for a list element ("include[2]") goes to its list's field;
// anything else is returned as other, with its path, for the top of the form.
func matchErrors(prefix string, binds []binding, ve *config.ValidationError) (map[string][]msg.Text, []msg.Text) {
	out := map[string][]msg.Text{}
	var other []msg.Text
	if ve == nil {
		return out, nil
	}
	full := func(key string) string {
		if prefix == "" {
			return key
		}
		return prefix + "." + key
	}
	used := map[int]bool{}
	for _, b := range binds {
		path := full(b.vpath())
		for _, fe := range ve.For(path) {
			out[b.key] = append(out[b.key], fe.Text)
		}
		for i, fe := range ve.Fields {
			if fe.Field == path {
				used[i] = true
			} else if strings.HasPrefix(fe.Field, path+"[") {
				used[i] = true
				out[b.key] = append(out[b.key], msg.Sprintf("%s: %s", "%s: %s", fe.Field[len(prefix)+min(len(prefix), 1):], fe.Text))
			}
		}
	}
	for i, fe := range ve.Fields {
		if !used[i] {
			other = append(other, msg.Sprintf("%s: %s", "%s: %s", fe.Field, fe.Text))
		}
	}
	return out, other
}

// formSummary heads a form that has errors: how many fields are wrong and
// which, each a link to its field, so none is missed below the fold.
type formSummary struct {
	Count  int
	Fields []summaryField
}

type summaryField struct {
	ID    string // the field's element, for the link
	Label msg.Text
	Texts []msg.Text
}

// summarize lists, in the form's order, every field of sections that has
// an error, and the errors that belong to no field (other).
func summarize(sections []sectionView, other []msg.Text) *formSummary {
	s := &formSummary{}
	for _, sec := range sections {
		for _, f := range sec.Fields {
			if len(f.Errors) > 0 {
				s.Fields = append(s.Fields, summaryField{ID: "field-" + f.Name, Label: f.Label, Texts: f.Errors})
				s.Count += len(f.Errors)
			}
		}
	}
	s.Count += len(other)
	if s.Count == 0 {
		return nil
	}
	return s
}

// with adds f (errors shown outside the plain fields, such as the host
// keys') to s, which may be nil.
func (s *formSummary) with(f summaryField) *formSummary {
	if s == nil {
		s = &formSummary{}
	}
	s.Fields = append(s.Fields, f)
	s.Count += len(f.Texts)
	return s
}

// Heading says how many problems the form has.
func (s *formSummary) Heading() msg.Text {
	if s.Count == 1 {
		return msg.T("入力に誤りが 1 件あります。何も保存していません:", "This form has a problem; nothing was saved:")
	}
	return msg.Sprintf("入力に誤りが %d 件あります。何も保存していません:", "This form has %d problems; nothing was saved:", s.Count)
}

// scheduleWords is a schedule as the overview shows it: in words, and a
// cron expression also as written, for whoever has to edit it.
func scheduleWords(expr string) msg.Text {
	w := schedule.Describe(expr)
	if strings.HasPrefix(strings.TrimSpace(expr), "daily ") || w == msg.Plain(expr) {
		return w
	}
	return msg.Sprintf("%s(%s)", "%s (%s)", w, expr)
}
