package gateway_test

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/demo"
	testrig "github.com/danzen-gw/danzen/internal/rig"
	"github.com/danzen-gw/danzen/ledger"
)

// TestRansomwareExportIsKeptFlaggedAndStopsPruning: a night of ordinary
// clinical changes passes unflagged; an export overwritten with random
// bytes is still backed up, but flagged, alerted, and no medium is pruned
// until a person acknowledges it.
func TestRansomwareExportIsKeptFlaggedAndStopsPruning(t *testing.T) {
	x := testrig.New(t, nil, []string{"disk-a"}, 128<<20)
	if err := demo.GenerateExport(x.SSHD.Export, 3<<20, 40, 1); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var alerts []alert.Alert
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var a alert.Alert
		json.NewDecoder(req.Body).Decode(&a)
		mu.Lock()
		alerts = append(alerts, a)
		mu.Unlock()
	}))
	defer hook.Close()
	x.Cfg.Alerts.Webhook = &alert.WebhookSpec{URL: hook.URL}
	x.Cfg.Retention.KeepLast = 1 // every cycle would prune down to one snapshot
	r := &rig{sshd: x.SSHD, hw: x.HW, cfg: x.Cfg, dir: x.Dir}
	g := r.open(t)
	r.prepare(t, g, "disk-a")

	cycle := func(name string) *backup.CycleReport {
		t.Helper()
		rep, err := g.RunCycle(ctxT(t), nil)
		if err != nil || !rep.OK() {
			t.Fatalf("%s: %v %+v", name, err, rep)
		}
		return rep
	}
	forgets := func() []ledger.Entry {
		es, err := ledger.Read(x.Cfg.LedgerDir, ledger.Filter{Kinds: []string{ledger.KindForget, backup.KindForgetPaused}})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	lastForget := func(name, wantKind string) ledger.Entry {
		t.Helper()
		es := forgets()
		if len(es) == 0 || es[len(es)-1].Kind != wantKind {
			t.Fatalf("%s: last pruning entry is not %s: %+v", name, wantKind, es)
		}
		return es[len(es)-1]
	}

	// Night 1 sets the baseline; night 2 changes 5 % of the dump's rows.
	for i, change := range []func() error{
		func() error { return nil },
		func() error { return demo.ChangeDump(x.SSHD.Export, 0.05, 2) },
	} {
		if err := change(); err != nil {
			t.Fatal(err)
		}
		if rep := cycle("normal night"); len(rep.Anomalies) != 0 {
			t.Fatalf("night %d flagged: %+v", i+1, rep.Anomalies)
		}
		lastForget("normal night", ledger.KindForget)
	}

	// Ransomware: every file of the export encrypted in place.
	err := filepath.WalkDir(x.SSHD.Export, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b := make([]byte, fi.Size())
		rand.Read(b)
		return os.WriteFile(p, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := cycle("encrypted night")
	if len(rep.Anomalies) != 1 || rep.Anomalies[0].Source != "emr" || rep.Anomalies[0].Sample.Entropy < 7.9 {
		t.Fatalf("encrypted export not flagged: %+v", rep.Anomalies)
	}
	if len(rep.Media[0].Snapshots) != 1 {
		t.Fatalf("the encrypted export was not backed up: %+v", rep.Media[0])
	}
	id := rep.Anomalies[0].ID
	an := rep.Anomalies[0]
	t.Logf("flagged: change ratio %.2f, entropy %.2f bits/byte (baseline %.2f), %d bytes sampled",
		an.Sample.ChangeRatio, an.Sample.Entropy, an.BaselineEntropy, an.Sample.SampledBytes)
	lastForget("encrypted night", backup.KindForgetPaused)
	if es, _ := ledger.Read(x.Cfg.LedgerDir, ledger.Filter{Kinds: []string{backup.KindAnomaly}}); len(es) != 1 {
		t.Fatalf("%d anomaly entries in the ledger, want 1", len(es))
	}
	waitAlert(t, &mu, &alerts, func(a alert.Alert) bool {
		return a.Kind == alert.KindSourceAnomaly && a.Severity == alert.SeverityCritical && !a.Resolved
	})

	// The night after: nothing new changed, but the anomaly is still open.
	if rep := cycle("night after"); len(rep.Anomalies) != 0 {
		t.Fatalf("unchanged export flagged again: %+v", rep.Anomalies)
	}
	lastForget("night after", backup.KindForgetPaused)

	if err := g.AcknowledgeAnomaly(ctxT(t), "no-such-id", "kato"); !errors.Is(err, backup.ErrNoAnomaly) {
		t.Fatalf("acknowledging an unknown anomaly: %v", err)
	}
	if err := g.AcknowledgeAnomaly(ctxT(t), id, "kato"); err != nil {
		t.Fatal(err)
	}
	if open, err := g.OpenAnomalies(); err != nil || len(open) != 0 {
		t.Fatalf("after acknowledgement: %v %+v", err, open)
	}
	waitAlert(t, &mu, &alerts, func(a alert.Alert) bool { return a.Kind == alert.KindSourceAnomaly && a.Resolved })
	acks, _ := ledger.Read(x.Cfg.LedgerDir, ledger.Filter{Kinds: []string{backup.KindAnomalyAck}})
	if len(acks) != 1 || acks[0].Actor != "kato" {
		t.Fatalf("acknowledgement not recorded with its actor: %+v", acks)
	}

	// Pruning resumes: the three snapshots held back go but the newest.
	cycle("acknowledged")
	var fd ledger.ForgetData
	if err := json.Unmarshal(lastForget("acknowledged", ledger.KindForget).Data, &fd); err != nil {
		t.Fatal(err)
	}
	if len(fd.Removed) != 3 || fd.Kept != 1 {
		t.Fatalf("after acknowledgement forget removed %d, kept %d; want 3 and 1", len(fd.Removed), fd.Kept)
	}
	if vr, err := ledger.Verify(x.Cfg.LedgerDir); err != nil {
		t.Fatalf("ledger: %v\n%s", err, vr)
	}
}

func waitAlert(t *testing.T, mu *sync.Mutex, got *[]alert.Alert, match func(alert.Alert) bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		mu.Lock()
		for _, a := range *got {
			if match(a) {
				mu.Unlock()
				return
			}
		}
		mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("alert not received; got %+v", *got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
