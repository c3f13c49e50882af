package faults_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/demo"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
)

// Ransomware on the e-chart server: a night of ordinary clinical changes
// passes unflagged; an export overwritten with random bytes is still
// backed up, but flagged, alerted, and no medium is pruned (every older
// generation stays) until a person acknowledges it; then pruning resumes.
func TestRansomwareOnTheSource(t *testing.T) {
	w := newWorldWith(t, nil, 128<<20)
	if err := demo.GenerateExport(w.r.SSHD.Export, 3<<20, 40, 1); err != nil {
		t.Fatal(err)
	}
	s := w.scenario(t) // keep_last 1: every good night would prune
	dir := s.cfg.LedgerDir
	cycle := func(name string) *backup.CycleReport {
		t.Helper()
		rep, err := s.cycle(t, nil)
		if err != nil || !rep.OK() {
			t.Fatalf("%s: %v %+v", name, err, rep)
		}
		return rep
	}
	lastForget := func(name string, want ledger.Kind) ledger.Entry {
		t.Helper()
		es, err := ledger.Read(dir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindForget, ledger.KindForgetPaused}})
		if err != nil || len(es) == 0 || es[len(es)-1].Kind != want {
			t.Fatalf("%s: the last pruning entry is not %s: %v %+v", name, want, err, es)
		}
		return es[len(es)-1]
	}

	// Night 1 sets the baseline; night 2 changes 5 % of the dump's rows.
	for i, change := range []func() error{
		func() error { return nil },
		func() error { return demo.ChangeDump(w.r.SSHD.Export, 0.05, 2) },
	} {
		if err := change(); err != nil {
			t.Fatal(err)
		}
		if rep := cycle("normal night"); len(rep.Anomalies) != 0 {
			t.Fatalf("night %d flagged: %+v", i+1, rep.Anomalies)
		}
		lastForget("normal night", ledger.KindForget)
	}

	res := s.fault("ransomware: the export encrypted in place", "pull")
	err := filepath.WalkDir(w.r.SSHD.Export, func(p string, d fs.DirEntry, err error) error {
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
		t.Fatalf("the encrypted export was not flagged: %+v", rep.Anomalies)
	}
	if len(rep.Media[0].Snapshots) != 1 {
		t.Fatalf("the encrypted export was not backed up: %+v", rep.Media[0])
	}
	an := rep.Anomalies[0]
	t.Logf("flagged: change ratio %.2f, entropy %.2f bits/byte (baseline %.2f), %d bytes sampled",
		an.Sample.ChangeRatio, an.Sample.Entropy, an.BaselineEntropy, an.Sample.SampledBytes)
	lastForget("encrypted night", ledger.KindForgetPaused)
	if es, _ := ledger.Read(dir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindAnomaly}}); len(es) != 1 {
		t.Fatalf("%d anomaly entries in the ledger, want 1", len(es))
	}
	if a := s.alerts.firing(string(alert.KindSourceAnomaly)); len(a) != 1 || a[0]["severity"] != string(alert.SeverityCritical) {
		t.Errorf("no critical source_anomaly alert: %v", s.alerts.got)
	}

	// The night after: nothing new changed, the anomaly is still open,
	// and the generation before the encryption is still on the medium.
	if rep := cycle("night after"); len(rep.Anomalies) != 0 {
		t.Fatalf("an unchanged export flagged again: %+v", rep.Anomalies)
	}
	lastForget("night after", ledger.KindForgetPaused)
	g, err := gateway.Open(context.Background(), s.cfg, gateway.Options{RelaySources: w.sources(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.AcknowledgeAnomaly(context.Background(), "no-such-id", "kato"); !errors.Is(err, backup.ErrNoAnomaly) {
		t.Errorf("acknowledging an unknown anomaly: %v", err)
	}
	if err := g.AcknowledgeAnomaly(context.Background(), an.ID, "kato"); err != nil {
		t.Fatal(err)
	}
	if open, err := g.OpenAnomalies(); err != nil || len(open) != 0 {
		t.Errorf("after acknowledgement: %v %+v", err, open)
	}
	closeGateway(t, g)
	if len(s.alerts.of(string(alert.KindSourceAnomaly), true)) != 1 {
		t.Errorf("the acknowledgement did not clear the alert: %v", s.alerts.got)
	}
	acks, _ := ledger.Read(dir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindAnomalyAck}})
	if len(acks) != 1 || acks[0].Actor != "kato" {
		t.Errorf("the acknowledgement is not recorded with its actor: %+v", acks)
	}

	// Pruning resumes: the three snapshots held back go but the newest.
	cycle("acknowledged")
	var fd ledger.ForgetData
	if err := json.Unmarshal(lastForget("acknowledged", ledger.KindForget).Data, &fd); err != nil {
		t.Fatal(err)
	}
	if len(fd.Removed) != 3 || fd.Kept != 1 {
		t.Errorf("after acknowledgement forget removed %d, kept %d; want 3 and 1", len(fd.Removed), fd.Kept)
	}
	if vr, err := ledger.Verify(dir); err != nil {
		t.Errorf("ledger: %v\n%s", err, vr)
	}
	w.finish(t, &res, true)
}
