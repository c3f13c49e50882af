// Package msg is danzen's one message mechanism: every text a person reads
// is held in Japanese and English together, and one language is picked
// only where the text meets that person (the page per signed-in user, the
// CLI per flag or LANG). Mail, webhook and the ledger keep both.
//
// An error made here keeps each language's chain of causes apart, so a
// bilingual cause wrapped in a bilingual message reads "外側: 内側" in
// Japanese and "outer: inner" in English, never a mix cut at the wrong " / ".
package msg

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Lang is the language a person reads.
type Lang uint8

const (
	// Both renders "日本語 / English": the CLI's default, and what logs,
	// mail and Error() use.
	Both Lang = iota
	JA
	EN
)

// String is the language's code: "ja", "en" or "both".
func (l Lang) String() string {
	switch l {
	case JA:
		return "ja"
	case EN:
		return "en"
	}
	return "both"
}

// ParseLang reads a language code ("ja", "en", "both").
func ParseLang(s string) (Lang, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ja":
		return JA, nil
	case "en":
		return EN, nil
	case "both", "":
		return Both, nil
	}
	return Both, Errorf("言語 %q は使えません(ja, en, both のいずれか)", "language %q is not supported: use ja, en or both", s)
}

// FromEnv picks the CLI's language from LANG (LC_ALL and LC_MESSAGES
// first, as the C library does): Japanese for ja_*, English for other
// named locales, both for C, POSIX or none.
func FromEnv() Lang {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(k)
		if v == "" {
			continue
		}
		switch {
		case strings.HasPrefix(v, "ja"):
			return JA
		case v == "C" || v == "POSIX" || strings.HasPrefix(v, "C."):
			return Both
		default:
			return EN
		}
	}
	return Both
}

// Localizer is text that can be read in one language. Text and the errors
// of this package are Localizers; so may be any type that carries both.
type Localizer interface {
	Localize(Lang) string
}

// Text is one message in both languages. Do not embed it in a struct that
// is read from JSON: its UnmarshalJSON would be promoted and take over the
// whole object. Name the field instead.
type Text struct {
	JA string `json:"ja"`
	EN string `json:"en"`
}

// T makes a Text.
func T(ja, en string) Text { return Text{JA: ja, EN: en} }

// Plain is text that reads the same in both languages (a name, a path, a
// version): it is shown once, not twice.
func Plain(s string) Text { return Text{JA: s, EN: s} }

// Sprintf formats ja and en with the same arguments; an argument that is
// a Localizer or an error of this package is rendered in each language.
// English may reorder with explicit indexes (%[2]s).
func Sprintf(ja, en string, args ...any) Text {
	return Text{JA: render(JA, ja, args), EN: render(EN, en, args)}
}

// Localize returns the text in l; Both gives "日本語 / English", or one of
// them when they are the same.
func (t Text) Localize(l Lang) string {
	switch l {
	case JA:
		if t.JA == "" {
			return t.EN
		}
		return t.JA
	case EN:
		if t.EN == "" {
			return t.JA
		}
		return t.EN
	}
	return join(t.JA, t.EN)
}

// String is the text in both languages.
func (t Text) String() string { return t.Localize(Both) }

// IsZero reports whether t holds no text.
func (t Text) IsZero() bool { return t.JA == "" && t.EN == "" }

// Append joins u after t with sep, language by language.
func (t Text) Append(sep string, u Text) Text {
	if t.IsZero() {
		return u
	}
	if u.IsZero() {
		return t
	}
	return Text{JA: t.Localize(JA) + sep + u.Localize(JA), EN: t.Localize(EN) + sep + u.Localize(EN)}
}

func join(ja, en string) string {
	switch {
	case ja == en || en == "":
		return ja
	case ja == "":
		return en
	}
	return ja + " / " + en
}

// Error is an error worded in both languages. It wraps the %w arguments
// it was made with, so errors.Is and errors.As see through it.
type Error struct {
	ja, en string
	args   []any
	causes []error
}

// New returns an error with a fixed text.
func New(ja, en string) error { return &Error{ja: ja, en: en} }

// Errorf returns an error whose text is ja or en formatted with args. Both
// formats may use %w for the same argument (or arguments); that error is
// wrapped, and rendered in each language when it is itself bilingual.
func Errorf(ja, en string, args ...any) error {
	e := &Error{ja: ja, en: en, args: args}
	for _, i := range wrapIndexes(ja, len(args)) {
		if err, ok := args[i].(error); ok && err != nil {
			e.causes = append(e.causes, err)
		}
	}
	return e
}

// Wrap returns nil when cause is nil, else an error reading "text: cause"
// in each language.
func Wrap(cause error, ja, en string) error {
	if cause == nil {
		return nil
	}
	return &Error{ja: ja + ": %w", en: en + ": %w", args: []any{cause}, causes: []error{cause}}
}

// Err returns t as an error.
func (t Text) Err() error { return &Error{ja: escape(t.JA), en: escape(t.EN)} }

// WrapText returns nil when cause is nil, else an error reading
// "t: cause" in each language.
func WrapText(cause error, t Text) error { return Wrap(cause, escape(t.JA), escape(t.EN)) }

func escape(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// Error gives both languages, Japanese first: for logs and the default CLI.
func (e *Error) Error() string { return e.Localize(Both) }

// Localize renders the whole chain in l. Both gives "日本語 / English",
// with a trailing cause that is not bilingual (an operating-system error)
// said once after both: "開けません / cannot open: permission denied".
func (e *Error) Localize(l Lang) string {
	if l != Both {
		return render(l, e.format(l), e.args)
	}
	ja, en := e.Localize(JA), e.Localize(EN)
	if ja == en {
		return ja
	}
	if tail := foreignTail(e); tail != "" {
		suffix := ": " + tail
		if strings.HasSuffix(ja, suffix) && strings.HasSuffix(en, suffix) {
			return join(strings.TrimSuffix(ja, suffix), strings.TrimSuffix(en, suffix)) + suffix
		}
	}
	return join(ja, en)
}

// Text returns the whole chain in both languages.
func (e *Error) Text() Text { return Text{JA: e.Localize(JA), EN: e.Localize(EN)} }

// Unwrap gives the wrapped causes.
func (e *Error) Unwrap() []error { return e.causes }

func (e *Error) format(l Lang) string {
	if l == EN {
		return e.en
	}
	return e.ja
}

// foreignTail is the text of the last cause in the chain that is not
// bilingual, when the chain ends in one.
func foreignTail(err error) string {
	for {
		e, ok := err.(*Error)
		if !ok {
			if _, loc := err.(Localizer); loc {
				return ""
			}
			return err.Error()
		}
		if len(e.causes) != 1 {
			return ""
		}
		err = e.causes[0]
	}
}

// In renders any error in l: bilingual errors (anywhere a Localizer) in
// that language, errors.Join of them one per line, others as they are.
func In(err error, l Lang) string {
	if err == nil {
		return ""
	}
	if loc, ok := err.(Localizer); ok {
		return loc.Localize(l)
	}
	if parts, ok := joined(err); ok {
		lines := make([]string, len(parts))
		for i, e := range parts {
			lines[i] = In(e, l)
		}
		return strings.Join(lines, "\n")
	}
	return err.Error()
}

// joined returns the parts of an errors.Join (or any error whose text is
// its parts' texts one per line), so each can be rendered in a language.
func joined(err error) ([]error, bool) {
	u, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return nil, false
	}
	parts := u.Unwrap()
	texts := make([]string, len(parts))
	for i, e := range parts {
		texts[i] = e.Error()
	}
	return parts, len(parts) > 0 && err.Error() == strings.Join(texts, "\n")
}

// Join is errors.Join for bilingual errors: nil when every err is nil, the
// error itself when there is one, else all of them one per line in each
// language. errors.Is and errors.As see every one.
func Join(errs ...error) error {
	var kept []error
	for _, e := range errs {
		if e != nil {
			kept = append(kept, e)
		}
	}
	switch len(kept) {
	case 0:
		return nil
	case 1:
		return kept[0]
	}
	return &joinError{errs: kept}
}

type joinError struct{ errs []error }

func (j *joinError) Error() string   { return j.Localize(Both) }
func (j *joinError) Unwrap() []error { return j.errs }

// Localize renders each error in l, one per line.
func (j *joinError) Localize(l Lang) string {
	lines := make([]string, len(j.errs))
	for i, e := range j.errs {
		lines[i] = In(e, l)
	}
	return strings.Join(lines, "\n")
}

// TextOf returns err's text in both languages.
func TextOf(err error) Text {
	if err == nil {
		return Text{}
	}
	if _, ok := err.(Localizer); ok || Bilingual(err) {
		return Text{JA: In(err, JA), EN: In(err, EN)}
	}
	return Plain(err.Error())
}

// render formats one language, each bilingual argument in that language.
func render(l Lang, format string, args []any) string {
	if len(args) == 0 {
		return strings.ReplaceAll(format, "%%", "%")
	}
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case Localizer:
			out[i] = v.Localize(l)
		case error:
			if v == nil {
				out[i] = "<nil>"
			} else {
				out[i] = v.Error()
			}
		default:
			out[i] = a
		}
	}
	return fmt.Sprintf(unwrapVerbs(format), out...)
}

// verbs walks format's verbs, calling fn with the position of each verb
// letter and the index of the argument it consumes.
func verbs(format string, fn func(pos, arg int)) {
	arg := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("+-# 0123456789.*[", format[i]) >= 0 {
			switch format[i] {
			case '[':
				end := strings.IndexByte(format[i:], ']')
				if end < 0 {
					return
				}
				var n int
				if _, err := fmt.Sscanf(format[i+1:i+end], "%d", &n); err == nil {
					arg = n - 1
				}
				i += end
			case '*':
				arg++
			}
			i++
		}
		if i >= len(format) || format[i] == '%' {
			continue
		}
		fn(i, arg)
		arg++
	}
}

// wrapIndexes returns which arguments the %w verbs of format consume.
func wrapIndexes(format string, nargs int) []int {
	var out []int
	verbs(format, func(pos, arg int) {
		if format[pos] == 'w' && arg < nargs {
			out = append(out, arg)
		}
	})
	return out
}

// unwrapVerbs turns %w into %v, which Sprintf accepts.
func unwrapVerbs(format string) string {
	if !strings.Contains(format, "w") {
		return format
	}
	b := []byte(format)
	verbs(format, func(pos, _ int) {
		if b[pos] == 'w' {
			b[pos] = 'v'
		}
	})
	return string(b)
}

// Bilingual reports whether err's chain holds an error of this package.
func Bilingual(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// UnmarshalJSON reads {"ja": …, "en": …}, and also a plain string, the
// form danzen stored before this package existed: "日本語 / English" is
// cut at its first " / ", other text is taken for both languages.
func (t *Text) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Legacy(s)
		return nil
	}
	var v struct {
		JA string `json:"ja"`
		EN string `json:"en"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*t = Text(v)
	return nil
}

// Legacy reads text stored as one string before this package existed.
func Legacy(s string) Text {
	if ja, en, ok := strings.Cut(s, " / "); ok {
		return Text{JA: ja, EN: en}
	}
	return Plain(s)
}
