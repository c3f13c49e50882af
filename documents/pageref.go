package documents

import (
	"fmt"
	"strings"

	"github.com/danzen-gw/danzen/internal/msg"
)

// The runbook tells the engineer what to open and press on the gateway's
// page, in the page's own words, so that each step is found by the text
// on the screen. These are those words, as web/ writes them;
// TestRunbookQuotesThePage finds every one in web/'s sources, so a
// renamed button fails there instead of leaving the runbook wrong.
var (
	pageCommission = msg.T("導入手順", "Commissioning")
	pageChecklist  = msg.T("導入の進み具合", "Commissioning")
	pageAllDone    = msg.T("すべての手順が完了しています。", "Every step is done.")
	pageSaveApply  = msg.T("保存して適用", "Save and apply")

	// Step 1.
	pageGroupNetwork = msg.T("1. ネットワークと時刻", "1. Network and time")
	pageNetworkLink  = msg.T("ネットワークと時刻", "Network and time")
	pageConfirm      = msg.T("確認", "Confirm")
	pageNotSynced    = msg.T("時刻が同期されていません", "time not synchronised")

	// Step 2.
	pageGroupSource    = msg.T("2. 取得元(電子カルテサーバ)", "2. The e-chart source")
	pageAddSource      = msg.T("取得元を追加", "Add a source")
	pageKeySection     = msg.T("b. ゲートウェイの鍵と authorized_keys の行", "b. The gateway's key and the authorized_keys line")
	pageFetchHostKey   = msg.T("ホスト鍵を取得", "Fetch host key")
	pagePinConfirm     = msg.T("この指紋をサーバ管理者と照合し、一致を確認しました", "I compared this fingerprint with the server's administrator and it matches")
	pageTest           = msg.T("テスト", "Test")
	pageTestSection    = msg.T("c. テスト(何も書き込みません)", "c. Test (writes nothing)")
	pageHostKeyChanged = msg.T("ホスト鍵が変更されています", "HOST KEY CHANGED")
	pageChangedConfirm = msg.T("サーバ管理者が鍵を変更したことを確かめ、この新しい指紋を照合して一致を確認しました",
		"The server's administrator confirmed they changed the key, and I compared this new fingerprint: it matches")
	pageNewKey = msg.T("鍵を作り直す(登録済みの行は使えなくなります)", "Make a new key (the line installed before stops working)")

	// Step 3.
	pageGroupMedia     = msg.T("3. リレーと媒体", "3. Relays and media")
	pageAddRelay       = msg.T("リレーを追加", "Add a relay")
	pageAddMedium      = msg.T("S3・テープの媒体を追加", "Add an S3 or tape medium")
	pageRunWiring      = msg.T("配線テストを実行", "Run the wiring test")
	pageWireRelayOn    = msg.T("リレーをオン", "relay on")
	pageWireSenseOn    = msg.T("センス入力がオン", "sense input on")
	pageWireAppeared   = msg.T("現れた装置", "device that appeared")
	pageWireRelayOff   = msg.T("リレーをオフ", "relay off")
	pageWireSenseOff   = msg.T("センス入力がオフ", "sense input off")
	pageWireGone       = msg.T("装置が消えた", "device gone")
	pageEnrol          = msg.T("このディスクを登録", "Enrol this disk")
	pageCreatePassword = msg.T("パスワードを作成して表示(一度だけ)", "Create the password and show it (once)")
	pagePrint          = msg.T("印刷", "Print")
	pageCreateRepo     = msg.T("リポジトリを作成", "Create the repository")
	pageLostSheet      = msg.T("控えを失くした: 未使用のパスワードを破棄して作り直す", "Lost the sheet: discard the unused password and create a new one")
	pageS3Secret       = msg.T("S3 シークレットキー", "S3 secret key")
	pageEditMedium     = msg.T("媒体の設定を変更", "Edit the medium")

	// Step 4.
	pageGroupAlerts = msg.T("4. 通知", "4. Alerts")
	pageEditAlerts  = msg.T("通知先を設定", "Configure the alerts")
	pageTestAlerts  = msg.T("すべての通知先にテスト通知を送る", "Send a test notice through every channel")

	// Step 5.
	pageGroupCycle = msg.T("5. 最初のサイクル", "5. The first cycle")
	pageRunFirst   = msg.T("最初のサイクルを今すぐ実行", "Run the first cycle now")

	// Elsewhere on the page.
	pageLedger       = msg.T("証跡台帳", "Evidence ledger")
	pageLedgerExport = msg.T("証跡台帳をダウンロード(監査用・tar)", "Download the ledger (for auditors, tar)")
	pageDocuments    = msg.T("提出書類", "Documents")
	pageConfig       = msg.T("設定", "Configuration")
	pageModules      = msg.T("リレーモジュール(Modbus RTU、USB–RS-485)", "Relay modules (Modbus RTU, USB–RS-485)")
)

// pageWords are the words above, for the test that finds them in web/.
var pageWords = []msg.Text{
	pageCommission, pageChecklist, pageAllDone, pageSaveApply,
	pageGroupNetwork, pageNetworkLink, pageConfirm, pageNotSynced,
	pageGroupSource, pageAddSource, pageKeySection, pageFetchHostKey, pagePinConfirm, pageTest, pageTestSection,
	pageHostKeyChanged, pageChangedConfirm, pageNewKey,
	pageGroupMedia, pageAddRelay, pageAddMedium, pageRunWiring,
	pageWireRelayOn, pageWireSenseOn, pageWireAppeared, pageWireRelayOff, pageWireSenseOff, pageWireGone,
	pageEnrol, pageCreatePassword, pagePrint, pageCreateRepo, pageLostSheet, pageS3Secret, pageEditMedium,
	pageGroupAlerts, pageEditAlerts, pageTestAlerts,
	pageGroupCycle, pageRunFirst,
	pageLedger, pageLedgerExport, pageDocuments, pageConfig, pageModules,
}

// q is a page word quoted in the document's language: 「…」 or "…".
func (l lang) q(x msg.Text) string {
	if l == en {
		return "\u201c" + x.EN + "\u201d"
	}
	return "「" + x.JA + "」"
}

// Page words that name one source, relay or medium: formats with one %s.
var (
	pageSourceStep = msg.T("取得元 %s: 鍵・ホスト鍵・テスト", "Source %s: key, host key, test")
	pageRelayStep  = msg.T("リレー %s: 配線テスト", "Relay %s: wiring test")
	pageMediumStep = msg.T("媒体 %s: 準備(パスワード)", "Medium %s: prepare (password)")
	pageMakeMedium = msg.T("このディスクを媒体 %s にする", "Make this disk medium %s")
)

// pageFormats are the formats above, for the same test.
var pageFormats = []msg.Text{pageSourceStep, pageRelayStep, pageMediumStep, pageMakeMedium}

// qf quotes a page word that names name.
func (l lang) qf(x msg.Text, name string) string {
	return l.q(msg.Text{JA: fmt.Sprintf(x.JA, name), EN: fmt.Sprintf(x.EN, name)})
}

// path is where something is on the page: 「導入手順」 → 「…」 → ….
func (l lang) path(words ...string) string {
	return strings.Join(append([]string{l.q(pageCommission)}, words...), " → ")
}
