// Package documents generates the papers a hospital must hand over — the
// オフラインバックアップ計画書 (plan), the 運用管理規程 annex, the build
// runbook for support-B hospitals, the recovery sheet kept with the media,
// the offline evidence report and the self-scan report — from the live
// configuration, the evidence ledger and the newest self-scan only, so
// they never drift from what the gateway does.
//
// Every document is built once as blocks and rendered as A4-printable HTML
// and as Markdown, wholly in Japanese or wholly in English: what the core
// says in both languages (a ledger entry, an error) is printed in the
// document's. PDF is printed from the HTML by headless Chromium in
// documents/pdf, which only the CLI imports: the appliance runs no
// browser, and its page offers the print-ready HTML. A field only a person
// can fill in (the hospital's name, who is responsible, where media are
// kept, RPO/RTO targets …) is printed as a visible 未記入 marker when empty
// and listed in Set.Missing; nothing is ever left blank.
package documents

import (
	"errors"
	"fmt"
	"strings"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
)

// Info names one document.
type Info struct {
	ID    string
	Title msg.Text
}

// All lists the documents in the order they are handed over.
var All = []Info{
	{"offline-backup-plan", msg.T("オフラインバックアップ計画書", "Offline backup plan")},
	{"operations-annex", msg.T("運用管理規程 別紙(オフラインバックアップ運用手順)", "Annex to the operations rules (offline backup procedure)")},
	{"build-runbook", msg.T("構築手順書(支援B)", "Build runbook (support B)")},
	{"recovery-sheet", msg.T("復旧手順書", "Recovery sheet")},
	{"evidence-report", msg.T("オフライン証跡報告書", "Offline evidence report")},
	{"self-scan-report", msg.T("外部接続点 自己診断報告書", "Internet edge self-scan report")},
}

// Langs are the languages every document is made in, Japanese first.
var Langs = []string{"ja", "en"}

// Set is every document in every language, with the person-entered
// fields that are still empty.
type Set struct {
	Docs    []*Doc
	Missing []MissingField
}

// Build makes every document from in.
func Build(in *Input) (*Set, error) {
	if in == nil || in.Config == nil {
		return nil, errors.New("documents: no configuration")
	}
	set := &Set{}
	for _, l := range []lang{ja, en} {
		b := &builder{l: l, in: in, cfg: in.Config, missing: &set.Missing, zone: when.Of(in.Config.TimeZone)}
		for _, d := range []*Doc{b.plan(), b.annex(), b.runbook(), b.recovery(), b.evidence(), b.scanReport()} {
			if err := lint(d); err != nil {
				return nil, err
			}
			set.Docs = append(set.Docs, d)
		}
	}
	return set, nil
}

// Doc returns the document id in language lang.
func (s *Set) Doc(id, lang string) (*Doc, bool) {
	for _, d := range s.Docs {
		if d.ID == id && d.Lang == lang {
			return d, true
		}
	}
	return nil, false
}

// lint refuses a document with an empty table, cell or paragraph, or
// with a formatting mistake: a reader must never meet a blank.
func lint(d *Doc) error {
	where := func(s Section, what string) error {
		return fmt.Errorf("documents: %s (%s), section %q: %s", d.ID, d.Lang, s.Title, what)
	}
	spansOK := func(sp []Span) bool {
		var t strings.Builder
		for _, x := range sp {
			if strings.Contains(x.Text, "%!") {
				return false
			}
			t.WriteString(x.Text)
		}
		return strings.TrimSpace(t.String()) != ""
	}
	for _, s := range d.Sections {
		if len(s.Blocks) == 0 {
			return where(s, "no content")
		}
		for _, bl := range s.Blocks {
			switch bl.Kind {
			case blockTable:
				if len(bl.Rows) == 0 && bl.Empty == "" {
					return where(s, "empty table without a statement")
				}
				for _, r := range bl.Rows {
					if len(r) != len(bl.Head) {
						return where(s, "row width differs from the head")
					}
					for _, c := range r {
						if !spansOK(c) {
							return where(s, "empty table cell")
						}
					}
				}
			case blockPara, blockNote:
				if !spansOK(bl.Spans) {
					return where(s, "empty paragraph")
				}
			case blockCode:
				if strings.TrimSpace(bl.Code) == "" || strings.Contains(bl.Code, "%!") {
					return where(s, "empty code")
				}
			case blockList, blockSteps, blockCheck:
				for _, it := range bl.Items {
					if !spansOK(it) {
						return where(s, "empty list item")
					}
				}
			}
		}
	}
	return nil
}
