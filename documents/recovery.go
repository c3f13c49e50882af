package documents

func (b *builder) recovery() *Doc {
	l, cfg := b.l, b.cfg
	d := b.newDoc("recovery-sheet", l.t("復旧手順書(媒体と一緒に保管)", "Recovery sheet (keep with the media)"))
	d.Intro = []Span{text(l.t("ゲートウェイが使えなくても、媒体は標準の restic(0.14以上、0.19.1で確認済み)で任意のLinux PCから復元できます。本書にパスワードは記載しません。",
		"Without the gateway, the media can be restored with stock restic (0.14 or later, 0.19.1 tested) on any Linux PC. This sheet never holds a password."))}
	d.Sections = append(d.Sections, Section{Title: l.t("基本情報", "Basic information"), Blocks: []Block{
		b.basics(),
		kv([2]string{l.t("項目", "item"), l.t("内容", "value")},
			pair(l.t("パスワードの保管場所", "where the passwords are kept"), b.field("password_storage")),
			pair(l.t("媒体の保管場所", "where media are stored"), b.field("media_storage")),
			pair(l.t("restic のホスト名(--host)", "restic host (--host)"), code(cfg.GatewayID)),
		),
		b.sourcesTable(),
	}})
	d.Sections = append(d.Sections, Section{Title: l.t("準備", "Before you start"), Blocks: []Block{
		steps(
			titem(l.t("ネットワークから切り離した清浄なLinux PCを用意し、restic と jq を入れる(例: apt-get install restic jq)。", "Take a clean Linux PC off the network with restic and jq installed (e.g. apt-get install restic jq).")),
			titem(l.t("媒体はこのPCにだけ接続し、読み取り専用でマウントする。感染の疑いのある機器には接続しない。", "Connect the medium to that PC only and mount it read-only. Never connect it to a machine that may be infected.")),
			titem(l.t("封をしたパスワードを責任者立ち会いで開封する。", "Open the sealed password in the presence of the responsible person.")),
		),
	}})
	for i := range cfg.Media {
		m := &cfg.Media[i]
		k, _ := kindOf(m)
		d.Sections = append(d.Sections, Section{Title: l.f("媒体 %s(%s)", "Medium %s (%s)", m.Name, k.label(l, m)), NewPage: i == 0, Blocks: k.restore(b, m)})
	}
	if len(cfg.Media) == 0 {
		d.Sections = append(d.Sections, Section{Title: l.t("媒体", "Media"), Blocks: []Block{note(bad(l.t("媒体が設定されていません。", "No medium is configured.")))}})
	}
	d.Sections = append(d.Sections, Section{Title: l.t("確認", "Checks"), Blocks: []Block{
		ptext(l.t("sha256sum -c が何も表示せず終了コード0で終われば、すべてのファイルが取得時と一致しています。一致しないファイルは名前が表示されます。", "If sha256sum -c prints nothing and exits 0, every file matches what was pulled; a mismatching file is named.")),
		ptext(l.t("最新でないスナップショットを使う場合は、snapshots の一覧から ID を選び、latest の代わりに指定する。", "To use an older snapshot, take its ID from the snapshots list and give it instead of latest.")),
		signatures(l.t("復旧日", "date"), l.t("実施者", "done by"), l.t("立会者", "witness")),
	}})
	return d
}
