package documents

import (
	"fmt"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/netconf"
	"github.com/danzen-gw/danzen/relay"
)

// board says which board and image the relays call for: a Raspberry Pi
// for its header's GPIO chips, an amd64 mini PC for a relay module or
// another GPIO chip.
func (b *builder) board() (name, instance string) {
	l := b.l
	pi, other := "", ""
	module := ""
	if b.hasModules() {
		module = l.t(" + USB–RS-485 アダプタにつないだ Modbus RTU リレーモジュール", " + Modbus RTU relay module on a USB–RS-485 adapter")
	}
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
			return l.t("SAS HBA付き amd64 ミニPC(テープ用カーネル)", "amd64 mini PC with a SAS HBA (tape kernel)") + module, "danzen-amd64"
		}
	}
	switch {
	case pi != "":
		return pi + l.t("(4GB以上、40ピンGPIOヘッダ)", " (4 GB or more, 40-pin GPIO header)") + module, "danzen-rpi"
	case other != "":
		return l.f("GPIO付き amd64 ミニPC(GPIOチップ %s)", "amd64 mini PC with GPIO (chip %s)", other) + module, "danzen-amd64"
	case module != "":
		return l.t("amd64 ミニPC", "amd64 mini PC") + module, "danzen-amd64"
	}
	return l.t("Raspberry Pi 4 / 5(4GB以上)", "Raspberry Pi 4 / 5 (4 GB or more)"), "danzen-rpi"
}

func (b *builder) runbook() *Doc {
	l := b.l
	d := b.newDoc("build-runbook", l.t("構築手順書(支援B)", "Build runbook (support B)"))
	d.Intro = []Span{text(l.f("本書は、医療機関が自らゲートウェイを構築するための手順書です。部品表・配線・設定値はすべてゲートウェイの設定から生成しています。ゲートウェイにはコマンドラインもシェルもありません。ゲートウェイ上の作業はすべて画面の%sで、上から順に行います。作業用PCで行うのは、イメージの作成と書き込み、書き出した証跡台帳の検証だけです。",
		"This runbook is for a hospital building the gateway itself. The parts list, wiring and every setting are generated from the gateway's configuration. The gateway has no command line and no shell: everything on it is done on its page, under %s, from the top down. Only building and writing the image, and verifying an exported ledger, are done on a separate bench PC.",
		l.q(pageCommission)))}
	d.Sections = append(d.Sections, Section{Title: l.t("基本情報", "Basic information"), Blocks: []Block{b.basics()}})
	d.Sections = append(d.Sections, Section{Title: l.t("部品表", "Parts list"), Blocks: b.parts()})
	d.Sections = append(d.Sections, b.wiringSections(d)...)
	d.Sections = append(d.Sections, b.imageSection(), b.firstStartSection(), b.networkSection())
	d.Sections = append(d.Sections, b.sourceSections()...)
	d.Sections = append(d.Sections, b.mediaSection(), b.alertsSection(), b.firstCycleSection(), b.hostKeyRotationSection(), b.ledgerBenchSection())
	d.Sections = append(d.Sections, Section{Title: l.t("受入試験", "Acceptance test"), NewPage: true, Blocks: b.acceptance()})
	return d
}

// imageSection builds and writes the image on a bench PC, with what the
// board needs that the image cannot give it.
func (b *builder) imageSection() Section {
	l := b.l
	name, instance := b.board()
	img := "build/" + instance + ".img"
	blocks := []Block{
		ptext(l.f("ボード: %s。イメージ: %s。", "Board: %s. Image: %s.", name, instance)),
		steps(
			item(text(l.t("作業用PC(Debian/Ubuntu、リポジトリを取得したもの)でイメージを作る: ", "On the bench PC (Debian/Ubuntu, with the repository), build the image: ")), code("make image")),
			item(text(l.t("書き込み先(SDカードまたはSSD)を lsblk で確認してから書き込む: ", "Find the target (SD card or SSD) with lsblk, then write: ")), code(fmt.Sprintf("dd if=%s of=/dev/sdX bs=4M conv=fsync status=progress", img))),
			item(text(l.t("gok を使う保守ベンダは同じ設定で: ", "Vendors with gok use the same instance: ")), code(fmt.Sprintf("gok -i %s overwrite --full /dev/sdX", instance))),
		),
		note(text(l.t("以後の更新は作業用PCからネットワーク経由で行う: ", "Later updates go over the network from the bench PC: ")), code(fmt.Sprintf("danzen image push --instance gokrazy/%s %s", instance, orDash(b.gatewayIP())))),
	}
	blocks = append(blocks, b.boardNotes(instance)...)
	return Section{Title: l.t("イメージの作成と書き込み(作業用PC)", "Building and writing the image (on a bench PC)"), NewPage: true, Blocks: blocks}
}

func (b *builder) firstStartSection() Section {
	l := b.l
	fp := cell(text(l.t("初回起動時にコンソールに表示される値", "the value printed on the console at first start")))
	if b.in.CertFingerprint != "" {
		fp = cell(code(b.in.CertFingerprint))
	}
	return Section{Title: l.t("初回起動とセットアップコード", "First start and the setup code"), Blocks: []Block{
		steps(
			titem(l.t("媒体を接続せず、リレーの配線だけをした状態でLANケーブルと電源を接続する。", "With the relays wired but no medium connected, plug in the LAN cable and the power.")),
			titem(l.t("コンソール(HDMIまたはシリアル)に、1回限りのセットアップコードとページの証明書の指紋(SHA-256)が表示される。", "The console (HDMI or serial) shows a one-time setup code and the page certificate's SHA-256 fingerprint.")),
			titem(l.f("初回起動時のアドレスはDHCPで決まる。DHCPサーバの払い出し一覧でホスト名 danzen のアドレスを探す。DHCPのないLANでは、起動から約%[1]d秒後にゲートウェイが自分に %[2]s を付け、コンソールにページのアドレスを表示する。PCをゲートウェイに直接、または同じスイッチにつなぎ(PCがDHCPの設定なら、Windowsは約1分後に 169.254.x.y のアドレスを自分に付ける)、https://%[2]s:8443/setup を開く。%[2]s を別の機器が使っているときは、代わりに使うアドレスがコンソールに表示される。手順1で固定アドレスにしたら、確認のためPCにも新しいネットワークのアドレスを付けて開き直す。",
				"At first start the address comes from DHCP: find host name danzen in the DHCP server's leases. On a LAN without DHCP, about %[1]d s after the start the gateway gives itself %[2]s and the console shows the page's address: connect a PC directly or on the same switch (a PC set to DHCP, such as Windows, gives itself a 169.254.x.y address after about a minute) and open https://%[2]s:8443/setup. If another device holds %[2]s, the console shows the address taken instead. After setting the static address in step 1, give the PC an address in the new network and open the page there to confirm.",
				int(netconf.DefaultLinkLocalAfter.Seconds()), netconf.LinkLocalAddress)),
			item(text(l.t("ブラウザで開く: ", "Open in a browser: ")), code("https://<"+l.t("アドレス", "address")+">:8443/setup")),
			item(text(l.t("ブラウザが示す証明書の指紋が次と一致することを確認してから続ける: ", "Continue only if the certificate fingerprint the browser shows matches: ")), fp[0]),
			titem(l.t("セットアップコードで最初の保守ベンダ管理者を作る。既定のパスワードはありません。", "Create the first vendor admin with the setup code. There is no default password.")),
			titem(l.f("メニューの%sを開き、以下の手順1〜5を画面の見出しの順に行う。すべて終わるまで、状態画面に%sの一覧が表示される。各手順は証跡台帳に記録され、あとからやり直せる。",
				"Open %s in the menu and do steps 1 to 5 below in the order of the page's headings. Until all are done, the status page shows the %s checklist. Each step is recorded in the evidence ledger and can be redone later.",
				l.q(pageCommission), l.q(pageChecklist))),
			titem(l.f("本書の記入欄(医療機関名・責任者・保管場所など)は画面の%sで入力する。", "Fill in this document's fields (hospital, responsible person, storage places …) on the page's %s.", l.q(pageDocuments))),
		),
	}}
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
		switch modbus := r.Driver == relay.DriverModbus; {
		case r.Sense == nil:
		case modbus && !r.Sense.ActiveLow:
			// The module's isolated input on the medium's supply: no part.
		case modbus || senseByAux(r.Sense):
			senseAux = append(senseAux, r.Name)
		default:
			senseOpto = append(senseOpto, r.Name)
		}
	}
	rows := [][]Cell{
		{tcell(l.t("ゲートウェイ本体", "gateway board")), tcell("1"), tcell(name)},
		{tcell(l.t("起動用 microSD または USB SSD", "boot microSD or USB SSD")), tcell("1"), tcell(l.t("32GB以上(/perm に取得領域を置く場合はエクスポートの2倍以上)", "32 GB or more (twice the export size if staging lives on /perm)"))},
	}
	if gpio > 0 || !b.hasModules() {
		rows = append(rows, []Cell{tcell(l.f("リレーモジュール(%dチャンネル、NO接点、絶縁型)", "relay module (%d channels, NO contacts, isolated)", gpio)), tcell("1"), tcell(l.t("接点定格は媒体の電源電圧・電流以上", "contacts rated above the media supplies' voltage and current"))})
	}
	rows = append(rows, b.moduleParts()...)
	rows = append(rows, b.clockParts()...)
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
	for i := range cfg.Relays {
		rows = append(rows, b.wiringRow(&cfg.Relays[i], mediumOf[cfg.Relays[i].Name]))
	}
	intro.Blocks = append(intro.Blocks, table([]string{l.t("リレー", "relay"), l.t("媒体", "medium"), l.t("ドライバ", "driver"), l.t("出力", "output"), l.t("センス入力", "sense input")}, rows,
		l.t("リレーが設定されていません。媒体の給電を切れないため、オフラインにできません。", "No relay is configured: no medium can be cut off.")))
	out := []Section{intro}
	for _, r := range cfg.Relays {
		m := orDash(mediumOf[r.Name])
		f := Figure{File: "wiring-" + r.Name + "." + string(l) + ".svg", Caption: l.f("リレー %s(媒体 %s)の配線図", "Wiring of relay %s (medium %s)", r.Name, m)}
		if r.Driver == relay.DriverModbus {
			f.SVG = moduleSVG(l, r, b.module(r.Chip), m)
			d.Figures = append(d.Figures, f)
			out = append(out, Section{Title: l.f("リレー %s", "Relay %s", r.Name), Blocks: append([]Block{figure(f)}, b.moduleWiring(&r)...)})
			continue
		}
		f.SVG = wiringSVG(l, b.onPi(), r, m)
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
		if !realRelay(&r) {
			blocks = append(blocks, note(bad(l.f("このリレーのドライバは %q で、実際のリレーを駆動しません。受入試験の前に gpio または modbus に変更してください。", "This relay's driver is %q, which drives no real relay: change it to gpio or modbus before the acceptance test.", r.Driver))))
		}
		out = append(out, Section{Title: l.f("リレー %s", "Relay %s", r.Name), Blocks: blocks})
	}
	return out
}

// wiringRow is a relay's row in the wiring table: a GPIO relay's lines, or
// a module relay's terminals.
func (b *builder) wiringRow(r *relay.Spec, medium string) []Cell {
	l := b.l
	sense := cell(bad(l.t("なし", "none")))
	output := b.outputName(r)
	switch {
	case r.Sense != nil && r.Driver == relay.DriverModbus:
		sense = tcell(b.senseName(r))
	case r.Sense != nil:
		pull := r.Sense.Pull
		if pull == "" {
			pull = l.t("既定", "default")
		}
		sense = cell(text(b.senseName(r)), text(fmt.Sprintf(" pull=%s active_low=%t", pull, r.Sense.ActiveLow)))
	}
	if r.Driver != relay.DriverModbus {
		output += fmt.Sprintf(" active_low=%t", r.ActiveLow)
	}
	return []Cell{cell(code(r.Name)), cell(code(orDash(medium))), tcell(r.Driver), tcell(output), sense}
}
