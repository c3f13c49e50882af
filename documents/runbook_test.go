package documents_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
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

// benchLabel is how a section done on a bench PC says so in its title.
var benchLabel = map[string]string{"ja": "作業用PC", "en": "bench PC"}

// TestRunbookFromExamplesRunsNoCLIOnTheAppliance: the runbooks of every
// example configuration and of the demo send the engineer to the page for
// everything on the appliance: a danzen command appears only in a section
// whose title says it is done on a bench PC, and the page's commissioning
// steps 1 to 5 are there.
func TestRunbookFromExamplesRunsNoCLIOnTheAppliance(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("..", "config", "examples", "*.json"))
	must(t, err)
	cfgs := map[string]*config.Config{}
	for _, n := range names {
		cfgs[filepath.Base(n)] = exampleWorld(t, filepath.Base(n))
	}
	env, err := demo.Setup(context.Background(), demo.Options{Dir: t.TempDir(), DumpBytes: 1 << 10, SmallFiles: 2, ResticBinary: "restic"}, slog.New(slog.DiscardHandler))
	must(t, err)
	t.Cleanup(func() { must(t, env.Close()) })
	cfgs["demo"] = env.Config
	if len(cfgs) < 4 {
		t.Fatalf("want the three examples and the demo, have %d", len(cfgs))
	}
	anyDanzen := regexp.MustCompile("(?m)(^|`)danzen [a-z]")
	steps := map[string][]string{
		"ja": {"「1. ネットワークと時刻」", "「2. 取得元(電子カルテサーバ)」", "「3. リレーと媒体」", "「4. 通知」", "「5. 最初のサイクル」"},
		"en": {"“1. Network and time”", "“2. The e-chart source”", "“3. Relays and media”", "“4. Alerts”", "“5. The first cycle”"},
	}
	for name, cfg := range cfgs {
		_, files := build(t, gather(t, cfg))
		for _, l := range documents.Langs {
			forms := doc(t, files, "build-runbook", l)
			mustContain(t, name+"."+l, forms, steps[l]...)
			for _, sec := range strings.Split(forms[1], "\n## ")[1:] {
				title, body, _ := strings.Cut(sec, "\n")
				if strings.Contains(title, benchLabel[l]) {
					continue
				}
				if m := anyDanzen.FindString(body); m != "" {
					t.Errorf("%s.%s: section %q has a danzen command line, but is not done on a bench PC", name, l, title)
				}
			}
		}
	}
}

// TestRunbookAsksTheVendor: the request sheet for the e-chart vendor is a
// section of its own on a new page, with the Linux and Windows Server
// steps as typed, the reply form (export path, completion marker, host key
// fingerprint, size and time window), and the account commands that give
// the key a home sshd reads.
func TestRunbookAsksTheVendor(t *testing.T) {
	w := newWorld(t)
	rb := runbook(t, w.cfg)
	want := map[string][]string{
		"ja": {"電子カルテベンダへの依頼書", "依頼書: 取得元 emr — 設定手順", "依頼書: ご回答欄", "ホスト鍵の指紋(SHA256:…)", "エクスポートの SFTP パス(chroot の中のパス)",
			"書き出しの最後にファイル EXPORT_COMPLETE を書く", "エクスポートを書き出す時間帯(開始〜完了)", "エクスポートの大きさ(全体、GB)と1日に変わる割合", "電子カルテベンダ 作業者",
			"本書末尾の「電子カルテベンダへの依頼書」を電子カルテのベンダに渡して依頼します"},
		"en": {"Request to the e-chart vendor", "Request: source emr — the steps", "Request: reply form", "host key fingerprint (SHA256:…)", "the export's SFTP path (inside the chroot)",
			"write the file EXPORT_COMPLETE last", "the time the export is written (start to finish)", "the export's size (all of it, GB) and the share that changes per day", "e-chart vendor engineer",
			"Hand the “Request to the e-chart vendor” at the end of this runbook to the e-chart vendor"},
	}
	linux := []string{
		"useradd --system --create-home --home-dir /home/danzen-emr --shell /usr/sbin/nologin danzen-emr",
		"install -d -o danzen-emr -m 700 /home/danzen-emr/.ssh",
		"cat > /home/danzen-emr/.ssh/authorized_keys <<'EOF'\nrestrict,from=\"10.1.2.50\" ssh-ed25519 ",
		"chmod 600 /home/danzen-emr/.ssh/authorized_keys",
		"ChrootDirectory /srv/danzen-chroot\n\tForceCommand internal-sftp -R -d /export/emr",
	}
	windows := []string{
		"Add-WindowsCapability -Online -Name OpenSSH.Server~~~~0.0.1.0",
		"Set-Service -Name sshd -StartupType Automatic\nStart-Service sshd",
		`New-LocalUser -Name danzen-emr -Password $pw -PasswordNeverExpires -UserMayNotChangePassword -Description "SFTP read-only account of the backup gateway"`,
		`Set-Content -Path C:\Users\danzen-emr\.ssh\authorized_keys -Encoding ascii -Value 'restrict,from="10.1.2.50" ssh-ed25519 `,
		`icacls C:\Users\danzen-emr\.ssh\authorized_keys /inheritance:r /grant "danzen-emr:R" /grant "SYSTEM:F" /grant "Administrators:F"`,
		`New-Item -ItemType Directory -Force C:\danzen-sftp\export\emr`,
		`icacls C:\danzen-sftp /inheritance:r /grant "SYSTEM:(OI)(CI)F" /grant "Administrators:(OI)(CI)F" /grant "danzen-emr:(OI)(CI)RX"`,
		"Set-NetFirewallRule -Name OpenSSH-Server-In-TCP -RemoteAddress 10.1.2.50",
		"Match User danzen-emr\n    ChrootDirectory C:\\danzen-sftp\n    ForceCommand internal-sftp -R -d /export/emr\n    AuthenticationMethods publickey",
		`C:\ProgramData\ssh\administrators_authorized_keys`,
		`& "$env:windir\System32\OpenSSH\sshd.exe" -t` + "\nRestart-Service sshd",
	}
	for _, l := range documents.Langs {
		mustContain(t, "request."+l, rb[l], want[l]...)
		mustContain(t, "request."+l, rb[l][1:], linux...)
		mustContain(t, "request."+l, rb[l][1:], windows...)
		mustNotContain(t, "request."+l, rb[l], "--home-dir / ", "--no-create-home")
		md := rb[l][1]
		if i, j := strings.Index(md, "\n## "), strings.Index(md, want[l][0]); j < 0 || j < i {
			t.Errorf("request.%s: the request sheet is not a section of its own", l)
		}
	}
	for _, l := range documents.Langs {
		if !regexp.MustCompile(`<section class="newpage">\s*<h2[^>]*>[^<]*` + regexp.QuoteMeta(want[l][0])).MatchString(rb[l][0]) {
			t.Errorf("request.%s: the request sheet does not start on a new page", l)
		}
	}
}

// TestRunbookNetworkAndStorage: the network step says what the gateway
// listens on and that from= needs a fixed address; the boot medium is
// sized from the export (the ledger's last pull) with the image builder's
// -size, and the sizing table's export sizes.
func TestRunbookNetworkAndStorage(t *testing.T) {
	w := newWorld(t)
	rb := runbook(t, w.cfg)
	want := map[string][]string{
		"ja": {"| 待ち受け | `TCP 8443` | ゲートウェイの画面(HTTPS、ログイン必須)。院内の管理用PCから |", "| 待ち受けない | `TCP 80` | gokrazy の管理画面と更新の受け口は、ゲートウェイ内部(root だけが使えるソケット)にしかない。更新は 8443 の画面から、ベンダの署名付きで |",
			"| 接続先 | `TCP 22 → 10.1.2.30` | 取得元 emr の SFTP(読み取りだけ) |", "電子カルテサーバからゲートウェイへ接続する必要はありません",
			"DHCP の場合は、DHCP サーバでこのゲートウェイにアドレスを予約してください",
			"データ領域 /perm は約0.9 GiB しかありません", "| 20 GB | `-size 41G` | 64 GB |", "| 500 GB | `-size 935G` | 2000 GB |",
			"Raspberry Pi 5 の取得/通電時間(1日5%変更、見積もり)"},
		"en": {"| listens | `TCP 8443` | the gateway's page (HTTPS, sign-in required), from the hospital's admin PCs |", "| closed | `TCP 80` | gokrazy's web interface and update endpoint exist only inside the gateway (a root-only socket); updates go through the page on 8443, signed by the vendor |",
			"| connects to | `TCP 22 → 10.1.2.30` | source emr's SFTP (read only) |", "The e-chart server never needs to connect to the gateway",
			"under DHCP, reserve an address for the gateway on the DHCP server",
			"the data partition /perm has only about 0.9 GiB", "| 20 GB | `-size 41G` | 64 GB |", "| 500 GB | `-size 935G` | 2000 GB |",
			"Raspberry Pi 5 pull / powered time (5% changed a day, estimated)"},
	}
	notYet := map[string]string{"ja": "エクスポートの大きさはまだ取得されていません", "en": "No export has been pulled yet"}
	for _, l := range documents.Langs {
		mustContain(t, "network."+l, rb[l][1:], want[l]...)
		mustContain(t, "network."+l, rb[l], notYet[l])
	}

	// After a pull of 40 GB and one of 10 GB: 50 GB needs 2×46.6 GiB + 3.1.
	lg, err := ledger.Open(w.cfg.LedgerDir)
	must(t, err)
	for src, gb := range map[string]int64{"emr": 40, "order": 10} {
		_, err := lg.Append(context.Background(), ledger.Entry{Kind: ledger.KindPull, Actor: ledger.ActorSystem,
			Data: data(t, ledger.PullData{Source: src, OK: true, Staged: ledger.PullCount{Files: 3, Bytes: gb * 1e9}})})
		must(t, err)
	}
	must(t, lg.Close())
	in, err := documents.Gather(context.Background(), w.cfg, periodFrom, time.Now().Add(time.Hour), time.Now())
	must(t, err)
	_, files := build(t, in)
	sized := map[string]string{"ja": "この設定に必要な容量: エクスポート 50.0 GB(最後の取得、全取得元の合計)→ イメージ 97 GiB、起動媒体 128 GB 以上。",
		"en": "This configuration needs: export 50.0 GB (the last pull, all sources) → image 97 GiB, a boot medium of 128 GB or more."}
	for _, l := range documents.Langs {
		f := doc(t, files, "build-runbook", l)
		mustContain(t, "sized."+l, f, sized[l], "go run ./gokrazy/cmd/danzen-image -out build/ -size 97G danzen-rpi")
		mustNotContain(t, "sized."+l, f, notYet[l])
		// Updates: signed by the vendor's key, sent to the page over HTTPS.
		mustContain(t, "update."+l, f, "make update-key", "-update-only -bundle -sign-key build/keys/update.key danzen-rpi", "danzen image push --cert-sha256 ")
		mustNotContain(t, "update."+l, f, "danzen-image -push")
	}
}
