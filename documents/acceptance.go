package documents

import (
	"cmp"
	"slices"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/relay"
)

// The page's words the acceptance test quotes (TestAcceptanceQuotesThePage
// finds each in web/'s sources).
var (
	pageRestoreNav   = msg.T("復元・訓練", "Restore")
	pageToTarget     = msg.T("電子カルテサーバへ SFTP で書き戻す(書き込み用の別アカウント)", "back to the e-chart server over SFTP (the separate write-enabled account)")
	pageTargetSelect = msg.T("書き戻し先", "Restore target")
	pageNewFolder    = msg.T("新しいフォルダ名(書き戻し先の親ディレクトリの下に作ります)", "New folder name (created below the target's base directory)")
	pageRestoreStart = msg.T("媒体に通電して復元", "Power on and restore")
	pageTargetForm   = msg.T("書き戻し先(書き込み用アカウント)", "Send-back target (write account)")
	pageAdd          = msg.T("追加", "Add")
	pageScanNav      = msg.T("自己診断", "Self-scan")
	pageRegister     = msg.T("外部接続点の台帳(回線・機器情報)", "Register of connection points")
	pageAddPoint     = msg.T("接続点を追加", "Add a connection point")
	pageSave         = msg.T("保存", "Save")
	pagePointID      = msg.T("ID(例: CAF00001)", "ID (e.g. CAF00001)")
	pagePurpose      = msg.T("用途・システム名", "Purpose / system")
	pageCarrier      = msg.T("回線事業者", "Carrier")
	pageONU          = msg.T("回線終端装置(ONU・モデム)設置場所", "ONU / modem location")
	pageMaker        = msg.T("機器メーカー", "Device maker")
	pageModel        = msg.T("機種名", "Model")
	pageFirmware     = msg.T("ソフトウェア(ファームウェア)バージョン", "Firmware version")
	pageDiagnose     = msg.T("脆弱性診断を行う(この接続点のアドレスを調べる)", "Diagnose (scan this point's addresses)")
)

// acceptancePageWords are the words above, for the test.
var acceptancePageWords = []msg.Text{
	pageRestoreNav, pageToTarget, pageTargetSelect, pageNewFolder, pageRestoreStart, pageTargetForm, pageAdd,
	pageScanNav, pageRegister, pageAddPoint, pageSave, pagePointID, pagePurpose, pageCarrier, pageONU,
	pageMaker, pageModel, pageFirmware, pageDiagnose,
}

// acceptance is the acceptance test: what the builder, the hospital and
// the vendor check and sign before the gateway is handed over.
func (b *builder) acceptance() []Block {
	l, cfg := b.l, b.cfg
	items := [][]Span{
		titem(l.t("起動直後、すべての媒体の電源ランプが消えている(フェイルセーフ)。", "Right after start, every medium's power lamp is off (fail-safe).")),
		titem(l.f("画面の%sで、時刻が NTP で同期済みと表示された(NTP サーバがない場合は、その理由と対策を記録した)。", "The page's %s step shows the clock synchronised by NTP (without an NTP server: why, and what was done instead, is recorded).", l.q(pageNetworkLink))),
	}
	for _, s := range cfg.Sources {
		items = append(items,
			item(text(l.f("取得元 %s のホスト鍵の指紋を電子カルテサーバ側と照合し、登録した。", "The host key fingerprint of source %s was compared with the e-chart server and pinned.", s.Name))),
			item(text(l.f("取得元 %s の%sで、予定どおりのファイルが一覧された。", "Source %s's %s listed the files expected.", s.Name, l.q(pageTest)))),
			item(text(l.f("読み取り専用アカウント %s で書き込み・削除ができないことを確認した。", "Writing and deleting as the read-only account %s fail.", s.User))))
	}
	for _, r := range cfg.Relays {
		items = append(items, item(text(l.f("リレー %s の配線テストがすべての段階で成功した。", "Relay %s's wiring test passed every stage.", r.Name))))
	}
	items = append(items, item(text(l.f("最初のサイクルが画面から実行され、%sに%sと表示された。", "The first cycle ran from the page; %s says %s", l.q(pageCommission), l.q(pageAllDone)))))
	for i := range cfg.Media {
		m := &cfg.Media[i]
		items = append(items, item(text(l.f("媒体 %s: スナップショットが記録され、画面に%sと表示された。", "Medium %s: a snapshot was recorded and the page shows %s.", m.Name, l.q(b.expectedState(m))))))
		if r := relayOf(cfg, m); r != nil && r.Sense != nil && realRelay(r) {
			items = append(items, b.senseWireTest(r, m))
		}
	}
	items = append(items, b.uplinkRegisterItems()...)
	items = append(items, b.writeBackItems()...)
	items = append(items,
		titem(l.t("復元訓練を1回行い、全ファイルのSHA-256が一致し、復元時間が記録された。", "One restore drill ran: every file's SHA-256 matched and the time to restore was recorded.")),
		titem(l.t("証跡台帳を書き出し、作業用PCで検証して正常だった。先頭ハッシュを控えた。", "The ledger was exported and verified OK on the bench PC; its head hash was noted.")),
		titem(l.f("画面の%sで計画書・運用手順・復旧手順書を再生成し、未記入の欄がない。", "The plan, annex and recovery sheet were regenerated on the page's %s with no field left unfilled.", l.q(pageDocuments))),
	)
	out := []Block{checklist(items...)}
	out = append(out, b.stockResticRestore()...)
	out = append(out, b.piOnlyChecks()...)
	return append(out, signatures(l.t("実施日", "date"), l.t("構築者", "built by"), l.t("病院確認者", "accepted for the hospital"), l.t("保守ベンダ", "vendor")))
}

// senseWireTest is the check that a loose sense wire is caught, with the
// very words the wiring test shows. Where the wire breaks decides which
// stage fails first: a sense from the medium's supply (optocoupler, a
// module's input) then reads OFF, so power-on fails; a force-guided
// relay's NC contact reads ON, so power-on fails as "no change" and the
// cut as "still ON". Both are relay.NotVerifiedError's own text.
func (b *builder) senseWireTest(r *relay.Spec, m *config.Medium) []Span {
	l := b.l
	on, off := senseWireMessages(r)
	first := l.t("電源オンの段階で見つかります(媒体の電源からとるセンスは、線が外れると OFF を読むため)", "it shows at power-on (a sense taken from the medium's supply reads OFF with its wire loose)")
	if senseOf(r) == senseAux {
		first = l.t("電源オンの段階で変化なしとして見つかり、切断の段階でも確認できません(補助接点のセンスは、線が外れると ON を読むため)", "it shows at power-on as no change, and the cut is not verified either (an auxiliary-contact sense reads ON with its wire loose)")
	}
	return item(
		text(l.f("媒体 %s: 媒体を切断した状態でセンス入力につながる線を外し、%sを押した。%s。", "Medium %s: with the medium cut, the wire into the sense input was taken off and %s pressed; %s.", m.Name, l.q(pageRunWiring), first)),
		text(l.f(" %sに次の表示が出た: ", " %s showed: ", l.q(pageWireSenseOn))), code(l.t(on.Localize(msg.JA), on.Localize(msg.EN))),
		text(l.f(" %sに: ", " %s: ", l.q(pageWireSenseOff))), code(l.t(off.Localize(msg.JA), off.Localize(msg.EN))),
		text(l.t(" 通知が届いた。線を戻し、配線テストをもう一度実行してすべての段階が成功した。", " An alert arrived. The wire was put back and the wiring test run again passed every stage.")),
	)
}

// senseWireMessages are what the wiring test says at "sense input on" and
// "sense input off" when the sense wire is loose and the relay was last
// proven off: the errors relay/ returns in that case.
func senseWireMessages(r *relay.Spec) (on, off *relay.NotVerifiedError) {
	onT := cmp.Or(time.Duration(r.OnTimeout), relay.DefaultOnTimeout)
	offT := cmp.Or(time.Duration(r.OffTimeout), relay.DefaultOffTimeout)
	if senseOf(r) == senseAux {
		return &relay.NotVerifiedError{Relay: r.Name, Want: relay.On, Sense: relay.On, Cause: relay.CauseNoChange},
			&relay.NotVerifiedError{Relay: r.Name, Want: relay.Off, Sense: relay.On, Cause: relay.CauseSense, Timeout: offT}
	}
	return &relay.NotVerifiedError{Relay: r.Name, Want: relay.On, Sense: relay.Off, Cause: relay.CauseSense, Timeout: onT},
		&relay.NotVerifiedError{Relay: r.Name, Want: relay.Off, Sense: relay.Off, Cause: relay.CauseNoChange}
}

// uplinkRegisterItems: an S3 bucket is reached over a line to the
// outside, which the self-scan's register of connection points must list.
func (b *builder) uplinkRegisterItems() [][]Span {
	l := b.l
	var out [][]Span
	for i := range b.cfg.Media {
		m := &b.cfg.Media[i]
		if m.Type != config.MediumS3 || m.S3 == nil {
			continue
		}
		where := l.f("媒体 %s の S3 への回線", "the line medium %s reaches S3 over", m.Name)
		if m.Relay != "" {
			where = l.f("媒体 %s の回線装置(リレー %s で給電するアップリンク)", "medium %s's uplink device (powered by relay %s)", m.Name, m.Relay)
		}
		out = append(out, item(text(l.f("%sを新しい外部接続点として登録した: 画面の%s → %s → %sで、%s、%s(例: S3 バックアップ回線 %s、接続先 %s)、%s、%s、%s、%s、%s を入力し、%sにチェックを付けて%sを押した。",
			"%s was registered as a new connection point: on the page's %s → %s → %s, %s, %s (e.g. S3 backup uplink %s, endpoint %s), %s, %s, %s, %s and %s were entered, %s ticked and %s pressed.",
			where, l.q(pageScanNav), l.q(pageRegister), l.q(pageAddPoint), l.q(pagePointID), l.q(pagePurpose), m.Name, m.S3.Endpoint,
			l.q(pageCarrier), l.q(pageONU), l.q(pageMaker), l.q(pageModel), l.q(pageFirmware), l.q(pageDiagnose), l.q(pageSave)))))
	}
	return out
}

// writeBackItems: the separate write-enabled account restores go back
// through (restore.targets) is set up and used once.
func (b *builder) writeBackItems() [][]Span {
	l := b.l
	if len(b.cfg.Restore.Targets) == 0 {
		return [][]Span{item(bad(l.f("書き戻し用アカウントが設定されていません(restore.targets)。電子カルテサーバに取得用とは別の書き込み用アカウントを作り、画面の%s → %sの%sで登録し、ホスト鍵を照合してから、下の書き戻しの試験を行う。",
			"No write-back account is configured (restore.targets). Create a write-enabled account on the e-chart server, separate from the pull account, add it on the page's %s → %s with %s, compare its host key, then run the write-back test below.",
			l.q(pageConfig), l.q(pageTargetForm), l.q(pageAdd))))}
	}
	var out [][]Span
	for _, t := range b.cfg.Restore.Targets {
		out = append(out, item(
			text(l.f("書き戻し先 %s(%s@%s、書き込み用の別アカウント)のホスト鍵を照合して登録し、画面の%sで1ファイルを選び、%s、%s %s、%s %s を選んで%sを押した。",
				"Send-back target %s (%s@%s, the separate write-enabled account): its host key was compared and pinned; on the page's %s one file was chosen with %s, %s %s, %s %s, and %s pressed.",
				t.Name, t.User, t.Host, l.q(pageRestoreNav), l.q(pageToTarget), l.q(pageTargetSelect), t.Name, l.q(pageNewFolder), "acceptance", l.q(pageRestoreStart))),
			text(l.t(" 電子カルテサーバの ", " The file arrived on the e-chart server under ")), code(t.BaseDir+"/acceptance"),
			text(l.t(" にファイルが届き、画面の照合が一致した。", ", and the page's check matched.")),
		))
	}
	return out
}

// stockResticRestore is the restore with stock restic on another PC: it
// proves the media can be read without the gateway.
func (b *builder) stockResticRestore() []Block {
	l := b.l
	if len(b.cfg.Media) == 0 {
		return nil
	}
	m := &b.cfg.Media[0]
	if i := slices.IndexFunc(b.cfg.Media, func(m config.Medium) bool { return m.Type != config.MediumS3 }); i >= 0 {
		m = &b.cfg.Media[i]
	}
	back := titem(l.t("媒体をもとの場所に戻し、次のサイクルで媒体が使われたことを画面で確かめる。", "Put the medium back where it was, and check on the page that the next cycle used it."))
	if m.Type == config.MediumS3 {
		back = titem(l.t("PC から S3 のアクセスキーとシークレットキーを消す。", "Remove the S3 access key and secret key from the PC."))
	}
	return []Block{
		ptext(l.f("ゲートウェイを使わない復元(媒体 %s、別のPC): 災害時はゲートウェイごと失われることがあるため、受入試験で一度、標準の restic だけで復元します。", "Restore without the gateway (medium %s, another PC): a disaster may take the gateway too, so the acceptance test restores once with stock restic alone.", m.Name)),
		steps(
			titem(l.t("ゲートウェイを使わない別のPC(Linux、または Windows と Linux のライブUSB)を用意する。restic は配布元の公式バイナリ、またはディストリビューションのパッケージ(restic 0.14.0 以降)を使う。", "Take another PC, not the gateway (Linux, or Windows with a Linux live USB). Use restic's official binary or the distribution's package (restic 0.14.0 or later).")),
			item(text(l.f("媒体 %s の復旧手順書(本書と一緒に生成した「復旧手順書」)と、リポジトリのパスワード(保管場所: ", "Have medium %s's recovery sheet (the recovery sheet generated with this runbook) and the repository password (kept at: ", m.Name)),
				b.field("password_storage"), text(l.t(")を用意する。", ")."))),
			titem(l.t("復旧手順書のとおりに、スナップショットの一覧を表示し、日時を見て復元するスナップショットを選び、PC に復元する。", "Follow the recovery sheet: list the snapshots, choose one by its date, and restore it to the PC.")),
			titem(l.t("復旧手順書のとおりに、復元したファイルの SHA-256 を取得時のマニフェストと照合し、すべて一致したことと、かかった時間を記録する。", "Follow the recovery sheet: compare the restored files' SHA-256 with the manifest made when they were pulled; record that all match and the time it took.")),
			back,
		),
		checklist(titem(l.f("媒体 %s を標準の restic で別のPCに復元し、SHA-256 がすべて一致した(所要時間: ____ 分)。", "Medium %s was restored to another PC with stock restic and every SHA-256 matched (time taken: ____ minutes).", m.Name))),
	}
}
