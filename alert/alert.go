package alert

import (
	"fmt"
	"strings"
	"time"
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
	case KindMediumNotOff, KindSourceAnomaly:
		return SeverityCritical
	case KindCycleFailed, KindCycleMissed, KindLedgerFailed, KindDrillFailed, KindLedgerFull:
		return SeverityError
	case KindStagingLow, KindScanFinding:
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

// jst is fixed rather than loaded: the appliance image may carry no tzdata,
// and Japan has no daylight saving time.
func jst() *time.Location { return time.FixedZone("JST", 9*60*60) }

// Alert is one notice. Build it with a constructor; the fields are exported
// so that callers may adjust Severity or add Detail.
type Alert struct {
	Kind      Kind      `json:"kind"`
	Severity  Severity  `json:"severity"`
	GatewayID string    `json:"gateway_id"`
	Medium    string    `json:"medium,omitempty"`
	Time      time.Time `json:"time"`
	TitleJA   string    `json:"title_ja"`
	TitleEN   string    `json:"title_en"`
	BodyJA    string    `json:"body_ja"`
	BodyEN    string    `json:"body_en"`
	// Detail is the technical cause (an error message), shown after both
	// languages.
	Detail string `json:"detail,omitempty"`
	// Key identifies the condition, not the occurrence: repeats with the
	// same key are suppressed within the repeat interval.
	Key      string `json:"dedup_key"`
	Resolved bool   `json:"resolved"`
}

func key(k Kind, parts ...string) string {
	return string(k) + "/" + strings.Join(parts, "/")
}

// CycleFailed: the backup cycle did not complete. medium may be "".
func CycleFailed(gatewayID, medium string, at time.Time, detail string) Alert {
	a := Alert{Kind: KindCycleFailed, GatewayID: gatewayID, Medium: medium, Time: at, Detail: detail,
		TitleJA: "バックアップが失敗しました",
		TitleEN: "Backup cycle failed",
		BodyJA: "バックアップ処理が最後まで完了しませんでした。最新のバックアップが取れていない可能性があります。" +
			"状態画面で原因を確認し、解決しない場合は保守ベンダに連絡してください。",
		BodyEN: "The backup cycle did not complete; the latest backup may be missing. " +
			"Check the status page for the cause and contact the maintenance vendor if it persists.",
		Key: key(KindCycleFailed, gatewayID, medium),
	}
	if medium != "" {
		a.TitleJA += "(媒体 " + medium + ")"
		a.TitleEN += " (medium " + medium + ")"
	}
	a.Severity = a.Kind.DefaultSeverity()
	return a
}

// DrillFailed: a restore drill could not restore the medium's snapshot
// or the restored files differ from what was pulled.
func DrillFailed(gatewayID, medium string, at time.Time, detail string) Alert {
	return Alert{Kind: KindDrillFailed, Severity: SeverityError, GatewayID: gatewayID, Medium: medium, Time: at, Detail: detail,
		TitleJA: "媒体 " + medium + " の復元訓練が失敗しました",
		TitleEN: "Restore drill failed on medium " + medium,
		BodyJA: "復元訓練で、媒体 " + medium + " のバックアップを正しく復元できませんでした。" +
			"非常時にこの媒体から復元できないおそれがあります。別の媒体で訓練をやり直し、保守ベンダに連絡してください。",
		BodyEN: "A restore drill could not correctly restore the backup on medium " + medium + ". " +
			"In an emergency this medium may not restore. Repeat the drill with another medium and contact the maintenance vendor.",
		Key: key(KindDrillFailed, gatewayID, medium),
	}
}

// SourceAnomaly: source's export changed almost entirely or turned
// random-looking (encrypted); pruning is paused until someone acknowledges
// it. id is the anomaly's, so each flagged night is announced.
func SourceAnomaly(gatewayID, source, id string, at time.Time, detail string) Alert {
	return Alert{Kind: KindSourceAnomaly, Severity: SeverityCritical, GatewayID: gatewayID, Time: at, Detail: detail,
		TitleJA: "取得元 " + source + " のエクスポートに異常な変化があります(ランサムウェアの疑い)",
		TitleEN: "Anomalous change in the export of source " + source + " (possible ransomware)",
		BodyJA: "電子カルテのエクスポート " + source + " が、ほぼ全体が変わったか、暗号化されたような内容に変わりました。" +
			"今回の分もバックアップしましたが、古い世代は削除せずに残しています。" +
			"電子カルテサーバーを至急確認し、問題がなければ(または対処したら)状態画面の「異常」で確認済みにしてください。確認済みにするまで古い世代の削除は止まります。",
		BodyEN: "The e-chart export " + source + " changed almost entirely or now looks encrypted. " +
			"It was backed up as a new generation, and no older generation is being pruned. " +
			"Check the e-chart server now; when it is fine (or dealt with), acknowledge the anomaly on the page's Anomalies screen. Pruning stays paused until then.",
		Key: key(KindSourceAnomaly, gatewayID, source, id),
	}
}

// MediumNotOff: after power-off, the medium could not be verified
// disconnected — it may be reachable by ransomware.
func MediumNotOff(gatewayID, medium string, at time.Time, detail string) Alert {
	return Alert{Kind: KindMediumNotOff, Severity: SeverityCritical, GatewayID: gatewayID, Medium: medium, Time: at, Detail: detail,
		TitleJA: "媒体 " + medium + " の電源遮断を確認できません",
		TitleEN: "Medium " + medium + " not verified powered off",
		BodyJA: "バックアップ媒体 " + medium + " の電源を切りましたが、切断されたことを確認できませんでした。" +
			"媒体がつながったままで、ランサムウェアに暗号化されるおそれがあります。" +
			"至急、装置と媒体を確認し、必要であれば媒体を手で取り外してください。",
		BodyEN: "The gateway switched backup medium " + medium + " off but could not verify that it is disconnected. " +
			"The medium may still be reachable and exposed to ransomware. " +
			"Check the gateway and the medium now, and remove the medium by hand if needed.",
		Key: key(KindMediumNotOff, gatewayID, medium),
	}
}

// CycleMissed: the cycle scheduled for due did not run.
func CycleMissed(gatewayID string, at, due time.Time) Alert {
	d := due.In(jst()).Format("2006-01-02 15:04 MST")
	return Alert{Kind: KindCycleMissed, Severity: SeverityError, GatewayID: gatewayID, Time: at,
		TitleJA: "予定されたバックアップが実行されていません",
		TitleEN: "Scheduled backup did not run",
		BodyJA:  d + " に予定されていたバックアップが実行されませんでした。装置の電源、時刻、スケジュール設定を確認してください。",
		BodyEN:  "The backup scheduled for " + d + " did not run. Check the gateway's power, clock and schedule.",
		Key:     key(KindCycleMissed, gatewayID),
	}
}

// StagingLow: free of total bytes of staging space remain.
func StagingLow(gatewayID string, at time.Time, free, total uint64) Alert {
	pct := uint64(0)
	if total > 0 {
		pct = free * 100 / total
	}
	f := formatBytes(free)
	return Alert{Kind: KindStagingLow, Severity: SeverityWarning, GatewayID: gatewayID, Time: at,
		TitleJA: "一時保存領域の空き容量が少なくなっています",
		TitleEN: "Staging space is running low",
		BodyJA: fmt.Sprintf("バックアップの一時保存領域(staging)の空きは残り %s(%d%%)です。"+
			"足りなくなると電子カルテのバックアップを取り込めなくなります。整理または容量の拡張を保守ベンダに相談してください。", f, pct),
		BodyEN: fmt.Sprintf("Only %s (%d%%) of the staging space is free. When it runs out, the e-chart export can no longer be pulled. "+
			"Ask the maintenance vendor to clean up or enlarge it.", f, pct),
		Key: key(KindStagingLow, gatewayID),
	}
}

// ScanFinding: the WAN-edge scan found a new 注意 item. findingID must be
// stable across scans (it is the dedup key).
func ScanFinding(gatewayID string, at time.Time, findingID, target, summaryJA, summaryEN string) Alert {
	return Alert{Kind: KindScanFinding, Severity: SeverityWarning, GatewayID: gatewayID, Time: at,
		TitleJA: "インターネット境界の診断で新しい「注意」項目: " + target,
		TitleEN: "New caution finding in the WAN-edge scan: " + target,
		BodyJA: "インターネット境界(ルータ、UTM、SSL-VPN、保守回線など)の自己診断で、新しい「注意」項目が見つかりました。\n" +
			"対象: " + target + "\n内容: " + summaryJA + "\n" +
			"診断レポートを確認し、機器の保守ベンダに対応を相談してください。",
		BodyEN: "The self-scan of the internet edge (routers, UTM, SSL-VPN, maintenance lines) found a new caution item.\n" +
			"Target: " + target + "\nFinding: " + summaryEN + "\n" +
			"Read the scan report and ask the device's maintenance vendor to act on it.",
		Key: key(KindScanFinding, gatewayID, findingID),
	}
}

// LedgerFailed: the evidence ledger did not verify.
func LedgerFailed(gatewayID string, at time.Time, detail string) Alert {
	return Alert{Kind: KindLedgerFailed, Severity: SeverityError, GatewayID: gatewayID, Time: at, Detail: detail,
		TitleJA: "証跡台帳の検証に失敗しました",
		TitleEN: "Evidence ledger verification failed",
		BodyJA: "電源操作やバックアップの記録(証跡台帳)の検証で、改ざんまたは破損の疑いが見つかりました。" +
			"監査で提示する記録です。台帳には手を加えず、保守ベンダに連絡してください。",
		BodyEN: "Verifying the evidence ledger (the record of power changes and backups) found signs of tampering or damage. " +
			"Auditors rely on these records. Do not modify the ledger; contact the maintenance vendor.",
		Key: key(KindLedgerFailed, gatewayID),
	}
}

// LedgerFull: the evidence ledger's disk (/perm) has no room for its
// reserve, so the gateway powers no medium until space is freed.
func LedgerFull(gatewayID string, at time.Time, detail string) Alert {
	return Alert{Kind: KindLedgerFull, Severity: SeverityError, GatewayID: gatewayID, Time: at, Detail: detail,
		TitleJA: "証跡台帳のディスクがいっぱいです: バックアップを停止しています",
		TitleEN: "The evidence ledger's disk is full: backups are stopped",
		BodyJA: "証跡台帳を置くディスク(/perm)に空きがないため、媒体の接続と切断を記録できません。" +
			"記録できないまま給電しないよう、空きができるまで媒体には給電せず、バックアップも行いません。" +
			"保守ベンダに連絡し、不要なファイル(古い調査結果や復元ファイルなど)の整理を依頼してください。",
		BodyEN: "The disk holding the evidence ledger (/perm) is full, so connecting and cutting a medium could not be recorded. " +
			"Until there is space, no medium is powered and no backup runs. " +
			"Contact the maintenance vendor to clear unneeded files (old scan reports, restored files).",
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
	r.Detail = ""
	r.BodyJA = "次の状態は解消しました: " + a.TitleJA
	r.BodyEN = "This condition has cleared: " + a.TitleEN
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
		{"gateway_id", a.GatewayID}, {"dedup_key", a.Key}, {"title_ja", a.TitleJA}, {"title_en", a.TitleEN},
	} {
		if f.v == "" {
			miss = append(miss, f.name)
		}
	}
	if len(miss) > 0 {
		return fmt.Errorf("通知の内容が不完全です / malformed alert: %s", strings.Join(miss, ", "))
	}
	return nil
}

func (a Alert) labels() (ja, en string) {
	if a.Resolved {
		return "復旧", "RESOLVED"
	}
	switch a.Severity {
	case SeverityCritical:
		return "重大", "CRITICAL"
	case SeverityError:
		return "異常", "ERROR"
	case SeverityWarning:
		return "注意", "WARNING"
	}
	return "情報", "INFO"
}

// Subject is the one-line summary (mail subject), Japanese first.
func (a Alert) Subject() string {
	ja, en := a.labels()
	return fmt.Sprintf("[danzen %s] 【%s】%s / %s: %s", a.GatewayID, ja, a.TitleJA, en, a.TitleEN)
}

// Text is the whole notice as plain text, Japanese first, "\n" line ends.
func (a Alert) Text() string {
	ja, en := a.labels()
	t := a.Time.In(jst()).Format("2006-01-02 15:04:05 MST")
	var b strings.Builder
	b.WriteString("【" + ja + "】" + a.TitleJA + "\n\n" + a.BodyJA + "\n\n")
	b.WriteString("ゲートウェイ: " + a.GatewayID + "\n")
	if a.Medium != "" {
		b.WriteString("媒体: " + a.Medium + "\n")
	}
	if a.Resolved {
		b.WriteString("復旧時刻: " + t + "\n")
	} else {
		b.WriteString("発生時刻: " + t + "\n")
	}
	b.WriteString("\n----------------------------------------\n")
	b.WriteString(en + ": " + a.TitleEN + "\n\n" + a.BodyEN + "\n\n")
	b.WriteString("Gateway: " + a.GatewayID + "\n")
	if a.Medium != "" {
		b.WriteString("Medium: " + a.Medium + "\n")
	}
	b.WriteString("Time: " + t + "\n")
	if a.Detail != "" {
		b.WriteString("\n詳細 / Detail:\n" + a.Detail + "\n")
	}
	b.WriteString("\n種別 / Kind: " + string(a.Kind) + "\n")
	b.WriteString("識別キー / Key: " + a.Key + "\n")
	b.WriteString("-- \ndanzen オフラインバックアップ装置 / offline-backup gateway\n")
	return b.String()
}

func formatBytes(n uint64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), 0
	units := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	for v /= unit; v >= unit && i < len(units)-1; v /= unit {
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
