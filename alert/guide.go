package alert

import (
	"slices"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Cause is one way the gateway can fail or need a person, as the page,
// the alerts and the documents explain it. Its explanation (Explain) is
// the one text all three show, so the screen, the mail and the annex on
// paper cannot tell staff different things.
type Cause string

const (
	CausePull        Cause = "pull"         // the e-chart export could not be pulled
	CauseMedium      Cause = "medium"       // a medium could not be written (attach, backup, retention, detach…)
	CauseCheck       Cause = "check"        // restic check found errors in a medium's repository
	CauseCut         Cause = "cut"          // a medium's cut could not be verified: not offline
	CauseSimulated   Cause = "simulated"    // the relay only simulates: the medium is never offline
	CauseLedgerFull  Cause = "ledger-full"  // the ledger's disk is full: no medium is powered
	CauseMissed      Cause = "missed"       // a scheduled cycle did not run
	CauseDrill       Cause = "drill"        // a restore drill did not restore and verify
	CauseScan        Cause = "scan"         // the WAN-edge self-scan could not run
	CauseLedger      Cause = "ledger"       // the evidence ledger failed verification
	CauseAnomaly     Cause = "anomaly"      // an export changed as ransomware would change it
	CauseStagingLow  Cause = "staging-low"  // staging space is running out
	CauseScanFinding Cause = "scan-finding" // the self-scan found a new 注意 item
	CauseOther       Cause = "other"        // another step failed, or a failure left no cause on record
)

// Guide explains one cause: what happened in plain words, what hospital
// staff do and what the maintenance vendor does.
type Guide struct {
	Cause Cause
	// Alert is the alert the cause raises; "" when it is shown on the
	// page only.
	Alert    Kind
	Severity Severity
	What     msg.Text
	Staff    msg.Text // what hospital staff do, and when they call the vendor
	Vendor   msg.Text // what the maintenance vendor does
}

// Todo is what to do, one line per person: staff first, then the vendor.
func (g Guide) Todo() msg.Text {
	return msg.Sprintf("病院職員: %s\n保守ベンダ: %s", "Hospital staff: %s\nMaintenance vendor: %s", g.Staff, g.Vendor)
}

// Guides lists every cause, most serious first: the table of the annex.
func Guides() []Guide {
	return slices.Concat(criticalGuides(), cycleGuides(),
		[]Guide{pullGuide(CausePullEmpty), pullGuide(CausePullDropped), pullGuide(CausePullPending)},
		gatewayGuides(), warningGuides(), []Guide{clockGuide(), pullGuide(CausePullRefused), updateGuide(), interlockGuide(), shortenGuide(), recoveryKitGuide()}, offsiteGuides())
}

// criticalGuides: a medium that is not offline, an export that may be encrypted.
func criticalGuides() []Guide {
	return []Guide{
		{Cause: CauseCut, Alert: KindMediumNotOff, Severity: SeverityCritical,
			What: msg.T("媒体の電源遮断(切断)を確認できませんでした。この媒体はオフラインではありません。",
				"The medium's power cut could not be verified: the medium is not offline."),
			Staff: msg.T("至急、リレーと配線、媒体の電源ランプを確認する。解決しなければ媒体の電源ケーブルを手で抜き、保守ベンダに連絡する。",
				"At once, check the relay, the wiring and the medium's power lamp. If that does not solve it, unplug the medium's power by hand and call the vendor."),
			Vendor: msg.T("リレー、センス入力、配線を点検して直し、切断を確認できる状態に戻す。",
				"Inspect and repair the relay, the sense input and the wiring until the cut is verified again.")},
		{Cause: CauseAnomaly, Alert: KindSourceAnomaly, Severity: SeverityCritical,
			What: msg.T("電子カルテのエクスポートがほぼ全体変わったか、暗号化されたような内容になりました(ランサムウェアの疑い)。古い世代は削除せずに残しています。",
				"The e-chart export changed almost entirely or looks encrypted (possible ransomware). No older generation is being pruned."),
			Staff: msg.T("至急、電子カルテサーバーを確認し、保守ベンダに連絡する。問題がなければ(または対処したら)画面の「異常」で確認済みにする。確認済みにするまで古い世代の削除は止まる。",
				"Check the e-chart server at once and call the vendor. When it is fine (or dealt with), acknowledge the anomaly on the page's Anomalies screen; pruning stays paused until then."),
			Vendor: msg.T("電子カルテベンダと共にサーバーとエクスポートを調べ、感染の有無と正しい世代を確かめる。",
				"Examine the server and the export with the e-chart vendor: whether it is infected, and which generation is sound.")},
	}
}

// cycleGuides: what fails a backup cycle.
func cycleGuides() []Guide {
	return []Guide{
		{Cause: CausePull, Alert: KindCycleFailed, Severity: SeverityError,
			What: msg.T("電子カルテサーバーからエクスポートを取得できませんでした。今回の分はバックアップされていません。",
				"The e-chart export could not be pulled from the e-chart server; this cycle backed nothing new up."),
			Staff: msg.T("電子カルテサーバーが動いていること、ゲートウェイとの間のネットワーク(LANケーブル、スイッチ)を確認する。次のサイクルで自動的にやり直す。翌日も続くときは保守ベンダに連絡する。",
				"Check that the e-chart server is running and that the network to the gateway (LAN cable, switch) works. The next cycle tries again by itself; if it still fails the next day, call the vendor."),
			Vendor: msg.T("取得元の設定(アドレス、ホスト鍵、ログイン鍵、エクスポートのフォルダ)と電子カルテ側のエクスポートを確認する。",
				"Check the source's settings (address, host key, log-in key, export folder) and the export on the e-chart side.")},
		{Cause: CauseMedium, Alert: KindCycleFailed, Severity: SeverityError,
			What: msg.T("媒体にバックアップを書き込めませんでした。この媒体の最新のバックアップが取れていません。",
				"The backup could not be written to the medium: the medium lacks the latest backup."),
			Staff: msg.T("媒体が装置に正しく接続・装着されていること(ローテーションでは今回の番の媒体であること)を確認する。解決しなければ当日中に保守ベンダに連絡する。",
				"Check that the medium is properly connected or inserted (with rotation, that it is this cycle's medium). If that does not solve it, call the vendor the same day."),
			Vendor: msg.T("詳細の記録から原因を調べ、媒体とリポジトリを点検し、必要なら媒体を交換する。",
				"Find the cause from the detail below, inspect the medium and its repository, and replace the medium if needed.")},
		{Cause: CauseCheck, Alert: KindCycleFailed, Severity: SeverityError,
			What: msg.T("媒体上のバックアップ(リポジトリ)の検査でエラーが見つかりました。この媒体から正しく復元できないおそれがあります。",
				"Checking the backup repository on the medium found errors: the medium may not restore correctly."),
			Staff: msg.T("媒体には手を加えず、当日中に保守ベンダに連絡する。",
				"Leave the medium as it is and call the vendor the same day."),
			Vendor: msg.T("検査の結果を調べ、リポジトリを修復するか媒体を交換する。直るまでこの媒体を復元に使わない。",
				"Examine the check's findings, then repair the repository or replace the medium; do not restore from it until then.")},
		{Cause: CauseLedgerFull, Alert: KindLedgerFull, Severity: SeverityError,
			What: msg.T("証跡台帳のディスク(/perm)に空きがなく、媒体の接続と切断を記録できないため、媒体に給電せずバックアップを止めています。",
				"The evidence ledger's disk (/perm) is full, so connecting and cutting a medium could not be recorded: no medium is powered and backups are stopped."),
			Staff: msg.T("保守ベンダに連絡する。空きができれば次のサイクルから自動で再開する。",
				"Call the vendor. Backups resume by themselves with the next cycle once there is space."),
			Vendor: msg.T("不要なファイル(古い診断結果、復元したファイルなど)を整理して空きを作る。",
				"Clear unneeded files (old scan reports, restored files) to make room.")},
		{Cause: CauseMissed, Alert: KindCycleMissed, Severity: SeverityError,
			What: msg.T("予定されたバックアップが実行されませんでした。",
				"A scheduled backup did not run."),
			Staff: msg.T("ゲートウェイの電源、時刻、ネットワークを確認する。続くときは保守ベンダに連絡する。",
				"Check the gateway's power, clock and network. If it happens again, call the vendor."),
			Vendor: msg.T("スケジュールの設定と装置の時刻合わせ、停止していた理由を確認する。",
				"Check the schedule, the gateway's time synchronisation and why it was not running.")},
	}
}

// gatewayGuides: drills, the ledger, and failures of no known cause.
func gatewayGuides() []Guide {
	return []Guide{
		{Cause: CauseDrill, Alert: KindDrillFailed, Severity: SeverityError,
			What: msg.T("復元訓練でデータを復元・照合できませんでした。非常時にこの媒体から復元できないおそれがあります。",
				"A restore drill could not restore and verify the data: in an emergency this medium may not restore."),
			Staff: msg.T("別の媒体で訓練をやり直し、保守ベンダに連絡する。",
				"Repeat the drill with another medium and call the vendor."),
			Vendor: msg.T("訓練の記録から原因を調べ、媒体とリポジトリを点検し、修復するか媒体を交換する。",
				"Find the cause in the drill record, inspect the medium and its repository, and repair it or replace the medium.")},
		{Cause: CauseLedger, Alert: KindLedgerFailed, Severity: SeverityError,
			What: msg.T("証跡台帳(電源操作やバックアップの記録)の検証に失敗しました。改ざんまたは故障の疑いがあります。",
				"The evidence ledger (the record of power changes and backups) failed verification: signs of tampering or damage."),
			Staff: msg.T("台帳には手を加えず、ゲートウェイの操作を止め、責任者と保守ベンダに連絡する。",
				"Do not touch the ledger; stop using the gateway and call the responsible person and the vendor."),
			Vendor: msg.T("検証で見つかった箇所を調べ、故障か改ざんかを確かめて記録に残す。",
				"Examine what verification found, establish whether it is damage or tampering, and put it on record.")},
		{Cause: CauseSimulated, Severity: SeverityError,
			What: msg.T("媒体の電源操作がシミュレーションです。媒体はオフラインになりません。",
				"The medium's power switching is only simulated: the medium is never offline."),
			Staff: msg.T("デモや試験以外でこの表示が出たら保守ベンダに連絡する。",
				"Outside a demo or trial, call the vendor if this appears."),
			Vendor: msg.T("リレーを取り付けて設定し、切断を確認できるようにする。",
				"Fit and configure the relay so the cut can be verified.")},
		{Cause: CauseOther, Severity: SeverityError,
			What: msg.T("処理の途中で失敗しました。",
				"A step failed."),
			Staff: msg.T("画面の「証跡台帳」でその時刻の記録を確認し、詳細を添えて保守ベンダに連絡する。",
				"Look at the entries of that time on the page's ledger view and call the vendor with the detail."),
			Vendor: msg.T("詳細とゲートウェイのログから原因を調べる。",
				"Find the cause from the detail and the gateway's log.")},
	}
}

// warningGuides: what needs attention soon, not at once.
func warningGuides() []Guide {
	return []Guide{
		{Cause: CauseStagingLow, Alert: KindStagingLow, Severity: SeverityWarning,
			What: msg.T("バックアップの一時保存領域(staging)の空きが少なくなっています。足りなくなると電子カルテのエクスポートを取り込めなくなります。",
				"Staging space is running low: when it runs out, the e-chart export can no longer be pulled."),
			Staff: msg.T("保守ベンダに容量の見直しを依頼する。",
				"Ask the vendor to review the capacity."),
			Vendor: msg.T("不要なファイルを整理するか、容量を拡張する。",
				"Clear unneeded files or enlarge the space.")},
		{Cause: CauseScanFinding, Alert: KindScanFinding, Severity: SeverityWarning,
			What: msg.T("インターネット境界(ルータ、UTM、SSL-VPN、保守回線など)の自己診断で、新しい「注意」項目が見つかりました。",
				"The self-scan of the internet edge (routers, UTM, SSL-VPN, maintenance lines) found a new caution item."),
			Staff: msg.T("診断レポートを確認し、機器の保守ベンダや回線業者に対応を相談する。",
				"Read the scan report and ask the device's maintenance vendor or the line provider to act on it."),
			Vendor: msg.T("該当する機器の設定の変更や更新で対処する。",
				"Deal with it by changing or updating the device concerned.")},
		{Cause: CauseScan, Severity: SeverityWarning,
			What: msg.T("インターネット境界の自己診断を実行できませんでした。",
				"The self-scan of the internet edge could not run."),
			Staff: msg.T("画面の「自己診断」で結果を確認し、保守ベンダに伝える。",
				"Look at the page's Self-scan screen and tell the vendor."),
			Vendor: msg.T("診断の設定(対象の一覧、ネットワーク)を確認してやり直す。",
				"Check the scan's settings (the register of targets, the network) and run it again.")},
	}
}

// Explain returns the guide of c; an unknown cause is explained as
// CauseOther.
func Explain(c Cause) Guide {
	for _, g := range Guides() {
		if g.Cause == c {
			return g
		}
	}
	return Explain(CauseOther)
}

// with is the body of an alert: what happened there (situation, which
// names the medium or the time) and the guide's line for each person.
func with(situation msg.Text, c Cause) msg.Text {
	return situation.Append("\n\n", Explain(c).Todo())
}
