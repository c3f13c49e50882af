package documents

import (
	"strings"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Field is one person-entered field of config.Documents.
type Field struct {
	Name  string // JSON name under "documents"
	Label msg.Text
}

// Fields are the person-entered fields, in the order a form shows them.
var Fields = []Field{
	{"hospital_name", msg.T("医療機関名", "hospital name")},
	{"systems_covered", msg.T("対象システム", "systems covered")},
	{"responsible", msg.T("責任者", "responsible person")},
	{"operator", msg.T("担当者", "operator")},
	{"vendor_contact", msg.T("保守ベンダ連絡先", "vendor contact")},
	{"media_storage", msg.T("媒体の保管場所", "where media are stored")},
	{"password_storage", msg.T("パスワードの保管場所", "where the passwords are kept")},
	{"rpo", msg.T("RPO 目標", "RPO target")},
	{"rto", msg.T("RTO 目標", "RTO target")},
	{"drill_schedule", msg.T("訓練の予定", "drill schedule")},
	{"gateway_address", msg.T("ゲートウェイのIPアドレス", "gateway IP address")},
	{"sftp_chroot", msg.T("SFTPアカウントのchroot", "SFTP account chroot")},
}

// Value returns the field's text in d, "" when it is not filled in.
func (f Field) Value(d config.Documents) string {
	dur := func(x config.Duration) string {
		if x <= 0 {
			return ""
		}
		return time.Duration(x).String()
	}
	return map[string]string{
		"hospital_name": d.HospitalName, "systems_covered": strings.Join(d.SystemsCovered, ", "), "responsible": d.Responsible,
		"operator": d.Operator, "vendor_contact": d.VendorContact, "media_storage": d.MediaStorage, "password_storage": d.PasswordStorage,
		"rpo": dur(d.RPO), "rto": dur(d.RTO), "drill_schedule": d.DrillSchedule, "gateway_address": d.GatewayAddress, "sftp_chroot": d.SFTPChroot,
	}[f.Name]
}

// field returns a person-entered field's value, or the visible marker
// when it is empty (and records it as missing).
func (b *builder) field(name string) Span {
	for _, f := range Fields {
		if f.Name != name {
			continue
		}
		v := f.Value(b.cfg.Documents)
		if d, err := time.ParseDuration(v); err == nil && (name == "rpo" || name == "rto") {
			v = humanDuration(b.l, d)
		}
		return b.person("documents."+name, f.Label, v)
	}
	panic("documents: unknown field " + name) // names are constants in this package
}
