package documents

import (
	"fmt"
	"strings"
)

// The recovery kit the gateway writes beside the repository on every
// medium (package recoverykit): stock restic for the PCs a hospital has,
// their SHA-256 sums and this sheet, so an offline PC needs no apt-get.
// These names are recoverykit's contract.
const (
	kitDir           = "danzen-recovery"
	kitSums          = "SHA256SUMS"
	kitResticVersion = "0.19.1"
)

// kitBinary is the kit's restic for one platform.
func kitBinary(goos, arch string) string {
	name := fmt.Sprintf("restic_%s_%s_%s", kitResticVersion, goos, arch)
	if goos == "windows" {
		name += ".exe"
	}
	return name
}

// kitInstall checks the kit in dir and installs its linux/amd64 restic
// as /usr/local/bin/restic (the medium itself is mounted read-only).
func kitInstall(dir string) string {
	return fmt.Sprintf("(cd %s && sha256sum -c %s)\ninstall -m 0755 %s/%s /usr/local/bin/restic\nrestic version\n",
		dir, kitSums, dir, kitBinary("linux", "amd64"))
}

func (b *builder) recovery() *Doc {
	l, cfg := b.l, b.cfg
	d := b.newDoc("recovery-sheet", l.t("復旧手順書(媒体と一緒に保管)", "Recovery sheet (keep with the media)"))
	d.Intro = []Span{text(l.f("ゲートウェイが使えなくても、媒体は標準の restic(0.14以上、%sで確認済み)で、ネットワークから切り離したPCに復元できます。restic は各媒体の %s/ に同梱しています。本書にパスワードは記載しません。",
		"Without the gateway, the media can be restored with stock restic (0.14 or later, %s tested) on a PC off the network. restic is on every medium, in %s/. This sheet never holds a password.", kitResticVersion, kitDir))}
	d.Sections = append(d.Sections, Section{Title: l.t("基本情報", "Basic information"), Blocks: []Block{
		b.basics(),
		kv([2]string{l.t("項目", "item"), l.t("内容", "value")},
			pair(l.t("パスワードの保管場所", "where the passwords are kept"), b.field("password_storage")),
			pair(l.t("媒体の保管場所", "where media are stored"), b.field("media_storage")),
			pair(l.t("restic のホスト名(--host)", "restic host (--host)"), code(cfg.GatewayID)),
		),
		b.sourcesTable(),
	}})
	d.Sections = append(d.Sections, b.recoveryPrep(), b.chooseSection())
	for i := range cfg.Media {
		m := &cfg.Media[i]
		k, _ := kindOf(m)
		d.Sections = append(d.Sections, Section{Title: l.f("媒体 %s(%s)", "Medium %s (%s)", m.Name, k.label(l, m)), NewPage: i == 0, Blocks: k.restore(b, m)})
	}
	if len(cfg.Media) == 0 {
		d.Sections = append(d.Sections, Section{Title: l.t("媒体", "Media"), Blocks: []Block{note(bad(l.t("媒体が設定されていません。", "No medium is configured.")))}})
	}
	d.Sections = append(d.Sections, Section{Title: l.t("確認", "Checks"), Blocks: []Block{
		ptext(l.t("sha256sum -c が何も表示せず終了コード0で終われば、すべてのファイルが取得時と一致しています。一致しないファイルは名前が表示されます。これは取得した時点のファイルと同じであることの確認であり、取得した時点ですでに暗号化されていたかどうかは分かりません。復元したファイルを開いて中身を確かめてください。",
			"If sha256sum -c prints nothing and exits 0, every file matches what was pulled; a mismatching file is named. This proves the files equal what was pulled, not that they were not already encrypted then: open the restored files and look at them.")),
		signatures(l.t("復旧日", "date"), l.t("復元したスナップショットID", "snapshot ID restored"), l.t("実施者", "done by"), l.t("立会者", "witness")),
	}})
	return d
}

// recoveryPrep is the PC, the kit on the medium and the sealed secrets.
func (b *builder) recoveryPrep() Section {
	l := b.l
	kit := list(
		item(code(kitBinary("linux", "amd64")), text(l.t(": 一般的なPC(x86-64)のLinux用", ": Linux on an ordinary PC (x86-64)"))),
		item(code(kitBinary("linux", "arm64")), text(l.t(": ARM(Raspberry Pi など)のLinux用", ": Linux on ARM (Raspberry Pi …)"))),
		item(code(kitBinary("windows", "amd64")), text(l.t(": Windows用", ": Windows"))),
		item(code(kitSums), text(l.t(": 上の各ファイルの SHA-256", ": the SHA-256 of each file above"))),
		item(code("recovery-sheet-ja.html"), text(" / "), code("recovery-sheet-en.html"), text(l.t(": 本書(日本語・英語)", ": this sheet (Japanese, English)"))),
	)
	return Section{Title: l.t("準備", "Before you start"), Blocks: []Block{
		steps(
			titem(l.t("ネットワークから切り離した清浄なPCを用意する。Linux を使う(Windows しかない場合は下記)。ネットワークに接続できないPCでは apt-get 等は使えないため、restic は媒体の復旧キットのものを使う。", "Take a clean PC off the network, running Linux (with Windows only, see below). A PC off the network cannot apt-get: use the restic of the medium's recovery kit.")),
			titem(l.t("媒体はこのPCにだけ接続し、読み取り専用でマウントする。感染の疑いのある機器には接続しない。", "Connect the medium to that PC only and mount it read-only. Never connect it to a machine that may be infected.")),
			titem(l.t("封をしたパスワード(S3の媒体はシークレットキーも)を責任者立ち会いで開封する。", "Open the sealed password (for an S3 medium, the secret key too) in the presence of the responsible person.")),
			titem(l.t("復旧キットの SHA-256 を確かめてから restic を使う(各媒体の手順にコマンドがあります)。", "Check the recovery kit's SHA-256 before using its restic (each medium's steps give the commands).")),
			titem(l.t("本書の手順は restic の整合性確認に jq を使う。ライブUSB等に jq がない場合は、事前に用意したPCに入れておく。", "The manifest check of these steps uses jq: have it on the recovery PC beforehand if the live system lacks it.")),
		),
		para(text(l.f("復旧キット: 各媒体の最上位の %s/ に、準備時と毎回のサイクルで次のファイルが書き込まれます。", "Recovery kit: at the top of every medium, %s/ holds these files, written when the medium is prepared and at every cycle:", kitDir))),
		kit,
		para(text(l.t("SHA-256 の確認: Linux では ", "Checking SHA-256: on Linux, ")), code("sha256sum -c "+kitSums),
			text(l.t("(すべて OK と表示されること)。Windows では PowerShell で ", " (every line must say OK). On Windows, in PowerShell, ")),
			code("Get-FileHash -Algorithm SHA256 .\\"+kitBinary("windows", "amd64")),
			text(l.f("を実行し、表示された Hash が %s の該当行と一致すること(大文字・小文字は区別しない)。", " and compare the Hash it prints with the file's line in %s (upper and lower case are the same).", kitSums))),
		para(strong(l.t("Windows のPCしかない場合", "With Windows PCs only")), text(l.t(": 媒体のディスクは Linux の ext4 のため、Windows からは直接読めません。次のどちらかを、非常時の前に準備しておいてください(切り離した後ではインターネットから入手できません)。", ": the medium's disk is Linux ext4, which Windows cannot read. Prepare one of these before an emergency (once off the network, nothing can be downloaded)."))),
		list(
			titem(l.t("Linux のライブUSB(Ubuntu、Debian 等)を作っておき、そのUSBからPCを起動する。PCの内蔵ディスクには何も書き込まない。", "A Linux live USB stick (Ubuntu, Debian …) made beforehand: boot the PC from it; nothing is written to the PC's own disk.")),
			item(text(l.t("WSL 2(Linux ディストリビューションを導入済み、wsl --mount に対応した版)。管理者の PowerShell で ", "WSL 2 (a Linux distribution already installed, a version with wsl --mount). In an administrator PowerShell, find the medium's disk with ")),
				code(`Get-CimInstance -Query "SELECT * from Win32_DiskDrive"`),
				text(l.t(" で媒体のディスク(\\\\.\\PHYSICALDRIVEn)を確かめ、", " (\\\\.\\PHYSICALDRIVEn), attach the whole disk without mounting it with ")),
				code(`wsl --mount \\.\PHYSICALDRIVEn --bare`),
				text(l.t(" でディスク全体をマウントせずに WSL に接続し、WSL の中で lsblk で ext4 のパーティションを探して、以降の手順どおり ", ", then inside WSL find the ext4 partition with lsblk and mount it read-only as the steps below do (")),
				code("mount -t ext4 -o ro,noload"),
				text(l.t(" で読み取り専用にマウントする。作業後は ", "). Afterwards, ")),
				code(`wsl --unmount \\.\PHYSICALDRIVEn`),
				text(l.t("。", "."))),
		),
	}}
}

// chooseSection says why latest is not restored blindly and how the
// snapshot to restore is chosen.
func (b *builder) chooseSection() Section {
	l := b.l
	return Section{Title: l.t("復元するスナップショットの選び方", "Choosing the snapshot to restore"), Blocks: []Block{
		ptext(l.t("最新のスナップショット(latest)をそのまま復元しないでください。ランサムウェアで電子カルテの書き出しが暗号化された場合も、ゲートウェイはそれを取得して新しい世代として保存し、異常として記録・通知します。そのため最新の世代が暗号化されたデータであることがあります。",
			"Do not simply restore the newest snapshot (latest). When ransomware encrypts the e-chart export, the gateway still pulls it and keeps it as a new generation, and records and reports it as an anomaly: the newest generation may hold the encrypted data.")),
		steps(
			titem(l.t("各媒体の一覧(本書の作成時点で証跡台帳にある世代)で、取得元ごとに「推奨」の印があるスナップショットを使う。これは、その取得元で最初に異常が検知された取得より前の、最も新しいスナップショットです。", "In each medium's list (the generations the evidence ledger held when this sheet was made), use the snapshot marked recommended for each source: the newest one taken before that source's first pull flagged as anomalous.")),
			titem(l.t("restic snapshots で媒体にある実際の一覧を表示し、日時と ID を本書の一覧と照らし合わせる。本書より新しいスナップショットは、被害が始まった日時より前のもので、ゲートウェイの画面(使える場合)に異常の記録がないものだけを使う。", "List what the medium really holds with restic snapshots and compare dates and IDs with this sheet's list. Use a snapshot newer than this sheet only if it was taken before the damage began and, where the gateway's page can still be seen, no anomaly is recorded for it.")),
			titem(l.t("選んだ ID を restore に指定する(コマンド例の ID を置き換える)。復元後、ファイルを開いて暗号化されていないことを確かめる。", "Give the chosen ID to restore (replace the ID in the example). After restoring, open the files and make sure they are not encrypted.")),
		),
	}}
}

// resticRestore lists the snapshots and restores, per source, the
// snapshot the ledger recommends (or latest when it knows none), then
// checks each file against the manifest the snapshot carries. opts are
// extra restic options (a CA file …).
func (b *builder) resticRestore(medium, repo, passwordFile, opts string) string {
	var c strings.Builder
	r := fmt.Sprintf("restic -r %s --password-file %s%s --no-lock", repo, passwordFile, opts)
	fmt.Fprintf(&c, "%s snapshots --host %s\n", r, b.cfg.GatewayID)
	choices := b.snapshotChoices(medium)
	for _, s := range b.cfg.Sources {
		dst := "/srv/restore/" + s.Name
		if pick := choices[s.Name].pick; pick != nil {
			fmt.Fprintf(&c, "%s restore %s --target %s\n", r, shortID(pick.id), dst)
		} else {
			fmt.Fprintf(&c, "%s restore latest --host %s --tag source=%s --target %s\n", r, b.cfg.GatewayID, s.Name, dst)
		}
		fmt.Fprintf(&c, "(cd %s/data && jq -r '.files[] | \"\\(.sha256)  \\(.path)\"' ../manifest.json | sha256sum -c --quiet)\n", dst)
	}
	return c.String()
}
