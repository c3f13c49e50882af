package documents

import (
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/relay"
)

const configPath = "/perm/danzen/config.json"

// board says which board and image the relays' GPIO chips call for.
func (b *builder) board() (name, instance string) {
	l := b.l
	pi, other := "", ""
	for _, r := range b.cfg.Relays {
		switch {
		case r.Driver != relay.DriverGPIO:
		case r.Chip == "pinctrl-rp1":
			pi = "Raspberry Pi 5"
		case r.Chip == "pinctrl-bcm2711" && pi == "":
			pi = "Raspberry Pi 4"
		case raspberryChip(r.Chip) && pi == "":
			pi = "Raspberry Pi 4 / 5"
		case !raspberryChip(r.Chip):
			other = r.Chip
		}
	}
	for _, m := range b.cfg.Media {
		if m.Type == config.MediumTape {
			return l.t("SAS HBA付き amd64 ミニPC(テープ用カーネル)", "amd64 mini PC with a SAS HBA (tape kernel)"), "danzen-amd64"
		}
	}
	switch {
	case pi != "":
		return pi + l.t("(4GB以上、40ピンGPIOヘッダ)", " (4 GB or more, 40-pin GPIO header)"), "danzen-rpi"
	case other != "":
		return l.f("GPIO付き amd64 ミニPC(GPIOチップ %s)", "amd64 mini PC with GPIO (chip %s)", other), "danzen-amd64"
	}
	return l.t("Raspberry Pi 4 / 5(4GB以上)", "Raspberry Pi 4 / 5 (4 GB or more)"), "danzen-rpi"
}

func (b *builder) runbook() *Doc {
	l, cfg := b.l, b.cfg
	d := b.newDoc("build-runbook", l.t("構築手順書(支援B)", "Build runbook (support B)"))
	d.Intro = []Span{text(l.t("本書は、医療機関が自らゲートウェイを構築するための手順書です。部品表・配線・設定値はすべてゲートウェイの設定から生成しています。",
		"This runbook is for a hospital building the gateway itself. The parts list, wiring and every setting are generated from the gateway's configuration."))}
	d.Sections = append(d.Sections, Section{Title: l.t("基本情報", "Basic information"), Blocks: []Block{b.basics()}})
	d.Sections = append(d.Sections, Section{Title: l.t("部品表", "Parts list"), Blocks: b.parts()})
	d.Sections = append(d.Sections, b.wiringSections(d)...)
	name, instance := b.board()
	img := "build/" + instance + ".img"
	d.Sections = append(d.Sections, Section{Title: l.t("イメージの書き込み", "Writing the image"), NewPage: true, Blocks: []Block{
		ptext(l.f("ボード: %s。イメージ: %s。", "Board: %s. Image: %s.", name, instance)),
		steps(
			item(text(l.t("Debian/Ubuntu のPCでリポジトリを取得し、イメージを作る: ", "On a Debian/Ubuntu PC with the repository, build the image: ")), code("make image")),
			item(text(l.t("書き込み先(SDカードまたはSSD)を lsblk で確認してから書き込む: ", "Find the target (SD card or SSD) with lsblk, then write: ")), code(fmt.Sprintf("dd if=%s of=/dev/sdX bs=4M conv=fsync status=progress", img))),
			item(text(l.t("gok を使う保守ベンダは同じ設定で: ", "Vendors with gok use the same instance: ")), code(fmt.Sprintf("gok -i %s overwrite --full /dev/sdX", instance))),
		),
		note(text(l.t("以後の更新はネットワーク経由で行う: ", "Later updates go over the network: ")), code(fmt.Sprintf("danzen image push --instance gokrazy/%s %s", instance, orDash(cfg.Documents.GatewayAddress)))),
	}})
	fp := cell(text(l.t("初回起動時にコンソールに表示される値", "the value printed on the console at first start")))
	if b.in.CertFingerprint != "" {
		fp = cell(code(b.in.CertFingerprint))
	}
	d.Sections = append(d.Sections, Section{Title: l.t("初回起動とセットアップコード", "First start and the setup code"), Blocks: []Block{
		steps(
			titem(l.t("媒体を接続せず、リレーの配線だけをした状態でLANケーブルと電源を接続する。", "With the relays wired but no medium connected, plug in the LAN cable and the power.")),
			titem(l.t("コンソール(HDMIまたはシリアル)に、1回限りのセットアップコードとページの証明書の指紋(SHA-256)が表示される。", "The console (HDMI or serial) shows a one-time setup code and the page certificate's SHA-256 fingerprint.")),
			item(text(l.t("ブラウザで開く: ", "Open in a browser: ")), code("https://"), b.field("gateway_address"), code(":8443/setup")),
			item(text(l.t("ブラウザが示す証明書の指紋が次と一致することを確認してから続ける: ", "Continue only if the certificate fingerprint the browser shows matches: ")), fp[0]),
			titem(l.t("セットアップコードで最初の保守ベンダ管理者を作る。既定のパスワードはありません。", "Create the first vendor admin with the setup code. There is no default password.")),
			titem(l.t("画面で取得元・リレー・媒体・スケジュール・通知・本書の記入欄を設定する。", "On the page, set the sources, relays, media, schedule, alerts and this document's fields.")),
		),
	}})
	d.Sections = append(d.Sections, b.accountSections()...)
	var prep []Block
	for i := range cfg.Media {
		m := &cfg.Media[i]
		k, _ := kindOf(m)
		prep = append(prep, para(strong(l.f("媒体 %s(%s)", "Medium %s (%s)", m.Name, k.label(l, m)))))
		prep = append(prep, k.prepare(b, m)...)
	}
	if len(prep) == 0 {
		prep = append(prep, note(bad(l.t("媒体が設定されていません。", "No medium is configured."))))
	}
	d.Sections = append(d.Sections, Section{Title: l.t("媒体の準備", "Preparing the media"), NewPage: true, Blocks: prep})
	d.Sections = append(d.Sections, Section{Title: l.t("受入試験", "Acceptance test"), NewPage: true, Blocks: b.acceptance()})
	return d
}

func (b *builder) parts() []Block {
	l, cfg := b.l, b.cfg
	name, _ := b.board()
	gpio := 0
	var senseAux, senseOpto []string
	for _, r := range cfg.Relays {
		if r.Driver == relay.DriverGPIO || r.Driver == relay.DriverFake {
			gpio++
		}
		if r.Sense != nil {
			if senseByAux(r.Sense) {
				senseAux = append(senseAux, r.Name)
			} else {
				senseOpto = append(senseOpto, r.Name)
			}
		}
	}
	rows := [][]Cell{
		{tcell(l.t("ゲートウェイ本体", "gateway board")), tcell("1"), tcell(name)},
		{tcell(l.t("起動用 microSD または USB SSD", "boot microSD or USB SSD")), tcell("1"), tcell(l.t("32GB以上(/perm に取得領域を置く場合はエクスポートの2倍以上)", "32 GB or more (twice the export size if staging lives on /perm)"))},
		{tcell(l.f("リレーモジュール(%dチャンネル、NO接点、絶縁型)", "relay module (%d channels, NO contacts, isolated)", gpio)), tcell("1"), tcell(l.t("接点定格は媒体の電源電圧・電流以上", "contacts rated above the media supplies' voltage and current"))},
	}
	if len(senseAux) > 0 {
		rows = append(rows, []Cell{tcell(l.t("強制ガイドリレー(補助NC接点付き)", "force-guided relay with an auxiliary NC contact")), tcell(fmt.Sprint(len(senseAux))), tcell(l.t("センス入力用: ", "for the sense input: ") + strings.Join(senseAux, ", "))})
	}
	if len(senseOpto) > 0 {
		rows = append(rows, []Cell{tcell(l.t("フォトカプラ(例: PC817)と電流制限抵抗", "optocoupler (e.g. PC817) with current-limiting resistor")), tcell(fmt.Sprint(len(senseOpto))), tcell(l.t("センス入力用: ", "for the sense input: ") + strings.Join(senseOpto, ", "))})
	}
	for i := range cfg.Media {
		m := &cfg.Media[i]
		k, _ := kindOf(m)
		rows = append(rows, k.parts(b, m)...)
	}
	rows = append(rows,
		[]Cell{tcell(l.t("ゲートウェイ用電源", "gateway power supply")), tcell("1"), tcell(l.t("ボード純正品(Raspberry Pi 5 は 5V 5A)", "the board's own supply (5 V 5 A for a Raspberry Pi 5)"))},
		[]Cell{tcell(l.t("筐体(DINレールまたは施錠できるケース)", "enclosure (DIN rail or a lockable case)")), tcell("1"), tcell(l.t("リレーと媒体の電源配線を収める", "holds the relays and the media supply wiring"))},
		[]Cell{tcell(l.t("LANケーブル", "LAN cable")), tcell("1"), tcell(l.t("電子カルテのエクスポートを取得するネットワークへ", "to the network the e-chart export is pulled from"))},
		[]Cell{tcell(l.t("UPS(推奨)", "UPS (recommended)")), tcell("1"), tcell(l.t("停電時に書き込み中の媒体を保護する", "protects a medium being written during a power cut"))},
	)
	return []Block{table([]string{l.t("品目", "item"), l.t("数量", "qty"), l.t("仕様・備考", "specification")}, rows, "")}
}

// wiringSections draws every relay and adds its SVG to the document's
// figures for the Markdown form.
func (b *builder) wiringSections(d *Doc) []Section {
	l, cfg := b.l, b.cfg
	mediumOf := map[string]string{}
	for _, m := range cfg.Media {
		mediumOf[m.Relay] = m.Name
	}
	intro := Section{Title: l.t("配線", "Wiring"), NewPage: true, Blocks: []Block{
		ptext(l.t("媒体の電源はリレーの常時開(NO)接点を通します。ゲートウェイが停止・再起動・停電すると媒体への給電は切れます(フェイルセーフ)。センス入力は切断の証明に使います。",
			"Each medium's supply runs through its relay's normally-open (NO) contact, so a stopped, restarting or unpowered gateway leaves the medium unpowered (fail-safe). The sense input proves each cut.")),
	}}
	var rows [][]Cell
	for _, r := range cfg.Relays {
		sense := cell(bad(l.t("なし", "none")))
		if r.Sense != nil {
			pull := r.Sense.Pull
			if pull == "" {
				pull = l.t("既定", "default")
			}
			sense = cell(text(pinName(l, r.Sense.Chip, r.Sense.Line)), text(fmt.Sprintf(" pull=%s active_low=%t", pull, r.Sense.ActiveLow)))
		}
		rows = append(rows, []Cell{cell(code(r.Name)), cell(code(orDash(mediumOf[r.Name]))), tcell(r.Driver), tcell(pinName(l, r.Chip, r.Line) + fmt.Sprintf(" active_low=%t", r.ActiveLow)), sense})
	}
	intro.Blocks = append(intro.Blocks, table([]string{l.t("リレー", "relay"), l.t("媒体", "medium"), l.t("ドライバ", "driver"), l.t("出力", "output"), l.t("センス入力", "sense input")}, rows,
		l.t("リレーが設定されていません。媒体の給電を切れないため、オフラインにできません。", "No relay is configured: no medium can be cut off.")))
	out := []Section{intro}
	for _, r := range cfg.Relays {
		m := orDash(mediumOf[r.Name])
		f := Figure{File: "wiring-" + r.Name + "." + string(l) + ".svg", Caption: l.f("リレー %s(媒体 %s)の配線図", "Wiring of relay %s (medium %s)", r.Name, m), SVG: wiringSVG(l, r, m)}
		d.Figures = append(d.Figures, f)
		blocks := []Block{figure(f)}
		if r.Sense != nil {
			if senseByAux(r.Sense) {
				blocks = append(blocks, ptext(l.t("センス: 強制ガイドリレーの補助NC接点の一端をセンス入力に、他端をGNDにつなぎ、プルアップする(active_low=false)。リレーが働くとONを読み、主接点の溶着や断線もONとして現れるため、すべての故障は「切断を確認できません」になります。",
					"Sense: wire the force-guided relay's auxiliary NC contact between the sense input and GND, with a pull-up (active_low=false). The line reads ON while the relay is energised; a welded main contact or a broken wire also reads ON, so every fault shows as \"cut not verified\".")))
			} else {
				blocks = append(blocks, ptext(l.t("センス: フォトカプラのLED側を、NO接点の後の媒体の + と − の間に抵抗を介してつなぎ、出力側のコレクタをセンス入力、エミッタをGNDにつなぐ(プルアップ、active_low=true)。媒体に給電されているとLOW(ON)を読みます。",
					"Sense: put the optocoupler's LED, with its resistor, across the medium's + and − after the NO contact; its collector goes to the sense input, its emitter to GND (pull-up, active_low=true). The line reads LOW (ON) while the medium is powered.")))
			}
		}
		if r.Driver != relay.DriverGPIO {
			blocks = append(blocks, note(bad(l.f("このリレーのドライバは %q で、実際のリレーを駆動しません。受入試験の前に gpio に変更してください。", "This relay's driver is %q, which drives no real relay: change it to gpio before the acceptance test.", r.Driver))))
		}
		out = append(out, Section{Title: l.f("リレー %s", "Relay %s", r.Name), Blocks: blocks})
	}
	return out
}

// accountSections are the read-only SFTP account and the host key check,
// per source, with the one tested sshd Match block.
func (b *builder) accountSections() []Section {
	l, cfg := b.l, b.cfg
	var out []Section
	for i, s := range cfg.Sources {
		chroot := cfg.Documents.SFTPChroot
		chrootSpan := b.field("sftp_chroot")
		acc := backup.SSHDAccount{User: s.User, Chroot: chroot, ExportDir: s.ExportDir, GatewayIP: cfg.Documents.GatewayAddress}
		blocks := []Block{
			ptext(l.f("電子カルテサーバ %s(%s)に、パスワードのない専用アカウント %s を作り、読み取り専用のSFTPだけを許可します。chroot %s とその親ディレクトリはすべて root 所有で、グループ・他者の書き込みを禁止します。",
				"On e-chart server %s (%s), create a dedicated account %s without a password that may only read over SFTP. The chroot %s and all its parents must be owned by root and not group- or world-writable.",
				s.Name, s.Host, s.User, orDash(chroot))),
		}
		if chroot == "" {
			blocks = append(blocks, para(text("chroot: "), chrootSpan))
		} else {
			blocks = append(blocks,
				codeBlock(strings.Join([]string{
					fmt.Sprintf("useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin %s", s.User),
					fmt.Sprintf("usermod -p '*' %s", s.User),
					fmt.Sprintf("install -d -o root -g root -m 755 %s %s%s", chroot, chroot, s.ExportDir),
					fmt.Sprintf("install -d -o %s -m 700 /home/%s/.ssh", s.User, s.User),
				}, "\n")),
				ptext(l.f("電子カルテのエクスポート先を %s%s に読み取り専用でbindマウントし(/etc/fstab に bind,ro で登録)、%s が読めるようにする。", "Bind-mount the e-chart's export directory read-only onto %s%s (a bind,ro line in /etc/fstab) so that %s can read it.", chroot, s.ExportDir, s.User)),
				ptext(l.t("/etc/ssh/sshd_config の末尾に次を追加する(自動試験で実際のsshdに使っているものと同じ内容):", "Append to /etc/ssh/sshd_config (the same block the automated tests run a real sshd with):")),
				codeBlock(backup.SSHDMatchBlock(acc)),
			)
		}
		if cfg.Documents.SFTPChroot != "" {
			blocks = append(blocks, para(text(l.t("sshd_config の AuthorizedKeysFile がホームの .ssh/authorized_keys を指す場合: ", "Where AuthorizedKeysFile points at the home's .ssh/authorized_keys: ")), code(fmt.Sprintf("/home/%s/.ssh/authorized_keys", s.User))))
		}
		switch pub, ok := b.in.PublicKeys[s.Name]; {
		case !ok:
			blocks = append(blocks, note(bad(l.f("取得元 %s の鍵がまだありません。画面の「設定 → 取得元」で鍵を作成してから本書を再生成してください。", "Source %s has no key yet: create it on the page (configuration → sources), then regenerate this document.", s.Name))))
		case cfg.Documents.GatewayAddress == "":
			blocks = append(blocks, para(text(l.t("authorized_keys の行はゲートウェイのIPアドレスが必要です: ", "The authorized_keys line needs the gateway's IP address: ")), b.field("gateway_address")),
				ptext(l.t("ゲートウェイの公開鍵:", "The gateway's public key:")), codeBlock(pub))
		default:
			blocks = append(blocks, ptext(l.t("authorized_keys に次の1行を書く(ゲートウェイのアドレスからだけ使える鍵):", "Put this one line in authorized_keys (the key works only from the gateway's address):")),
				codeBlock(backup.AuthorizedKeysLine(acc, pub)))
		}
		blocks = append(blocks,
			para(text(l.t("確認して再読み込みする: ", "Check and reload: ")), code("sshd -t && systemctl reload ssh")),
			para(text(l.t("ゲートウェイから取得を試す: ", "Try a pull from the gateway: ")), code(fmt.Sprintf("danzen pull --config %s --source %s", configPath, s.Name))),
		)
		out = append(out, Section{Title: l.f("読み取り専用SFTPアカウント: %s", "Read-only SFTP account: %s", s.Name), NewPage: i == 0, Blocks: blocks})

		var rows [][]Cell
		for _, line := range s.KnownHosts {
			_, hosts, key, _, _, err := ssh.ParseKnownHosts([]byte(line))
			if err != nil {
				continue
			}
			rows = append(rows, []Cell{tcell(strings.Join(hosts, ",")), tcell(key.Type()), cell(code(ssh.FingerprintSHA256(key)))})
		}
		out = append(out, Section{Title: l.f("ホスト鍵の確認: %s", "Host key confirmation: %s", s.Name), Blocks: []Block{
			steps(
				item(text(l.t("電子カルテサーバの管理者が、サーバ上で指紋を表示する: ", "The e-chart server's administrator shows the fingerprint on the server: ")), code("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub")),
				item(text(l.t("ゲートウェイ側で提示された指紋を表示する: ", "Show the fingerprint the gateway is offered: ")), code(fmt.Sprintf("danzen hostkey --config %s --source %s", configPath, s.Name))),
				item(text(l.t("両者が一致した場合のみ登録する: ", "Pin it only if both match: ")), code(fmt.Sprintf("danzen hostkey --config %s --source %s --accept SHA256:…", configPath, s.Name))),
			),
			table([]string{l.t("ホスト", "host"), l.t("鍵の種類", "key type"), l.t("登録済みの指紋", "pinned fingerprint")}, rows,
				l.t("ホスト鍵はまだ登録されていません。上の手順で確認して登録してください。", "No host key is pinned yet: confirm and pin it as above.")),
		}})
	}
	if len(cfg.Sources) == 0 {
		out = append(out, Section{Title: l.t("読み取り専用SFTPアカウント", "Read-only SFTP account"), Blocks: []Block{note(bad(l.t("取得元が設定されていません。", "No source is configured.")))}})
	}
	return out
}

func (b *builder) acceptance() []Block {
	l, cfg := b.l, b.cfg
	items := [][]Span{
		titem(l.t("起動直後、すべての媒体の電源ランプが消えている(フェイルセーフ)。", "Right after start, every medium's power lamp is off (fail-safe).")),
	}
	for _, s := range cfg.Sources {
		items = append(items, item(text(l.f("取得元 %s のホスト鍵の指紋を電子カルテサーバ側と照合し、登録した。", "The host key fingerprint of source %s was compared with the e-chart server and pinned.", s.Name))))
		items = append(items, item(text(l.f("読み取り専用アカウント %s で書き込み・削除ができないことを確認した。", "Writing and deleting as the read-only account %s fail.", s.User))))
	}
	items = append(items, item(text(l.t("1サイクルを実行し、終了コード0で終わった: ", "One cycle ran and exited 0: ")), code(fmt.Sprintf("danzen backup --config %s --once", configPath))))
	for _, m := range cfg.Media {
		items = append(items, item(text(l.f("媒体 %s: スナップショットが記録され、画面に「切断中(確認済み)」と表示された。", "Medium %s: a snapshot was recorded and the page shows \"cut, verified\".", m.Name))))
		items = append(items, item(text(l.f("媒体 %s: センス線を外して実行すると「切断を確認できません」となり、通知が届いた(試験後に配線を戻す)。", "Medium %s: with the sense wire removed the cut shows as NOT verified and an alert arrived (rewire afterwards).", m.Name))))
	}
	items = append(items,
		titem(l.t("復元訓練を1回行い、全ファイルのSHA-256が一致し、復元時間が記録された。", "One restore drill ran: every file's SHA-256 matched and the time to restore was recorded.")),
		item(text(l.t("証跡台帳の検証が正常で、先頭ハッシュを控えた: ", "The evidence ledger verifies and its head hash was noted: ")), code(fmt.Sprintf("danzen ledger verify --config %s", configPath))),
		titem(l.t("計画書・運用手順・復旧手順書を再生成し、未記入の欄がない。", "The plan, annex and recovery sheet were regenerated with no field left unfilled.")),
	)
	return []Block{
		checklist(items...),
		signatures(l.t("実施日", "date"), l.t("構築者", "built by"), l.t("病院確認者", "accepted for the hospital"), l.t("保守ベンダ", "vendor")),
	}
}
