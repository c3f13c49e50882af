package configdoc

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// paragraphs turns a doc comment into Markdown paragraphs, one line each.
func paragraphs(text string) []string {
	var out []string
	for _, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// fieldProse is a field's doc comment for a person reading config.json:
// the Go name it starts with becomes the JSON name.
func fieldProse(text, goName, jsonName string) string {
	ps := paragraphs(text)
	if len(ps) == 0 {
		return ""
	}
	if rest, ok := strings.CutPrefix(ps[0], goName); ok && (rest == "" || rest[0] == ' ' || rest[0] == ',') {
		ps[0] = "`" + jsonName + "`" + rest
	}
	return strings.Join(ps, "\n\n")
}

// sectionProse is an object type's doc comment, said of the object at
// path: "Source is one e-chart server" becomes "Each entry is one
// e-chart server".
func sectionProse(text, typeName, path string) string {
	ps := paragraphs(dropDeveloperNotes(text))
	if len(ps) == 0 {
		return ""
	}
	subject := "`" + path[strings.LastIndexByte(path, '.')+1:] + "`"
	switch {
	case path == "":
		subject = ""
	case strings.HasSuffix(path, "[]"):
		subject = "Each entry"
	}
	if rest, ok := strings.CutPrefix(ps[0], typeName+" "); ok {
		if subject == "" {
			rest = strings.TrimPrefix(rest, "is ")
			r, n := utf8.DecodeRuneInString(rest)
			ps[0] = string(unicode.ToUpper(r)) + rest[n:]
		} else {
			ps[0] = subject + " " + rest
		}
	}
	return strings.Join(ps, "\n\n")
}

var (
	quoted = regexp.MustCompile(`"[^"]*"`)
	// goWord is a word that may be a Go field's name: capitalised with a
	// lower-case letter ("SecretsDir", "Include"), or an acronym of five
	// or more ("FSUUID"; "RDX" and "S3" are the hardware's names).
	goWord = regexp.MustCompile(`\b[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*\b|\b[A-Z][A-Z0-9]{4,}\b`)
)

// markdown makes prose safe and readable as Markdown: Go names of fields
// (goNames) become their JSON names, quoted values become code, and
// what Markdown would read as markup outside code is escaped.
func markdown(s string, goNames map[string]string) string {
	parts := strings.Split(s, "`")
	for i := 0; i < len(parts); i += 2 { // even parts are outside code
		p := parts[i]
		p = goNamesToJSON(p, goNames)
		if strings.Count(p, `"`)%2 == 0 {
			p = quoted.ReplaceAllStringFunc(p, func(q string) string { return "\x00" + q + "\x00" })
		}
		p = escapeOutsideCode(p)
		parts[i] = strings.ReplaceAll(p, "\x00", "`")
	}
	return strings.Join(parts, "`")
}

// goNamesToJSON writes the Go names of fields in p as their JSON names.
// A word that starts a sentence is one only when it is in camel case
// ("SecretsDir"): "Name" there is English.
func goNamesToJSON(p string, goNames map[string]string) string {
	var b strings.Builder
	last := 0
	for _, m := range goWord.FindAllStringIndex(p, -1) {
		w := p[m[0]:m[1]]
		j := goNames[w]
		before := strings.TrimRight(p[:m[0]], " (")
		start := before == "" || strings.HasSuffix(before, ".") || strings.HasSuffix(before, ":")
		if j == "" || start && !camel(w) {
			continue
		}
		b.WriteString(p[last:m[0]] + "\x00" + j + "\x00")
		last = m[1]
	}
	return b.String() + p[last:]
}

// camel says whether w has an upper-case letter after its first.
func camel(w string) bool { return strings.ContainsFunc(w[1:], unicode.IsUpper) }

// escapeOutsideCode escapes <, * and _ between the \x00-marked code spans.
func escapeOutsideCode(p string) string {
	spans := strings.Split(p, "\x00")
	for i := 0; i < len(spans); i += 2 {
		spans[i] = strings.NewReplacer("<", "&lt;", ">", "&gt;", "*", `\*`).Replace(spans[i])
	}
	return strings.Join(spans, "\x00")
}

// dropDeveloperNotes leaves out what a type's doc comment says to the
// programmer about its Go form: "It is embedded in the appliance's JSON
// config, so it holds only plain JSON values.", "(see Enabled)",
// "(Options.SecretsDir)".
func dropDeveloperNotes(text string) string {
	return goReference.ReplaceAllString(developerNote.ReplaceAllString(text, ""), "")
}

var (
	developerNote = regexp.MustCompile(`It\s+is\s+embedded\s+in\s+the\s+appliance's\s+JSON\s+config,\s+so\s+it\s+holds\s+only\s+plain\s+JSON[^.]*\.[ \t]*`)
	goReference   = regexp.MustCompile(`\s*\((?:see\s+[A-Z]\w*|[A-Z]\w*\.[A-Z]\w*)\)`)
)
