// Package fielderr owns what a validation says about one field of danzen's
// configuration, worded for the person editing it (in both languages),
// and the list that collects every such error of one pass, so that one
// round of edits can fix them all. The web page shows each error beside
// its form field by the field's JSON path.
package fielderr

import (
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Error says what is wrong with one field.
type Error struct {
	Field string   // JSON path, e.g. "sources[0].port"; relative to In when that is set
	Text  msg.Text // what is wrong, for the person editing the field
	// In names what the field belongs to when that part is checked on its
	// own (a relay, a medium), so that a message read in a log says which.
	In Item
}

// Item is a named part of the configuration: its kind ("媒体", "medium")
// and its name.
type Item struct {
	Kind msg.Text
	Name string
}

func (e Error) Error() string { return e.Localize(msg.Both) }

// Localize is the whole line in l: which field of which part, and what is
// wrong with it.
func (e Error) Localize(l msg.Lang) string {
	if e.In == (Item{}) {
		return msg.Sprintf("%s: %s", "%s: %s", e.Field, e.Text).Localize(l)
	}
	return msg.Sprintf("%s %q の %s: %s", "%s %q field %s: %s", e.In.Kind, e.In.Name, e.Field, e.Text).Localize(l)
}

// List collects the problems one validation finds.
type List struct {
	// Title heads the message ("設定に誤りがあります:"); without one the
	// message is the errors', one a line.
	Title msg.Text
	// In is set on every Error that Add adds.
	In     Item
	Fields []Error
}

// Add records a problem with field.
func (l *List) Add(field, ja, en string) {
	l.Fields = append(l.Fields, Error{Field: field, Text: msg.T(ja, en), In: l.In})
}

// AddText records a problem with field.
func (l *List) AddText(field string, t msg.Text) {
	l.Fields = append(l.Fields, Error{Field: field, Text: t, In: l.In})
}

// MaxTimeout bounds a device's timeouts: a medium or relay slower than
// this is broken, not slow.
const MaxTimeout = 10 * time.Minute

// Timeout checks a timeout field where 0 takes the default.
func (l *List) Timeout(field string, d time.Duration) {
	if d < 0 || d > MaxTimeout {
		l.Add(field, "タイムアウトは0(既定値)から10分の間にしてください", "timeout must be between 0 (default) and 10m")
	}
}

// For returns the problems of one field (for showing beside it on a page).
func (l *List) For(field string) []Error {
	var out []Error
	for _, f := range l.Fields {
		if f.Field == field {
			out = append(out, f)
		}
	}
	return out
}

// Err returns l if it holds a problem, else nil.
func (l *List) Err() error {
	if len(l.Fields) == 0 {
		return nil
	}
	return l
}

func (l *List) Error() string { return l.Localize(msg.Both) }

// Localize is the title and every problem, one a line, in l.
func (l *List) Localize(lang msg.Lang) string {
	var b strings.Builder
	title := l.Title.Localize(lang)
	b.WriteString(title)
	for i, f := range l.Fields {
		switch {
		case title != "":
			b.WriteString("\n  ")
		case i > 0:
			b.WriteString("\n")
		}
		b.WriteString(f.Localize(lang))
	}
	return b.String()
}

// Unwrap gives each problem as an *Error, for errors.As.
func (l *List) Unwrap() []error {
	errs := make([]error, len(l.Fields))
	for i := range l.Fields {
		errs[i] = &l.Fields[i]
	}
	return errs
}
