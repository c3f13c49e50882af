package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/ledger"
)

// TestBCPFieldsForm: the BCP lists are typed one entry a line on the
// documents form; a line that does not read is refused beside its field
// with its line number and nothing is applied; a good form is saved and
// printed by the plan in restore order.
func TestBCPFieldsForm(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.login("admin", adminPW)
	page := admin.get("/documents")
	for _, want := range []string{`id="bcp-fields"`, `<textarea name="bcp_systems"`, `name="paper_operation"`, `id="exercise-form"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the documents page lacks %q", want)
		}
	}

	bad := admin.post("/documents/fields", url.Values{"hospital_name": {"さくら総合病院"},
		"bcp_systems":  {"1 | 電子カルテ | 毎日 | 装置 | ベンダが復元 | Windows Server 2022\n部門システム | 毎週\nx | レセプト | 毎日 | NAS | 復元"},
		"bcp_contacts": {"院長 | 鈴木 次郎"}})
	got := strings.Join(fieldErrors(bad.body, "bcp_systems"), "\n")
	for _, want := range []string{"2 行目: 「|」で区切った5〜6項目にしてください", "3 行目: 復旧順位は数字にしてください"} {
		if !strings.Contains(got, want) {
			t.Errorf("beside bcp_systems: %q, want %q", got, want)
		}
	}
	if c := fieldErrors(bad.body, "bcp_contacts"); len(c) != 1 || !strings.Contains(c[0], "1 行目: 「役割 | 氏名 | 連絡先」の3項目にしてください") {
		t.Errorf("beside bcp_contacts: %q", c)
	}
	if !strings.Contains(bad.body, "部門システム | 毎週") {
		t.Error("the refused form does not come back as typed")
	}
	if e.g.Config().Documents.HospitalName != "" {
		t.Fatal("a refused form was applied")
	}

	// Validation of the parsed lists: an order of 0 is refused by config.
	zero := admin.post("/documents/fields", url.Values{"bcp_systems": {"0 | 電子カルテ | 毎日 | 装置 | ベンダが復元"}})
	if c := strings.Join(fieldErrors(zero.body, "bcp_systems"), "\n"); !strings.Contains(c, "1 行目: 復旧順位は1以上の整数にしてください") {
		t.Errorf("order 0: beside bcp_systems %q", c)
	}

	ok := admin.post("/documents/fields", url.Values{"hospital_name": {"さくら総合病院"},
		"bcp_document":  {"事業継続計画(情報システム編)第2版"},
		"bcp_systems":   {"2 | 部門システム | 毎週 | NAS | ベンダが復元 |\n1 | 電子カルテ | 毎日 | 装置 | ベンダが復元 | Windows Server 2022"},
		"bcp_contacts":  {"情報システム担当 | 佐藤 一郎 | 内線 1234\n院長 | 鈴木 次郎 | 090-0000-0000"},
		"report_police": {"県警 サイバー犯罪相談窓口"}, "paper_operation": {"紙運用マニュアル"}})
	if ok.code != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", ok.code, ok.body)
	}
	b := e.g.Config().Documents.BCP
	if len(b.Systems) != 2 || b.Systems[1].Order != 1 || b.Systems[1].Platform != "Windows Server 2022" || len(b.Contacts) != 2 || b.ReportPolice != "県警 サイバー犯罪相談窓口" {
		t.Fatalf("BCP not applied: %+v", b)
	}
	if again := admin.get("/documents"); !strings.Contains(again.body, "1 | 電子カルテ | 毎日 | 装置 | ベンダが復元 | Windows Server 2022") {
		t.Error("the saved systems are not shown again on the form")
	}
	plan := admin.get("/documents/offline-backup-plan.ja.md")
	i, j := strings.Index(plan.body, "| 1 | 電子カルテ | 毎日 | 装置 | ベンダが復元 | Windows Server 2022 |"), strings.Index(plan.body, "| 2 | 部門システム | 毎週 | NAS | ベンダが復元 | — |")
	if i < 0 || j < i {
		t.Errorf("the plan does not list the systems in restore order:\n%s", plan.body)
	}
	if !strings.Contains(plan.body, "| 2 | 院長 | 鈴木 次郎 | 090-0000-0000 |") {
		t.Errorf("the plan lacks the contact tree:\n%s", plan.body)
	}
}

// TestExerciseForm: staff record an exercise; it lands in the ledger with
// the newest restore measurement attached and is listed in the plan and
// the evidence report. An auditor may not record one; a bad form writes
// nothing.
func TestExerciseForm(t *testing.T) {
	e := newEnv(t, envOptions{})
	drill := ledger.RestoreData{ID: "drill-1", Drill: true, Medium: "disk-a", Snapshot: "4f3a2b1c", Dest: "scratch", Started: time.Now().Add(-time.Hour),
		RestoreMS: 4200, Files: 12, Bytes: 1 << 20, FilesVerified: 12, CutVerified: true, OK: true}
	if err := e.g.Record(context.Background(), ledger.Entry{Kind: ledger.KindDrill, Medium: "disk-a", Actor: "system", Payload: drill}); err != nil {
		t.Fatal(err)
	}
	staff := e.addUser("staff1", auth.RoleStaff)
	if p := staff.get("/documents"); !strings.Contains(p.body, `id="exercise-form"`) || strings.Contains(p.body, `id="document-fields"`) {
		t.Error("staff should see the exercise form and not the fields form")
	}
	auditor := e.addUser("auditor1", auth.RoleAuditor)
	if r := auditor.post("/documents/exercise", url.Values{"date": {"2026-01-10"}, "participants": {"x"}, "scenario": {"y"}}); r.code != http.StatusForbidden {
		t.Errorf("auditor POST /documents/exercise: %d, want 403", r.code)
	}
	bad := staff.post("/documents/exercise", url.Values{"date": {"2026-01-10"}, "participants": {""}, "scenario": {"停電"}})
	if !strings.Contains(bad.body, "参加者と想定(シナリオ)を入力してください") {
		t.Errorf("no message for a form without participants:\n%s", bad.body)
	}
	future := staff.post("/documents/exercise", url.Values{"date": {time.Now().AddDate(0, 0, 3).Format(time.DateOnly)}, "participants": {"佐藤"}, "scenario": {"停電"}})
	if !strings.Contains(future.body, "実施日が未来です") {
		t.Error("a date in the future was not refused")
	}
	if n := len(e.entries(ledger.KindExercise)); n != 0 {
		t.Fatalf("%d exercise entries after refused forms", n)
	}

	day := time.Now().AddDate(0, 0, -1).Format(time.DateOnly)
	r := staff.post("/documents/exercise", url.Values{"date": {day}, "participants": {"佐藤 一郎、山田 花子"},
		"scenario": {"ランサムウェアで電子カルテが停止"}, "problems": {"封筒の場所が分からなかった"}, "improvements": {"保管場所を連絡網に書く"}})
	if r.code != http.StatusSeeOther {
		t.Fatalf("record: %d\n%s", r.code, r.body)
	}
	got := e.entries(ledger.KindExercise)
	if len(got) != 1 {
		t.Fatalf("%d exercise entries, want 1", len(got))
	}
	x, err := ledger.Decode[ledger.ExerciseData](got[0])
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Actor != "staff1" || x.Date != day || len(x.Participants) != 2 || x.Measurement == nil || x.Measurement.ID != "drill-1" || x.MeasurementSeq == 0 {
		t.Fatalf("exercise entry: %+v %+v", got[0], x)
	}
	plan := staff.get("/documents/offline-backup-plan.ja.md")
	row := "| " + day + " | 佐藤 一郎、山田 花子 | ランサムウェアで電子カルテが停止 | 封筒の場所が分からなかった | 保管場所を連絡網に書く |"
	if !strings.Contains(plan.body, row) {
		t.Errorf("the plan lacks the exercise row %q", row)
	}
	if ev := staff.get("/documents/evidence-report.en.md"); !strings.Contains(ev.body, "ランサムウェアで電子カルテが停止") {
		t.Error("the evidence report lacks the exercise")
	}
}
