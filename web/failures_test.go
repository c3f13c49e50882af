package web_test

import (
	"context"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/web"
)

// openAnomalyCore reports one source anomaly nobody has acknowledged.
type openAnomalyCore struct{ *gateway.Gateway }

func (openAnomalyCore) OpenAnomalies() ([]backup.Anomaly, error) {
	return []backup.Anomaly{{ID: "a1", Source: "order", Detected: time.Now(), Reasons: []msg.Text{msg.T("ほぼ全体が変化", "almost all changed")}}}, nil
}

// failingSource is a source whose server answers the SSH handshake with
// the pinned key and refuses every log-in: each pull fails at once.
func failingSource(t *testing.T) func(string, *config.Config) {
	srv := startSSH(t)
	return func(_ string, cfg *config.Config) {
		if err := os.WriteFile(filepath.Join(cfg.SecretsDir, "emr.key"), privateKeyPEM(t), 0o600); err != nil {
			t.Fatal(err)
		}
		src := config.DefaultSource()
		src.Name, src.Host, src.Port, src.User, src.KeyFile, src.ExportDir = "emr", "127.0.0.1", srv.port, "pull", "emr.key", "/export"
		src.KnownHosts = []string{knownhosts.Line([]string{knownhosts.Normalize(srv.addr)}, (*srv.key.Load()).PublicKey())}
		src.Attempts = 1
		cfg.Sources = []config.Source{src}
	}
}

// failEverything runs a cycle whose pull fails, then records, as their
// producers record them, a failed cycle without a cause on record, a
// missed run and a cycle failing in every other way, a failed drill, a
// failed scan and a ledger that failed verification.
func failEverything(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	if rep, err := e.g.RunCycle(ctx, nil); err == nil || rep == nil || rep.PullErr == nil {
		t.Fatalf("the cycle with an unreachable export did not fail in its pull: %v %+v", err, rep)
	}
	rec := func(kind ledger.Kind, medium string, text msg.Text, data any) {
		t.Helper()
		if err := e.g.Record(ctx, ledger.Entry{Kind: kind, Medium: medium, Message: text, Payload: data}); err != nil {
			t.Fatal(err)
		}
	}
	rec(ledger.KindCycleStart, "", msg.Text{}, ledger.CycleStartData{Cycle: "c-silent"})
	rec(ledger.KindCycleEnd, "", msg.T("失敗", "FAILED"), ledger.CycleEndData{Cycle: "c-silent"})
	rec(ledger.KindCycleMissed, "", msg.T("予定のサイクルが実行されませんでした", "scheduled cycles did not run"),
		ledger.MissedData{Missed: 3, FirstDue: time.Now().Add(-72 * time.Hour), Now: time.Now()})
	rec(ledger.KindCycleStart, "", msg.Text{}, ledger.CycleStartData{Cycle: "c-every"})
	rec(ledger.KindAnomaly, "", msg.T("異常", "anomaly"), ledger.AnomalyData{ID: "a0", Source: "emr", Reasons: []msg.Text{msg.T("乱雑さ 7.99", "entropy 7.99")}})
	rec(ledger.KindError, "disk-a", msg.T("restic backup が終了コード 1", "restic backup exited 1"), ledger.ErrorData{Phase: "backup"})
	rec(ledger.KindCheck, "disk-a", msg.T("パックが壊れています", "pack damaged"), ledger.CheckData{OK: false})
	rec(ledger.KindPowerOffUnverified, "disk-a", msg.T("切断を確認できません", "cut NOT verified"), ledger.CutData{Reason: msg.T("センス入力がON", "sense input still ON")})
	rec(ledger.KindPowerOffUnverified, "disk-b", msg.T("シミュレーション", "simulated"), ledger.CutData{Simulated: true, Reason: msg.T("シミュレーションのリレー", "simulated relay")})
	rec(ledger.KindError, "disk-c", msg.T("台帳のディスクに空きがありません", "the ledger's disk is full"), ledger.ErrorData{Phase: "ledger-room"})
	rec(ledger.KindCycleEnd, "", msg.T("失敗", "FAILED"), ledger.CycleEndData{Cycle: "c-every"})
	rec(ledger.KindDrill, "disk-a", msg.T("訓練失敗", "drill failed"), ledger.RestoreData{ID: "d1", Drill: true, Medium: "disk-a", Error: msg.T("3 件のファイルが一致しません", "3 files differ")})
	rec(ledger.KindScan, "", msg.T("自己診断に失敗", "self-scan failed"), ledger.ScanData{Error: msg.T("nmap がありません", "nmap not found")})
	rec(ledger.KindLedgerVerified, "", msg.T("検証に失敗", "verification failed"), ledger.LedgerVerifiedData{Problem: msg.T("12 行目のハッシュが違います", "line 12: hash differs")})
}

// explained fails unless page (one language) says, for cause, what
// happened, what hospital staff do and what the vendor does, with the
// technical detail.
func explained(t *testing.T, what, page string, l msg.Lang, cause alert.Cause, detail string) {
	t.Helper()
	page = html.UnescapeString(page)
	g := alert.Explain(cause)
	for _, want := range []string{g.What.Localize(l), g.Staff.Localize(l), g.Vendor.Localize(l), detail} {
		if !strings.Contains(page, want) {
			t.Errorf("%s (%s) does not explain %s: lacks %q", what, l, cause, want)
		}
	}
	who := map[msg.Lang][2]string{msg.JA: {"病院職員", "保守ベンダ"}, msg.EN: {"Hospital staff", "Maintenance vendor"}}[l]
	if !strings.Contains(page, who[0]) || !strings.Contains(page, who[1]) {
		t.Errorf("%s (%s) does not say who acts", what, l)
	}
}

// TestDashboardExplainsEveryFailure: after failing cycles, drills, scans
// and a ledger verification, the dashboard says for each in plain words
// what happened, what staff do and what the vendor does (the guide the
// alerts and the annex use), not only "failed, see the ledger".
func TestDashboardExplainsEveryFailure(t *testing.T) {
	e := newEnv(t, envOptions{configure: failingSource(t), wrap: func(g *gateway.Gateway) web.Core { return openAnomalyCore{g} }})
	c := e.login("admin", adminPW)
	if _, err := e.g.RunCycle(context.Background(), nil); err == nil {
		t.Fatal("the pull of an export whose server refuses the log-in succeeded")
	}
	page := c.get("/").body
	explained(t, "dashboard after a failed pull", page, msg.JA, alert.CausePull, "emr")
	if strings.Contains(page, "詳細は履歴と証跡台帳") {
		t.Error("the dashboard still sends staff to the ledger for the reason")
	}

	failEverything(t, e)
	for _, l := range []msg.Lang{msg.JA, msg.EN} {
		page := c.get("/?lang=" + l.String()).body
		for cause, detail := range map[alert.Cause]string{
			alert.CauseMedium: "disk-a", alert.CauseCheck: msg.T("パックが壊れています", "pack damaged").Localize(l),
			alert.CauseCut: msg.T("センス入力がON", "sense input still ON").Localize(l), alert.CauseSimulated: "disk-b",
			alert.CauseLedgerFull: "disk-c", alert.CauseMissed: "3",
			alert.CauseDrill: msg.T("3 件のファイルが一致しません", "3 files differ").Localize(l), alert.CauseScan: "nmap",
			alert.CauseLedger: msg.T("12 行目のハッシュが違います", "line 12: hash differs").Localize(l), alert.CauseAnomaly: "order",
		} {
			explained(t, "dashboard", page, l, cause, detail)
		}
		// The anomaly acknowledged since (not open any more) is not shown.
		if strings.Contains(page, msg.T("乱雑さ 7.99", "entropy 7.99").Localize(l)) {
			t.Errorf("dashboard (%s) shows an anomaly that is no longer open", l)
		}
	}
}

// TestHistoryExplainsEveryFailure: every failed cycle in the history says
// why and what to do, and so do missed runs, drills, scans and ledger
// verifications that failed; a failed cycle with no cause on record says
// that too.
func TestHistoryExplainsEveryFailure(t *testing.T) {
	e := newEnv(t, envOptions{configure: failingSource(t)})
	c := e.login("admin", adminPW)
	failEverything(t, e)
	for _, l := range []msg.Lang{msg.JA, msg.EN} {
		page := c.get("/history?lang=" + l.String()).body
		for cause, detail := range map[alert.Cause]string{
			alert.CausePull: "emr", alert.CauseMedium: "disk-a", alert.CauseCheck: msg.T("パックが壊れています", "pack damaged").Localize(l),
			alert.CauseCut: msg.T("センス入力がON", "sense input still ON").Localize(l), alert.CauseSimulated: "disk-b",
			alert.CauseLedgerFull: "disk-c", alert.CauseMissed: "3", alert.CauseAnomaly: msg.T("乱雑さ 7.99", "entropy 7.99").Localize(l),
			alert.CauseDrill: msg.T("3 件のファイルが一致しません", "3 files differ").Localize(l), alert.CauseScan: "nmap",
			alert.CauseLedger: msg.T("12 行目のハッシュが違います", "line 12: hash differs").Localize(l),
			alert.CauseOther:  "c-silent",
		} {
			explained(t, "history", page, l, cause, detail)
		}
	}
}
