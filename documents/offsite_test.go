package documents_test

import (
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/ledger"
)

// TestOffsiteInPlanAndAnnex: the plan's fire and flood point and the
// annex say which medium is off-site, since when and by whom, when it was
// last written and when it must be back (overdue flagged), with the
// procedure; back home and every medium home too long, the lapse is
// flagged; with no rotation expected, the papers say no alert is raised.
func TestOffsiteInPlanAndAnnex(t *testing.T) {
	cfg := loadExample(t, "pi5-two-disks.json")
	cfg.Offsite = config.Offsite{Expected: true}
	snap := ledger.SnapshotData{Source: "emr", Snapshot: "4f3a2b1c"}
	entries := []ledger.Entry{
		entry(t, 1, at(3, 2, 10), ledger.KindSnapshot, "disk-b", snap),
		entry(t, 2, at(3, 10, 0), ledger.KindOffsite, "disk-b", ledger.OffsiteData{Action: ledger.OffsiteAway, At: at(3, 10, 0), By: "佐藤", Note: "別棟金庫"}),
		entry(t, 3, at(4, 2, 10), ledger.KindSnapshot, "disk-a", snap),
		entry(t, 4, at(5, 2, 1), ledger.KindOffsite, "disk-b", ledger.OffsiteData{Action: ledger.OffsiteSkipped, At: at(5, 2, 1)}),
	}
	plan, _, files := planOf(t, cfg, entries...)
	annex := map[string][]string{}
	for _, lg := range documents.Langs {
		annex[lg] = doc(t, files, "operations-annex", lg)
	}
	for what, texts := range map[string][]string{"plan ja": plan["ja"], "annex ja": annex["ja"]} {
		mustContain(t, what, texts[1:],
			"| `disk-b` | **院外保管中**(別棟金庫) | 2026-10-03 10:00 JST から(佐藤) | 2026-10-03 02:10 JST | **⚠ 2026-10-05 02:00 JST(期限切れ)** |",
			"| `disk-a` | サーバ室 | 持ち出しの記録なし | 2026-10-04 02:10 JST | — |")
		mustContain(t, what, texts,
			"輪番は 2 回に1回各媒体に書き込むため",
			"すべての媒体が 14日 を超えてサーバ室にあると警報が出ます。",
			"画面の「院外保管」で「持ち出し」を押し",
			"媒体取扱記録簿に1行記入する")
	}
	for what, texts := range map[string][]string{"plan en": plan["en"], "annex en": annex["en"]} {
		mustContain(t, what, texts[1:],
			"| `disk-b` | **off-site** (別棟金庫) | since 2026-10-03 10:00 JST (佐藤) | 2026-10-03 02:10 JST | **⚠ 2026-10-05 02:00 JST (overdue)** |",
			"| `disk-a` | server room | never taken away | 2026-10-04 02:10 JST | — |")
		mustContain(t, what, texts,
			"The rotation writes each medium once every 2 runs",
			"longer than 14 days.",
			"On the page's off-site view press \"Take away\"",
			"Write one line in the media handling log.")
	}
	mustContain(t, "annex ja", annex["ja"], "院外保管の輪番")
	mustContain(t, "annex en", annex["en"], "Off-site rotation")
	// A disk taken off-site is no longer said to stay in the server room.
	for _, lg := range documents.Langs {
		planLacks(t, "plan "+lg, plan[lg], "disk-a, disk-b はサーバ室に置いたまま", "Media disk-a, disk-b stay", "この設定には院外に置ける媒体がありません", "has no medium that leaves the server room")
	}

	// Back on the 6th; every medium home since, with one day allowed.
	cfg.Offsite.MaxAllHome = config.Duration(24 * time.Hour)
	back := entry(t, 5, at(6, 9, 0), ledger.KindOffsite, "disk-b", ledger.OffsiteData{Action: ledger.OffsiteReturned, At: at(6, 9, 0), By: "田中"})
	plan, _, _ = planOf(t, cfg, append(entries, back)...)
	mustContain(t, "plan ja", plan["ja"][1:], "| `disk-b` | サーバ室 | 2026-10-06 09:00 JST に返却(田中) | 2026-10-03 02:10 JST | — |")
	mustContain(t, "plan ja", plan["ja"], "2026-10-06 09:00 JST から、すべての媒体がサーバ室にあります。輪番が途切れています。")
	mustContain(t, "plan en", plan["en"][1:], "| `disk-b` | server room | returned 2026-10-06 09:00 JST (田中) | 2026-10-03 02:10 JST | — |")
	mustContain(t, "plan en", plan["en"], "Every medium has been in the server room since 2026-10-06 09:00 JST: the rotation has lapsed.")

	cfg.Offsite = config.Offsite{}
	plan, _, _ = planOf(t, cfg, entries...)
	mustContain(t, "plan ja", plan["ja"], "院外保管の輪番は設定されていません(offsite.expected)。")
	mustContain(t, "plan en", plan["en"], "No off-site rotation is set (offsite.expected): no alert is raised while every medium is in the server room.")
}

// TestOffsiteLeftOutWithoutPortableMedia: a bucket alone cannot be carried
// away; the papers print no off-site table.
func TestOffsiteLeftOutWithoutPortableMedia(t *testing.T) {
	cfg := loadExample(t, "pi5-two-disks.json")
	for i := range cfg.Media {
		cfg.Media[i].Type = config.MediumS3
	}
	plan, _, _ := planOf(t, cfg)
	planLacks(t, "plan ja", plan["ja"], "院外保管の輪番", "戻す期限")
	planLacks(t, "plan en", plan["en"], "Off-site rotation", "due back")
}
