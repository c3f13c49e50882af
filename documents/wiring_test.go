package documents_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/relay"
)

var svgLine = regexp.MustCompile(`<line x1="(\d+)" y1="(\d+)" x2="(\d+)" y2="(\d+)"[^>]*data-net="([^"]+)"`)

// netsOf reads a drawing's wires back: each end point with the nets that
// end there, and the set of nets.
func netsOf(svg string) (map[string]map[string]bool, map[string]bool) {
	ends := map[string]map[string]bool{}
	nets := map[string]bool{}
	for _, m := range svgLine.FindAllStringSubmatch(svg, -1) {
		nets[m[5]] = true
		for _, p := range []string{m[1] + "," + m[2], m[3] + "," + m[4]} {
			if ends[p] == nil {
				ends[p] = map[string]bool{}
			}
			ends[p][m[5]] = true
		}
	}
	return ends, nets
}

// checkDrawings: in every wiring drawing no two nets meet at a point (so
// IN, the supplies, GND and the return are separate wires), and the coil
// supply, the return and the data cable are drawn.
func checkDrawings(t *testing.T, name string, files map[string]string, want ...string) {
	t.Helper()
	n := 0
	for f, svg := range files {
		if !strings.HasPrefix(f, "wiring-") {
			continue
		}
		n++
		ends, nets := netsOf(svg)
		for p, at := range ends {
			if len(at) > 1 {
				t.Errorf("%s %s: nets %v touch at %s", name, f, at, p)
			}
		}
		for _, w := range append([]string{"24v", "supply+", "medium+", "supply-", "data"}, want...) {
			if !nets[w] {
				t.Errorf("%s %s: no %q wire", name, f, w)
			}
		}
	}
	if n == 0 {
		t.Errorf("%s: no wiring drawing", name)
	}
}

func runbookOf(t *testing.T, cfg *config.Config) (map[string][]string, map[string]string) {
	t.Helper()
	_, files := build(t, gather(t, cfg))
	rb := map[string][]string{}
	for _, l := range documents.Langs {
		rb[l] = doc(t, files, "build-runbook", l)
	}
	return rb, files
}

// TestPiRunbookPartsAndSense: the Pi 5 example (force-guided relays'
// auxiliary contacts, pull-up) lists parts that can be bought, with R1's
// value and current, draws every net apart, names the header's 3.3 V and
// GND pins (not 5 V), and the console the setup code is read on.
func TestPiRunbookPartsAndSense(t *testing.T) {
	cfg := exampleWorld(t, "pi5-two-disks.json")
	rb, files := runbookOf(t, cfg)
	want := map[string][]string{
		"ja": {"強制ガイドリレー OMRON G7SA-2A2B DC24 とソケット P7SA-10F-ND DC24", "コイルドライバ 東芝 TBD62003APG(ULN2003 互換、7回路)",
			"リレーのコイル用 DC 24V 電源 OMRON S8VK-G01524(15W、DIN レール)", "コイル 2 個で 30 mA", "R1 抵抗 1 kΩ 1/4W(補助接点のセンス)", "接点に 3.3 mA 流れる",
			"センス(pull=up active_low=false): 強制ガイドリレー G7SA-2A2B の補助接点(NC)を、センス入力と GND の間につなぐ。センス入力と 3.3V の間に R1 1 kΩ(1/4W)を入れる。リレーが切れている間は NC が閉じ、R1 に 3.3 mA 流れる",
			"Raspberry Pi Debug Probe(Raspberry Pi 5 のシリアルコンソール)", "micro-HDMI–HDMI ケーブルとモニタ(任意)", "セットアップコードは画面ではなくシリアルコンソールに表示されます",
			"電源の − は媒体の − へ直接つなぎ、切り替えません"},
		"en": {"force-guided relay OMRON G7SA-2A2B DC24 with socket P7SA-10F-ND DC24", "coil driver Toshiba TBD62003APG (ULN2003-compatible, 7 channels)",
			"24 V DC supply for the relay coils, OMRON S8VK-G01524 (15 W, DIN rail)", "2 coils draw 30 mA", "R1 resistor 1 kΩ 1/4 W (auxiliary-contact sense)", "3.3 mA through the contact",
			"Sense (pull=up active_low=false): wire the G7SA-2A2B's auxiliary NC contact between the sense input and GND, and R1 1 kΩ (1/4 W) between the sense input and 3.3 V. While the relay is off the NC contact is closed and 3.3 mA flows through R1",
			"Raspberry Pi Debug Probe (Raspberry Pi 5 serial console)", "micro-HDMI to HDMI cable and a monitor (optional)", "the setup code appears on the serial console, not on the screen",
			"The supply's − goes straight to the medium's −, never switched"},
	}
	for _, l := range documents.Langs {
		mustContain(t, "runbook."+l, rb[l], want[l]...)
		mustNotContain(t, "runbook."+l, rb[l], "PC817", "VCC", "USB–RS-232C")
		for _, r := range []string{"relay-disk-a", "relay-disk-b"} {
			svg := files["wiring-"+r+"."+l+".svg"]
			for _, w := range []string{"3.3V · pin 1", "GND · pin 6", "R1 1 kΩ", "TBD62003APG", "G7SA-2A2B DC24", "+24V"} {
				if !strings.Contains(svg, w) {
					t.Errorf("wiring-%s.%s.svg lacks %q", r, l, w)
				}
			}
			if strings.Contains(svg, "pin 2") || strings.Contains(svg, "VCC") {
				t.Errorf("wiring-%s.%s.svg still draws the header's 5 V", r, l)
			}
		}
	}
	checkDrawings(t, "pi5", files, "gpio-out", "coil", "gnd", "3v3", "sense")
}

// TestOptocouplerSenseValues: a GPIO sense taken from the medium's supply
// (pull-up, active_low) is built with a PC817 whose R2 is given per supply
// voltage with its current and dissipation, and R1 with its current.
func TestOptocouplerSenseValues(t *testing.T) {
	cfg := exampleWorld(t, "pi5-two-disks.json")
	cfg.Relays[1].Sense.ActiveLow = true
	rb, files := runbookOf(t, cfg)
	want := map[string][]string{
		"ja": {"フォトカプラ PC817(Sharp PC817XNNSZ0F)とダイオード 1N4148", "R1 抵抗 10 kΩ 1/4W(フォトカプラの出力側)",
			"媒体の電源電圧で選ぶ: 5V は 750 Ω、12V は 2.2 kΩ、24V は 4.7 kΩ(LED 電流 約5 mA)",
			"出力はコレクタ(4番)をセンス入力へ、エミッタ(3番)を GND へ。R1 10 kΩ(1/4W)をセンス入力と 3.3V の間に入れる。R1 に流れるのは 0.33 mA で、PC817 は LED 電流 5 mA、最小の電流伝達率 50% でも 2.5 mA まで流せるため、確実に飽和する。",
			"DC 5V", "750 Ω(1/4W)", "5.1 mA", "19 mW", "DC 12V", "2.2 kΩ(1/4W)", "4.9 mA", "53 mW", "DC 24V", "4.7 kΩ(1/4W)", "111 mW"},
		"en": {"optocoupler PC817 (Sharp PC817XNNSZ0F) with a 1N4148 diode", "R1 resistor 10 kΩ 1/4 W (the optocoupler's output)",
			"by the medium's supply voltage: 750 Ω for 5V, 2.2 kΩ for 12V, 4.7 kΩ for 24V (about 5 mA LED current)",
			"Its output: the collector (pin 4) to the sense input, the emitter (pin 3) to GND; R1 10 kΩ (1/4 W) between the sense input and 3.3 V. R1 passes 0.33 mA, and the PC817 sinks up to 2.5 mA at 5 mA LED current and its least current transfer ratio of 50%, so it saturates.",
			"2.2 kΩ (1/4 W)", "4.9 mA", "53 mW"},
	}
	for _, l := range documents.Langs {
		mustContain(t, "runbook."+l, rb[l], want[l]...)
		svg := files["wiring-relay-disk-b."+l+".svg"]
		for _, w := range []string{"PC817", "R1 10 kΩ", "1N4148"} {
			if !strings.Contains(svg, w) {
				t.Errorf("wiring-relay-disk-b.%s.svg lacks %q", l, w)
			}
		}
	}
	checkDrawings(t, "pi5 optocoupler", files, "sense")
	for _, l := range documents.Langs {
		if _, nets := netsOf(files["wiring-relay-disk-b."+l+".svg"]); !nets["led"] {
			t.Errorf("wiring-relay-disk-b.%s.svg: no wire from R2 to the LED", l)
		}
	}
}

// TestAmd64RunbookHasNoHeaderPins: the amd64 examples (a GPIO chip, a
// Modbus relay module) print no Raspberry Pi pin, and read the setup code
// on the board's serial port; their drawings keep every net apart.
func TestAmd64RunbookHasNoHeaderPins(t *testing.T) {
	for _, name := range []string{"amd64-tape.json", "amd64-rdx-s3.json"} {
		cfg := exampleWorld(t, name)
		rb, files := runbookOf(t, cfg)
		for _, l := range documents.Langs {
			mustContain(t, name+"."+l, rb[l], map[string]string{"ja": "USB–RS-232C ケーブル(例: FTDI US232R-10)", "en": "a USB–RS-232C cable (e.g. FTDI US232R-10)"}[l])
			mustNotContain(t, name+"."+l, rb[l], "40ピンヘッダ", "header pin", "Raspberry Pi Debug Probe", "micro-HDMI")
			for f, svg := range files {
				if strings.HasPrefix(f, "wiring-") && regexp.MustCompile(`pin \d`).MatchString(svg) {
					t.Errorf("%s %s names a header pin", name, f)
				}
			}
		}
		checkDrawings(t, name, files)
	}
	// The tape example's sense is pull-down with active_low: the NC
	// contact switches the input to 3.3 V, R1 pulls it to GND.
	cfg := exampleWorld(t, "amd64-tape.json")
	rb, _ := runbookOf(t, cfg)
	mustContain(t, "tape.en", rb["en"], "Sense (pull=down active_low=true): wire the G7SA-2A2B's auxiliary NC contact between the sense input and 3.3 V, and R1 1 kΩ (1/4 W) between the sense input and GND.",
		"tape drive (medium lto)")
}

// TestUplinkRelayIsNotAMedium: the relay of an S3 bucket's uplink is drawn
// as the uplink device it powers, never as "medium cloud".
func TestUplinkRelayIsNotAMedium(t *testing.T) {
	cfg := exampleWorld(t, "amd64-rdx-s3.json")
	cfg.Relays = append(cfg.Relays, relay.Spec{Name: "relay-uplink", Driver: relay.DriverModbus, Chip: "din-relay", Line: 1,
		Sense: &relay.SenseSpec{Chip: "din-relay", Line: 1}})
	for i := range cfg.Media {
		if cfg.Media[i].Name == "cloud" {
			cfg.Media[i].Relay = "relay-uplink"
		}
	}
	rb, files := runbookOf(t, cfg)
	label := map[string]string{"ja": "回線装置(媒体 cloud のネットワーク回線)", "en": "uplink device (network uplink of medium cloud)"}
	for _, l := range documents.Langs {
		mustContain(t, "runbook."+l, rb[l], label[l])
		svg := files["wiring-relay-uplink."+l+".svg"]
		if !strings.Contains(svg, label[l]) || !strings.Contains(svg, "LAN") {
			t.Errorf("wiring-relay-uplink.%s.svg does not draw the uplink device and its LAN cable", l)
		}
		for _, bad := range []string{">媒体 cloud<", ">medium cloud<", "relay-uplink(媒体 cloud)", "relay-uplink (medium cloud)"} {
			if strings.Contains(svg, bad) || strings.Contains(rb[l][0], bad) {
				t.Errorf("%s: the uplink relay is labelled %q", l, bad)
			}
		}
		// The module's own input on the supply: the sense from the
		// switched +, its common on the supply's −.
		if !strings.Contains(svg, "DI2") {
			t.Errorf("wiring-relay-uplink.%s.svg lacks DI2", l)
		}
	}
	checkDrawings(t, "uplink", files)
}

// TestAcceptanceSenseWireMessages: the loose-sense-wire check expects the
// wiring test's own words for the relay's wiring: an auxiliary contact
// fails at power-on as no change and at the cut as still ON; an
// optocoupler fails at power-on as still OFF.
func TestAcceptanceSenseWireMessages(t *testing.T) {
	cfg := exampleWorld(t, "pi5-two-disks.json")
	cfg.Relays[1].Sense.ActiveLow = true // relay-disk-b: optocoupler
	rb, _ := runbookOf(t, cfg)
	mustContain(t, "acceptance.ja", rb["ja"],
		"リレー relay-disk-a: 通電を確認できません(指令の前からセンス入力がONで、変化を確認できません。リレーの固着またはセンス配線の断線を点検してください)",
		"リレー relay-disk-a: 切断を確認できません(10s 経ってもセンス入力がONのまま。媒体に給電されている可能性があります。リレー接点の溶着と配線を点検してください)",
		"リレー relay-disk-b: 通電を確認できません(5s 経ってもセンス入力がOFFのまま。リレーの故障、電源、センス配線を点検してください)",
		"電源オンの段階で見つかります(媒体の電源からとるセンスは、線が外れると OFF を読むため)",
		"「センス入力がオン」に次の表示が出た")
	mustContain(t, "acceptance.en", rb["en"],
		"relay relay-disk-a: power-on not verified: sense input already read ON before the command, so no change was seen; check for a stuck relay or a broken sense wire",
		"relay relay-disk-a: cut not verified: sense input still reads ON after 10s; the medium may still be powered: check the relay for a welded contact and the wiring",
		"relay relay-disk-b: power-on not verified: sense input still reads OFF after 5s; check the relay, its supply and the sense wiring",
		"it shows at power-on (a sense taken from the medium's supply reads OFF with its wire loose)")
	for _, l := range documents.Langs {
		// Not the old claim that every loose wire shows as a cut not verified.
		mustNotContain(t, "acceptance."+l, rb[l], "センス線を外して実行すると「切断を確認できません」となり", "with the sense wire removed the cut shows as NOT verified")
	}
}

// TestAcceptanceUplinkWriteBackAndStockRestore: the acceptance test
// registers the S3 line on the self-scan's register, sets up and uses the
// write-back account (or says it is missing), and restores once with
// stock restic on another PC.
func TestAcceptanceUplinkWriteBackAndStockRestore(t *testing.T) {
	cfg := exampleWorld(t, "amd64-rdx-s3.json")
	rb, _ := runbookOf(t, cfg)
	mustContain(t, "acceptance.ja", rb["ja"],
		"媒体 cloud の S3 への回線を新しい外部接続点として登録した: 画面の「自己診断」 → 「外部接続点の台帳(回線・機器情報)」 → 「接続点を追加」で",
		"接続先 s3.ap-northeast-1.amazonaws.com", "「脆弱性診断を行う(この接続点のアドレスを調べる)」にチェックを付けて「保存」を押した。",
		"書き戻し用アカウントが設定されていません(restore.targets)。", "「設定」 → 「書き戻し先(書き込み用アカウント)」の「追加」で登録し",
		"ゲートウェイを使わない復元(媒体 rdx、別のPC)", "媒体 rdx を標準の restic で別のPCに復元し、SHA-256 がすべて一致した")
	mustContain(t, "acceptance.en", rb["en"],
		"the line medium cloud reaches S3 over was registered as a new connection point: on the page's “Self-scan” → “Register of connection points” → “Add a connection point”",
		"No write-back account is configured (restore.targets).", "Restore without the gateway (medium rdx, another PC)")

	cfg.Restore.Targets = []config.RestoreTarget{{Name: "emr-back", Host: "emr.hospital.example", Port: 22, User: "danzen-restore", KeyFile: "emr-back.key", BaseDir: "/restore"}}
	rb, _ = runbookOf(t, cfg)
	mustContain(t, "acceptance.ja", rb["ja"], "書き戻し先 emr-back(danzen-restore@emr.hospital.example、書き込み用の別アカウント)",
		"「電子カルテサーバへ SFTP で書き戻す(書き込み用の別アカウント)」、「書き戻し先」 emr-back", "「媒体に通電して復元」を押した。", "/restore/acceptance")
	mustContain(t, "acceptance.en", rb["en"], "Send-back target emr-back (danzen-restore@emr.hospital.example, the separate write-enabled account)", "/restore/acceptance")
	for _, l := range documents.Langs {
		mustNotContain(t, "acceptance."+l, rb[l], "書き戻し用アカウントが設定されていません", "No write-back account is configured")
	}
}

// TestAcceptanceQuotesThePage: the page words the acceptance test quotes
// are in web/'s sources, in both languages.
func TestAcceptanceQuotesThePage(t *testing.T) {
	var web strings.Builder
	for _, pattern := range []string{"../web/*.go", "../web/assets/*.html"} {
		names, err := filepath.Glob(pattern)
		must(t, err)
		for _, n := range names {
			if strings.HasSuffix(n, "_test.go") {
				continue
			}
			b, err := os.ReadFile(n)
			must(t, err)
			web.Write(b)
		}
	}
	src := web.String()
	for _, x := range documents.AcceptancePageWords {
		for _, s := range []string{x.JA, x.EN} {
			if !strings.Contains(src, `"`+s+`"`) {
				t.Errorf("the page does not say %q", s)
			}
		}
	}
}
