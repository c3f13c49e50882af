package documents_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/relay"
)

// TestEvidenceSimulatedRelayIsNoVerifiedCut: disk-b's relay only
// simulates, so its cuts on record are not listed as verified cuts, its
// hours cut off are none, and the report says why, as the plan does.
func TestEvidenceSimulatedRelayIsNoVerifiedCut(t *testing.T) {
	w := newWorld(t)
	w.cfg.Relays[1] = relay.Spec{Name: "relay-b", Driver: relay.DriverSimulated}
	_, files := build(t, gather(t, w.cfg))
	for l, want := range map[string][]string{
		"ja": {"relay-b (simulated)", "ドライバ simulated は実際のリレーを駆動しません。この媒体はオフラインではありません", "確認済みの切断として扱わない切断の記録"},
		"en": {"relay-b (simulated)", "driver simulated drives no real relay: this medium is not offline", "Cuts on record that are not verified cuts"},
	} {
		ev := doc(t, files, "evidence-report", l)
		mustContain(t, "evidence."+l, ev, want...)
		// The verified cuts table holds disk-a's cuts only.
		_, cuts, _ := strings.Cut(ev[1], map[string]string{"ja": "確認済みの切断\n", "en": "Verified cuts\n"}[l])
		cuts, _, _ = strings.Cut(cuts, "\n\n**")
		if strings.Contains(cuts, "disk-b") || !strings.Contains(cuts, "disk-a") {
			t.Errorf("evidence.%s: the verified cuts are not disk-a's alone:\n%s", l, cuts)
		}
		// disk-b: no cut counts, so no hour is cut off.
		for _, row := range strings.Split(ev[1], "\n") {
			if strings.HasPrefix(row, "| `disk-b` |") && !strings.HasPrefix(row, "| `disk-b` | 142.0 | 0.0 | 26.0 |") {
				t.Errorf("evidence.%s: disk-b's hours %q, want 142.0 connected, 0.0 cut, 26.0 no record", l, row)
			}
		}
	}
	// The plan says the same of disk-b.
	mustContain(t, "plan", doc(t, files, "offline-backup-plan", "en"), `driver "simulated" drives no real relay: this medium is not offline.`)
}

// TestEvidenceGenerationsGapsExportAndSignatures: the report gives each
// medium's generations held, explains the hours with no record, tells how
// to export and verify the ledger (listing the period's downloads), and
// ends with the signature block.
func TestEvidenceGenerationsGapsExportAndSignatures(t *testing.T) {
	w := newWorld(t)
	now := at(7, 9, 0)
	l, err := ledger.OpenWith(w.cfg.LedgerDir, ledger.Options{Now: func() time.Time { return now }})
	must(t, err)
	_, err = l.Append(context.Background(), ledger.Entry{Kind: ledger.KindLedgerExport, Actor: "auditor-k", Message: msg.T("書き出し", "exported"),
		Payload: ledger.LedgerExportData{LastSeq: 42, LastHash: "feedface00112233", Bytes: 1234}})
	must(t, err)
	must(t, l.Close())
	_, files := build(t, gather(t, w.cfg))
	ja := doc(t, files, "evidence-report", "ja")
	en := doc(t, files, "evidence-report", "en")
	mustContain(t, "evidence.ja", ja,
		"2 世代(スナップショット 4 件)、2026-10-01 02:05 JST 〜 2026-10-03 02:06 JST",
		"「記録なし」について", "媒体が期間の途中で追加された",
		": 記録なし 26.0時間(約1日2時間)。最初の記録は 2026-10-02 02:00 JST。",
		"danzen ledger verify --dir danzen-ledger-gw-sakura-YYYYMMDD-HHMM", "auditor-k", "feedface00112233", "VERIFY.txt",
		"作成者(氏名・署名)", "確認者(氏名・署名)", "承認者(氏名・署名)", "承認日")
	mustContain(t, "evidence.en", en,
		"2 generations (4 snapshots), 2026-10-01 02:05 JST – 2026-10-03 02:06 JST",
		`About "no record"`, "the medium was added during the period",
		": no record for 26.0 h (about 1 day 2 hours); the first record is at 2026-10-02 02:00 JST.",
		"tar xf danzen-ledger-gw-sakura-YYYYMMDD-HHMM.tar", "danzen ledger verify --dir danzen-ledger-gw-sakura-YYYYMMDD-HHMM",
		"prepared by (name, signature)", "checked by (name, signature)", "approved by (name, signature)")
	// disk-a has a record from before the period: no gap line for it.
	for _, form := range en {
		if strings.Contains(form, "disk-a</code>: no record") || strings.Contains(form, "`disk-a`: no record") {
			t.Error("disk-a has no gap, yet one is explained")
		}
	}
}
