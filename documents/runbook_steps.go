package documents

import (
	"fmt"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/status"
)

// Commissioning steps 3 to 5 on the page, the host key's rotation, the
// ledger's export to a bench PC, and the acceptance test.

// mediaSection is step 3: each relay's wiring test, then each medium's
// enrolment and preparation.
func (b *builder) mediaSection() Section {
	l, cfg := b.l, b.cfg
	blocks := []Block{ptext(l.f("画面: %s。リレーと媒体を1つずつ、リレーの配線テストから行う。リレーや S3・テープの媒体が設定になければ、%s・%sで追加する。",
		"On the page: %s. One relay and medium at a time, starting with the relay's wiring test. Relays, S3 buckets and tape drives not yet configured are added with %s and %s.",
		l.path(l.q(pageGroupMedia)), l.q(pageAddRelay), l.q(pageAddMedium)))}
	for i := range cfg.Relays {
		blocks = append(blocks, b.wiringTest(&cfg.Relays[i])...)
	}
	for i := range cfg.Media {
		m := &cfg.Media[i]
		k, _ := kindOf(m)
		blocks = append(blocks, para(strong(l.f("媒体 %s(%s)", "Medium %s (%s)", m.Name, k.label(l, m)))))
		blocks = append(blocks, k.prepare(b, m)...)
	}
	if len(cfg.Media) == 0 {
		blocks = append(blocks, note(bad(l.t("媒体が設定されていません。", "No medium is configured."))))
	}
	return Section{Title: l.t("導入手順3: リレーと媒体", "Commissioning step 3: relays and media"), NewPage: true, Blocks: blocks}
}

// wiringTest is one relay's wiring test with the timeouts it waits for.
func (b *builder) wiringTest(r *relay.Spec) []Block {
	l := b.l
	on, off := orDefault(r.OnTimeout, relay.DefaultOnTimeout), orDefault(r.OffTimeout, relay.DefaultOffTimeout)
	appear, gone := disk.DefaultAppearTimeout, disk.DefaultGoneTimeout
	for _, m := range b.cfg.Media {
		if m.Relay == r.Name {
			if m.Disk != nil {
				appear, gone = orDefault(m.Disk.AppearTimeout, appear), orDefault(m.Disk.GoneTimeout, gone)
			}
		}
	}
	blocks := []Block{
		para(strong(l.f("リレー %s(%s)", "Relay %s (%s)", r.Name, b.poweredBy(r.Name).label))),
		steps(
			titem(l.f("媒体(またはテープ装置・回線装置)をリレー %s の配線どおりに接続し、%sを開いて%sを押す。", "Connect the medium (or tape drive, uplink device) as relay %s is wired, open %s and press %s.",
				r.Name, l.qf(pageRelayStep, r.Name), l.q(pageRunWiring))),
			titem(l.f("各段階が起きた順に表示される: %s → %s(%s以内)→ %s(型番・シリアル/WWN・容量・ファイルシステム、%s以内)→ %s → %s(%s以内)→ %s(%s以内)。",
				"Each stage shows as it happens: %s → %s (within %s) → %s (model, serial/WWN, size, file system; within %s) → %s → %s (within %s) → %s (within %s).",
				l.q(pageWireRelayOn), l.q(pageWireSenseOn), humanDuration(l, on), l.q(pageWireAppeared), humanDuration(l, appear),
				l.q(pageWireRelayOff), l.q(pageWireSenseOff), humanDuration(l, off), l.q(pageWireGone), humanDuration(l, gone))),
			titem(l.t("どれかが失敗したら配線を直し、やり直す。すべて成功するまで次に進まない。", "If a stage fails, fix the wiring and run it again; go on only when every stage passed.")),
		),
	}
	if r.Driver == relay.DriverSimulated {
		blocks = append(blocks, note(bad(l.t("シミュレーションのリレーは何も給電・切断しません。配線テストは確認できず、媒体はオフラインになりません(接続中の未使用ディスクを登録はできます)。",
			"A simulated relay powers and cuts nothing: the wiring test proves nothing and the medium is never offline (a disk connected now that nothing uses can still be enrolled)."))))
	}
	if r.Sense == nil {
		blocks = append(blocks, note(bad(l.t("センス入力がないため、切断は確認されません。", "No sense input: no cut is ever verified."))))
	}
	return blocks
}

// passwordSteps are a medium's preparation on the page, the same for
// every type: the password shown once, written down, typed back.
func (b *builder) passwordSteps(m *config.Medium, creates string) [][]Span {
	l := b.l
	return [][]Span{
		titem(l.f("%sを開き、%sを押す。リポジトリのパスワードが一度だけ、控え用の用紙として表示される。", "Open %s and press %s: the repository password is shown once, on a sheet.",
			l.qf(pageMediumStep, m.Name), l.q(pageCreatePassword))),
		item(strong(l.f("%sで印刷するか紙に書き写し、封をしてゲートウェイから離れた場所に保管する。", "Print it with %s or copy it by hand, seal it and keep it away from the gateway.", l.q(pagePrint))),
			text(l.t(" 保管場所: ", " Kept at: ")), b.field("password_storage")),
		titem(l.f("控えを見てパスワードの末尾%d文字を入力し、%sを押す。一致したときだけ%s。一致しなければ何も作られない。",
			"Type the password's last %d characters from the sheet and press %s. Only when they match %s; otherwise nothing is created.",
			typedBackLen, l.q(pageCreateRepo), creates)),
		titem(l.f("リポジトリを作る前に控えを失くしたら、%sで作り直す(一度でも使ったパスワードは破棄できません)。", "Lost the sheet before the repository was created? %s (a password ever used cannot be discarded).", l.q(pageLostSheet))),
	}
}

// typedBackLen is how many of the password's last characters the page
// asks for (gateway.TypedBackLen; a test keeps them equal).
const typedBackLen = 8

// alertsSection is step 4: a test through each configured channel.
func (b *builder) alertsSection() Section {
	l, a := b.l, b.cfg.Alerts
	var channels []Block
	if a.Email != nil {
		channels = append(channels, para(text(l.t("メール: ", "Mail: ")), code(a.Email.Server), text(" → "), code(strings.Join(a.Email.To, ", "))))
	}
	if a.Webhook != nil {
		channels = append(channels, para(text("Webhook: "), code(a.Webhook.URL)))
	}
	if len(channels) == 0 {
		channels = append(channels, note(bad(l.f("通知先が設定されていません。先に%sで設定する。", "No alert channel is configured: set one up with %s first.", l.q(pageEditAlerts)))))
	}
	blocks := append([]Block{ptext(l.f("画面: %s。", "On the page: %s.", l.path(l.q(pageGroupAlerts))))}, channels...)
	blocks = append(blocks, steps(
		titem(l.f("%sを押す。通知先ごとに結果が表示され、試験は証跡台帳に記録される。", "Press %s: the page shows each channel's result, and the test is recorded in the evidence ledger.", l.q(pageTestAlerts))),
		titem(l.t("メールと Webhook が実際に届いたことを受け手の側で確かめる。届かなければ通知先の設定を直してやり直す。", "Check on the receiving side that the mail and the webhook really arrived; if not, fix the alert settings and test again.")),
	))
	return Section{Title: l.t("導入手順4: 通知", "Commissioning step 4: alerts"), Blocks: blocks}
}

// firstCycleSection is step 5, ending in the state each medium should
// show, judged from its relay.
func (b *builder) firstCycleSection() Section {
	l := b.l
	var rows [][]Cell
	for i := range b.cfg.Media {
		m := &b.cfg.Media[i]
		rows = append(rows, []Cell{cell(code(m.Name)), tcell(l.in(b.expectedState(m)))})
	}
	return Section{Title: l.t("導入手順5: 最初のサイクル", "Commissioning step 5: the first cycle"), Blocks: []Block{
		ptext(l.f("画面: %s。", "On the page: %s.", l.path(l.q(pageGroupCycle)))),
		steps(
			titem(l.f("%sを押す。すべての取得元を取得し、ローテーションによらずすべての媒体に書き込む。進み具合はその場で表示される。", "Press %s: it pulls every source and writes every medium, whatever the rotation, showing its progress as it goes.", l.q(pageRunFirst))),
			titem(l.t("各媒体は書き込み後に切断され、最後に各媒体の状態が表示される。次の表の状態になることを確かめる。", "Each medium is cut after it is written; the cycle ends showing each medium's state, which must be the one in the table below.")),
			titem(l.f("%sに%sと表示され、状態画面の%sの一覧が消えることを確かめる。以後はスケジュール(%s)で実行される。",
				"Check that %s says %s and that the %s checklist has left the status page. From now on it runs on the schedule (%s).",
				l.q(pageCommission), l.q(pageAllDone), l.q(pageChecklist), b.scheduleWords(b.cfg.Schedule))),
		),
		table([]string{l.t("媒体", "medium"), l.t("最初のサイクル後の状態", "state after the first cycle")}, rows, l.t("媒体が設定されていません。", "No medium is configured.")),
	}}
}

// expectedState is the state the page shows for m after a good cycle:
// cut and verified, an object-locked bucket immutable, and a medium on a
// relay that drives nothing never offline.
func (b *builder) expectedState(m *config.Medium) msg.Text {
	if r := relayOf(b.cfg, m); r != nil && !realRelay(r) {
		return status.Simulated.Label()
	}
	return status.Medium{State: status.Cut, Immutable: m.Type == config.MediumS3 && m.Relay == ""}.Label()
}

// hostKeyRotationSection is what to do when a server's host key changes.
func (b *builder) hostKeyRotationSection() Section {
	l := b.l
	return Section{Title: l.t("ホスト鍵の変更(CHANGED)", "When a host key changes (CHANGED)"), Blocks: []Block{
		ptext(l.t("電子カルテサーバのホスト鍵が登録済みの鍵と違うと(サーバの再構築、鍵の更新、またはなりすまし)、ゲートウェイは何も読まずにそのサーバからの取得を止めます。サイクルは失敗し、通知が送られ、ホスト鍵が変更された(CHANGED)と表示されます。人が判断するまで何も取得しません。",
			"When an e-chart server offers a host key other than the one pinned (a rebuilt server, a renewed key, or an impostor), the gateway stops pulling from it before reading anything: the cycle fails, an alert goes out and the host key is reported CHANGED. Nothing is pulled until a person decides.")),
		steps(
			titem(l.t("電子カルテサーバの管理者に、鍵を変えたかを確かめる。誰も変えていなければ受け入れず、攻撃の可能性として電子カルテのベンダに連絡する。", "Ask the e-chart server's administrator whether they changed the key. If nobody did, do not accept it: treat it as a possible attack and call the e-chart vendor.")),
			titem(l.t("変えた場合は、管理者に新しい指紋を読み上げてもらう(手順2のコマンド)。", "If they did, the administrator reads out the new fingerprint (the commands of step 2).")),
			titem(l.f("画面: %s → %s。%sと、示された鍵と、置き換えると廃止される登録済みの鍵が表示される。", "On the page: %s → %s. It shows %s, the key offered, and the keys pinned before, which accepting retires.",
				l.path(l.q(pageGroupSource), l.qf(pageSourceStep, "…")), l.q(pageFetchHostKey), l.q(pageHostKeyChanged))),
			titem(l.f("指紋が一致した場合だけ%sにチェックを入れ、%sを押す。古い鍵は廃止され、新しい鍵が登録され、どちらも証跡台帳に記録される。", "Only if the fingerprints match, tick %s and press %s: the old keys are retired, the new one pinned, and both recorded in the evidence ledger.",
				l.q(pageChangedConfirm), l.q(pageSaveApply))),
			titem(l.f("%sで取得できることを確かめる。", "Press %s to see that pulling works again.", l.q(pageTest))),
		),
		note(text(l.f("計画的な鍵の更新は、日時を管理者と決めておき、変更の直後に上の手順を行う。ゲートウェイ自身の鍵を替えるときは%sを押し、新しい authorized_keys の行を管理者に渡す(前の行は使えなくなります)。",
			"For a planned renewal, agree the time with the administrator and do the steps above right after the change. To renew the gateway's own key, press %s and hand the new authorized_keys line to the administrator (the line before stops working).", l.q(pageNewKey)))),
	}}
}

// ledgerBenchSection exports the ledger from the page and verifies it on
// a bench PC: the only CLI command of this runbook besides the image's.
func (b *builder) ledgerBenchSection() Section {
	l := b.l
	name := fmt.Sprintf("danzen-ledger-%s-YYYYMMDD-HHMM", b.cfg.GatewayID)
	return Section{Title: l.t("証跡台帳の書き出しと検証(作業用PC)", "Exporting the ledger and verifying it on a bench PC"), Blocks: []Block{
		steps(
			titem(l.f("画面の%sで%sを押す。ファイル %s.tar が保存され、書き出したことも証跡台帳に記録される。", "On the page's %s, press %s: it saves %s.tar, and the export itself is recorded in the ledger.",
				l.q(pageLedger), l.q(pageLedgerExport), name)),
			titem(l.t("ゲートウェイにはコマンドラインがないため、検証は作業用PC(同じリポジトリから go build -o bin/ ./cmd/danzen で作った danzen コマンドのあるPC)で行う:", "The gateway has no command line: verify on the bench PC, with the danzen command built from the same repository (go build -o bin/ ./cmd/danzen):")),
		),
		codeBlock(fmt.Sprintf("tar xf %s.tar\ndanzen ledger verify --dir %s", name, name)),
		ptext(l.f("正常と表示されることを確かめ、最終記録の seq と先頭ハッシュを受入試験の記録に控える。画面の%sにも同じ検証結果が表示される。", "It must say OK: note the last seq and the head hash in the acceptance record. The page's %s shows the same verification.", l.q(pageLedger))),
	}}
}
