package documents

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"unicode"
)

//go:embed assets/document.html
var assets embed.FS

var htmlTemplate = template.Must(template.New("document.html").Funcs(template.FuncMap{
	"inc": func(i int) int { return i + 1 },
	// svg marks a drawing as safe: wiringSVG builds it from fixed markup
	// and escaped values only.
	"svg": func(s string) template.HTML { return template.HTML(s) },
	// cssString quotes person-entered text for the page margins' CSS
	// content: html/template rightly refuses text inside a CSS string
	// (it cannot tell it from a URL), so it is escaped here instead.
	"cssString": cssString,
	"nowrap":    slices.Contains[[]int],
}).ParseFS(assets, "assets/document.html"))

// cssString is s as a quoted CSS string in which every character that is
// not a letter, a digit or a space is written as a six-digit hex escape
// (\00003A): no quote, backslash, "<", "/" or line break of s can end the
// string, the rule or the style element, whatever a person typed.
func cssString(s string) template.CSS {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == ' ' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			continue
		}
		fmt.Fprintf(&b, "\\%06X", r)
	}
	b.WriteByte('"')
	return template.CSS(b.String())
}

// HTML renders d as one self-contained HTML file that prints on A4 with
// the hospital's name and the date at the top of every page.
func HTML(d *Doc) ([]byte, error) {
	var b bytes.Buffer
	if err := htmlTemplate.ExecuteTemplate(&b, "document", d); err != nil {
		return nil, fmt.Errorf("documents: render %s (%s): %w", d.ID, d.Lang, err)
	}
	return b.Bytes(), nil
}

// Markdown renders d as Markdown; its figures are linked by their file
// names (Doc.Figures), which the caller writes beside it.
func Markdown(d *Doc) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s — %s\n\n", mdEscape(d.Title), mdSpan(d.Hospital), mdEscape(d.Date))
	if len(d.Intro) > 0 {
		b.WriteString(mdSpans(d.Intro) + "\n\n")
	}
	for i, s := range d.Sections {
		fmt.Fprintf(&b, "## %d. %s\n\n", i+1, mdEscape(s.Title))
		for _, bl := range s.Blocks {
			mdBlock(&b, bl)
		}
	}
	return []byte(b.String())
}

func mdBlock(b *strings.Builder, bl Block) {
	switch bl.Kind {
	case blockPara:
		b.WriteString(mdSpans(bl.Spans) + "\n\n")
	case blockNote:
		b.WriteString("> " + mdSpans(bl.Spans) + "\n\n")
	case blockTable, blockForm: // a form always has its rows
		if len(bl.Rows) == 0 {
			b.WriteString(mdEscape(bl.Empty) + "\n\n")
			return
		}
		mdHead(b, bl.Head)
		mdRows(b, bl.Rows)
		b.WriteString("\n")
	case blockCode:
		b.WriteString("```\n" + bl.Code + "\n```\n\n")
	case blockList, blockSteps, blockCheck:
		for i, it := range bl.Items {
			switch bl.Kind {
			case blockList:
				b.WriteString("- ")
			case blockSteps:
				fmt.Fprintf(b, "%d. ", i+1)
			default:
				b.WriteString("- [ ] ")
			}
			b.WriteString(mdSpans(it) + "\n")
		}
		b.WriteString("\n")
	case blockFigure:
		fmt.Fprintf(b, "![%s](%s)\n\n", mdEscape(bl.Figure.Caption), bl.Figure.File)
	case blockApproval:
		mdHead(b, bl.Head)
		mdRows(b, [][]Cell{make([]Cell, len(bl.Head))}) // the seal boxes
		mdRows(b, bl.Rows)
		b.WriteString("\n")
	case blockSign:
		b.WriteString("| | |\n| --- | --- |\n")
		for _, s := range bl.Signs {
			fmt.Fprintf(b, "| %s | %s |\n", mdEscape(s), strings.Repeat("\\_", 24))
		}
		b.WriteString("\n")
	}
}

func mdHead(b *strings.Builder, head []string) {
	var cells, rule []string
	for _, h := range head {
		cells, rule = append(cells, mdEscape(h)), append(rule, "---")
	}
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n| " + strings.Join(rule, " | ") + " |\n")
}

func mdRows(b *strings.Builder, rows [][]Cell) {
	for _, r := range rows {
		var cells []string
		for _, c := range r {
			cells = append(cells, mdSpans(c))
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
}

func mdSpans(sp []Span) string {
	var b strings.Builder
	for _, s := range sp {
		b.WriteString(mdSpan(s))
	}
	return b.String()
}

func mdSpan(s Span) string {
	switch {
	case s.Missing:
		return "**【" + mdEscape(s.Text) + "】**"
	case s.Code:
		t := strings.ReplaceAll(s.Text, "|", "\\|")
		if strings.Contains(t, "`") {
			return "`` " + t + " ``"
		}
		return "`" + t + "`"
	case s.Strong:
		return "**" + mdEscape(s.Text) + "**"
	case s.Bad:
		return "**⚠ " + mdEscape(s.Text) + "**"
	}
	return mdEscape(s.Text)
}

var mdEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "|", `\|`, "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`, "\n", " ")

func mdEscape(s string) string { return mdEscaper.Replace(s) }
