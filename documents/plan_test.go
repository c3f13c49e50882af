package documents_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/ledger"
)

// loadExample reads one of config/examples as the page would hold it.
func loadExample(t *testing.T, name string) *config.Config {
	t.Helper()
	c, _, err := config.LoadUnfinished("../config/examples/" + name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return c
}

// planOf builds the documents from cfg and entries and returns both forms
// of the plan in ja and en, and the whole file set.
func planOf(t *testing.T, cfg *config.Config, entries ...ledger.Entry) (map[string][]string, *documents.Set, map[string]string) {
	t.Helper()
	in := &documents.Input{Config: cfg, From: periodFrom, To: periodTo, Now: at(8, 9, 0), Entries: entries}
	set, files := build(t, in)
	out := map[string][]string{}
	for _, lg := range documents.Langs {
		out[lg] = doc(t, files, "offline-backup-plan", lg)
	}
	return out, set, files
}

func planLacks(t *testing.T, what string, texts []string, bans ...string) {
	t.Helper()
	for i, s := range texts {
		for _, b := range bans {
			if strings.Contains(s, b) || strings.Contains(s, mdEsc.Replace(b)) {
				t.Errorf("%s (form %d) still contains %q", what, i, b)
			}
		}
	}
}

// entry makes a ledger entry with its data encoded, as Gather reads it.
func entry(t *testing.T, seq uint64, when time.Time, kind ledger.Kind, medium string, v any) ledger.Entry {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return ledger.Entry{Seq: seq, Time: when, Kind: kind, Medium: medium, Actor: "sato", Data: raw}
}

// TestPlanFromThePi5Example: the plan made from the Pi 5 example ties
// itself to the BCP, writes schedules in words, states the span of the
// generations, says what listens on the LAN, draws the network, makes the
// fire/flood point and ends with the document control — and none of the
// old hard-coded sentences is left.
func TestPlanFromThePi5Example(t *testing.T) {
	plan, _, files := planOf(t, loadExample(t, "pi5-two-disks.json"))
	want := map[string][]string{
		"ja": {
			"事業継続計画",
			"| — | オフラインバックアップ(ゲートウェイ emr-gw-1) | 毎日 02:00(Asia/Tokyo) |",
			"| スケジュール | 毎日 02:00(Asia/Tokyo) |",
			"| ローテーション | 毎回 1 台に、最も前に書き込んだ媒体から順に書き込みます(2 台の輪番。各媒体には 2 回に1回) |",
			"| 世代の期間 | 各媒体の世代は約 10 日前までさかのぼれます |",
			"ゲートウェイが院内LANで待ち受けるのは、管理画面(HTTPS、TCP 8443。アカウントでログイン)の1つだけです。", "gokrazy の保守画面はゲートウェイ内部にしかなく、TCP 80 は閉じています",
			"診療録管理体制加算1の施設基準(12)により、事業継続計画に基づく訓練・演習を年1回以上行います。",
			"予定: 毎年4月1日 10:00(Asia/Tokyo)に自動で実行します。",
			"媒体 disk-a, disk-b はサーバ室に置いたままです。",
			"この設定には院外に置ける媒体がありません。輪番の媒体を院外で保管する(RDX など)か、オブジェクトロック付きのバケットを追加してください。",
			"ゲートウェイの取得領域(直近のエクスポートの写し)は次のスナップショットを作るための作業領域であり、バックアップには数えません。",
			"| エクスポート全体をPCへ復元する時間 |",
			"| 復元測定(最新。見本の復元であり復旧ではない) | 復元測定の記録なし |",
			"| 厚生労働省 |", "| 個人情報保護委員会 |", "紙運用の手順: ",
			"文書管理(版・承認・改定履歴)", "設定のハッシュ(SHA-256)",
		},
		"en": {
			"business continuity plan",
			"| — | offline backup (gateway emr-gw-1) | daily at 02:00 (Asia/Tokyo) |",
			"| schedule | daily at 02:00 (Asia/Tokyo) |",
			"| rotation | 1 medium each time, the one written longest ago first (a rotation over 2 media: each is written every 2 times) |",
			"| span of the generations | Each medium's generations reach back about 10 days |",
			"On the LAN the gateway listens on one port only: the page (HTTPS, TCP 8443, login with an account).", "gokrazy's maintenance page exists only inside the gateway: TCP 80 is closed",
			"Under facility standard (12) of 診療録管理体制加算1, an exercise based on the BCP is held at least once a year.",
			"Scheduled: every year on 1 April at 10:00 (Asia/Tokyo), by the gateway itself.",
			"Media disk-a, disk-b stay in the server room.",
			"This configuration has no medium that leaves the server room: keep a rotated medium off-site (RDX, for example) or add an object-locked bucket.",
			"The gateway's staging area (a copy of the last export) is the working area for the next snapshot and is not counted as a backup.",
			"| time to restore the whole export to a PC |",
			"| restore measurement (latest; a sample restore, not a recovery) | no restore measurement recorded yet |",
			"| Ministry of Health, Labour and Welfare |", "| Personal Information Protection Commission |", "Paper-operation procedure: ",
			"Document control (revision, approval, history)", "configuration hash (SHA-256)",
		},
	}
	for lg, wants := range want {
		mustContain(t, "plan "+lg, plan[lg][1:], wants...)
		mustContain(t, "plan "+lg+" (HTML)", plan[lg][:1], wants[0])
	}
	gone := []string{"電子カルテ側の通常のバックアップ", "the e-chart system's own backup (existing", "電子カルテサーバからゲートウェイへは接続できません",
		"the e-chart server cannot connect to the gateway", "検証済みの写し、SHA-256付き", "施設基準により、復元訓練を年1回以上", "RTO 実測", "RTO measured",
		"daily 02:00 の間隔", "the interval of schedule daily 02:00", "0 10 1 4 *", "1 回に1回"}
	for _, lg := range documents.Langs {
		planLacks(t, "plan "+lg, plan[lg], gone...)
	}
	for _, lg := range documents.Langs {
		svg := files["network."+lg+".svg"]
		for _, w := range []string{"<svg", "emr-gw-1", "192.168.10.20/24", "192.168.10.5:22 SFTP", "disk-a", "relay-disk-b", "8443"} {
			if !strings.Contains(svg, w) {
				t.Errorf("network.%s.svg lacks %q", lg, w)
			}
		}
		if !strings.Contains(plan[lg][0], "<svg") || !strings.Contains(plan[lg][1], "(network."+lg+".svg)") {
			t.Errorf("the %s plan does not carry the network diagram in both forms", lg)
		}
	}
}

// TestPlanBCPFields: what the hospital enters is printed in restore
// order in the shape of template 2.2.4, and nothing of the BCP is then
// reported missing; empty, each is a visible marker and listed.
func TestPlanBCPFields(t *testing.T) {
	cfg := loadExample(t, "pi5-two-disks.json")
	cfg.Documents.BCP = config.BCP{}
	_, set, _ := planOf(t, cfg)
	for _, f := range []string{"documents.bcp.document", "documents.bcp.systems", "documents.bcp.contacts", "documents.bcp.report_mhlw",
		"documents.bcp.report_police", "documents.bcp.report_ppc", "documents.bcp.paper_operation"} {
		if !missing(set, f) {
			t.Errorf("%s is empty but not listed as missing", f)
		}
	}
	cfg.Documents.BCP = config.BCP{
		Document: "事業継続計画(情報システム編)第2版",
		Systems: []config.BCPSystem{
			{Order: 2, Name: "部門システム", Frequency: "毎週", Method: "NAS", Restore: "ベンダが復元", Platform: "Windows Server 2019"},
			{Order: 1, Name: "電子カルテ", Frequency: "毎日", Method: "ベンダのバックアップ装置", Restore: "ベンダが復元", Platform: "Windows Server 2022、電子カルテ v5"},
		},
		Contacts:   []config.BCPContact{{Role: "情報システム担当", Name: "佐藤 一郎", Phone: "内線 1234"}, {Role: "院長", Name: "鈴木 次郎", Phone: "090-0000-0000"}},
		ReportMHLW: "厚生労働省 医政局 03-0000-0001", ReportPolice: "県警 サイバー犯罪相談窓口 03-0000-0002", ReportPPC: "個人情報保護委員会 漏えい等報告フォーム",
		PaperOperation: "紙運用マニュアル(各病棟の赤ファイル)",
	}
	plan, set, _ := planOf(t, cfg)
	for _, lg := range documents.Langs {
		mustContain(t, "plan "+lg, plan[lg][1:],
			"| 1 | 電子カルテ | 毎日 | ベンダのバックアップ装置 | ベンダが復元 | Windows Server 2022、電子カルテ v5 |",
			"| 1 | 情報システム担当 | 佐藤 一郎 | 内線 1234 |", "| 2 | 院長 | 鈴木 次郎 | 090-0000-0000 |",
			"県警 サイバー犯罪相談窓口 03-0000-0002", "紙運用マニュアル(各病棟の赤ファイル)", "事業継続計画(情報システム編)第2版")
		md := plan[lg][1]
		if i, j := strings.Index(md, "| 1 | 電子カルテ |"), strings.Index(md, "| 2 | 部門システム |"); i < 0 || j < i {
			t.Errorf("%s: the systems are not in restore order", lg)
		}
	}
	for _, m := range set.Missing {
		if strings.HasPrefix(m.Field, "documents.bcp.") {
			t.Errorf("%s is filled in but listed as missing", m.Field)
		}
	}
}

func missing(set *documents.Set, field string) bool {
	for _, m := range set.Missing {
		if m.Field == field {
			return true
		}
	}
	return false
}

// TestPlanOffSiteMedia: with an RDX and an object-locked bucket the plan
// names both as what survives the server room, and a cron schedule is
// written in words.
func TestPlanOffSiteMedia(t *testing.T) {
	plan, _, _ := planOf(t, loadExample(t, "amd64-rdx-s3.json"))
	mustContain(t, "plan ja", plan["ja"][1:],
		"この設定には院外の媒体があります: オブジェクトロック付きバケット cloud。サーバ室を失っても、保持期間中の世代はここから復元できます。",
		"RDX カートリッジ(媒体 rdx)は取り外して院外に保管できます。",
		"| スケジュール | 毎週月〜土曜 01:30(Asia/Tokyo) |",
		"予定: 自動では行いません(画面から実行します)。")
	mustContain(t, "plan en", plan["en"][1:],
		"This configuration has an off-site medium: the object-locked bucket cloud. Its retained generations survive the loss of the server room.",
		"The RDX cartridges of medium rdx can be taken out and kept off-site",
		"Scheduled: not automatic (run it from the page).")
	for _, lg := range documents.Langs {
		planLacks(t, "plan "+lg, plan[lg], "この設定には院外に置ける媒体がありません", "has no medium that leaves the server room", "30 1 * * 1-6")
	}
}

// TestExercisesAndRestoreTimes: a recorded exercise is listed in the plan
// and in the evidence report with its attached measurement; the newest
// measurement is named as a sample restore, and the whole export's time
// to a PC is an estimate with its basis, or a full restore when one is on
// record.
func TestExercisesAndRestoreTimes(t *testing.T) {
	cfg := loadExample(t, "pi5-two-disks.json")
	drill := ledger.RestoreData{ID: "drill-1", Drill: true, Medium: "disk-a", Snapshot: "4f3a2b1c", Dest: "scratch", Started: at(3, 10, 0),
		RestoreMS: 10_000, Files: 120, Bytes: 100_000_000, FilesVerified: 120, CheckRan: true, CheckOK: true, CutVerified: true, OK: true}
	snap := ledger.SnapshotData{Source: "emr", Snapshot: "4f3a2b1c", TotalBytes: 36_000_000_000, Files: 5000}
	exercise := ledger.ExerciseData{Date: "2026-10-04", Participants: []string{"佐藤 一郎", "山田 花子"}, Scenario: "ランサムウェアで電子カルテが停止",
		Problems: "パスワードの封筒の場所が分からなかった", Improvements: "保管場所を連絡網に書く", MeasurementSeq: 2, Measurement: &drill}
	entries := []ledger.Entry{
		entry(t, 1, at(2, 2, 10), ledger.KindSnapshot, "disk-a", snap),
		entry(t, 2, at(3, 10, 1), ledger.KindDrill, "disk-a", drill),
		entry(t, 3, at(4, 15, 0), ledger.KindExercise, "", exercise),
	}
	plan, _, files := planOf(t, cfg, entries...)
	row := "| 2026-10-04 | 佐藤 一郎、山田 花子 | ランサムウェアで電子カルテが停止 | パスワードの封筒の場所が分からなかった | 保管場所を連絡網に書く |"
	mustContain(t, "plan ja", plan["ja"][1:], row,
		"10秒(2026-10-03 10:00 JST、媒体 disk-a の 120 ファイル・100 MB をゲートウェイの作業領域に復元し照合)",
		"| エクスポート全体をPCへ復元する時間 | 推定 約 1時間(根拠: 復元測定の速度 10.0 MB/秒 × 直近のスナップショットの大きさ 36.0 GB。")
	mustContain(t, "plan en", plan["en"][1:], "| 2026-10-04 | 佐藤 一郎, 山田 花子 | ランサムウェアで電子カルテが停止 |",
		"10s (2026-10-03 10:00 JST: 120 files, 100 MB of medium disk-a restored into the gateway's scratch area and checked)",
		"| time to restore the whole export to a PC | estimate: about 1h (basis: the restore measurement's 10.0 MB/s × the newest snapshots' 36.0 GB;")
	for _, lg := range documents.Langs {
		ev := doc(t, files, "evidence-report", lg)
		mustContain(t, "evidence "+lg, ev[1:], "ランサムウェアで電子カルテが停止", "保管場所を連絡網に書く")
	}
	mustContain(t, "evidence ja", doc(t, files, "evidence-report", "ja")[1:], "訓練・演習の記録(事業継続計画)")

	full := drill
	full.Drill, full.Dest, full.Bytes, full.RestoreMS, full.Started = false, "download", 35_000_000_000, 2*3600*1000+15*60*1000, at(5, 9, 0)
	plan, _, _ = planOf(t, cfg, append(entries, entry(t, 4, at(5, 11, 20), ledger.KindRestore, "disk-a", full))...)
	mustContain(t, "plan ja", plan["ja"][1:], "| エクスポート全体をPCへ復元する時間 | 実測 2時間15分(2026-10-05 09:00 JST、媒体 disk-a から 35.0 GB を復元)")
	mustContain(t, "plan en", plan["en"][1:], "| time to restore the whole export to a PC | measured: 2h 15m (2026-10-05 09:00 JST, 35.0 GB restored from medium disk-a)")
}

// TestPlanFromTheDemo: the demo's configuration (no hospital fields, a
// local SFTP source) still makes a plan tied to the BCP, with every
// person-entered BCP field a visible marker and no medium off-site.
func TestPlanFromTheDemo(t *testing.T) {
	env, err := demo.Setup(context.Background(), demo.Options{Dir: t.TempDir(), DumpBytes: 1 << 16, SmallFiles: 2, ResticBinary: "/user/restic"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Error(err)
		}
	})
	plan, set, _ := planOf(t, env.Config)
	mustContain(t, "plan ja", plan["ja"][1:], "本計画書は、当院の事業継続計画(**【未記入】**)のうち",
		"| **【未記入】** | **【未記入】** | **【未記入】** | **【未記入】** | **【未記入】** | **【未記入】** |",
		"| — | オフラインバックアップ(ゲートウェイ danzen-demo) | 毎日 02:00(Asia/Tokyo) |",
		"この設定には院外に置ける媒体がありません。")
	mustContain(t, "plan en", plan["en"][1:], "This plan is part of the hospital's business continuity plan (**【not filled in】**)",
		"| — | offline backup (gateway danzen-demo) | daily at 02:00 (Asia/Tokyo) |")
	if !missing(set, "documents.bcp.systems") {
		t.Error("the demo's empty BCP systems are not listed as missing")
	}
}

// The RPO from the schedule is said in words, with the rotation.
func TestPlanRPOInWords(t *testing.T) {
	cfg := loadExample(t, "pi5-two-disks.json")
	plan, _, _ := planOf(t, cfg)
	mustContain(t, "plan en", plan["en"], "the newest backup is at most one scheduled run old (schedule: ", "each medium is written once every 2 runs, so on any one medium it is at most 2 runs old")
	mustContain(t, "plan ja", plan["ja"], "1台の媒体に書き込むのは 2 回に1回なので")
	cfg.Rotation.PerCycle = 0
	plan, _, _ = planOf(t, cfg)
	mustContain(t, "plan en, no rotation", plan["en"], "every medium is written every run")
	planLacks(t, "plan en, no rotation", plan["en"], "every 1 times", "1 回に1回")
}
