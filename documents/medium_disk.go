package documents

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
)

// diskKind describes USB HDD/SSD and RDX media on a relay-switched supply.
var diskKind = mediumKind{
	label:     diskLabel,
	offline:   diskOffline,
	procedure: diskProcedure,
	parts:     diskParts,
	prepare:   diskPrepare,
	restore:   diskRestore,
}

func diskLabel(l lang, m *config.Medium) string {
	if m.Disk != nil && m.Disk.RDX {
		return l.t("RDX(カートリッジ)", "RDX cartridge")
	}
	return l.t("USB外付けディスク(HDD/SSD)", "USB external disk (HDD/SSD)")
}

func orDefault(d config.Duration, def time.Duration) time.Duration {
	if d > 0 {
		return time.Duration(d)
	}
	return def
}

// identity is how the gateway recognises the disk, as table rows.
func diskIdentity(b *builder, m *config.Medium) []kvPair {
	l := b.l
	d := m.Disk
	var out []kvPair
	if d.Serial != "" {
		out = append(out, pair(l.t("シリアル番号", "serial number"), code(d.Serial)))
	}
	if d.FSUUID != "" {
		out = append(out, pair(l.t("ファイルシステムUUID", "file system UUID"), code(d.FSUUID)))
	}
	out = append(out, pair(l.t("媒体ID", "media ID"), code(d.MediaID)))
	return out
}

func relayPairs(b *builder, r *relay.Spec) []kvPair {
	l := b.l
	if r == nil {
		return []kvPair{pair(l.t("リレー", "relay"), bad(l.t("設定にありません", "not in the configuration")))}
	}
	out := []kvPair{
		pair(l.t("リレー", "relay"), code(r.Name), text(" ("+r.Driver+")")),
		pair(l.t("リレー出力", "relay output"), text(b.outputName(r))),
		pair(l.t("切断の確認時間", "cut verification timeout"), text(humanDuration(l, orDefault(r.OffTimeout, relay.DefaultOffTimeout)))),
	}
	if r.Sense != nil {
		out = append(out, pair(l.t("センス入力", "sense input"), text(b.senseName(r))))
	} else {
		out = append(out, pair(l.t("センス入力", "sense input"), bad(l.t("なし: 切断を証明できないため、この媒体はオフラインと扱われません", "none: cuts cannot be proven, so this medium never counts as offline"))))
	}
	if !realRelay(r) {
		out = append(out, pair(l.t("注意", "attention"), bad(l.f("ドライバ %q は実際のリレーを駆動しません。この媒体はオフラインではありません。", "driver %q drives no real relay: this medium is not offline.", r.Driver))))
	}
	return out
}

func diskOffline(b *builder, m *config.Medium) []Block {
	l := b.l
	if m.Disk == nil {
		return []Block{vendorNote(l, m)}
	}
	r := relayOf(b.cfg, m)
	gone := humanDuration(l, orDefault(m.Disk.GoneTimeout, disk.DefaultGoneTimeout))
	s := l.f("媒体 %s はリレーの常時開(NO)接点を通して給電され、書き込み・復元の間だけ通電します。書き込み後にリレーを切り、センス入力がOFFを示し、かつ媒体のブロックデバイスが %s 以内に消えたことを確認して初めて「切断(オフライン)」を証跡台帳に記録します。",
		"Medium %s is powered through the relay's normally-open (NO) contact, only while it is written or restored. After writing, the relay is switched off; only when the sense input reads OFF and the medium's block device has gone within %s is the cut recorded in the evidence ledger as offline.",
		m.Name, gone)
	blocks := []Block{ptext(s)}
	if m.Disk.RDX {
		blocks = append(blocks, ptext(l.t("RDXはスピンダウン後にカートリッジを排出してから給電を切ります。", "The RDX cartridge is ejected after spin-down, before the power is cut.")))
	}
	pairs := append(diskIdentity(b, m), relayPairs(b, r)...)
	blocks = append(blocks, kv([2]string{l.t("項目", "item"), l.t("設定値", "value")}, pairs...))
	return blocks
}

func diskProcedure(b *builder, m *config.Medium) []Block {
	l := b.l
	if m.Disk == nil {
		return []Block{vendorNote(l, m)}
	}
	r := relayOf(b.cfg, m)
	on, off := relay.DefaultOnTimeout, relay.DefaultOffTimeout
	relayName := m.Relay
	if r != nil {
		on, off = orDefault(r.OnTimeout, on), orDefault(r.OffTimeout, off)
	}
	appear := orDefault(m.Disk.AppearTimeout, disk.DefaultAppearTimeout)
	gone := orDefault(m.Disk.GoneTimeout, disk.DefaultGoneTimeout)
	ident := []string{}
	if m.Disk.Serial != "" {
		ident = append(ident, l.t("シリアル番号 ", "serial ")+m.Disk.Serial)
	}
	if m.Disk.FSUUID != "" {
		ident = append(ident, "UUID "+m.Disk.FSUUID)
	}
	st := []([]Span){
		titem(l.f("リレー %s を入れ、センス入力が %s 以内にONを示すことを確認する。", "Relay %s is switched on; the sense input must read ON within %s.", relayName, humanDuration(l, on))),
		titem(l.f("%s 以内に現れたディスクを %s と媒体ID %s で照合する。一致しないディスクには書き込まない。", "The disk that appears within %s is matched by %s and media ID %s; any other disk is never written.",
			humanDuration(l, appear), strings.Join(ident, l.t("・", ", ")), m.Disk.MediaID)),
		titem(l.f("%s にマウントし、restic でバックアップ、世代整理(forget)、検査(check)を行う。", "It is mounted at %s; restic backs up, forgets old generations and checks.", m.Disk.Dir())),
		titem(l.t("書き込みを確定(sync)し、アンマウント、キャッシュのフラッシュとスピンダウンを行う。", "Writes are synced, the disk unmounted, its cache flushed and spun down.")),
	}
	if m.Disk.RDX {
		st = append(st, titem(l.t("RDXカートリッジを排出する。", "The RDX cartridge is ejected.")))
	}
	st = append(st,
		titem(l.f("リレー %s を切り、センス入力が %s 以内にOFFを示し、かつデバイスが %s 以内に消えたことを確認する。", "Relay %s is switched off; the sense input must read OFF within %s and the device must be gone within %s.", relayName, humanDuration(l, off), humanDuration(l, gone))),
		item(strong(l.t("両方を確認できた場合のみ「切断を確認」として記録する。", "Only when both are seen is the cut recorded as verified.")), text(l.t("できなければ「切断を確認できません」と記録し、画面は赤表示、警報(medium_not_off)を送る。", " Otherwise it is recorded as NOT verified, the page shows it in red and the medium_not_off alert goes out."))),
	)
	if m.Disk.RDX {
		// Ejected every cycle, the cartridge must go back in by hand.
		return []Block{steps(st...), note(text(l.t("ドックの給電中(画面の表示が「接続中」)は、カートリッジを抜き差ししないでください。排出されたカートリッジは、次のサイクルまでに手で差し戻します(「RDXカートリッジの取扱い」)。",
			"Never insert or remove the cartridge while the dock is powered (the page says connected). Push the ejected cartridge back in by hand before the next cycle (\"Handling the RDX cartridge\").")))}
	}
	return []Block{steps(st...), note(text(l.t("媒体を手で抜き差ししないでください。状態表示が「接続中」のときは書き込み中です。", "Do not plug or unplug the medium by hand. While the page says connected, it is being written.")))}
}

func diskParts(b *builder, m *config.Medium) [][]Cell {
	l := b.l
	name := diskLabel(l, m)
	supply := l.t("媒体用ACアダプタ(DC出力をリレーのCOM→NOに通す)。USBバスパワーのディスクはVBUSをリレーで切るUSB電源スイッチケーブルを使う", "the medium's own adapter (its DC output runs through the relay's COM → NO); for a bus-powered USB disk, a USB power-switch cable whose VBUS runs through the relay")
	rows := [][]Cell{{cell(text(name), text(" — "), code(m.Name)), tcell("1"), tcell(diskIdentityText(l, m))}}
	if m.Disk != nil && m.Disk.RDX {
		rows = append(rows, []Cell{tcell(l.t("RDXドッキングステーション(USB)", "RDX docking station (USB)")), tcell("1"), tcell(l.f("媒体 %s 用", "for medium %s", m.Name))})
	}
	rows = append(rows, []Cell{tcell(l.f("媒体 %s の電源", "power supply of medium %s", m.Name)), tcell("1"), tcell(supply)})
	return rows
}

func diskIdentityText(l lang, m *config.Medium) string {
	if m.Disk == nil {
		return ""
	}
	var parts []string
	if m.Disk.Serial != "" {
		parts = append(parts, "serial "+m.Disk.Serial)
	}
	if m.Disk.FSUUID != "" {
		parts = append(parts, "UUID "+m.Disk.FSUUID)
	}
	parts = append(parts, l.t("媒体ID ", "media ID ")+m.Disk.MediaID)
	return strings.Join(parts, ", ")
}

func diskPrepare(b *builder, m *config.Medium) []Block {
	l := b.l
	if m.Disk == nil {
		return []Block{vendorNote(l, m)}
	}
	label := "DANZEN-" + strings.ToUpper(m.Name)
	if len(label) > 16 {
		label = label[:16] // ext4 labels hold 16 bytes
	}
	mk := fmt.Sprintf("mkfs.ext4 -L %s /dev/sdX1", label)
	if m.Disk.FSUUID != "" {
		mk = fmt.Sprintf("mkfs.ext4 -L %s -U %s /dev/sdX1", label, m.Disk.FSUUID)
	}
	st := [][]Span{
		item(text(l.t("作業用PC(Linux)で1つのパーティションを作り、ext4で初期化する(ゲートウェイは初期化しません。sdXは lsblk で必ず確認):", "On the bench PC (Linux), make one partition and format it ext4 (the gateway never formats; check sdX with lsblk first): ")), code(mk)),
		titem(l.f("ディスクをリレー %s の配線どおりに接続し、%sで配線テストを行う。現れた ext4 のボリュームで%s(新しい媒体なら%s)を押す。シリアル番号・ファイルシステムUUID・媒体IDは、現れたディスクから取られる。",
			"Connect the disk as relay %s is wired and run the wiring test on %s. For the ext4 volume that appeared, press %s (for a new medium: %s): the serial number, file system UUID and media ID are taken from the disk that appeared.",
			m.Relay, l.qf(pageRelayStep, m.Relay), l.qf(pageMakeMedium, m.Name), l.q(pageEnrol))),
	}
	st = append(st, b.passwordSteps(m, l.t("媒体に通電してリポジトリを作り、切断を確認する", "is the medium powered, its repository created and its cut verified"))...)
	return []Block{
		steps(st...),
		kv([2]string{l.t("項目", "item"), l.t("設定値", "value")}, append(diskIdentity(b, m),
			pair(l.t("パスワードファイル(ゲートウェイ内)", "password file (on the gateway)"), code(b.cfg.KeyPath(m.PasswordFile))))...),
	}
}

func diskRestore(b *builder, m *config.Medium) []Block {
	l := b.l
	if m.Disk == nil {
		return []Block{vendorNote(l, m)}
	}
	mnt := "/mnt/" + m.Name
	repo := mnt + "/" + disk.RepoDir
	pw := "/root/" + filepath.Base(m.PasswordFile)
	var c strings.Builder
	fmt.Fprintf(&c, "lsblk -o NAME,SERIAL,SIZE,FSTYPE,UUID\nmkdir -p %s\nmount -t ext4 -o ro,noload %s %s\n", mnt, diskDevice(m.Disk), mnt)
	c.WriteString(kitInstall(mnt + "/" + kitDir))
	c.WriteString(b.resticRestore(m.Name, repo, pw, ""))
	fmt.Fprintf(&c, "umount %s", mnt)
	pairs := append(diskIdentity(b, m),
		pair(l.t("リポジトリの場所", "repository location"), code(disk.RepoDir+"/"), text(l.t("(ファイルシステムの最上位)", " (at the top of the file system)"))),
		pair(l.t("復旧キットの場所", "recovery kit location"), code(kitDir+"/"), text(l.t("(リポジトリと同じ最上位)", " (at the top, beside the repository)"))),
		pair(l.t("パスワードの保管場所", "password kept at"), b.field("password_storage")),
	)
	blocks := []Block{kv([2]string{l.t("項目", "item"), l.t("内容", "value")}, pairs...)}
	blocks = append(blocks, b.restoreChoice(m)...)
	return append(blocks,
		para(text(diskFindText(l, m.Disk))),
		ptext(l.f("パスワードを紙から %s に書き写し(chmod 600)、作業後に削除してください。マウントは必ず ro,noload で行います(ro だけでは、前回の取り外しが不完全だった場合にジャーナルの書き戻しで媒体に書き込まれることがあります)。",
			"Copy the password from the paper into %s (chmod 600) and delete it afterwards. Always mount with ro,noload: ro alone may still write to the medium to replay its journal after an unclean detach.", pw)),
		codeBlock(c.String()),
	)
}

// diskDevice is the partition to mount: by its file system UUID when the
// gateway enrolled it, else the partition found by serial (sdX1).
func diskDevice(d *disk.Spec) string {
	if d.FSUUID != "" {
		return "/dev/disk/by-uuid/" + d.FSUUID
	}
	return "/dev/sdX1"
}

// diskFindText says how to find the medium's partition with lsblk.
func diskFindText(l lang, d *disk.Spec) string {
	switch {
	case d.FSUUID != "":
		return l.f("lsblk の一覧で、UUID が %s のパーティションがあることを確かめる(シリアル番号 %s のディスク)。マウントは UUID で指定するため、デバイス名(sdX)を確かめる必要はありません。",
			"In lsblk's list, make sure a partition with UUID %s is there (on the disk with serial %s). The mount names it by UUID, so the device name (sdX) does not matter.", d.FSUUID, orDash(d.Serial))
	case d.Serial != "":
		return l.f("lsblk の一覧で SERIAL が %s のディスクを探し、その ext4 のパーティション名(例: sdb1)で、下の /dev/sdX1 を置き換える。表示された UUID を使って /dev/disk/by-uuid/<UUID> と指定しても同じです。",
			"In lsblk's list, find the disk whose SERIAL is %s and replace /dev/sdX1 below with its ext4 partition (e.g. sdb1); /dev/disk/by-uuid/ followed by the UUID shown is the same.", d.Serial)
	}
	return l.t("lsblk の一覧で、媒体を接続して新しく現れた ext4 のパーティション名(例: sdb1)で、下の /dev/sdX1 を置き換える。", "In lsblk's list, find the ext4 partition that appeared when the medium was connected and replace /dev/sdX1 below with it (e.g. sdb1).")
}
