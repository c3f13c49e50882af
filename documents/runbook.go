package documents

import (
	"fmt"
	"math"

	"github.com/danzen-gw/danzen/bench/sizing"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
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
	d.Sections = append(d.Sections, b.imageSection(), b.storageSection(), b.firstStartSection(), b.networkSection(), b.listenSection())
	d.Sections = append(d.Sections, b.sourceSections()...)
	d.Sections = append(d.Sections, b.mediaSection(), b.alertsSection(), b.firstCycleSection(), b.hostKeyRotationSection(), b.ledgerBenchSection())
	d.Sections = append(d.Sections, Section{Title: l.t("受入試験", "Acceptance test"), NewPage: true, Blocks: b.acceptance()})
	d.Sections = append(d.Sections, b.requestSections()...)
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
			item(text(l.t("作業用PC(Debian/Ubuntu、リポジトリを取得したもの)で、必要なパッケージを入れる: ", "On the bench PC (Debian/Ubuntu, with the repository), install the tools it needs: ")), code("make image-deps")),
			item(text(l.t("更新の署名鍵を一度だけ作る(公開鍵 build/keys/update.pub がイメージに登録される。秘密鍵 update.key はネットワークにつながない場所に2部保管する。失うと現地で書き直すまで更新できない): ",
				"Make the update signing key, once (the public key build/keys/update.pub is pinned in the image; keep the private key update.key offline, in two copies: lost, the gateway takes no update until rewritten on site): ")), code("make update-key")),
			item(text(l.t("イメージを作る(大きさ -size は次節で決める): ", "Build the image (its -size is chosen in the next section): ")), code(fmt.Sprintf("go run ./gokrazy/cmd/danzen-image -out build/ -size %s %s", b.imageSizeArg(), instance))),
			item(text(l.t("書き込み先(SDカードまたはSSD)を lsblk で確認してから書き込む: ", "Find the target (SD card or SSD) with lsblk, then write: ")), code(fmt.Sprintf("dd if=%s of=/dev/sdX bs=4M conv=fsync status=progress", img))),
			item(text(l.f("gok では作らない: gok のイメージには更新の署名鍵が入らず(画面から更新できない)、gokrazy の管理画面が平文の TCP 80 で院内LANに開きます(%s は実験用にだけ)",
				"Do not build it with gok: a gok image has no update key (no update through the page) and opens gokrazy's page in clear on TCP 80 to the LAN (%s is for a test bench only)",
				fmt.Sprintf("gok -i %s overwrite", instance)))),
		),
		note(text(l.t("以後の更新は、秘密鍵で署名した更新ファイルだけを受け付ける(署名・機種・新しさを確かめ、予備のルート領域に書き、一致してから切り替える)。作業用PCで作り: ",
			"Later updates are taken only as bundles signed with the private key (signature, board and newer build checked, written to the spare root partition, switched to only when everything matched). Make one on the bench PC: ")),
			code(fmt.Sprintf("go run ./gokrazy/cmd/danzen-image -update-only -bundle -sign-key build/keys/update.key %s", instance)),
			text(l.f("、画面の「ファームウェア更新」(%s)で送るか、証明書の指紋(画面の /tls)を確かめて: ", ", then send it on the page's Firmware update view (%s), or, with the certificate fingerprint the page shows under /tls: ", "/system/update")),
			code(fmt.Sprintf("danzen image push --cert-sha256 %s --user vendor %s:8443 build/%s.bundle", l.t("指紋", "FINGERPRINT"), orDash(b.gatewayIP()), instance))),
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

// Storage on the boot card or SSD: the image's fixed partitions (boot and
// two root file systems, gokrazy/build's layout) and /perm, which holds
// the staging copy of every export (the whole export, plus what a pull
// brings in beside it: twice the export), restic's cache and the ledger.
const (
	imageFixedGiB   = 1.1 // 100 MiB boot + 2 × 500 MiB root, rounded up
	defaultImageGiB = 2   // danzen-image's -size default, what `make image` builds
	permMarginGiB   = 2   // restic's cache and temp files, the ledger (139 MB in ten years)
)

// imageSizeGiB is the -size an export of exportGB needs: /perm twice the
// export plus the margin, over the fixed partitions, rounded up.
func imageSizeGiB(exportGB float64) int {
	exportGiB := exportGB * 1e9 / (1 << 30)
	return int(math.Ceil(imageFixedGiB + 2*exportGiB + permMarginGiB))
}

// cardSizeGB is the smallest common card or SSD size that holds an image
// of sizeGiB.
func cardSizeGB(sizeGiB int) int {
	need := float64(sizeGiB) * (1 << 30) / 1e9
	for _, gb := range []int{32, 64, 128, 256, 512, 1000, 2000, 4000} {
		if float64(gb) >= need {
			return gb
		}
	}
	return int(math.Ceil(need/1000)) * 1000
}

// knownExportGB is the sum over the sources of the last good pull's staged
// bytes, in GB; false before the first pull of any source.
func (b *builder) knownExportGB() (float64, bool) {
	last := map[string]int64{}
	for _, e := range b.in.Entries {
		if e.Kind != ledger.KindPull {
			continue
		}
		if p, err := ledger.Decode[ledger.PullData](e); err == nil && p.OK {
			last[p.Source] = p.Staged.Bytes
		}
	}
	var sum int64
	for _, v := range last {
		sum += v
	}
	return float64(sum) / 1e9, len(last) > 0
}

// imageSizeArg is danzen-image's -size for this configuration: from the
// last pull's export when known, else a placeholder the next section's
// table fills.
func (b *builder) imageSizeArg() string {
	if gb, ok := b.knownExportGB(); ok {
		return fmt.Sprintf("%dG", imageSizeGiB(gb))
	}
	return "<N>G"
}

// storageSection sizes the boot card or SSD from the export, with the
// sizing table's export sizes and the board's estimated nightly times.
func (b *builder) storageSection() Section {
	l := b.l
	_, instance := b.board()
	blocks := []Block{
		ptext(l.f("make image が作るイメージは %d GiB で、起動・ルート領域(約%.1f GiB)を除くと、データ領域 /perm は約0.9 GiB しかありません。取得したエクスポートの作業コピー(%s)は /perm に置かれ、エクスポート全体と、取得中にその横に届く分を合わせて、エクスポートの2倍が要ります。restic のキャッシュと証跡台帳(10年で約139MB)に %d GiB を加えます。イメージの大きさは作業用PCで -size に指定し、/perm はその残りすべてになります。起動媒体はそれ以上の容量のものを選びます。",
			"The image make image builds is %d GiB: after the boot and root partitions (about %.1f GiB) the data partition /perm has only about 0.9 GiB. The working copy of the pulled exports (%s) lives on /perm and needs twice the export: the whole export, plus what a pull brings in beside it. Add %d GiB for restic's cache and the evidence ledger (about 139 MB in ten years). Give the image's size with -size on the bench PC; /perm takes all the rest. Choose a boot card or SSD at least that large.",
			defaultImageGiB, imageFixedGiB, b.cfg.StagingDir, permMarginGiB)),
	}
	if gb, ok := b.knownExportGB(); ok {
		size := imageSizeGiB(gb)
		blocks = append(blocks,
			para(strong(l.f("この設定に必要な容量: エクスポート %.1f GB(最後の取得、全取得元の合計)→ イメージ %d GiB、起動媒体 %d GB 以上。", "This configuration needs: export %.1f GB (the last pull, all sources) → image %d GiB, a boot medium of %d GB or more.", gb, size, cardSizeGB(size)))),
			codeBlock(fmt.Sprintf("go run ./gokrazy/cmd/danzen-image -out build/ -size %dG %s", size, instance)))
	} else {
		blocks = append(blocks, ptext(l.t("エクスポートの大きさはまだ取得されていません(最初の取得のあと本書を再生成すると、ここに必要な容量が表示されます)。それまでは、依頼書の回答欄で電子カルテのベンダが答えた大きさから、下の表で選びます。",
			"No export has been pulled yet (regenerate this runbook after the first pull and the size needed shows here). Until then, choose from the table below with the size the e-chart vendor gives in the request's reply form.")))
	}
	blocks = append(blocks, b.sizingTable(instance))
	return Section{Title: l.t("起動媒体の容量(作業用PC)", "Boot medium size (on a bench PC)"), Blocks: blocks}
}

// sizingTable is the image and card size per export size of bench/sizing,
// with the board's estimated nightly times at 5% change (ESTIMATED there).
func (b *builder) sizingTable(instance string) Block {
	l := b.l
	data, err := sizing.Load()
	if err != nil {
		return note(bad(l.f("見積もり表を読めません: %v", "The sizing table cannot be read: %v", err)))
	}
	boardName := map[string]string{instanceRPi: "Raspberry Pi 5"}[instance]
	if pi4, pi5 := b.piModels(); pi4 && !pi5 {
		boardName = "Raspberry Pi 4"
	}
	if boardName == "" {
		boardName = "amd64 mini PC"
	}
	var board *sizing.Board
	for i := range data.Boards {
		if data.Boards[i].Name == boardName {
			board = &data.Boards[i]
		}
	}
	var rows [][]Cell
	for _, gb := range data.ExportsGB {
		size := imageSizeGiB(gb)
		times := "—"
		if board != nil {
			e := data.Estimate(*board, gb, 5)
			times = sizing.Duration(e.Pull) + " / " + sizing.Duration(e.Powered)
		}
		rows = append(rows, []Cell{tcell(fmt.Sprintf("%g GB", gb)), cell(code(fmt.Sprintf("-size %dG", size))), tcell(fmt.Sprintf("%d GB", cardSizeGB(size))), tcell(times)})
	}
	return table([]string{l.t("エクスポート", "export"), l.t("イメージ", "image"), l.t("起動媒体", "boot medium"),
		l.f("%s の取得/通電時間(1日5%%変更、見積もり)", "%s pull / powered time (5%% changed a day, estimated)", boardName)}, rows, "")
}

// listenSection says what the gateway listens on, what it connects to,
// and who should be able to reach it.
func (b *builder) listenSection() Section {
	l, cfg := b.l, b.cfg
	rows := [][]Cell{
		{tcell(l.t("待ち受け", "listens")), cell(code("TCP 8443")), tcell(l.t("ゲートウェイの画面(HTTPS、ログイン必須)。院内の管理用PCから", "the gateway's page (HTTPS, sign-in required), from the hospital's admin PCs"))},
		{tcell(l.t("待ち受けない", "closed")), cell(code("TCP 80")), tcell(l.t("gokrazy の管理画面と更新の受け口は、ゲートウェイ内部(root だけが使えるソケット)にしかない。更新は 8443 の画面から、ベンダの署名付きで", "gokrazy's web interface and update endpoint exist only inside the gateway (a root-only socket); updates go through the page on 8443, signed by the vendor"))},
	}
	if !cfg.Network.Static() {
		rows = append(rows, []Cell{tcell(l.t("接続先", "connects to")), cell(code("UDP 67")), tcell(l.t("DHCP サーバ(アドレスの取得)", "the DHCP server (its address)"))})
	}
	for _, s := range cfg.Sources {
		rows = append(rows, []Cell{tcell(l.t("接続先", "connects to")), cell(code(fmt.Sprintf("TCP %d → %s", s.Port, s.Host))), tcell(l.f("取得元 %s の SFTP(読み取りだけ)", "source %s's SFTP (read only)", s.Name))})
	}
	rows = append(rows, []Cell{tcell(l.t("接続先", "connects to")), cell(code("UDP 123")), tcell(l.t("院内の NTP サーバ", "the hospital's NTP servers"))})
	if e := cfg.Alerts.Email; e != nil {
		rows = append(rows, []Cell{tcell(l.t("接続先", "connects to")), cell(code(e.Server)), tcell(l.t("通知メール(SMTP)", "alert mail (SMTP)"))})
	}
	if w := cfg.Alerts.Webhook; w != nil {
		rows = append(rows, []Cell{tcell(l.t("接続先", "connects to")), cell(code(w.URL)), tcell(l.t("通知 Webhook(HTTPS)", "alert webhook (HTTPS)"))})
	}
	for _, m := range cfg.Media {
		if m.S3 != nil {
			rows = append(rows, []Cell{tcell(l.t("接続先", "connects to")), cell(code("TCP 443 → " + m.S3.Endpoint)), tcell(l.f("媒体 %s(S3)", "medium %s (S3)", m.Name))})
		}
	}
	return Section{Title: l.t("ゲートウェイの通信", "What the gateway listens on and connects to"), Blocks: []Block{
		table([]string{l.t("向き", "direction"), l.t("ポート・宛先", "port, address"), l.t("用途", "purpose")}, rows, ""),
		ptext(l.t("電子カルテサーバからゲートウェイへ接続する必要はありません(取得はゲートウェイから始めます)。TCP 8443 は、スイッチやファイアウォールで院内の管理用PC・作業用PCからだけ届くようにしてください。ゲートウェイにはSSHもシェルもなく、平文で待ち受けるポートもありません。",
			"The e-chart server never needs to connect to the gateway (the gateway starts every pull). Let TCP 8443 be reached only from the hospital's admin PCs and the bench PC, on the switch or a firewall. The gateway has no SSH, no shell and no port that listens in clear.")),
	}}
}
