package documents_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/documents/pdf"
	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/netprobe/register"
	"github.com/danzen-gw/danzen/relay"
)

var jst = time.FixedZone("JST", 9*3600)

// The evidence period: one week in October, Japan time.
var (
	periodFrom = time.Date(2026, 10, 1, 0, 0, 0, 0, jst)
	periodTo   = time.Date(2026, 10, 8, 0, 0, 0, 0, jst)
)

const secretPassword = "correct-horse-battery-staple-0123456789"

// world is a realistic gateway: two e-chart sources, two USB disks on GPIO
// relays with sense inputs, mail and webhook alerts, the hospital's fields,
// and a ledger with a week of cycles, cuts, a failure and a drill.
type world struct {
	cfg     *config.Config
	hostKey ssh.PublicKey
}

func newWorld(t *testing.T) *world {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.GatewayID = "gw-sakura"
	cfg.StagingDir = filepath.Join(dir, "staging")
	cfg.SecretsDir = filepath.Join(dir, "secrets")
	cfg.LedgerDir = filepath.Join(dir, "ledger")
	cfg.Schedule = "30 1 * * *"
	cfg.Retention = config.Retention{KeepLast: 5, KeepMonthly: 3}
	cfg.Rotation = config.Rotation{PerCycle: 1}
	must(t, os.MkdirAll(cfg.SecretsDir, 0o700))

	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, _ := ssh.NewSignerFromKey(hostPriv)
	w := &world{cfg: cfg, hostKey: hostSigner.PublicKey()}
	for i, name := range []string{"emr", "order"} {
		s := config.DefaultSource()
		s.Name = name
		s.Host = fmt.Sprintf("10.1.2.%d", 30+i)
		s.User = "danzen-" + name
		s.KeyFile = name + ".key"
		s.ExportDir = "/export/" + name
		s.KnownHosts = []string{knownhosts.Line([]string{s.Host}, w.hostKey)}
		s.Completion = config.Completion{Mode: config.CompletionMarker, Marker: "EXPORT_COMPLETE"}
		cfg.Sources = append(cfg.Sources, s)
	}
	// Only the first source has its pull key yet.
	_, clientPriv, _ := ed25519.GenerateKey(rand.Reader)
	blk, err := ssh.MarshalPrivateKey(clientPriv, "")
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(cfg.SecretsDir, "emr.key"), pem.EncodeToMemory(blk), 0o600))

	cfg.Relays = []relay.Spec{
		{Name: "relay-a", Driver: relay.DriverGPIO, Chip: "pinctrl-rp1", Line: 17, ActiveLow: true,
			Sense: &relay.SenseSpec{Chip: "pinctrl-rp1", Line: 27, Pull: relay.PullUp}, OffTimeout: relay.Duration(12 * time.Second)},
		{Name: "relay-b", Driver: relay.DriverGPIO, Chip: "pinctrl-rp1", Line: 22, ActiveLow: true,
			Sense: &relay.SenseSpec{Chip: "pinctrl-rp1", Line: 23, ActiveLow: true, Pull: relay.PullUp}},
	}
	cfg.Media = []config.Medium{
		{Name: "disk-a", Type: config.MediumDisk, Relay: "relay-a", PasswordFile: "disk-a.restic-password",
			Disk: &disk.Spec{Name: "disk-a", Serial: "WD-WX11A12345", FSUUID: "0b6f1c2e-3d4a-4f5b-8c6d-7e8f9a0b1c2d", MediaID: "SAKURA-A"}},
		{Name: "disk-b", Type: config.MediumDisk, Relay: "relay-b", PasswordFile: "disk-b.restic-password",
			Disk: &disk.Spec{Name: "disk-b", Serial: "RDX-0099887766", MediaID: "SAKURA-B", RDX: true}},
	}
	for _, m := range cfg.Media {
		must(t, os.WriteFile(filepath.Join(cfg.SecretsDir, m.PasswordFile), []byte(secretPassword+m.Name), 0o600))
	}
	cfg.Alerts = alert.Spec{
		Email:   &alert.EmailSpec{Server: "mail.sakura-hp.example.jp", From: "danzen@sakura-hp.example.jp", To: []string{"it-staff@sakura-hp.example.jp"}},
		Webhook: &alert.WebhookSpec{URL: "https://alerts.sakura-hp.example.jp/hook"},
	}
	cfg.Documents = config.Documents{
		HospitalName:    "さくら総合病院",
		SystemsCovered:  []string{"電子カルテ", "オーダリング"},
		Responsible:     "情報システム室長 山田 花子",
		Operator:        "情報システム室 佐藤 一郎",
		VendorContact:   "カルテベンダ株式会社 保守窓口 03-1234-5678",
		MediaStorage:    "本館地下1階 サーバ室 施錠キャビネット",
		PasswordStorage: "事務長室 金庫(封筒 No.7)",
		RPO:             duration.Duration(24 * time.Hour),
		RTO:             duration.Duration(4 * time.Hour),
		DrillSchedule:   "毎年10月 第2火曜日",
		GatewayAddress:  "10.1.2.50",
		SFTPChroot:      "/srv/danzen-chroot",
		BCP: config.BCP{
			Document:       "事業継続計画(情報システム編)第3版",
			Systems:        []config.BCPSystem{{Order: 1, Name: "電子カルテ", Frequency: "毎日", Method: "保守ベンダのバックアップ装置", Restore: "保守ベンダが復元", Platform: "Windows Server 2022"}},
			Contacts:       []config.BCPContact{{Role: "情報システム室長", Name: "山田 花子", Phone: "内線 2001"}},
			ReportMHLW:     "厚生労働省 医政局 特定医薬品開発支援・医療情報担当参事官室",
			ReportPolice:   "県警 サイバー犯罪相談窓口",
			ReportPPC:      "個人情報保護委員会 漏えい等報告フォーム",
			PaperOperation: "紙運用マニュアル(各部署の赤ファイル)",
		},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	writeLedger(t, cfg.LedgerDir)
	return w
}

// must fails the test at a setup step that did not work.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func at(day, hour, min int) time.Time { return time.Date(2026, 10, day, hour, min, 0, 0, jst) }

func data(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// drill is the drill record the evidence report and the plan must show.
var drill = ledger.RestoreData{
	ID: "drill-20261005", Drill: true, Medium: "disk-a", Snapshot: "4f3c2a1b", SnapTime: at(3, 1, 50), Source: "emr",
	Dest: "scratch", Actor: "sato", Started: at(5, 10, 0), PowerOnMS: 9000, FirstByteMS: 15000, RestoreMS: 12 * 60000,
	TotalMS: 13 * 60000, Files: 1234, Bytes: 5 << 30, FilesVerified: 1234, CheckRan: true, CheckOK: true, CutVerified: true, OK: true,
}

func writeLedger(t *testing.T, dir string) {
	t.Helper()
	now := at(1, 0, 0)
	l, err := ledger.OpenWith(dir, ledger.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { must(t, l.Close()) }()
	add := func(when time.Time, e ledger.Entry) {
		now = when
		if e.Actor == "" {
			e.Actor = ledger.ActorSystem
		}
		if _, err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	cut := func(relay string) []byte {
		return data(t, ledger.CutData{Relay: relay, SenseOff: true, DeviceGone: true, ElapsedMS: 2300})
	}
	// Before the period: disk-a was cut and verified.
	add(time.Date(2026, 9, 30, 2, 0, 0, 0, jst), ledger.Entry{Kind: ledger.KindPowerOn, Medium: "disk-a"})
	add(time.Date(2026, 9, 30, 2, 30, 0, 0, jst), ledger.Entry{Kind: ledger.KindPowerOffVerified, Medium: "disk-a", Data: cut("relay-a")})
	cycle := func(day int, medium, relay string, ok bool, minutes int) {
		id := fmt.Sprintf("c%02d", day)
		add(at(day, 1, 30), ledger.Entry{Kind: ledger.KindCycleStart, Data: data(t, map[string]any{"cycle": id})})
		add(at(day, 2, 0), ledger.Entry{Kind: ledger.KindPowerOn, Medium: medium})
		for i, src := range []string{"emr", "order"} {
			add(at(day, 2, 5+i), ledger.Entry{Kind: ledger.KindSnapshot, Medium: medium, Data: data(t, map[string]any{
				"cycle": id, "source": src, "snapshot": fmt.Sprintf("snap%02d%s", day, src[:1]), "data_added": 123456789, "files": 400 + i})})
		}
		add(at(day, 2, 10), ledger.Entry{Kind: ledger.KindCheck, Medium: medium, Data: data(t, ledger.CheckData{OK: true, Detail: "read-data-subset 5%"})})
		if ok {
			add(at(day, 2, minutes), ledger.Entry{Kind: ledger.KindPowerOffVerified, Medium: medium, Message: msg.Legacy("切断を確認 / cut verified"), Data: cut(relay)})
		} else {
			add(at(day, 2, minutes), ledger.Entry{Kind: ledger.KindPowerOffUnverified, Medium: medium,
				Message: msg.Legacy("切断を確認できません(オフラインではありません) / cut NOT verified: the medium is not offline"),
				Data:    data(t, ledger.CutData{Relay: relay, Reason: msg.Legacy("センス入力がONのままです / the sense input still reads ON")})})
			add(at(day, 2, minutes), ledger.Entry{Kind: ledger.KindError, Medium: medium, Message: msg.Legacy("デバイスが残っています / the device is still present")})
		}
		add(at(day, 2, minutes+1), ledger.Entry{Kind: ledger.KindCycleEnd, Data: data(t, map[string]any{"cycle": id, "ok": ok})})
	}
	cycle(1, "disk-a", "relay-a", true, 30)
	cycle(2, "disk-b", "relay-b", false, 40)
	cycle(3, "disk-a", "relay-a", true, 20)
	cycle(4, "disk-b", "relay-b", true, 30)
	add(at(5, 10, 13), ledger.Entry{Kind: ledger.KindDrill, Medium: "disk-a", Actor: "sato", Data: data(t, drill)})
	failed := drill
	failed.ID, failed.Medium, failed.Snapshot, failed.Started, failed.OK, failed.CheckOK = "drill-20261006", "disk-b", "9e8d7c6b", at(6, 10, 0), false, false
	failed.Error = msg.T("パックが壊れています", "a pack is damaged")
	add(at(6, 10, 20), ledger.Entry{Kind: ledger.KindDrill, Medium: "disk-b", Actor: "sato", Data: data(t, failed)})
}

func build(t *testing.T, in *documents.Input) (*documents.Set, map[string]string) {
	t.Helper()
	set, err := documents.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	files, err := set.Files()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		if _, dup := out[f.Name]; dup {
			t.Fatalf("file name %s made twice", f.Name)
		}
		out[f.Name] = string(f.Data)
	}
	return set, out
}

func gather(t *testing.T, cfg *config.Config) *documents.Input {
	t.Helper()
	in, err := documents.Gather(context.Background(), cfg, periodFrom, periodTo, at(8, 9, 0))
	if err != nil {
		t.Fatal(err)
	}
	in.CertFingerprint = "AB:CD:EF:01:23:45:67:89"
	return in
}

// doc returns both forms of one document in one language.
func doc(t *testing.T, files map[string]string, id, lang string) []string {
	t.Helper()
	h, ok1 := files[documents.FileName(id, lang, documents.FormatHTML)]
	m, ok2 := files[documents.FileName(id, lang, documents.FormatMarkdown)]
	if !ok1 || !ok2 {
		t.Fatalf("%s.%s not generated", id, lang)
	}
	return []string{h, m}
}

func mustContain(t *testing.T, what string, texts []string, wants ...string) {
	t.Helper()
	for i, s := range texts {
		for _, w := range wants {
			if !strings.Contains(s, w) && !strings.Contains(s, mdEsc.Replace(w)) && !strings.Contains(html.UnescapeString(s), w) {
				t.Errorf("%s (form %d) does not contain %q", what, i, w)
			}
		}
	}
}

// mdEsc is how the Markdown form escapes plain text.
var mdEsc = strings.NewReplacer(`_`, `\_`, "*", `\*`, "|", `\|`)

var (
	signTable   = regexp.MustCompile(`(?s)<table class="sign">.*?</table>`)
	placeholder = regexp.MustCompile(`\{\{|\}\}|<no value>|%!|TODO|XXX|\bnull\b|\bundefined\b`)
)

// TestEveryDocumentCarriesTheConfiguration renders every document from
// the realistic world and checks each configured value where it belongs.
func TestEveryDocumentCarriesTheConfiguration(t *testing.T) {
	w := newWorld(t)
	cfg := w.cfg
	in := gather(t, cfg)
	set, files := build(t, in)
	if len(set.Missing) != 0 {
		t.Errorf("every person field is filled, yet missing: %v", set.Missing)
	}
	if got := len(set.Docs); got != len(documents.All)*len(documents.Langs) {
		t.Fatalf("%d documents, want %d", got, len(documents.All)*len(documents.Langs))
	}
	for name, body := range files {
		if m := placeholder.FindString(body); m != "" {
			t.Errorf("%s holds a placeholder %q", name, m)
		}
		if strings.Contains(body, `<span class="missing">`) || strings.Contains(body, "**【") {
			t.Errorf("%s prints the not-filled-in marker although every field is filled", name)
		}
		if strings.Contains(body, secretPassword) {
			t.Errorf("%s prints a repository password", name)
		}
		if strings.HasSuffix(name, ".html") {
			b := signTable.ReplaceAllString(body, "")
			for _, empty := range []string{"<td></td>", "<tbody></tbody>", "<p></p>", "<li></li>", "<pre></pre>", "<th></th>"} {
				if strings.Contains(b, empty) {
					t.Errorf("%s has an empty element %s", name, empty)
				}
			}
			if !strings.Contains(body, "size: A4") || !strings.Contains(body, "break-before: page") {
				t.Errorf("%s has no A4 print CSS", name)
			}
		}
	}
	d := cfg.Documents
	for _, l := range documents.Langs {
		for _, info := range documents.All {
			mustContain(t, info.ID+"."+l, doc(t, files, info.ID, l), d.HospitalName)
		}
		plan := doc(t, files, "offline-backup-plan", l)
		mustContain(t, "plan."+l, plan, "電子カルテ", "オーダリング", d.Responsible, d.Operator, d.VendorContact, d.MediaStorage, d.PasswordStorage, d.DrillSchedule,
			"10.1.2.30:22", "10.1.2.31:22", "danzen-emr", "/export/order", "EXPORT_COMPLETE", "disk-a", "disk-b", "relay-a", "relay-b",
			"WD-WX11A12345", "0b6f1c2e-3d4a-4f5b-8c6d-7e8f9a0b1c2d", "SAKURA-B", "Asia/Tokyo", "5%",
			"it-staff@sakura-hp.example.jp", "https://alerts.sakura-hp.example.jp/hook", "4f3c2a1b")
		mustContain(t, "plan."+l, plan, map[string]string{"ja": "毎日 01:30", "en": "daily at 01:30"}[l]) // the schedule in words
		annex := doc(t, files, "operations-annex", l)
		mustContain(t, "annex."+l, annex, "disk-a", "disk-b", "relay-a", "WD-WX11A12345", "SAKURA-A", string(alert.KindMediumNotOff), string(alert.KindSourceAnomaly), string(alert.KindLedgerFull),
			"it-staff@sakura-hp.example.jp", d.PasswordStorage, "01:30") // the schedule in words
		runbook := doc(t, files, "build-runbook", l)
		mustContain(t, "runbook."+l, runbook, "Raspberry Pi 5", "danzen-rpi", "GPIO17", "GPIO27", "GPIO22", "GPIO23",
			"PC817", "danzen-emr", "danzen-order", "10.1.2.50", "AB:CD:EF:01:23:45:67:89", ssh.FingerprintSHA256(w.hostKey),
			"mkfs.ext4 -L DANZEN-DISK-A -U 0b6f1c2e-3d4a-4f5b-8c6d-7e8f9a0b1c2d", "danzen ledger verify --dir danzen-ledger-gw-sakura-", "RDX")
		recov := doc(t, files, "recovery-sheet", l)
		mustContain(t, "recovery."+l, recov, d.PasswordStorage, d.MediaStorage,
			"mount -t ext4 -o ro,noload /dev/disk/by-uuid/0b6f1c2e-3d4a-4f5b-8c6d-7e8f9a0b1c2d /mnt/disk-a",
			"restic -r /mnt/disk-a/restic --password-file /root/disk-a.restic-password --no-lock snapshots --host gw-sakura",
			"restic -r /mnt/disk-b/restic --password-file /root/disk-b.restic-password --no-lock restore snap04o --target /srv/restore/order",
			"sha256sum -c --quiet", "WD-WX11A12345", "RDX-0099887766")
		// Header pins next to their GPIO numbers (Raspberry Pi 40-pin header).
		for _, pin := range [][2]int{{17, 11}, {27, 13}, {22, 15}, {23, 16}} {
			mustContain(t, "runbook pins."+l, runbook[:1], fmt.Sprintf("GPIO%d · pin %d", pin[0], pin[1]))
		}
		_ = annex
	}
	// The one tested sshd Match block and the authorized_keys line.
	for _, l := range documents.Langs {
		for _, form := range doc(t, files, "build-runbook", l)[1:] {
			block := backup.SSHDMatchBlock(backup.SSHDAccount{User: "danzen-emr", Chroot: "/srv/danzen-chroot", ExportDir: "/export/emr", GatewayIP: "10.1.2.50"})
			if !strings.Contains(form, strings.TrimRight(block, "\n")) {
				t.Errorf("runbook.%s.md lacks the Match block:\n%s", l, block)
			}
			if !strings.Contains(form, `restrict,from="10.1.2.50" ssh-ed25519 `) {
				t.Errorf("runbook.%s.md lacks the authorized_keys line", l)
			}
		}
	}
	// The second source has no key yet: the runbook says so instead of a blank.
	mustContain(t, "runbook key note", doc(t, files, "build-runbook", "en"), "Source order has no key yet")
}

// TestEvidenceReport checks the figures against the ledger: hours
// connected versus cut per medium, each cut, the failure, the snapshots,
// the drill and the head hash.
func TestEvidenceReport(t *testing.T) {
	w := newWorld(t)
	in := gather(t, w.cfg)
	if !in.Verify.OK {
		t.Fatalf("ledger does not verify: %v", in.VerifyErr)
	}
	_, files := build(t, in)
	en := doc(t, files, "evidence-report", "en")
	ja := doc(t, files, "evidence-report", "ja")
	row := func(texts []string, medium string, cells ...string) {
		t.Helper()
		h := texts[0]
		re := regexp.MustCompile(`<tr><td><code>` + medium + `</code></td>(.*?)</tr>`)
		m := re.FindStringSubmatch(h)
		if m == nil {
			t.Fatalf("no summary row for %s", medium)
		}
		var vals []string
		for _, g := range regexp.MustCompile(`<td>(.*?)</td>`).FindAllStringSubmatch(m[1], -1) {
			vals = append(vals, regexp.MustCompile(`<[^>]*>`).ReplaceAllString(g[1], ""))
		}
		if !slices.Equal(vals[:len(cells)], cells) {
			t.Errorf("%s: summary %v, want prefix %v", medium, vals, cells)
		}
	}
	// disk-a: cut before the period; on 30 min on the 1st and 20 min on the 3rd.
	row(en, "disk-a", "0.8", "167.2", "0.0", "2", "2")
	// disk-b: no record until the 2nd 02:00 (26 h), then connected — the
	// unverified cut keeps it connected — until the verified cut on the
	// 4th at 02:30 (48.5 h), then cut (93.5 h).
	row(en, "disk-b", "48.5", "93.5", "26.0", "1", "1")
	mustContain(t, "evidence.en", en, "the sense input still reads ON", "snap01e", "snap04o", "read-data-subset 5%", "4f3c2a1b", "12m", "1234 / 1234", in.Verify.LastHash, "OK: the hash chain")
	mustContain(t, "evidence.ja", ja, "センス入力がONのままです", "12分", in.Verify.LastHash, "正常")
	// The failed drill is both a drill record and a failure.
	mustContain(t, "evidence.en failed drill", en, "9e8d7c6b", "FAILED a pack is damaged", "a pack is damaged")
	if n := strings.Count(en[0], "a pack is damaged"); n != 2 {
		t.Errorf("the failed drill appears %d times, want 2 (drills and failures)", n)
	}
	if in.Verify.LastHash == "" || len(in.Verify.LastHash) != 64 {
		t.Fatalf("head hash %q", in.Verify.LastHash)
	}

	// A ledger edited after the fact is reported as such, not hidden.
	p := filepath.Join(w.cfg.LedgerDir, ledger.FileName)
	raw, err := os.ReadFile(p)
	must(t, err)
	must(t, os.WriteFile(p, bytes.Replace(raw, []byte("snap01e"), []byte("snap01x"), 1), 0o600))
	in2 := gather(t, w.cfg)
	_, files2 := build(t, in2)
	mustContain(t, "evidence after tampering", doc(t, files2, "evidence-report", "en"), "FAILED")
}

// TestMissingFieldsAreMarkedAndListed leaves the person-entered fields
// empty: each is printed as the marker and listed with its documents.
func TestMissingFieldsAreMarkedAndListed(t *testing.T) {
	w := newWorld(t)
	w.cfg.Documents = config.Documents{HospitalName: "さくら総合病院", SFTPChroot: "/srv/danzen-chroot"}
	set, files := build(t, gather(t, w.cfg))
	var fields []string
	for _, m := range set.Missing {
		fields = append(fields, m.Field)
		if len(m.Docs) == 0 || m.Label.JA == "" || m.Label.EN == "" {
			t.Errorf("missing field without label or documents: %+v", m)
		}
	}
	slices.Sort(fields)
	want := []string{"documents.bcp.contacts", "documents.bcp.document", "documents.bcp.paper_operation", "documents.bcp.report_mhlw",
		"documents.bcp.report_police", "documents.bcp.report_ppc", "documents.bcp.systems",
		"documents.drill_schedule", "documents.gateway_address", "documents.media_storage", "documents.operator",
		"documents.password_storage", "documents.responsible", "documents.rpo", "documents.rto", "documents.systems_covered", "documents.vendor_contact"}
	if !slices.Equal(fields, want) {
		t.Errorf("missing fields\n got %v\nwant %v", fields, want)
	}
	for _, l := range documents.Langs {
		plan := doc(t, files, "offline-backup-plan", l)
		marker, other := documents.MissingMarker.JA, documents.MissingMarker.EN
		if l == "en" {
			marker, other = other, marker
		}
		if n := strings.Count(plan[0], `<span class="missing">`+marker+`</span>`); n < 8 {
			t.Errorf("plan.%s shows the marker %d times, want at least 8", l, n)
		}
		mustContain(t, "plan.md."+l, plan[1:], "**【"+marker+"】**")
		if strings.Contains(plan[0], other) {
			t.Errorf("plan.%s shows the marker of the other language, %q", l, other)
		}
		// The authorized_keys line cannot be made without the address.
		rb := doc(t, files, "build-runbook", l)
		if strings.Contains(rb[1], "restrict,from=") {
			t.Errorf("runbook.%s prints an authorized_keys line without the gateway address", l)
		}
	}
	// The gateway's automatic restore measurement is not the BCP's
	// exercise: with one scheduled, the exercise schedule a person plans
	// is still asked for, and the measurement is said in words.
	w.cfg.Restore.DrillSchedule = "0 10 1 4 *"
	set, files = build(t, gather(t, w.cfg))
	if !slices.ContainsFunc(set.Missing, func(m documents.MissingField) bool { return m.Field == "documents.drill_schedule" }) {
		t.Error("the exercise schedule is not asked for when only the automatic measurement is scheduled")
	}
	mustContain(t, "plan with drill schedule", doc(t, files, "offline-backup-plan", "en"), "It is not an exercise but material for one. Scheduled: every year on 1 April at 10:00 (Asia/Tokyo), by the gateway itself.")
	mustContain(t, "plan with drill schedule", doc(t, files, "offline-backup-plan", "ja"), "これは訓練・演習ではなく、その材料です。予定: 毎年4月1日 10:00", "に自動で実行します。")
	mustContain(t, "annex with drill schedule", doc(t, files, "operations-annex", "en"), "The gateway's restore measurement (material for the exercise): every year on 1 April at 10:00 (Asia/Tokyo), by the gateway itself.")
	// The hospital's own name missing shows in the header of every page.
	w.cfg.Documents.HospitalName = ""
	set, files = build(t, gather(t, w.cfg))
	if !slices.ContainsFunc(set.Missing, func(m documents.MissingField) bool {
		return m.Field == "documents.hospital_name" && len(m.Docs) == len(documents.All)
	}) {
		t.Errorf("hospital_name not listed as missing from every document: %v", set.Missing)
	}
	if !strings.Contains(files["recovery-sheet.ja.html"], `@top-left { content: "`) {
		t.Error("no page header")
	}
}

// TestUnknownMediumTypeSaysSeeVendor: a type this generator does not know
// is printed as a clear pointer to the vendor's procedure, never a guess.
func TestUnknownMediumTypeSaysSeeVendor(t *testing.T) {
	w := newWorld(t)
	w.cfg.Relays = append(w.cfg.Relays, relay.Spec{Name: "relay-n", Driver: relay.DriverSimulated})
	w.cfg.Media = append(w.cfg.Media, config.Medium{Name: "nas-1", Type: "nas", Relay: "relay-n", PasswordFile: "nas.pw"})
	_, files := build(t, gather(t, w.cfg))
	for _, id := range []string{"offline-backup-plan", "operations-annex", "build-runbook", "recovery-sheet"} {
		mustContain(t, id, doc(t, files, id, "en"), `Medium nas-1 is of type "nas", which this generator does not describe. See the vendor's procedure`)
		mustContain(t, id, doc(t, files, id, "ja"), `保守ベンダの手順書を参照`)
	}
	mustContain(t, "runbook", doc(t, files, "build-runbook", "en"), `This relay's driver is "simulated", which drives no real relay`)
}

// TestWiringSVG parses every drawing as XML and finds each pin named.
func TestWiringSVG(t *testing.T) {
	w := newWorld(t)
	set, files := build(t, gather(t, w.cfg))
	n := 0
	for _, d := range set.Docs {
		for _, f := range d.Figures {
			if !strings.HasPrefix(f.File, "wiring-") {
				continue // the plan's network diagram
			}
			n++
			svg := files[f.File]
			dec := xml.NewDecoder(strings.NewReader(svg))
			var texts []string
			root := ""
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s is not XML: %v", f.File, err)
				}
				switch x := tok.(type) {
				case xml.StartElement:
					if root == "" {
						root = x.Name.Local
					}
				case xml.CharData:
					texts = append(texts, string(x))
				}
			}
			all := strings.Join(texts, "\n")
			if root != "svg" {
				t.Errorf("%s: root element %q", f.File, root)
			}
			r := w.cfg.Relays[0]
			if strings.Contains(f.File, "relay-b") {
				r = w.cfg.Relays[1]
			}
			for _, want := range []string{fmt.Sprintf("GPIO%d · pin", r.Line), fmt.Sprintf("GPIO%d · pin", r.Sense.Line), "NO", "COM", "GND · pin 6"} {
				if !strings.Contains(all, want) {
					t.Errorf("%s does not name %q:\n%s", f.File, want, all)
				}
			}
			if !strings.Contains(files[documents.FileName(d.ID, d.Lang, documents.FormatMarkdown)], "]("+f.File+")") {
				t.Errorf("the Markdown does not link %s", f.File)
			}
		}
	}
	if n != 4 { // two relays, two languages
		t.Errorf("%d drawings, want 4", n)
	}
}

// TestPrintInChromium prints every HTML document to PDF in headless
// Chromium and takes a PNG of the plan; any console error fails.
func TestPrintInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("drives headless Chromium: make test runs it, -short skips it")
	}
	chromium := pdf.FindChromium()
	if chromium == "" {
		t.Fatal("chromium not found: install Debian's chromium package (make test does)")
	}
	w := newWorld(t)
	set, err := documents.Build(gather(t, w.cfg))
	if err != nil {
		t.Fatal(err)
	}
	files, err := set.Files()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := pdf.NewPrinter(ctx, chromium, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	out := os.Getenv("DANZEN_SCREENSHOTS")
	if out == "" {
		out = t.TempDir()
	}
	names, err := documents.WriteAll(ctx, out, files, p)
	if err != nil {
		t.Fatal(err)
	}
	pdfs := 0
	for _, n := range names {
		if strings.HasSuffix(n, ".pdf") {
			pdfs++
			b, _ := os.ReadFile(filepath.Join(out, n))
			if len(b) < 10_000 {
				t.Errorf("%s is only %d bytes", n, len(b))
			}
		}
	}
	if pdfs != len(set.Docs) {
		t.Errorf("%d PDFs, want %d", pdfs, len(set.Docs))
	}
	plan := filepath.Join(out, documents.FileName("offline-backup-plan", "ja", documents.FormatHTML))
	if err := chromedp.Do(p.Context(), chromedp.Navigate("file://"+plan)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(p.Context(), chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatal("no PNG")
	}
	must(t, os.WriteFile(filepath.Join(out, "offline-backup-plan.ja.png"), png, 0o644))
	// The runbook starts its wiring, accounts, media and acceptance test
	// on new pages.
	pdf, _ := os.ReadFile(filepath.Join(out, "build-runbook.ja.pdf"))
	if n := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf, -1)); n < 5 {
		t.Errorf("build-runbook.ja.pdf has %d pages, want at least 5", n)
	}
	// The papers of every example configuration print too (a Pi with GPIO
	// relays, amd64 with a relay module, RDX and S3, amd64 with tape).
	examples, err := filepath.Glob("../config/examples/*.json")
	must(t, err)
	for _, ex := range examples {
		cfg := loadExample(t, filepath.Base(ex))
		exSet, err := documents.Build(&documents.Input{Config: cfg, From: periodFrom, To: periodTo, Now: at(8, 9, 0)})
		must(t, err)
		exFiles, err := exSet.Files()
		must(t, err)
		exNames, err := documents.WriteAll(ctx, t.TempDir(), exFiles, p)
		must(t, err)
		if n := len(slices.DeleteFunc(exNames, func(n string) bool { return !strings.HasSuffix(n, ".pdf") })); n != len(exSet.Docs) {
			t.Errorf("%s: %d PDFs, want %d", ex, n, len(exSet.Docs))
		}
	}
	if errs := p.ConsoleErrors(); len(errs) > 0 {
		t.Fatalf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	// The check above can fail: a page with a script error is caught.
	badPage := filepath.Join(t.TempDir(), "bad.html")
	must(t, os.WriteFile(badPage, []byte(`<!doctype html><p>x</p><script>undefinedFunction()</script>`), 0o644))
	if _, err := p.PDF(ctx, badPage); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50 && len(p.ConsoleErrors()) == 0; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if len(p.ConsoleErrors()) == 0 {
		t.Error("a script error was not reported")
	}
}

// TestCloudAndTapeMedia: the S3 and tape sections say what Object Lock and
// the tape eject do, and how to restore each with stock tools.
func TestCloudAndTapeMedia(t *testing.T) {
	w := newWorld(t)
	withCloudAndTape(t, w)
	_, files := build(t, gather(t, w.cfg))
	recov := doc(t, files, "recovery-sheet", "en")
	mustContain(t, "recovery", recov,
		"export AWS_ACCESS_KEY_ID=AKIAEXAMPLE",
		"restic -r s3:https://s3.ap-northeast-1.example.jp/sakura-backup/gw --password-file /root/cloud.restic-password --no-lock snapshots --host gw-sakura",
		"mt -f /dev/nst0 status", "restic -r /srv/restore-tape/lto/repo --password-file /root/lto.restic-password --no-lock restore latest")
	mustContain(t, "annex", doc(t, files, "operations-annex", "en"), "Object Lock (COMPLIANCE mode, default retention of at least 100 days)", s3.CanaryName, "ejected (MTOFFL)")
	mustContain(t, "runbook", doc(t, files, "build-runbook", "en"), "amd64 mini PC with a SAS HBA", "danzen-amd64", "--object-lock-enabled-for-bucket", "CONFIG_CHR_DEV_ST=y", "gpiochip1 line 3")
	if strings.Contains(files["recovery-sheet.en.html"], "secret-value") {
		t.Error("a secret is printed")
	}
}

// TestHostileFieldsAreEscaped: text a person typed can never become markup,
// neither in the page header's CSS nor in the body or the Markdown.
func TestHostileFieldsAreEscaped(t *testing.T) {
	w := newWorld(t)
	w.cfg.Documents.HospitalName = `"}</style><script>alert(1)</script>`
	w.cfg.Documents.Responsible = `<img src=x onerror=alert(2)>`
	_, files := build(t, gather(t, w.cfg))
	for name, body := range files {
		for _, bad := range []string{"<script>alert", "<img src=x", "</style><script"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}

// TestSelfScanReport lays the newest stored self-scan out in the
// programme's table, and says so plainly when none has run.
func TestSelfScanReport(t *testing.T) {
	w := newWorld(t)
	cfgDir := t.TempDir()
	in := gather(t, w.cfg)
	if in.Scan, in.ScanErr = documents.LatestScan(cfgDir, w.cfg); in.Scan != nil || in.ScanErr != nil {
		t.Fatalf("no scan yet: %v %v", in.Scan, in.ScanErr)
	}
	_, files := build(t, in)
	mustContain(t, "no scan", doc(t, files, "self-scan-report", "en"), "No self-scan has run yet")

	rep := &netprobe.Report{Started: at(7, 3, 0), Finished: at(7, 3, 5), FeedDate: "2026-09-30", TCPPorts: "1-65535", Targets: []netprobe.Target{
		{No: 1, Point: register.Point{ID: "CAF00001", Maker: "Fortinet", Model: "FortiGate 60F", GlobalIP: "203.0.113.10"},
			Findings: []netprobe.Finding{{Rule: netprobe.RuleKEV, Caution: true, Text: msg.T("既知の悪用された脆弱性 CVE-2018-13379", "known exploited CVE-2018-13379")}}},
		{No: 2, Point: register.Point{ID: "CAF00002", Maker: "Yamaha", Model: "RTX1300"}},
	}}
	if _, err := (netprobe.Store{Dir: filepath.Join(cfgDir, "scans")}).Save(rep); err != nil {
		t.Fatal(err)
	}
	if in.Scan, in.ScanErr = documents.LatestScan(cfgDir, w.cfg); in.Scan == nil {
		t.Fatalf("stored scan not found: %v", in.ScanErr)
	}
	_, files = build(t, in)
	mustContain(t, "scan.en", doc(t, files, "self-scan-report", "en"), "CAF00001", "Fortinet FortiGate 60F", "203.0.113.10 (WAN)", "注意",
		"known exploited CVE-2018-13379", "CAF00002", "調査不可 (IPアドレス不明)", "nothing found", "2026-09-30")
	mustContain(t, "scan.ja", doc(t, files, "self-scan-report", "ja"), "既知の悪用された脆弱性 CVE-2018-13379", "指摘事項なし")
}

// TestEachDocumentInOneLanguage: what the core says in both languages (a
// ledger entry's message, a cut's reason, a drill's error, a ledger or
// self-scan failure, the not-filled-in marker) is printed in the
// document's language only, never cut from a "日本語 / English" string.
func TestEachDocumentInOneLanguage(t *testing.T) {
	w := newWorld(t)
	w.cfg.Documents.Responsible = "" // prints the marker
	in := gather(t, w.cfg)
	in.Verify.OK = false
	in.VerifyErr = msg.Wrap(msg.New("ハッシュが一致しません", "a hash does not match"), "台帳を検証できません", "the ledger does not verify")
	in.ScanErr = msg.Wrap(msg.New("形式が違います", "not a scan report"), "自己診断を読めません", "cannot read the self-scan")
	texts := []msg.Text{documents.MissingMarker, msg.TextOf(in.VerifyErr), msg.TextOf(in.ScanErr)}
	for _, e := range in.Entries {
		texts = append(texts, e.Message)
		if c, err := ledger.Decode[ledger.CutData](e); err == nil {
			texts = append(texts, c.Reason)
		}
		if x, err := ledger.Decode[ledger.RestoreData](e); err == nil {
			texts = append(texts, x.Error)
		}
	}
	set, files := build(t, in)
	printed := 0
	for _, d := range set.Docs {
		for _, body := range doc(t, files, d.ID, d.Lang) {
			body = html.UnescapeString(body)
			for _, x := range texts {
				own, other := x.JA, x.EN
				if d.Lang == "en" {
					own, other = other, own
				}
				if own == other || other == "" {
					continue
				}
				if strings.Contains(body, other) {
					t.Errorf("%s.%s shows %q, the other language's half of %q", d.ID, d.Lang, other, x)
				}
				if strings.Contains(body, own) {
					printed++
				}
			}
		}
	}
	if printed == 0 {
		t.Fatal("no message from the core is printed at all")
	}
	mustContain(t, "evidence.en", doc(t, files, "evidence-report", "en"), "FAILED: the ledger does not verify: a hash does not match")
	mustContain(t, "evidence.ja", doc(t, files, "evidence-report", "ja"), "異常あり: 台帳を検証できません: ハッシュが一致しません")
	mustContain(t, "scan.en", doc(t, files, "self-scan-report", "en"), "cannot read the self-scan: not a scan report")
	mustContain(t, "scan.ja", doc(t, files, "self-scan-report", "ja"), "自己診断を読めません: 形式が違います")
}
