package documents

import (
	"fmt"

	"github.com/danzen-gw/danzen/config"
)

// The request sheet for the e-chart vendor (電子カルテベンダへの依頼書):
// printed on its own pages at the end of the runbook, it says what the
// vendor sets up on each e-chart server, with the exact lines, and what
// they must tell back before the page's step 2 can go on.

// blank is where the vendor writes an answer on the printed sheet.
const blank = "________________________"

func (b *builder) requestSections() []Section {
	l := b.l
	intro := Section{Title: l.t("電子カルテベンダへの依頼書", "Request to the e-chart vendor"), NewPage: true, Blocks: []Block{
		kv([2]string{l.t("項目", "item"), l.t("内容", "details")},
			pair(l.t("宛先", "to"), text(l.t("電子カルテの保守ベンダ 御中", "the e-chart system's maintenance vendor"))),
			pair(l.t("依頼元", "from"), b.field("hospital_name")),
			pair(l.t("担当者", "contact"), b.field("operator")),
			pair(l.t("依頼日", "date"), text(blank))),
		ptext(l.t("当院は、電子カルテのエクスポートを、ネットワークから切り離せるオフラインのバックアップ媒体に毎日保存するゲートウェイを導入します。ゲートウェイは電子カルテサーバへ SFTP で接続し、エクスポートを読み取るだけで、書き込み・削除・シェルの実行はしません。つきましては、電子カルテサーバに読み取り専用の SFTP アカウントの設定をお願いします。",
			"The hospital is installing a gateway that copies the e-chart export every day onto backup media it cuts off from the network. The gateway connects to the e-chart server over SFTP and only reads the export: it never writes, deletes or runs a shell. Please set up a read-only SFTP account on the e-chart server.")),
		para(strong(l.t("ご依頼の内容(サーバごと)", "What we ask for (per server)"))),
		list(
			titem(l.t("専用アカウントを作る。パスワードではログインできず、管理者権限を持たない。", "A dedicated account that cannot log in with a password and holds no administrator rights.")),
			titem(l.t("ゲートウェイの公開鍵を、ゲートウェイのアドレスからだけ使えるように登録する(次頁の authorized_keys の1行)。", "The gateway's public key, usable only from the gateway's address (the authorized_keys line on the next page).")),
			titem(l.t("アカウントを SFTP だけに制限し(ForceCommand internal-sftp -R、シェル・転送・端末なし)、エクスポートのフォルダだけが見えるように chroot する。", "Restrict the account to SFTP (ForceCommand internal-sftp -R; no shell, forwarding or terminal) and chroot it to where only the export is seen.")),
			titem(l.t("エクスポートのフォルダはこのアカウントには読み取りだけを許可する。", "Let the account only read the export folder.")),
			titem(l.t("SSH(TCP 22 または指定のポート)への接続を、ゲートウェイのアドレスから受け付ける(Windows Server ではファイアウォールをゲートウェイのアドレスに絞る)。", "Accept SSH (TCP 22 or the port given) from the gateway's address (on Windows Server, narrow the firewall to it).")),
			titem(l.t("作業後、下の回答欄に記入して返送する。", "Then fill in the reply form below and send it back.")),
		),
		ptext(l.t("各サーバの手順は次頁以降に、Linux(OpenSSH)と Windows Server(2019 以降に組み込みの OpenSSH)の両方を、そのまま入力できる形で記載しています。", "The following pages give each server's steps for Linux (OpenSSH) and Windows Server (the OpenSSH built into 2019 and later), in lines to type as they stand.")),
	}}
	out := []Section{intro}
	for i := range b.cfg.Sources {
		s := &b.cfg.Sources[i]
		blocks := append([]Block{kv([2]string{l.t("項目", "item"), l.t("設定値", "value")},
			pair(l.t("電子カルテサーバ", "e-chart server"), code(fmt.Sprintf("%s:%d", s.Host, s.Port))),
			pair(l.t("アカウント", "account"), code(s.User)),
			pair(l.t("エクスポートの SFTP パス", "export's SFTP path"), code(s.ExportDir)),
			pair(l.t("接続元(ゲートウェイ)", "connecting from (the gateway)"), b.gatewayAddr()))},
			b.authorizedKeys(s)...)
		out = append(out, Section{Title: l.f("依頼書: 取得元 %s — 設定手順", "Request: source %s — the steps", s.Name), NewPage: true,
			Blocks: append(blocks, b.serverAccountSteps(s)...)})
	}
	return append(out, Section{Title: l.t("依頼書: ご回答欄", "Request: reply form"), NewPage: true, Blocks: b.replyForm()})
}

// replyForm is what the vendor tells back per source: what the page needs
// for step 2 and the sizing of the gateway.
func (b *builder) replyForm() []Block {
	l := b.l
	var blocks []Block
	for i := range b.cfg.Sources {
		s := &b.cfg.Sources[i]
		rows := [][]Cell{
			{tcell(l.t("サーバの OS と版", "the server's OS and version")), tcell(l.t("Linux / Windows Server", "Linux / Windows Server")), tcell(blank)},
			{tcell(l.t("エクスポートの SFTP パス(chroot の中のパス)", "the export's SFTP path (inside the chroot)")), cell(code(s.ExportDir)), tcell(blank)},
			{tcell(l.t("完了の印(書き出しが終わったことの示し方)", "completion marker (how a finished export is shown)")), tcell(b.completionText(s)), tcell(blank)},
			{cell(text(l.t("ホスト鍵の指紋(SHA256:…)。Linux: ", "host key fingerprint (SHA256:…). Linux: ")), code("ssh-keygen -lf "+linuxHostKey), text(l.t("、Windows: ", ", Windows: ")), code("ssh-keygen -lf "+windowsHostKey)),
				tcell("—"), cell(code("SHA256:"), text(blank))},
			{tcell(l.t("エクスポートの大きさ(全体、GB)と1日に変わる割合", "the export's size (all of it, GB) and the share that changes per day")), tcell("—"), tcell(blank)},
			{tcell(l.t("エクスポートを書き出す時間帯(開始〜完了)", "the time the export is written (start to finish)")), tcell(l.f("ゲートウェイの取得: %s(%s)", "the gateway pulls: %s (%s)", b.scheduleWords(b.cfg.Schedule), b.cfg.TimeZone)), tcell(blank)},
			{tcell(l.t("作業日・作業者", "date and engineer")), tcell("—"), tcell(blank)},
		}
		blocks = append(blocks, para(strong(l.f("取得元 %s(%s)", "Source %s (%s)", s.Name, s.Host))),
			table([]string{l.t("項目", "item"), l.t("ゲートウェイの設定", "the gateway's setting"), l.t("ご回答", "reply")}, rows, ""))
	}
	if len(blocks) == 0 {
		blocks = append(blocks, note(bad(l.t("取得元が設定されていません。", "No source is configured."))))
	}
	return append(blocks,
		ptext(l.t("ホスト鍵の指紋は、ゲートウェイの画面で初回接続時に表示される指紋と照合します。一致しなければ登録せず、改めてご連絡します。エクスポートの時間帯がゲートウェイの取得と重なる場合は、完了の印が書かれるまで取得を待ちます。",
			"The host key fingerprint is compared with the one the gateway's page shows at first contact; if they differ, nothing is pinned and we will call you. Where the export's time overlaps the gateway's pull, the pull waits for the completion marker.")),
		signatures(l.t("返送日", "date returned"), l.t("電子カルテベンダ 作業者", "e-chart vendor engineer"), l.t("病院 受領者", "received for the hospital")))
}

// completionText says how the gateway knows a file is finished.
func (b *builder) completionText(s *config.Source) string {
	l, c := b.l, s.Completion
	if c.Mode == config.CompletionMarker {
		return l.f("書き出しの最後にファイル %s を書く", "write the file %s last", c.Marker)
	}
	return l.f("書き込み後 %s 変化しないファイルを完了とみなす", "a file unchanged for %s counts as finished", humanDuration(l, c.StableFor.Std()))
}
