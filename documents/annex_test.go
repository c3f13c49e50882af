package documents_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/danzen-gw/danzen/demo"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/documents/pdf"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/ledger"
)

// examples are the configurations of config/examples.
func examples(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("..", "config", "examples", "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no example configuration: %v", err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

// TestPageHeadersAreNotRefused (its name must not hold the marker: the
// papers print the test's temporary paths): html/template replaces text it refuses in a
// CSS string by "ZgotmplZ"; no paper made from any example configuration,
// the demo's or one whose names hold a colon may carry it, and the page
// header carries the real title and hospital.
func TestPageHeadersAreNotRefused(t *testing.T) {
	check := func(what string, files map[string]string) {
		t.Helper()
		if len(files) == 0 {
			t.Fatalf("%s: no paper", what)
		}
		for name, body := range files {
			if strings.Contains(body, "ZgotmplZ") {
				t.Errorf("%s: %s contains ZgotmplZ", what, name)
			}
		}
	}
	for _, name := range examples(t) {
		_, files := build(t, gather(t, exampleWorld(t, name)))
		check(name, files)
	}

	dir := t.TempDir()
	env, err := demo.Setup(context.Background(), demo.Options{Dir: dir, DumpBytes: 4 << 10, SmallFiles: 3, ResticBinary: "/usr/bin/restic"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { must(t, env.Close()) })
	_, files := build(t, gather(t, env.Config))
	check("demo", files)

	w := newWorld(t)
	w.cfg.Documents.HospitalName = "医療法人 桜会: 本院"
	_, files = build(t, gather(t, w.cfg))
	check("colon", files)
	for lang, want := range map[string][]string{
		"ja": {`@top-left { content: "医療法人 桜会\00003A 本院";`, `@top-center { content: "運用管理規程 別紙\00003A オフラインバックアップ運用手順";`},
		"en": {`@top-left { content: "医療法人 桜会\00003A 本院";`, `@top-center { content: "Annex to the operations rules\00003A offline backup procedure";`},
	} {
		h := files[documents.FileName("operations-annex", lang, documents.FormatHTML)]
		for _, s := range want {
			if !strings.Contains(h, s) {
				t.Errorf("operations-annex.%s.html header lacks %s", lang, s)
			}
		}
	}
}

// TestAnnexRDXCartridge: the RDX cartridge the dock ejects after every
// cycle goes back in by hand; the annex never also says a medium must not
// be touched by hand, and says how the cartridge may leave the building.
func TestAnnexRDXCartridge(t *testing.T) {
	_, files := build(t, gather(t, exampleWorld(t, "amd64-rdx-s3.json")))
	ja, en := doc(t, files, "operations-annex", "ja"), doc(t, files, "operations-annex", "en")
	mustContain(t, "annex ja", ja,
		"RDXカートリッジの取扱い(媒体 rdx)",
		"媒体 rdx の書き込みに使うカートリッジは、媒体ID rdx-1 を書き込んだ1本だけです。",
		"排出されたカートリッジに破損がないことを確かめ、ドックに奥まで差し込む。給電が切れているので、差し込んでも書き込みは始まらない。",
		"次のサイクルまでに差し込む。スケジュール: 毎週月〜土曜 01:30(Asia/Tokyo)",
		"ドックの給電中(画面の表示が「接続中」)は、カートリッジを抜き差ししないでください。排出されたカートリッジは、次のサイクルまでに手で差し戻します(「RDXカートリッジの取扱い」)。",
		"カートリッジが差し込まれていないと、ドックに給電しても 2分 以内にディスクが現れず、そのサイクルは失敗として記録され警報(cycle_failed)が送られます。",
		"カートリッジを院外へ持ち出すのは次のサイクルまでの間に限り、持ち出しと返却を媒体取扱記録簿に記録します。",
		"④ 排出されたRDXカートリッジを差し込んだ。")
	mustContain(t, "annex en", en,
		"Handling the RDX cartridge (medium rdx)",
		"Medium rdx is written on one cartridge only, the one prepared with media ID rdx-1.",
		"Check the ejected cartridge for damage and push it fully into the dock. The dock has no power, so nothing is written until the next cycle.",
		"Never insert or remove the cartridge while the dock is powered (the page says connected). Push the ejected cartridge back in by hand before the next cycle",
		"Take the cartridge off-site only between cycles and record taking it out and bringing it back in the media handling log.",
		"(4) The ejected RDX cartridge was pushed back in.")
	mustNotContain(t, "annex ja", ja, "媒体を手で抜き差ししないでください")
	mustNotContain(t, "annex en", en, "Do not plug or unplug the medium by hand")

	// A plain USB disk keeps the rule, and has no cartridge to handle.
	_, files = build(t, gather(t, exampleWorld(t, "pi5-two-disks.json")))
	ja = doc(t, files, "operations-annex", "ja")
	mustContain(t, "annex ja (disks)", ja, "媒体を手で抜き差ししないでください。")
	mustNotContain(t, "annex ja (disks)", ja, "RDXカートリッジの取扱い", "④RDX差込")
}

// TestAnnexCitesWhyAndWhat: the annex says why it exists (疑義解釈その8
// 問2) and which sections of guideline 6.0 it carries out, in both
// languages.
func TestAnnexCitesWhyAndWhat(t *testing.T) {
	_, files := build(t, gather(t, newWorld(t).cfg))
	mustContain(t, "annex ja", doc(t, files, "operations-annex", "ja"),
		"疑義解釈資料の送付について(その8) 問2 は、その具体的な手順を運用管理規程に定めることを求めています。",
		"安全管理ガイドライン 第6.0版 システム運用編「11. システム運用管理(通常時・非常時等)」",
		"同 企画管理編「15. 技術的な安全管理対策の管理」",
		"記録媒体の保管と取扱いを運用管理規程に定め、作業の履歴を残すこと。情報を保存する場所とその保存可能容量を明示すること。",
		"同 システム運用編「2. システム設計・運用に必要な規程類と文書体系」",
		"保存容量と保存期間", "媒体の交換と廃棄", "媒体取扱記録簿", "日次点検表", "月次点検表",
		"SSD・フラッシュ媒体は消磁では消えないため物理破壊とする。",
		"廃棄した日、媒体名・媒体ID・シリアル番号、方法、実施者と立会者を媒体取扱記録簿に記録し、消去証明書を添付して保管する。")
	mustContain(t, "annex en", doc(t, files, "operations-annex", "en"),
		"the MHLW Q&A (疑義解釈資料の送付について その8, question 2) asks that the concrete procedure be set out in the operations rules.",
		"Guideline 6.0, System operation volume, \"11. System operation management (normal times, emergencies)\"",
		"Guideline 6.0, Management volume, \"15. Managing technical safety measures\"",
		"Capacity and retention", "Replacing and disposing of media", "Media handling log", "Daily check sheet", "Monthly check sheet",
		"Degaussing does not erase an SSD or flash medium: destroy it physically.")
}

// TestAnnexCapacity: each medium's retention, and the capacity the
// ledger's snapshots call for.
func TestAnnexCapacity(t *testing.T) {
	w := newWorld(t)
	in := gather(t, w.cfg)
	for i, src := range []string{"emr", "order"} {
		for day := 1; day <= 2; day++ {
			in.Entries = append(in.Entries, ledger.Entry{Time: at(6, 12, day*10+i), Kind: ledger.KindSnapshot, Medium: "disk-a",
				Data: data(t, ledger.SnapshotData{Cycle: fmt.Sprintf("x%d", day), Source: src, Snapshot: "s", TotalBytes: 10 << 30, DataAdded: 1 << 30})})
		}
	}
	_, files := build(t, in)
	ja := doc(t, files, "operations-annex", "ja")
	// The week of cycles in the world added 123456789 × 2 per cycle; the
	// two new cycles 2 GiB each: the mean is over all six cycles.
	mean := int64((4*2*123456789 + 2*(2<<30)) / 6)
	mustContain(t, "annex ja", ja, fmt.Sprintf("約 %s(直近のエクスポート %s + 保持世代 5 × 1回の平均増分 %s)。媒体はこの2倍以上の容量を推奨します。",
		bytesize.Format(20<<30+5*mean), bytesize.Format(int64(20<<30)), bytesize.Format(mean)),
		fmt.Sprintf("直近 5 世代、月次 3(約 %d 日分)", w.cfg.GenerationSpanDays()))
	mustContain(t, "annex en", doc(t, files, "operations-annex", "en"), fmt.Sprintf("about %s (newest export %s + 5 kept generations × mean data added per cycle %s); a medium of at least twice that is recommended.",
		bytesize.Format(20<<30+5*mean), bytesize.Format(int64(20<<30)), bytesize.Format(mean)))
}

// TestAnnexCheckSheets: the daily sheet has a row per day with a box per
// check the annex orders, the monthly sheet a row per month, the
// handling log blank rows to write in.
func TestAnnexCheckSheets(t *testing.T) {
	_, files := build(t, gather(t, exampleWorld(t, "pi5-two-disks.json")))
	ja, en := files["operations-annex.ja.md"], files["operations-annex.en.md"]
	for _, c := range []struct {
		md, row string
		n       int
	}{
		{ja, "| 日 | ①切断確認 | ②前夜の成功 | ③警報 | 備考 | 点検者 |", 1},
		{ja, "| 31 | ☐ | ☐ | ☐ |  |  |", 1},
		{ja, "| 年月 | ①台帳の検証 | 先頭ハッシュ(先頭12文字) | ②書込・検査 | ③保管状態 | ④記録簿 | 点検者 | 責任者 |", 1},
		{ja, "|  | ☐ |  | ☐ | ☐ | ☐ |  |  |", 12},
		{ja, "| 日付・時刻 | 媒体名・媒体ID | 取扱い(差込・持出・返却・交換・廃棄) | 行先・保管場所・方法 | 取扱者 | 確認者 |", 1},
		{ja, "|  |  |  |  |  |  |\n", 18},
		{en, "| day | (1) cut | (2) cycle | (3) alerts | remarks | checked by |", 1},
		{en, "| 31 | ☐ | ☐ | ☐ |  |  |", 1},
	} {
		if got := strings.Count(c.md, c.row); got != c.n {
			t.Errorf("%q appears %d times, want %d", c.row, got, c.n)
		}
	}
	mustContain(t, "annex ja", doc(t, files, "operations-annex", "ja"),
		"① 画面で各媒体が「切断中(確認済み)」である。", "月に1回、証跡台帳の検証(画面の「証跡台帳」)を行い、先頭ハッシュと点検結果を月次点検表に記録する。")
	if n := strings.Count(files["operations-annex.ja.html"], `<table class="form">`); n != 3 {
		t.Errorf("%d printable sheets, want 3", n)
	}
}

// TestDocControl: the annex ends with its revision, the configuration's
// hash, the approval boxes and the revision history from the ledger's
// configuration changes, newest first and capped.
func TestDocControl(t *testing.T) {
	w := newWorld(t)
	in := gather(t, w.cfg)
	for i := range 15 {
		in.Entries = append(in.Entries, ledger.Entry{Time: at(7, 8, i), Kind: ledger.KindConfigChange, Actor: "sato",
			Data: data(t, ledger.ConfigChangeData{Changed: []string{"schedule", fmt.Sprintf("retention.keep_last%d", i)}})})
	}
	_, files := build(t, in)
	hash, err := documents.ConfigHash(w.cfg)
	if err != nil || len(hash) != 64 {
		t.Fatalf("hash %q: %v", hash, err)
	}
	ja, en := files["operations-annex.ja.md"], files["operations-annex.en.md"]
	for _, want := range []string{
		"| 版 | 第16版(設定の変更ごとに改版) |",
		"| 設定のハッシュ(SHA-256) | **" + hash[:12] + "**(全体: `" + hash + "`) |",
		"| 承認 | 確認 | 作成 |\n| --- | --- | --- |\n|  |  |  |\n| 年　月　日 | 年　月　日 | 年　月　日 |",
		"| 版 | 日時 | 変更者 | 改定内容(変更した設定項目) |\n| --- | --- | --- | --- |\n| 第16版 | 2026-10-07 08:14 JST | `sato` | `schedule`, `retention.keep_last14` |\n| 第15版 | 2026-10-07 08:13 JST |",
		"| 第5版 | 2026-10-07 08:03 JST | `sato` | `schedule`, `retention.keep_last3` |\n| … | … | … | これより前の 3 件の改定は証跡台帳に記録されています。 |",
	} {
		if !strings.Contains(ja, want) {
			t.Errorf("annex ja lacks\n%s", want)
		}
	}
	for _, want := range []string{
		"| revision | revision 16 (a new revision with each configuration change) |",
		"| configuration hash (SHA-256) | **" + hash[:12] + "** (full: `" + hash + "`) |",
		"| approved | checked | prepared |",
		"| 16 | 2026-10-07 08:14 JST | `sato` | `schedule`, `retention.keep_last14` |",
		"| … | … | … | 3 earlier revisions are in the evidence ledger. |",
	} {
		if !strings.Contains(en, want) {
			t.Errorf("annex en lacks\n%s", want)
		}
	}
	if last := ja[strings.LastIndex(ja, "\n## "):]; !regexp.MustCompile(`^\n## \d+\. 文書管理\(版・承認・改定履歴\)\n`).MatchString(last) {
		t.Errorf("the annex does not end with its document control: %.80s", last)
	}
	if strings.Contains(ja, "| 第1版 |") {
		t.Error("the capped history still prints revision 1")
	}
	if !strings.Contains(files["operations-annex.ja.html"], `<table class="approval"><thead><tr><th>承認</th><th>確認</th><th>作成</th></tr></thead>`+"\n"+`<tbody><tr class="seal"><td class="blank"></td><td class="blank"></td><td class="blank"></td></tr>`) {
		t.Error("no approval boxes in the HTML")
	}
	// With no change on record, the paper is revision 1, established.
	_, files = build(t, gather(t, w.cfg))
	if want := "| 第1版 | 2026-09-30 02:00 JST(証跡台帳の最初の記録) | — | 制定(運用開始時の設定) |"; !strings.Contains(files["operations-annex.ja.md"], want) {
		t.Errorf("annex ja lacks %s", want)
	}
	// A changed configuration hashes differently.
	w.cfg.Schedule = "0 3 * * *"
	if h2, _ := documents.ConfigHash(w.cfg); h2 == hash {
		t.Error("a changed configuration hashes alike")
	}
}

var nowrapSeverity = regexp.MustCompile(`<th class="nowrap">重要度</th>`)

// TestSeverityColumnOnOneLine: 「最重要」 is never broken one character
// per line: the severity column is kept on one line, checked in the HTML
// and, unless -short, laid out by Chromium at the printed page's width.
func TestSeverityColumnOnOneLine(t *testing.T) {
	_, files := build(t, gather(t, newWorld(t).cfg))
	h := files["operations-annex.ja.html"]
	if !nowrapSeverity.MatchString(h) || !strings.Contains(h, `<td class="nowrap"><span class="bad">最重要</span></td>`) ||
		!strings.Contains(h, "th.nowrap, td.nowrap { white-space: nowrap; }") {
		t.Fatal("the severity column is not kept on one line")
	}
	if testing.Short() {
		t.Skip("drives headless Chromium: make test runs it, -short skips it")
	}
	chromium := pdf.FindChromium()
	if chromium == "" {
		t.Fatal("chromium not found: install Debian's chromium package (make test does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := pdf.NewPrinter(ctx, chromium, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	path := filepath.Join(t.TempDir(), "annex.html")
	must(t, os.WriteFile(path, []byte(h), 0o644))
	// lines counts the line boxes of each severity cell; unwrap drops the
	// class first, to show the width does break the word without it.
	const lines = `(unwrap) => [...document.querySelectorAll('td.nowrap')].map(td => {
		if (unwrap) document.querySelectorAll('.nowrap').forEach(e => e.classList.remove('nowrap'));
		const r = document.createRange(); r.selectNodeContents(td);
		return new Set([...r.getClientRects()].map(x => Math.round(x.bottom))).size;
	})`
	// 178 mm, the printed page's text width, at 96 dpi.
	printMedia := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	})
	if err := chromedp.Do(p.Context(), chromedp.EmulateViewport(673, 1000), printMedia, chromedp.Navigate("file://"+path)); err != nil {
		t.Fatal(err)
	}
	kept, err := chromedp.Run(p.Context(), chromedp.Evaluate[[]int]("("+lines+")(false)"))
	if err != nil {
		t.Fatal(err)
	}
	unwrapped, err := chromedp.Run(p.Context(), chromedp.Evaluate[[]int]("("+lines+")(true)"))
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) == 0 {
		t.Fatal("no severity cell laid out")
	}
	for i, n := range kept {
		if n != 1 {
			t.Errorf("severity cell %d takes %d lines", i, n)
		}
	}
	broken := false
	for _, n := range unwrapped {
		broken = broken || n > 1
	}
	if !broken {
		t.Errorf("the check cannot tell: without nowrap the column does not break either (%v)", unwrapped)
	}
	if _, err := p.PDF(ctx, path); err != nil {
		t.Fatal(err)
	}
	if errs := p.ConsoleErrors(); len(errs) > 0 {
		t.Fatalf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
