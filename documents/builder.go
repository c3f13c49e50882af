package documents

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/config"
)

// MissingField is a person-entered field that is empty, with the
// documents that print it.
type MissingField struct {
	Field string   `json:"field"` // JSON path in the configuration
	JA    string   `json:"ja"`
	EN    string   `json:"en"`
	Docs  []string `json:"documents"`
}

func (m MissingField) String() string {
	return m.Field + ": " + m.JA + " / " + m.EN + " (" + strings.Join(m.Docs, ", ") + ")"
}

// builder builds one document in one language and notes every
// person-entered field it had to mark as not filled in.
type builder struct {
	l       lang
	in      *Input
	cfg     *config.Config
	doc     string
	missing *[]MissingField
	loc     *time.Location
}

// person returns the value of a person-entered field, or the visible
// marker when it is empty (and records it as missing).
func (b *builder) person(field, jaLabel, enLabel, value string) Span {
	if strings.TrimSpace(value) != "" {
		return text(value)
	}
	b.noteMissing(field, jaLabel, enLabel)
	return Span{Text: b.l.missingText(), Missing: true}
}

func (b *builder) noteMissing(field, jaLabel, enLabel string) {
	for i := range *b.missing {
		m := &(*b.missing)[i]
		if m.Field == field {
			if !slices.Contains(m.Docs, b.doc) {
				m.Docs = append(m.Docs, b.doc)
			}
			return
		}
	}
	*b.missing = append(*b.missing, MissingField{Field: field, JA: jaLabel, EN: enLabel, Docs: []string{b.doc}})
}

// Person-entered fields, by their configuration path.
func (b *builder) hospital() Span {
	return b.person("documents.hospital_name", "病院名", "hospital name", b.cfg.Documents.HospitalName)
}

func (b *builder) responsible() Span {
	return b.person("documents.responsible", "責任者", "responsible person", b.cfg.Documents.Responsible)
}

func (b *builder) operator() Span {
	return b.person("documents.operator", "担当者", "operator", b.cfg.Documents.Operator)
}

func (b *builder) vendor() Span {
	return b.person("documents.vendor_contact", "保守ベンダ連絡先", "vendor contact", b.cfg.Documents.VendorContact)
}

func (b *builder) mediaStorage() Span {
	return b.person("documents.media_storage", "媒体の保管場所", "where media are stored", b.cfg.Documents.MediaStorage)
}

func (b *builder) passwordStorage() Span {
	return b.person("documents.password_storage", "パスワードの保管場所", "where the passwords are kept", b.cfg.Documents.PasswordStorage)
}

func (b *builder) drillSchedule() Span {
	return b.person("documents.drill_schedule", "訓練の予定", "drill schedule", b.cfg.Documents.DrillSchedule)
}

func (b *builder) gatewayAddress() Span {
	return b.person("documents.gateway_address", "ゲートウェイのIPアドレス", "gateway IP address", b.cfg.Documents.GatewayAddress)
}

func (b *builder) chroot() Span {
	return b.person("documents.sftp_chroot", "SFTPアカウントのchroot", "SFTP account chroot", b.cfg.Documents.SFTPChroot)
}

func (b *builder) systems() Span {
	return b.person("documents.systems_covered", "対象システム", "systems covered", strings.Join(b.cfg.Documents.SystemsCovered, b.l.t("、", ", ")))
}

func (b *builder) duration(field, jaLabel, enLabel string, d config.Duration) Span {
	if d <= 0 {
		return b.person(field, jaLabel, enLabel, "")
	}
	return text(humanDuration(b.l, time.Duration(d)))
}

// stamp is a time in the gateway's zone, to the minute.
func (b *builder) stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(b.loc).Format("2006-01-02 15:04")
}

func (b *builder) stampSec(t time.Time) string {
	return t.In(b.loc).Format("2006-01-02 15:04:05")
}

func (b *builder) date(t time.Time) string {
	if b.l == en {
		return t.In(b.loc).Format("2 January 2006")
	}
	return t.In(b.loc).Format("2006年1月2日")
}

// humanDuration is "2時間5分" / "2h 5m", to the minute (seconds when short).
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
