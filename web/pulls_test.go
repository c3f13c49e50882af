package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// TestPageShowsWhatEachPullLeftOut: the dashboard's last cycle and the
// cycle's history entry say, per source, how many files were backed up
// and which were left out and why, in the page's language; a pull that
// failed says so.
func TestPageShowsWhatEachPullLeftOut(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	emr := ledger.PullData{Cycle: "c1", Source: "emr", OK: true,
		Pulled: ledger.PullCount{Files: 3, Bytes: 3000}, Unchanged: ledger.PullCount{Files: 448, Bytes: 1 << 30},
		Staged: ledger.PullCount{Files: 451, Bytes: 1<<30 + 3000},
		LeftOut: []ledger.PullLeftOut{
			{Reason: "unsafe-name", Count: 1, Names: []string{`"bad\x1bname.dmp"`}},
			{Reason: "not-complete", Count: 7, Names: []string{"late1.dmp", "late2.dmp", "late3.dmp", "late4.dmp", "late5.dmp", "late6.dmp", "late7.dmp"}},
		}}
	orders := ledger.PullData{Cycle: "c1", Source: "orders", Error: msg.T("接続できません", "cannot connect")}
	for _, en := range []ledger.Entry{
		{Kind: ledger.KindCycleStart, Payload: ledger.CycleStartData{Cycle: "c1"}},
		{Kind: ledger.KindPull, Message: backup.PullSummary(emr), Payload: emr},
		{Kind: ledger.KindPull, Message: backup.PullSummary(orders), Payload: orders},
		{Kind: ledger.KindCycleEnd, Payload: ledger.CycleEndData{Cycle: "c1", OK: false}},
	} {
		if err := e.g.Record(ctx, en); err != nil {
			t.Fatal(err)
		}
	}
	c := e.login("admin", adminPW)
	dash := c.get("/").body
	lastCycle := dash[strings.Index(dash, `id="last-cycle"`):]
	lastCycle = lastCycle[:strings.Index(lastCycle, "</dd>")]
	for _, want := range []string{
		"取得元 emr: 451 ファイル(1.1 GB)をバックアップ、8 件を除外: 安全でない名前 1、未完了 7",
		`<code>&#34;bad\x1bname.dmp&#34;</code>`, "<code>late5.dmp</code> … ほか 2 件",
		`class="pull bad" data-source="orders"`, "取得元 orders: 取得に失敗しました",
	} {
		if !strings.Contains(lastCycle, want) {
			t.Errorf("the dashboard's last cycle lacks %q:\n%s", want, lastCycle)
		}
	}
	if strings.Contains(lastCycle, "late6.dmp") {
		t.Error("the dashboard lists more than five names per reason")
	}
	en := c.get("/?lang=en").body
	if !strings.Contains(en, "source emr: 451 files (1.1 GB) backed up; 8 left out: 1 unsafe name, 7 not complete yet") {
		t.Error("the English dashboard lacks the pull summary")
	}
	hist := c.get("/history?lang=ja").body
	row := hist[strings.Index(hist, `data-cycle="c1"`):]
	for _, want := range []string{"取得元 emr: 451 ファイル", "未完了 (7): ", "<code>late7.dmp</code>", "取得元 orders: 取得に失敗しました"} {
		if !strings.Contains(row, want) {
			t.Errorf("the cycle's history entry lacks %q:\n%s", want, row)
		}
	}
}
