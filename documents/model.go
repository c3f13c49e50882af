package documents

import (
	"fmt"
	"strings"

	"github.com/danzen-gw/danzen/internal/msg"
)

// A document is built as sections of blocks, and the same blocks are
// rendered as HTML and as Markdown: the two forms cannot drift apart, and
// the check that nothing is left unfilled runs once, on the blocks.

// Doc is one rendered document in one language.
type Doc struct {
	ID    string // fixed file name stem, e.g. "offline-backup-plan"
	Lang  string // "ja" or "en"
	Title string
	// Hospital and Date are printed in the header of every page.
	Hospital Span
	Date     string
	Intro    []Span
	Sections []Section
	// Figures are the SVG files the Markdown form links to.
	Figures []Figure
}

// Section is a numbered heading with its blocks. NewPage starts it on a
// new printed page.
type Section struct {
	Title   string
	NewPage bool
	Blocks  []Block
}

// Span is a run of text. Missing marks a field a person has not filled
// in: it is printed as a visible marker, never left blank.
type Span struct {
	Text    string
	Missing bool
	Code    bool
	Strong  bool
	Bad     bool // a finding the reader must act on (an unverified cut …)
}

// Block kinds.
const (
	blockPara   = "para"
	blockTable  = "table"
	blockCode   = "code"
	blockList   = "list"
	blockSteps  = "steps"
	blockFigure = "figure"
	blockCheck  = "check"
	blockSign   = "sign"
	blockNote   = "note"
)

// Block is one paragraph, table, code listing, list, figure or checklist.
type Block struct {
	Kind  string
	Spans []Span   // para, note
	Head  []string // table
	Rows  [][]Cell // table
	// Empty is said instead of a table without rows, so no empty table is
	// ever printed.
	Empty  string
	Code   string   // code
	Items  [][]Span // list, steps, check
	Figure *Figure  // figure
	Signs  []string // sign: the labels of the signature lines
	// NoWrap are the columns (from 0) of a table kept on one line: short
	// labels such as a severity, which must not break per character.
	NoWrap []int
}

// Cell is one table cell.
type Cell []Span

// Figure is an SVG drawing.
type Figure struct {
	File    string // fixed file name for the Markdown form
	Caption string
	SVG     string // a complete <svg> element, built from escaped values
}

func text(s string) Span                { return Span{Text: s} }
func code(s string) Span                { return Span{Text: s, Code: true} }
func strong(s string) Span              { return Span{Text: s, Strong: true} }
func bad(s string) Span                 { return Span{Text: s, Bad: true} }
func cell(spans ...Span) Cell           { return Cell(spans) }
func tcell(s string) Cell               { return Cell{text(s)} }
func para(spans ...Span) Block          { return Block{Kind: blockPara, Spans: spans} }
func ptext(s string) Block              { return para(text(s)) }
func note(spans ...Span) Block          { return Block{Kind: blockNote, Spans: spans} }
func codeBlock(s string) Block          { return Block{Kind: blockCode, Code: strings.TrimRight(s, "\n")} }
func list(items ...[]Span) Block        { return Block{Kind: blockList, Items: items} }
func steps(items ...[]Span) Block       { return Block{Kind: blockSteps, Items: items} }
func checklist(items ...[]Span) Block   { return Block{Kind: blockCheck, Items: items} }
func figure(f Figure) Block             { return Block{Kind: blockFigure, Figure: &f} }
func signatures(labels ...string) Block { return Block{Kind: blockSign, Signs: labels} }
func item(spans ...Span) []Span         { return spans }
func titem(s string) []Span             { return []Span{text(s)} }

// table makes a table; empty is what is said when rows is empty.
func table(head []string, rows [][]Cell, empty string) Block {
	return Block{Kind: blockTable, Head: head, Rows: rows, Empty: empty}
}

// kv is a two-column table of labels and values.
func kv(head [2]string, pairs ...kvPair) Block {
	rows := make([][]Cell, 0, len(pairs))
	for _, p := range pairs {
		rows = append(rows, []Cell{tcell(p.label), p.value})
	}
	return Block{Kind: blockTable, Head: head[:], Rows: rows}
}

type kvPair struct {
	label string
	value Cell
}

func pair(label string, value ...Span) kvPair { return kvPair{label, Cell(value)} }

// lang is the language of one document: every document is wholly
// Japanese or wholly English.
type lang string

const (
	ja lang = "ja"
	en lang = "en"
)

func (l lang) t(jaText, enText string) string {
	if l == en {
		return enText
	}
	return jaText
}

func (l lang) f(jaFormat, enFormat string, args ...any) string {
	return fmt.Sprintf(l.t(jaFormat, enFormat), args...)
}

// msg is the message language the document is written in.
func (l lang) msg() msg.Lang {
	if l == en {
		return msg.EN
	}
	return msg.JA
}

// in renders a bilingual text from the core (a ledger entry's message, a
// cut's reason) in the document's language.
func (l lang) in(x msg.Localizer) string { return x.Localize(l.msg()) }

// inErr renders an error in the document's language: a bilingual one in
// that language alone, another (an operating-system error) as it is.
func (l lang) inErr(err error) string { return msg.In(err, l.msg()) }

// MissingMarker is printed in place of every person-entered field that is
// empty, in the document's language and highlighted so that it stands out.
var MissingMarker = msg.T("未記入", "not filled in")
