package documents

import (
	"fmt"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/clock"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netconf"
	"github.com/danzen-gw/danzen/relay"
)

// instanceRPi is the image for Raspberry Pi 4 and 5.
const instanceRPi = "danzen-rpi"

// piModels says which Raspberry Pi the configuration can be on: the RP1
// chip is the Pi 5's alone, the BCM2711's pin controller the Pi 4's;
// otherwise it may be either.
func (b *builder) piModels() (pi4, pi5 bool) {
	if _, instance := b.board(); instance != instanceRPi {
		return false, false
	}
	for _, r := range b.cfg.Relays {
		switch r.Chip {
		case "pinctrl-rp1":
			pi5 = true
		case "pinctrl-bcm2711":
			pi4 = true
		}
	}
	if !pi4 && !pi5 {
		return true, true
	}
	return pi4, pi5
}

// boardNotes say what the board needs that the image cannot give it: a
// clock that survives a power cut, and a way to drive the relays (GPIO
// lines, or a relay module on a USB–RS-485 adapter).
func (b *builder) boardNotes(instance string) []Block {
	if instance == instanceRPi {
		return b.piClockNotes()
	}
	l := b.l
	out := []Block{
		ptext(l.t("amd64 ボードは自身のハードウェア時計(RTC、CMOS 電池)で時刻を保ちます。それでも手順1で院内の NTP サーバを指定してください。",
			"An amd64 board keeps the time in its own hardware clock (RTC, on its CMOS battery); give the hospital's NTP server in step 1 all the same.")),
	}
	gpio := slices.ContainsFunc(b.cfg.Relays, func(r relay.Spec) bool { return r.Driver == relay.DriverGPIO })
	if b.hasModules() {
		out = append(out, ptext(l.t("リレーは USB–RS-485 アダプタにつないだ Modbus RTU リレーモジュールです。イメージのカーネルには FTDI、CP210x、CH341 の USB シリアルドライバがあります。ゲートウェイには udev がないため、アダプタは /dev の名前ではなく USB シリアル番号で見つけます: シリアル番号を持つアダプタを選び、画面の設定でリレーモジュールを開くと、接続中のアダプタとそのシリアル番号が表示されます。",
			"The relays are a Modbus RTU relay module on a USB–RS-485 adapter. The image's kernel has the FTDI, CP210x and CH341 USB serial drivers. The gateway has no udev, so it finds the adapter by its USB serial number, not its /dev name: choose an adapter that has one; the page's relay module settings list the adapters connected now with their serial numbers.")))
	}
	if gpio {
		out = append(out, note(text(l.t("GPIO のリレーは、カーネルが GPIO チップ(/dev/gpiochip*)として見せるラインだけを駆動できます: ボード自身の GPIO か、イメージのカーネルにドライバのある USB GPIO アダプタの GPIO。チップが見えるかどうかは、媒体を買い足す前に画面の配線テストで確かめてください。",
			"A GPIO relay drives only lines the kernel shows as a GPIO chip (/dev/gpiochip*): the board's own, or those of a USB GPIO adapter whose driver the image's kernel has. Check with the page's wiring test that the chip is found before buying more."))))
	}
	if !gpio && !b.hasModules() {
		out = append(out, note(bad(l.t("GPIO のない amd64 ミニPCでは、USB–RS-485 アダプタにつないだ Modbus RTU リレーモジュールでリレーを駆動します(ドライバ modbus)。リレーが simulated のままでは、その媒体はオフラインになりません。オブジェクトロックの S3 バケットは、リレーがなくても変更不可(オフライン)として扱われます。",
			"An amd64 mini PC without GPIO drives its relays through a Modbus RTU relay module on a USB–RS-485 adapter (driver modbus). While a relay is simulated, its medium is never offline. An object-locked S3 bucket counts as offline (immutable) without any relay."))))
	}
	return out
}

// piClockNotes: a Raspberry Pi 4 has no hardware clock at all, a Pi 5's
// keeps the time through a power cut only with its battery.
func (b *builder) piClockNotes() []Block {
	l := b.l
	pi4, pi5 := b.piModels()
	// The image is the same for both boards: the Pi 4's requirement is
	// said even where the pins are the Pi 5's.
	req := text(piRTCRequirement(l))
	if pi4 {
		req = bad(req.Text)
	}
	out := []Block{note(req)}
	if pi5 {
		out = append(out, note(text(l.t("Raspberry Pi 5 にはハードウェア時計(RTC)がありますが、停電や電源断の間も時刻を保つのは、バックアップ電池(BAT コネクタ)を付けたときだけです。電池を付けるか、院内の NTP サーバを指定してください。",
			"A Raspberry Pi 5 has a hardware clock (RTC), but it keeps the time through a power cut only with its backup battery fitted (the BAT connector): fit the battery, or give the hospital's NTP server."))))
	}
	return out
}

// piRTCRequirement is the Raspberry Pi 4's requirement, as the page says it.
func piRTCRequirement(l lang) string {
	return l.t("Raspberry Pi 4 には電池で時刻を保つハードウェア時計(RTC)がありません。電源を入れるたびに時刻が失われるため、院内の NTP サーバ(手順1)か RTC 拡張ボードが必須です。どちらもないと、証跡台帳の時刻もスケジュールの実行時刻も正しくありません。",
		"A Raspberry Pi 4 has no battery-backed hardware clock (RTC): it loses the time at every power-up, so the hospital's NTP server (step 1) or an RTC add-on board is required. Without either, neither the ledger's times nor the schedule's hours are right.")
}

// clockParts are the parts list's rows for a Pi's clock.
func (b *builder) clockParts() [][]Cell {
	l := b.l
	pi4, pi5 := b.piModels()
	var rows [][]Cell
	if pi4 {
		rows = append(rows, []Cell{tcell(l.t("RTC 拡張ボード(Raspberry Pi 4)", "RTC add-on board (Raspberry Pi 4)")), tcell("1"),
			tcell(l.t("院内に NTP サーバがない場合は必須", "required unless the LAN has an NTP server"))})
	}
	if pi5 {
		rows = append(rows, []Cell{tcell(l.t("RTC バックアップ電池(Raspberry Pi 5)", "RTC backup battery (Raspberry Pi 5)")), tcell("1"),
			tcell(l.t("BAT コネクタに接続。停電中も時刻を保つ", "on the BAT connector: keeps the time through a power cut"))})
	}
	return rows
}

// consoleParts are what reads the console on day one: the one-time
// setup code goes to /dev/console, which is the kernel's last console=,
// the serial console (the image's SerialConsole), not the screen.
func (b *builder) consoleParts() [][]Cell {
	l := b.l
	if !b.onPi() {
		return [][]Cell{{tcell(l.t("シリアルコンソール用ケーブル(セットアップコードの読み取り)", "serial console cable (to read the setup code)")), tcell("1"),
			tcell(l.t("ボードの COM ポート(ttyS0、115200 bps、8N1)に USB–RS-232C ケーブル(例: FTDI US232R-10)で作業用PCをつなぐ。セットアップコードはシリアルコンソールに表示されます。COM ポートのないボードでは読めないため、COM ポート(または COM ヘッダ)のあるボードを選ぶ",
				"connect the bench PC to the board's COM port (ttyS0, 115200 bps, 8N1) with a USB–RS-232C cable (e.g. FTDI US232R-10). The setup code appears on the serial console; a board without a COM port (or COM header) cannot show it, so choose one that has"))}}
	}
	pi4, pi5 := b.piModels()
	var rows [][]Cell
	if pi5 {
		rows = append(rows, []Cell{tcell(l.t("Raspberry Pi Debug Probe(Raspberry Pi 5 のシリアルコンソール)", "Raspberry Pi Debug Probe (Raspberry Pi 5 serial console)")), tcell("1"),
			tcell(l.t("Pi 5 の UART コネクタ(3ピン)と作業用PCの USB をつなぎ、115200 bps で開く。セットアップコードはシリアルコンソールに表示されます", "between the Pi 5's UART connector (3-pin) and the bench PC's USB; open it at 115200 bps. The setup code appears on the serial console"))})
	}
	if pi4 {
		rows = append(rows, []Cell{tcell(l.t("USB シリアル変換ケーブル 3.3V(Raspberry Pi 4 のシリアルコンソール)", "3.3 V USB serial cable (Raspberry Pi 4 serial console)")), tcell("1"),
			tcell(l.t("例: FTDI TTL-232R-3V3。40ピンヘッダの8番(TXD)→ケーブルの RXD、10番(RXD)←ケーブルの TXD、6番 GND。115200 bps。5V のケーブルは使わない", "e.g. FTDI TTL-232R-3V3: header pin 8 (TXD) → the cable's RXD, pin 10 (RXD) ← its TXD, pin 6 GND; 115200 bps. Never a 5 V cable"))})
	}
	return append(rows, []Cell{tcell(l.t("micro-HDMI–HDMI ケーブルとモニタ(任意)", "micro-HDMI to HDMI cable and a monitor (optional)")), tcell("1"),
		tcell(l.t("起動中のカーネルの表示を見るため。セットアップコードは画面ではなくシリアルコンソールに表示されます", "to watch the kernel start; the setup code appears on the serial console, not on the screen"))})
}

// gpioRelayParts are the parts list's rows for GPIO relays: a
// force-guided relay per relay, its coil driver and 24 V supply, and the
// sense circuit's parts with their values.
func (b *builder) gpioRelayParts() [][]Cell {
	l := b.l
	var names, aux, opto []string
	for i := range b.cfg.Relays {
		r := &b.cfg.Relays[i]
		if r.Driver != relay.DriverGPIO {
			continue
		}
		names = append(names, r.Name)
		switch senseOf(r) {
		case senseAux:
			aux = append(aux, r.Name)
		case senseSupply:
			opto = append(opto, r.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	n := len(names)
	rows := [][]Cell{
		{tcell(l.t("強制ガイドリレー OMRON G7SA-2A2B DC24 とソケット P7SA-10F-ND DC24", "force-guided relay OMRON G7SA-2A2B DC24 with socket P7SA-10F-ND DC24")), tcell(fmt.Sprint(n)),
			tcell(l.f("2NO+2NC、接点 6A 30VDC、コイル 24V 15mA。ソケットは DIN レール取付、動作表示 LED とサージ吸収ダイオード内蔵。NO 主接点に媒体の電源 + を通し、NC 補助接点をセンスに使う。リレー: %s",
				"2 NO + 2 NC, contacts 6 A at 30 V DC, coil 24 V 15 mA; the socket mounts on a DIN rail and has an indicator LED and a surge diode. The NO main contact carries the medium's supply +, the NC auxiliary contact serves the sense. Relays: %s", strings.Join(names, ", ")))},
		{tcell(l.t("コイルドライバ 東芝 TBD62003APG(ULN2003 互換、7回路)と 16ピン IC ソケット・ユニバーサル基板", "coil driver Toshiba TBD62003APG (ULN2003-compatible, 7 channels) with a 16-pin IC socket on a prototyping board")), tcell(fmt.Sprint((n + 6) / 7)),
			tcell(l.t("GPIO(3.3V)で直接駆動でき、1回路 0.5A。IN1〜7(1〜7番)に GPIO の出力、OUT(16〜10番)にコイルの A2(−)、COM(9番)に +24V、GND(8番)に 24V 電源の − とゲートウェイの GND", "driven straight from 3.3 V GPIO, 0.5 A per channel: IN1–7 (pins 1–7) from the GPIO outputs, OUT (pins 16–10) to the coils' A2 (−), COM (pin 9) to +24 V, GND (pin 8) to the 24 V supply's − and the gateway's GND"))},
		{tcell(l.t("リレーのコイル用 DC 24V 電源 OMRON S8VK-G01524(15W、DIN レール)", "24 V DC supply for the relay coils, OMRON S8VK-G01524 (15 W, DIN rail)")), tcell("1"),
			tcell(l.f("コイル %d 個で %d mA。媒体の電源とは別。− をゲートウェイの GND につなぐ(共通の戻り)", "%d coils draw %d mA; separate from the media supplies. Its − joins the gateway's GND (the common return)", n, 15*n))},
	}
	if len(aux) > 0 {
		rows = append(rows, []Cell{tcell(l.f("R1 抵抗 %s 1/4W(補助接点のセンス)", "R1 resistor %s 1/4 W (auxiliary-contact sense)", ohms(auxPullOhm))), tcell(fmt.Sprint(len(aux))),
			tcell(l.f("センス入力の pull 用。接点に %.1f mA 流れる。リレー: %s", "the sense input's pull; %.1f mA through the contact. Relays: %s", logicVolts/auxPullOhm*1000, strings.Join(aux, ", ")))})
	}
	if len(opto) > 0 {
		rows = append(rows,
			[]Cell{tcell(l.t("フォトカプラ PC817(Sharp PC817XNNSZ0F)とダイオード 1N4148", "optocoupler PC817 (Sharp PC817XNNSZ0F) with a 1N4148 diode")), tcell(fmt.Sprint(len(opto))),
				tcell(l.t("センス用。1N4148 は LED と逆並列。リレー: ", "for the sense; the 1N4148 in reverse across the LED. Relays: ") + strings.Join(opto, ", "))},
			[]Cell{tcell(l.f("R1 抵抗 %s 1/4W(フォトカプラの出力側)", "R1 resistor %s 1/4 W (the optocoupler's output)", ohms(optoPullOhm))), tcell(fmt.Sprint(len(opto))),
				tcell(l.f("センス入力の pull 用。%.2f mA", "the sense input's pull; %.2f mA", logicVolts/optoPullOhm*1000))},
			[]Cell{tcell(l.t("R2 抵抗 1/4W(フォトカプラの LED)", "R2 resistor 1/4 W (the optocoupler's LED)")), tcell(fmt.Sprint(len(opto))),
				tcell(l.f("媒体の電源電圧で選ぶ: %s(LED 電流 約%.0f mA)", "by the medium's supply voltage: %s (about %.0f mA LED current)", ledChoices(l), optoIf))})
	}
	if b.onPi() {
		rows = append(rows, []Cell{tcell(l.t("40ピンヘッダ用の配線(メス型ジャンパ線または端子台 HAT)", "wiring for the 40-pin header (female jumper wires or a terminal-block HAT)")), tcell("1"),
			tcell(l.t("GPIO は 3.3V。5V をどの GPIO にもつながない", "the GPIO lines are 3.3 V: never connect 5 V to any of them"))})
	}
	return rows
}

// ledChoices lists R2 per supply voltage: "5V は 750 Ω、12V は 2.2 kΩ…".
func ledChoices(l lang) string {
	var out []string
	for _, r := range ledResistors {
		out = append(out, l.f("%[1]gV は %[2]s", "%[2]s for %[1]gV", r.volts, ohms(r.ohm)))
	}
	return strings.Join(out, l.t("、", ", "))
}

// gatewayIP is the gateway's address on the hospital LAN, as the e-chart
// server sees it: the static address of the network settings, else the
// hospital's field (a DHCP reservation); "" when neither is known.
func (b *builder) gatewayIP() string {
	if n := b.cfg.Network; n.Static() {
		if p, err := n.Prefix(); err == nil {
			return p.Addr().String()
		}
	}
	return strings.TrimSpace(b.cfg.Documents.GatewayAddress)
}

// gatewayAddr prints the gateway's address, or the not-filled-in marker
// when it is neither static nor written in the hospital's field.
func (b *builder) gatewayAddr() Span {
	if b.cfg.Network.Static() {
		if ip := b.gatewayIP(); ip != "" {
			return code(ip)
		}
	}
	return b.field("gateway_address")
}

// networkSection is commissioning step 1: the address, the host name, the
// time servers and zone from the configuration, the rollback timer and
// what happens when no time server answers.
func (b *builder) networkSection() Section {
	l, n := b.l, b.cfg.Network
	rollback := int(netconf.DefaultRollback.Minutes())
	blocks := []Block{
		ptext(l.f("画面: %s", "On the page: %s", l.path(l.q(pageGroupNetwork), l.q(pageNetworkLink)))),
		kv([2]string{l.t("項目", "item"), l.t("設定値", "value")}, b.networkPairs()...),
		steps(
			titem(l.f("上の値を入力し、%sを押す。", "Enter the values above and press %s.", l.q(pageSaveApply))),
			titem(l.f("アドレス・デフォルトゲートウェイ・DNS の変更は仮に適用されます。画面に示される新しいアドレス(DHCP のときは DHCP サーバの払い出し一覧でホスト名を探す)でこのページを開き、%d分以内に%sを押す。期限までに新しいアドレスから確認されなければ、前の設定に戻り、何も保存されません。",
				"A change of address, default gateway or DNS applies on trial: open this page at the new address it shows (under DHCP, find the host name in the DHCP server's leases) and press %[2]s within %[1]d minutes. Unless it is confirmed from the new address in time, the settings before come back and nothing is saved.",
				rollback, l.q(pageConfirm))),
			titem(l.t("ホスト名・NTP サーバ・タイムゾーンだけの変更は、すぐに保存されます。", "A change of the host name, the NTP servers or the time zone alone is saved at once.")),
			titem(l.t("同じ画面の「時刻」に、NTP で同期済み(サーバ名と時刻)と表示されることを確かめる。", "Check that the same page's clock line says synchronised by NTP, with the server and the time.")),
		),
		ptext(l.f("電子カルテサーバの authorized_keys の from= にはゲートウェイの固定したアドレスが要ります。DHCP の場合は、DHCP サーバでこのゲートウェイにアドレスを予約してください。時刻は院内の NTP サーバ(UDP 123)から取ります。既定の NTP サーバはありません。起動後 %d分以内にどのサーバも答えなければ、ハードウェア時計で動作し、スケジュールはそのまま実行され、状態画面と通知が%sと伝えます。証跡台帳の各記録には、時刻の状態(%s: NTP で同期、%s: ハードウェア時計、%s: 未同期)が残ります。",
			"The from= of the e-chart server's authorized_keys needs the gateway's address to stay fixed: under DHCP, reserve an address for the gateway on the DHCP server. The time comes from the hospital's NTP servers (UDP 123); none is preset. When none answers within %d minutes of the start, the gateway runs on its hardware clock, the schedule runs all the same, and the status page and an alert say %s. Every ledger entry records how its clock was set (%s: NTP, %s: the hardware clock, %s: not synchronised).",
			int(clock.DefaultWait.Minutes()), l.q(pageNotSynced), ledger.ClockNTP, ledger.ClockRTC, ledger.ClockUnsynced)),
	}
	if pi4, _ := b.piModels(); pi4 && len(n.NTPServers) == 0 {
		blocks = append(blocks, note(bad(l.t("NTP サーバが設定されていません。", "No NTP server is configured. ")+piRTCRequirement(l))))
	}
	return Section{Title: l.t("導入手順1: ネットワークと時刻", "Commissioning step 1: network and time"), NewPage: true, Blocks: blocks}
}

// networkPairs are the network step's values from the configuration.
func (b *builder) networkPairs() []kvPair {
	l, n := b.l, b.cfg.Network
	none := func(v []string) Span {
		if len(v) == 0 {
			return text(l.t("なし", "none"))
		}
		return code(strings.Join(v, ", "))
	}
	pairs := []kvPair{pair(l.t("アドレスの決め方", "address"), text(l.t("DHCP(院内の DHCP サーバから受け取る)", "DHCP (from the hospital's DHCP server)")))}
	if n.Static() {
		pairs = []kvPair{
			pair(l.t("アドレスの決め方", "address"), text(l.t("固定アドレス", "static address"))),
			pair(l.t("固定アドレス", "static address"), code(n.Address)),
			pair(l.t("デフォルトゲートウェイ", "default gateway"), none(strings.Fields(n.Gateway))),
			pair(l.t("DNS サーバー", "DNS servers"), none(n.DNS)),
		}
	} else {
		pairs = append(pairs, pair(l.t("予約するアドレス", "address to reserve"), b.gatewayAddr()))
	}
	host := n.Hostname
	if host == "" {
		host = "danzen"
	}
	ntp := none(n.NTPServers)
	if len(n.NTPServers) == 0 {
		ntp = bad(l.t("なし: 時刻は同期されません", "none: the time is not synchronised"))
	}
	return append(pairs,
		pair(l.t("ホスト名", "host name"), code(host)),
		pair(l.t("インターフェース", "interface"), code(n.Iface())),
		pair(l.t("NTP サーバー", "NTP servers"), ntp),
		pair(l.t("タイムゾーン", "time zone"), code(b.cfg.TimeZone)),
	)
}

// piOnlyChecks are what no test before delivery can prove for a
// Raspberry Pi: QEMU has no Pi machine, so the image's Pi parts are
// checked as files only, and these are checked on the board on day one.
func (b *builder) piOnlyChecks() []Block {
	if _, instance := b.board(); instance != instanceRPi {
		return nil
	}
	l := b.l
	chip := "pinctrl-rp1 / pinctrl-bcm2711"
	switch pi4, pi5 := b.piModels(); {
	case pi5 && !pi4:
		chip = "pinctrl-rp1"
	case pi4 && !pi5:
		chip = "pinctrl-bcm2711"
	}
	return []Block{ptext(l.t("実機でしか確かめられない項目(出荷前の試験は Raspberry Pi を起動できないため):", "Checked only on the real board (no test before delivery can boot a Raspberry Pi):")), checklist(
		titem(l.t("Pi のファームウェアがイメージを起動し、電源を入れ直しても再び起動した(イメージに含まれる EEPROM 更新の後も)。", "The Pi's firmware booted the image, and boots again after a power cycle (also after the EEPROM update the image carries).")),
		titem(l.f("配線テストで、リレーの GPIO チップ %s が見つかり、出力とセンス入力がヘッダの想定ピンで動いた。", "The wiring test found the relays' GPIO chip %s, and the output and sense input acted on the header pins expected.", chip)),
		titem(l.t("配線テストで、媒体が Pi 自身の USB ポートに現れ(シリアル番号が表示され)、切断後に消えた。媒体は自前の電源で動き、Pi の USB 給電に頼っていない。", "The wiring test showed each medium appear on the Pi's own USB ports (its serial shown) and vanish after the cut; media run on their own supply, not on the Pi's USB power.")),
		titem(l.t("作業用PCから書き込んだ更新(予備のルートパーティションと cmdline.txt の切り替え)で再起動し、画面に新しいビルドが表示された。", "An update written from the bench PC (the spare root partition and the cmdline.txt switch) rebooted into the new build, which the page shows.")),
		titem(l.t("最初のサイクルの取得時間と媒体の通電時間を控え、夜間の時間枠に収まった(AES 命令のない Pi 4 では bench/README.md の見積もり表と比べる)。", "The first cycle's pull time and the media's powered time were noted and fit the nightly window (on a Pi 4, without AES instructions, compare with the sizing table in bench/README.md).")),
	)}
}
