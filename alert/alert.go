package alert

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/when"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Kind is what happened.
type Kind string

const (
	KindCycleFailed  Kind = "cycle_failed"   // a backup cycle ended in error
	KindMediumNotOff Kind = "medium_not_off" // a medium could not be verified powered off (most serious)
	KindCycleMissed  Kind = "cycle_missed"   // a scheduled cycle did not run
	KindStagingLow   Kind = "staging_low"    // staging space is running out
	KindScanFinding  Kind = "scan_finding"   // a new 注意 finding in the WAN-edge scan
	KindLedgerFailed Kind = "ledger_failed"  // evidence ledger verification failed
	KindDrillFailed  Kind = "drill_failed"   // a restore drill did not restore and verify
)

// KindSourceAnomaly: an export changed as ransomware would change it.
const KindSourceAnomaly Kind = "source_anomaly"

// KindLedgerFull: the evidence ledger's disk is full; no medium is powered.
const KindLedgerFull Kind = "ledger_full"

// DefaultSeverity is the severity the constructors give each kind.
func (k Kind) DefaultSeverity() Severity {
	switch k {
	case KindMediumNotOff, KindSourceAnomaly, KindInterlockOpen:
		return SeverityCritical
	case KindCycleFailed, KindCycleMissed, KindLedgerFailed, KindDrillFailed, KindLedgerFull, KindPullPending, KindPullEmpty, KindPullDropped, KindUpdateRefused, KindShortenPending, KindOffsiteLapsed:
		return SeverityError
	case KindStagingLow, KindScanFinding, KindPullRefused, KindClockUnsynced, KindOffsiteOverdue, KindRecoveryKit:
		return SeverityWarning
	}
	return ""
}

func (k Kind) known() bool { return k.DefaultSeverity() != "" }

// Severity orders alerts; a rise in severity is sent even within the
// repeat interval.
type Severity string

const (
	SeverityCritical Severity = "critical"
	SeverityError    Severity = "error"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info" // resolved notices
)

func (s Severity) rank() int {
	switch s {
	case SeverityCritical:
		return 3
	case SeverityError:
		return 2
	case SeverityWarning:
		return 1
	case SeverityInfo:
		return 0
	}
	return -1
}

// Alert is one notice. Build it with a constructor; the fields are exported
// so that callers may adjust Severity or add Detail. Its JSON (the webhook
// body, see the package doc) keeps each language in its own flat key.
type Alert struct {
	Kind      Kind
	Severity  Severity
	GatewayID string
	Medium    string
	Time      time.Time
	Title     msg.Text
	Body      msg.Text
	// Detail is the technical cause (an error message), shown after both
	// languages.
	Detail msg.Text
	// Key identifies the condition, not the occurrence: repeats with the
	// same key are suppressed within the repeat interval.
	Key      string
	Resolved bool
}

// wireAlert is Alert as the webhook sends it.
type wireAlert struct {
	Kind      Kind      `json:"kind"`
	Severity  Severity  `json:"severity"`
	GatewayID string    `json:"gateway_id"`
	Medium    string    `json:"medium,omitempty"`
	Time      time.Time `json:"time"`
	TitleJA   string    `json:"title_ja"`
	TitleEN   string    `json:"title_en"`
	BodyJA    string    `json:"body_ja"`
	BodyEN    string    `json:"body_en"`
	// Detail is said once, both languages together, as it is logged.
	Detail   string `json:"detail,omitempty"`
	Key      string `json:"dedup_key"`
	Resolved bool   `json:"resolved"`
}

func (a Alert) wire() wireAlert {
	return wireAlert{Kind: a.Kind, Severity: a.Severity, GatewayID: a.GatewayID, Medium: a.Medium, Time: a.Time,
		TitleJA: a.Title.JA, TitleEN: a.Title.EN, BodyJA: a.Body.JA, BodyEN: a.Body.EN,
		Detail: a.Detail.String(), Key: a.Key, Resolved: a.Resolved}
}

// MarshalJSON writes the webhook's form of a.
func (a Alert) MarshalJSON() ([]byte, error) { return json.Marshal(a.wire()) }

// UnmarshalJSON reads what MarshalJSON wrote.
func (a *Alert) UnmarshalJSON(b []byte) error {
	var w wireAlert
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = Alert{Kind: w.Kind, Severity: w.Severity, GatewayID: w.GatewayID, Medium: w.Medium, Time: w.Time,
		Title: msg.T(w.TitleJA, w.TitleEN), Body: msg.T(w.BodyJA, w.BodyEN),
		Detail: msg.Legacy(w.Detail), Key: w.Key, Resolved: w.Resolved}
	return nil
}

func key(k Kind, parts ...string) string {
	return string(k) + "/" + strings.Join(parts, "/")
}

// CycleFailed: the backup cycle did not complete. medium may be "".
func CycleFailed(gatewayID, medium string, at time.Time, detail msg.Text) Alert {
	title := msg.T("バックアップが失敗しました", "Backup cycle failed")
	body := with(msg.T("バックアップ処理が最後まで完了しませんでした。最新のバックアップが取れていない可能性があります。原因と対応は状態画面にも表示されます。",
		"The backup cycle did not complete; the latest backup may be missing. The status page shows the cause and what to do as well."), CausePull)
	if medium != "" {
		title = msg.Sprintf("バックアップが失敗しました(媒体 %s)", "Backup cycle failed (medium %s)", medium)
		body = with(msg.Sprintf("媒体 %s へのバックアップが完了しませんでした。この媒体の最新のバックアップが取れていない可能性があります。原因と対応は状態画面にも表示されます。",
			"The backup to medium %s did not complete; the medium may lack the latest backup. The status page shows the cause and what to do as well.", medium), CauseMedium)
	}
	return Alert{Kind: KindCycleFailed, Severity: KindCycleFailed.DefaultSeverity(), GatewayID: gatewayID, Medium: medium, Time: at, Detail: detail,
		Title: title,
		Body:  body,
		Key:   key(KindCycleFailed, gatewayID, medium),
	}
}

// DrillFailed: a restore drill could not restore the medium's snapshot
// or the restored files differ from what was pulled.
func DrillFailed(gatewayID, medium string, at time.Time, detail msg.Text) Alert {
	return Alert{Kind: KindDrillFailed, Severity: SeverityError, GatewayID: gatewayID, Medium: medium, Time: at, Detail: detail,
		Title: msg.Sprintf("媒体 %s の復元訓練が失敗しました", "Restore drill failed on medium %s", medium),
		Body: with(msg.Sprintf("復元訓練で、媒体 %s のバックアップを正しく復元できませんでした。非常時にこの媒体から復元できないおそれがあります。",
			"A restore drill could not correctly restore the backup on medium %s. In an emergency this medium may not restore.", medium), CauseDrill),
		Key: key(KindDrillFailed, gatewayID, medium),
	}
}

// SourceAnomaly: source's export changed almost entirely or turned
// random-looking (encrypted); pruning is paused until someone acknowledges
// it. id is the anomaly's, so each flagged night is announced.
func SourceAnomaly(gatewayID, source, id string, at time.Time, detail msg.Text) Alert {
	return Alert{Kind: KindSourceAnomaly, Severity: SeverityCritical, GatewayID: gatewayID, Time: at, Detail: detail,
		Title: msg.Sprintf("取得元 %s のエクスポートに異常な変化があります(ランサムウェアの疑い)",
			"Anomalous change in the export of source %s (possible ransomware)", source),
		Body: with(msg.Sprintf("電子カルテのエクスポート %s が、ほぼ全体が変わったか、暗号化されたような内容に変わりました。"+
			"今回の分もバックアップしましたが、古い世代は削除せずに残しています。",
			"The e-chart export %s changed almost entirely or now looks encrypted. "+
				"It was backed up as a new generation, and no older generation is being pruned.", source), CauseAnomaly),
		Key: key(KindSourceAnomaly, gatewayID, source, id),
	}
}

// MediumNotOff: after power-off, the medium could not be verified
// disconnected — it may be reachable by ransomware.
func MediumNotOff(gatewayID, medium string, at time.Time, detail msg.Text) Alert {
	return Alert{Kind: KindMediumNotOff, Severity: SeverityCritical, GatewayID: gatewayID, Medium: medium, Time: at, Detail: detail,
		Title: msg.Sprintf("媒体 %s の電源遮断を確認できません", "Medium %s not verified powered off", medium),
		Body: with(msg.Sprintf("バックアップ媒体 %s の電源を切りましたが、切断されたことを確認できませんでした。"+
			"媒体がつながったままで、ランサムウェアに暗号化されるおそれがあります。",
			"The gateway switched backup medium %s off but could not verify that it is disconnected. "+
				"The medium may still be reachable and exposed to ransomware.", medium), CauseCut),
		Key: key(KindMediumNotOff, gatewayID, medium),
	}
}

// CycleMissed: the cycle scheduled for due did not run; due is said in z,
// the zone the schedule is read in.
func CycleMissed(gatewayID string, at, due time.Time, z when.Zone) Alert {
	d := z.Minute(due)
	return Alert{Kind: KindCycleMissed, Severity: SeverityError, GatewayID: gatewayID, Time: at,
		Title: msg.T("予定されたバックアップが実行されていません", "Scheduled backup did not run"),
		Body: with(msg.Sprintf("%s に予定されていたバックアップが実行されませんでした。",
			"The backup scheduled for %s did not run.", d), CauseMissed),
		Key: key(KindCycleMissed, gatewayID),
	}
}

// StagingLow: free of total bytes of staging space remain.
func StagingLow(gatewayID string, at time.Time, free, total uint64) Alert {
	pct := uint64(0)
	if total > 0 {
		pct = free * 100 / total
	}
	return Alert{Kind: KindStagingLow, Severity: SeverityWarning, GatewayID: gatewayID, Time: at,
		Title: msg.T("一時保存領域の空き容量が少なくなっています", "Staging space is running low"),
		Body: with(msg.Sprintf("バックアップの一時保存領域(staging)の空きは残り %s(%d%%)です。"+
			"足りなくなると電子カルテのバックアップを取り込めなくなります。",
			"Only %s (%d%%) of the staging space is free. When it runs out, the e-chart export can no longer be pulled.",
			bytesize.Format(free), pct), CauseStagingLow),
		Key: key(KindStagingLow, gatewayID),
	}
}

// ScanFinding: the WAN-edge scan found a new 注意 item. findingID must be
// stable across scans (it is the dedup key).
func ScanFinding(gatewayID string, at time.Time, findingID, target string, summary msg.Text) Alert {
	return Alert{Kind: KindScanFinding, Severity: SeverityWarning, GatewayID: gatewayID, Time: at,
		Title: msg.Sprintf("インターネット境界の診断で新しい「注意」項目: %s", "New caution finding in the WAN-edge scan: %s", target),
		Body: with(msg.Sprintf("インターネット境界(ルータ、UTM、SSL-VPN、保守回線など)の自己診断で、新しい「注意」項目が見つかりました。\n"+
			"対象: %s\n内容: %s",
			"The self-scan of the internet edge (routers, UTM, SSL-VPN, maintenance lines) found a new caution item.\n"+
				"Target: %s\nFinding: %s", target, summary), CauseScanFinding),
		Key: key(KindScanFinding, gatewayID, findingID),
	}
}

// LedgerFailed: the evidence ledger did not verify.
func LedgerFailed(gatewayID string, at time.Time, detail msg.Text) Alert {
	return Alert{Kind: KindLedgerFailed, Severity: SeverityError, GatewayID: gatewayID, Time: at, Detail: detail,
		Title: msg.T("証跡台帳の検証に失敗しました", "Evidence ledger verification failed"),
		Body: with(msg.T("電源操作やバックアップの記録(証跡台帳)の検証で、改ざんまたは破損の疑いが見つかりました。監査で提示する記録です。",
			"Verifying the evidence ledger (the record of power changes and backups) found signs of tampering or damage. "+
				"Auditors rely on these records."), CauseLedger),
		Key: key(KindLedgerFailed, gatewayID),
	}
}

// LedgerFull: the evidence ledger's disk (/perm) has no room for its
// reserve, so the gateway powers no medium until space is freed.
func LedgerFull(gatewayID string, at time.Time, detail msg.Text) Alert {
	return Alert{Kind: KindLedgerFull, Severity: SeverityError, GatewayID: gatewayID, Time: at, Detail: detail,
		Title: msg.T("証跡台帳のディスクがいっぱいです: バックアップを停止しています", "The evidence ledger's disk is full: backups are stopped"),
		Body: with(msg.T("証跡台帳を置くディスク(/perm)に空きがないため、媒体の接続と切断を記録できません。"+
			"記録できないまま給電しないよう、空きができるまで媒体には給電せず、バックアップも行いません。",
			"The disk holding the evidence ledger (/perm) is full, so connecting and cutting a medium could not be recorded. "+
				"Until there is space, no medium is powered and no backup runs."), CauseLedgerFull),
		Key: key(KindLedgerFull, gatewayID),
	}
}

// Resolve returns the notice that a's condition cleared at at. It carries
// a's key, so it is sent only on channels that announced a.
func (a Alert) Resolve(at time.Time) Alert {
	r := a
	r.Resolved = true
	r.Severity = SeverityInfo
	r.Time = at
	r.Detail = msg.Text{}
	r.Body = msg.Sprintf("次の状態は解消しました: %s", "This condition has cleared: %s", a.Title)
	return r
}

func (a Alert) check() error {
	var miss []string
	if !a.Kind.known() {
		miss = append(miss, fmt.Sprintf("kind %q", a.Kind))
	}
	if a.Severity.rank() < 0 {
		miss = append(miss, fmt.Sprintf("severity %q", a.Severity))
	}
	for _, f := range [...]struct{ name, v string }{
		{"gateway_id", a.GatewayID}, {"dedup_key", a.Key}, {"title_ja", a.Title.JA}, {"title_en", a.Title.EN},
	} {
		if f.v == "" {
			miss = append(miss, f.name)
		}
	}
	if len(miss) > 0 {
		return msg.Errorf("通知の内容が不完全です: %s", "malformed alert: %s", strings.Join(miss, ", "))
	}
	return nil
}

func (a Alert) label() msg.Text {
	if a.Resolved {
		return msg.T("復旧", "RESOLVED")
	}
	switch a.Severity {
	case SeverityCritical:
		return msg.T("重大", "CRITICAL")
	case SeverityError:
		return msg.T("異常", "ERROR")
	case SeverityWarning:
		return msg.T("注意", "WARNING")
	}
	return msg.T("情報", "INFO")
}

// heading is the label and the title: "【重大】…" in Japanese,
// "CRITICAL: …" in English.
func (a Alert) heading() msg.Text {
	return msg.Sprintf("【%s】%s", "%s: %s", a.label(), a.Title)
}

// Subject is the one-line summary (mail subject), Japanese first.
func (a Alert) Subject() string {
	return "[danzen " + a.GatewayID + "] " + a.heading().String()
}

// Text is the whole notice as plain text, Japanese first, "\n" line ends,
// its time in z (the gateway's configured zone).
func (a Alert) Text(z when.Zone) string {
	var b strings.Builder
	a.section(&b, msg.JA, z)
	b.WriteString("\n----------------------------------------\n")
	a.section(&b, msg.EN, z)
	if !a.Detail.IsZero() {
		b.WriteString("\n" + msg.T("詳細", "Detail").String() + ":\n" + a.Detail.String() + "\n")
	}
	b.WriteString("\n" + msg.T("種別", "Kind").String() + ": " + string(a.Kind) + "\n")
	b.WriteString(msg.T("識別キー", "Key").String() + ": " + a.Key + "\n")
	b.WriteString("-- \ndanzen " + msg.T("オフラインバックアップ装置", "offline-backup gateway").String() + "\n")
	return b.String()
}

// section writes the notice in one language: heading, body, gateway,
// medium and time (in z).
func (a Alert) section(b *strings.Builder, l msg.Lang, z when.Zone) {
	line := func(label msg.Text, v string) { b.WriteString(label.Localize(l) + ": " + v + "\n") }
	b.WriteString(a.heading().Localize(l) + "\n\n" + a.Body.Localize(l) + "\n\n")
	line(msg.T("ゲートウェイ", "Gateway"), a.GatewayID)
	if a.Medium != "" {
		line(msg.T("媒体", "Medium"), a.Medium)
	}
	at := msg.T("発生時刻", "Time")
	if a.Resolved {
		at = msg.T("復旧時刻", "Time")
	}
	line(at, z.Stamp(a.Time))
}
