package documents

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
)

// MissingField is a person-entered field that is empty, with the
// documents that print it.
type MissingField struct {
	Field string   `json:"field"` // JSON path in the configuration
	Label msg.Text `json:"label"`
	Docs  []string `json:"documents"`
}

// Localize is "documents.rpo: RPO target (offline-backup-plan, …)" in l.
func (m MissingField) Localize(l msg.Lang) string {
	return m.Field + ": " + m.Label.Localize(l) + " (" + strings.Join(m.Docs, ", ") + ")"
}

func (m MissingField) String() string { return m.Localize(msg.Both) }

// builder builds one document in one language and notes every
// person-entered field it had to mark as not filled in.
type builder struct {
	l       lang
	in      *Input
	cfg     *config.Config
	doc     string
	missing *[]MissingField
	zone    when.Zone // every time is printed in the gateway's zone, labelled
}

// person returns the value of a person-entered field, or the visible
// marker when it is empty (and records it as missing).
func (b *builder) person(field string, label msg.Text, value string) Span {
	if strings.TrimSpace(value) != "" {
		return text(value)
	}
	b.noteMissing(field, label)
	return Span{Text: b.l.in(MissingMarker), Missing: true}
}

func (b *builder) noteMissing(field string, label msg.Text) {
	for i := range *b.missing {
		m := &(*b.missing)[i]
		if m.Field == field {
			if !slices.Contains(m.Docs, b.doc) {
				m.Docs = append(m.Docs, b.doc)
			}
			return
		}
	}
	*b.missing = append(*b.missing, MissingField{Field: field, Label: label, Docs: []string{b.doc}})
}

// stamp is a time in the gateway's zone, to the minute, with the zone.
func (b *builder) stamp(t time.Time) string { return b.zone.Minute(t) }

func (b *builder) stampSec(t time.Time) string { return b.zone.Stamp(t) }

func (b *builder) date(t time.Time) string {
	if b.l == en {
		return b.zone.Time(t).Format("2 January 2006")
	}
	return b.zone.Time(t).Format("2006年1月2日")
}

// HumanDuration is "2時間5分" in Japanese ("ja"), "2h 5m" otherwise, to
// the minute (seconds when short). The page uses it too.
func HumanDuration(language string, d time.Duration) string { return humanDuration(lang(language), d) }

func humanDuration(l lang, d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < time.Minute {
		return l.f("%d秒", "%ds", int(d.Round(time.Second)/time.Second))
	}
	d = d.Round(time.Minute)
	days := int(d / (24 * time.Hour))
	h := int(d % (24 * time.Hour) / time.Hour)
	m := int(d % time.Hour / time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, l.f("%d日", "%dd", days))
	}
	if h > 0 {
		parts = append(parts, l.f("%d時間", "%dh", h))
	}
	if m > 0 || len(parts) == 0 {
		parts = append(parts, l.f("%d分", "%dm", m))
	}
	return strings.Join(parts, l.t("", " "))
}

// hours is a duration in hours with one decimal, for the evidence tables.
func hours(d time.Duration) string {
	return fmt.Sprintf("%.1f", d.Hours())
}
