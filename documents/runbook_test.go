package documents_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/media/tape"
	"github.com/danzen-gw/danzen/relay"
)

// runbook builds the world's runbook: both forms in each language.
func runbook(t *testing.T, cfg *config.Config) map[string][]string {
	t.Helper()
	_, files := build(t, gather(t, cfg))
	out := map[string][]string{}
	for _, l := range documents.Langs {
		out[l] = doc(t, files, "build-runbook", l)
	}
	return out
}

// withCloudAndTape adds an object-locked S3 bucket without a relay and
// an LTO drive on a GPIO chip of an amd64 board (the amd64 image).
func withCloudAndTape(t *testing.T, w *world) {
	t.Helper()
	w.cfg.Relays = append(w.cfg.Relays, relay.Spec{Name: "relay-t", Driver: relay.DriverGPIO, Chip: "gpiochip1", Line: 3,
		Sense: &relay.SenseSpec{Chip: "gpiochip1", Line: 4}})
	w.cfg.Media = append(w.cfg.Media,
		config.Medium{Name: "cloud", Type: config.MediumS3, PasswordFile: "cloud.restic-password",
			S3: &s3.Spec{Name: "cloud", Endpoint: "s3.ap-northeast-1.example.jp", Region: "ap-northeast-1", Bucket: "sakura-backup", Prefix: "gw",
				AccessKeyID: "AKIAEXAMPLE", SecretKeyFile: "cloud.secret", MinRetentionDays: 100}},
		config.Medium{Name: "lto", Type: config.MediumTape, Relay: "relay-t", PasswordFile: "lto.restic-password",
			Tape: &tape.Spec{Name: "lto", SpoolDir: "/perm/danzen/spool/lto"}})
	if err := w.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

// pageSteps are what the runbook must send the engineer to on the page,
// in the page's words (TestRunbookQuotesThePage ties them to web/).
var pageSteps = map[string][]string{
	"ja": {"「導入手順」", "「1. ネットワークと時刻」", "「2. 取得元(電子カルテサーバ)」", "「3. リレーと媒体」", "「4. 通知」", "「5. 最初のサイクル」",
		"「保存して適用」", "「確認」", "「ホスト鍵を取得」", "「テスト」", "「配線テストを実行」", "「このディスクを媒体 disk-a にする」",
		"「パスワードを作成して表示(一度だけ)」", "「印刷」", "「リポジトリを作成」", "「すべての通知先にテスト通知を送る」", "「最初のサイクルを今すぐ実行」",
		"「ホスト鍵が変更されています」", "「証跡台帳をダウンロード(監査用・tar)」"},
	"en": {"“Commissioning”", "“1. Network and time”", "“2. The e-chart source”", "“3. Relays and media”", "“4. Alerts”", "“5. The first cycle”",
		"“Save and apply”", "“Confirm”", "“Fetch host key”", "“Test”", "“Run the wiring test”", "“Make this disk medium disk-a”",
		"“Create the password and show it (once)”", "“Print”", "“Create the repository”", "“Send a test notice through every channel”", "“Run the first cycle now”",
		"“HOST KEY CHANGED”", "“Download the ledger (for auditors, tar)”"},
}

// TestRunbookWalksThePageSteps: the runbook sends the engineer through
// the page's commissioning view, with the configuration's values filled
// in: the rollback, the authorized_keys line, the wiring test's stages,
// the password typed back, each medium's state after the first cycle.
func TestRunbookWalksThePageSteps(t *testing.T) {
	w := newWorld(t)
	w.cfg.Network.NTPServers = []string{"ntp.sakura-hp.example.jp"}
	rb := runbook(t, w.cfg)
	for _, l := range documents.Langs {
		mustContain(t, "runbook."+l, rb[l], pageSteps[l]...)
		mustContain(t, "runbook."+l, rb[l], "ntp.sakura-hp.example.jp", "Asia/Tokyo", `restrict,from="10.1.2.50" ssh-ed25519 `,
			"10.1.2.30", "danzen-emr", "/export/emr", "disk-a", "disk-b", "relay-a",
			`C:\Users\danzen-emr\.ssh\authorized_keys`, `C:\ProgramData\ssh\administrators_authorized_keys`, "/inheritance:r", "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub")
	}
	mustContain(t, "runbook.en", rb["en"], "within 2 minutes", fmt.Sprintf("last %d characters", gateway.TypedBackLen),
		"“relay on” → “sense input on” (within 5s)", "“sense input off” (within 12s)")
	mustContain(t, "runbook.ja", rb["ja"], "2分以内", fmt.Sprintf("末尾%d文字", gateway.TypedBackLen))
	mustContain(t, "runbook.en.md", rb["en"][1:], "| `disk-a` | cut, verified |")
	mustContain(t, "runbook.ja.md", rb["ja"][1:], "| `disk-a` | 切断中(確認済み) |")

	// A static address is the one from= names, without the hospital's field.
	w.cfg.Network = config.Network{Mode: config.NetworkStatic, Address: "10.1.2.60/24", Gateway: "10.1.2.1", NTPServers: []string{"10.1.2.1"}}
	w.cfg.Documents.GatewayAddress = ""
	set, files := build(t, gather(t, w.cfg))
	for _, m := range set.Missing {
		if m.Field == "documents.gateway_address" {
			t.Errorf("gateway_address listed as missing although the address is static: %v", m)
		}
	}
	mustContain(t, "runbook static", doc(t, files, "build-runbook", "en"), `restrict,from="10.1.2.60" ssh-ed25519 `, "10.1.2.60/24", "static address")

	// S3 and tape are prepared on the page too: the lock check and canary,
	// the tape labelled and ejected; a simulated relay is never offline.
	withCloudAndTape(t, w)
	w.cfg.Relays[1].Driver = relay.DriverSimulated
	rb = runbook(t, w.cfg)
	mustContain(t, "runbook cloud", rb["en"], "“S3 secret key”", s3.CanaryName, "COMPLIANCE, 100 days or more", "the tape labelled and the cartridge ejected",
		"“Relay relay-t: wiring test”")
	mustContain(t, "runbook cloud.md", rb["en"][1:], "| `cloud` | immutable, verified (Object Lock) |", "| `disk-b` | simulated — not offline |")
}

// cliCommand is any command of the danzen CLI.
var cliCommand = regexp.MustCompile(`\bdanzen (backup|pull|restore|drill|scan|docs|medium|hostkey|ledger|image|demo|config)\b`)

// TestRunbookNamesNoCLIOnTheAppliance: the appliance has no CLI and no
// shell. The runbook names no danzen command except in the sections done
// on a bench PC, and never the ones that used to stand for page steps.
func TestRunbookNamesNoCLIOnTheAppliance(t *testing.T) {
	w := newWorld(t)
	withCloudAndTape(t, w)
	for _, l := range documents.Langs {
		forms := runbook(t, w.cfg)[l]
		for i, form := range forms {
			for _, gone := range []string{"danzen medium init", "danzen hostkey", "danzen pull", "danzen backup"} {
				if strings.Contains(form, gone) {
					t.Errorf("runbook.%s (form %d) names %q: the appliance has no CLI", l, i, gone)
				}
			}
		}
		bench := map[string]string{"ja": "作業用PC", "en": "bench PC"}[l]
		verified := false
		for _, sec := range strings.Split(forms[1], "\n## ")[1:] {
			title, _, _ := strings.Cut(sec, "\n")
			if cmd := cliCommand.FindString(sec); cmd != "" && !strings.Contains(title, bench) {
				t.Errorf("runbook.%s: section %q names %q, but is not done on a bench PC", l, title, cmd)
			}
			if strings.Contains(title, bench) && strings.Contains(sec, "danzen ledger verify --dir danzen-ledger-gw-sakura-") {
				verified = true
			}
		}
		if !verified {
			t.Errorf("runbook.%s: no bench PC section verifies the exported ledger", l)
		}
	}
}

// TestRunbookSaysWhatTheBoardNeeds: a Raspberry Pi 4 has no hardware
// clock, so the rpi image's runbook requires an NTP server or an RTC
// add-on (and says so loudly where no NTP server is configured); an
// amd64 board is told what drives its relays today.
func TestRunbookSaysWhatTheBoardNeeds(t *testing.T) {
	pi4 := map[string]string{"ja": "Raspberry Pi 4 には電池で時刻を保つハードウェア時計(RTC)がありません", "en": "A Raspberry Pi 4 has no battery-backed hardware clock (RTC)"}
	noNTP := map[string]string{"ja": "NTP サーバが設定されていません。", "en": "No NTP server is configured."}
	addOn := map[string]string{"ja": "RTC 拡張ボード(Raspberry Pi 4)", "en": "RTC add-on board (Raspberry Pi 4)"}
	battery := map[string]string{"ja": "RTC バックアップ電池(Raspberry Pi 5)", "en": "RTC backup battery (Raspberry Pi 5)"}
	gpio := map[string]string{"ja": "GPIO のリレーは、カーネルが GPIO チップ(/dev/gpiochip*)として見せるラインだけを駆動できます", "en": "A GPIO relay drives only lines the kernel shows as a GPIO chip (/dev/gpiochip*)"}
	realPi := map[string]string{"ja": "実機でしか確かめられない項目", "en": "Checked only on the real board"}
	pi5Chip := map[string]string{"ja": "GPIO チップ pinctrl-rp1 が見つかり", "en": "found the relays' GPIO chip pinctrl-rp1,"}

	w := newWorld(t) // a Pi 5: its pins are on the RP1
	rb := runbook(t, w.cfg)
	for _, l := range documents.Langs {
		mustContain(t, "pi5."+l, rb[l], pi4[l], battery[l], realPi[l], pi5Chip[l])
		mustNotContain(t, "pi5."+l, rb[l], noNTP[l], addOn[l], gpio[l])
	}

	for i := range w.cfg.Relays { // the same wiring on a Pi 4
		w.cfg.Relays[i].Chip, w.cfg.Relays[i].Sense.Chip = "pinctrl-bcm2711", "pinctrl-bcm2711"
	}
	rb = runbook(t, w.cfg)
	for _, l := range documents.Langs {
		mustContain(t, "pi4."+l, rb[l], pi4[l], noNTP[l], addOn[l])
		mustNotContain(t, "pi4."+l, rb[l], battery[l])
	}
	w.cfg.Network.NTPServers = []string{"10.1.2.1"}
	rb = runbook(t, w.cfg)
	for _, l := range documents.Langs {
		mustContain(t, "pi4 with ntp."+l, rb[l], pi4[l])
		mustNotContain(t, "pi4 with ntp."+l, rb[l], noNTP[l])
	}

	withCloudAndTape(t, w) // tape: the amd64 image
	rb = runbook(t, w.cfg)
	for _, l := range documents.Langs {
		mustContain(t, "amd64."+l, rb[l], "danzen-amd64", gpio[l])
		mustNotContain(t, "amd64."+l, rb[l], pi4[l], addOn[l], battery[l], realPi[l])
	}
}

func mustNotContain(t *testing.T, what string, texts []string, unwanted ...string) {
	t.Helper()
	for i, s := range texts {
		for _, u := range unwanted {
			if strings.Contains(s, u) {
				t.Errorf("%s (form %d) contains %q", what, i, u)
			}
		}
	}
}

// TestRunbookQuotesThePage: every word of the page the runbook quotes (a
// step's heading, a link, a button) is in web/'s sources as it is quoted,
// in both languages: a button renamed on the page fails here.
func TestRunbookQuotesThePage(t *testing.T) {
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
	if src == "" {
		t.Fatal("web/'s sources not found")
	}
	for _, x := range append(documents.PageWords, documents.PageFormats...) {
		for _, s := range []string{x.JA, x.EN} {
			// Whole, or the start of a longer text ("…: why").
			if !strings.Contains(src, `"`+s+`"`) && !strings.Contains(src, `"`+s+`:`) {
				t.Errorf("the runbook quotes %q, which web/ does not say", s)
			}
		}
	}
}
