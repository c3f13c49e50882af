package faults_test

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/relay/fake"
)

const (
	sendBackTarget = "emr-back"
	envSendBackDir = "DANZEN_FAULT_SENDBACK_DIR"
)

// danzen is killed while it writes restored files back to the e-chart
// server: nothing incomplete may sit under the folder name the operator
// asked for (the files go to NAME.partial until all are there), the next
// start records the interruption and names the incomplete folder, that
// folder is never written into again, and a new send-back delivers every
// file whole.
func TestKilledDuringSendBack(t *testing.T) {
	w := newWorld(t)
	w.r.Cfg.Restore.Targets = []config.RestoreTarget{w.r.SSHD.RestoreTarget(sendBackTarget)}
	if err := config.Save(w.cfgPath, w.r.Cfg); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.run(t, "cycle", ""); !ok {
		t.Fatal("the first cycle failed")
	}
	res := row{fault: "SIGKILL during a send-back to the e-chart server", reached: "SENDING BACK"}
	t.Setenv(envSendBackDir, "restore-1")
	w.run(t, "sendback", "SENDING BACK") // the small file is there, the 90 MB one on its way
	first := filepath.Join(w.r.SSHD.RestoreDir, "restore-1")
	if _, err := os.Stat(first); !os.IsNotExist(err) {
		t.Errorf("the requested folder exists after a killed send-back: %v", err)
	}
	if _, err := os.Stat(backup.PartialDir(first)); err != nil {
		t.Errorf("the incomplete folder is not marked %s: %v", backup.PartialSuffix, err)
	}
	res.falseOffln += w.falseOffline(t)

	if _, ok := w.run(t, "open", ""); !ok {
		t.Error("the start after the kill failed")
	}
	ents, err := ledger.Read(w.r.Cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindJobInterrupted}})
	if err != nil || len(ents) != 1 || !strings.Contains(ents[0].Message.String(), "restore-1"+backup.PartialSuffix) {
		t.Errorf("the interrupted send-back is not recorded once, naming the incomplete folder: %v %+v", err, ents)
	}
	if fake.CoilPersisted(w.board, "relay-disk-a") || w.r.HW.Powers["disk-a"].Loop() != nil {
		t.Error("after the start, the relay is energised or the disk attached")
	}
	res.falseOffln += w.falseOffline(t)

	// The same name again: refused before any medium is powered; the
	// incomplete folder is left alone.
	if lines, ok := w.run(t, "sendback", ""); ok || !strings.Contains(strings.Join(lines, " "), "never overwrites") {
		t.Errorf("a send-back into the name of an interrupted one was not refused: %v", lines)
	} else if strings.Contains(strings.Join(lines, " "), "power-on") {
		t.Errorf("the medium was powered for a send-back that could not be done: %v", lines)
	}
	// A new name: every file arrives whole.
	t.Setenv(envSendBackDir, "restore-2")
	if _, ok := w.run(t, "sendback", ""); !ok {
		t.Error("the send-back after the kill failed")
		res.dataLost = 1
	}
	for _, rel := range []string{"db/emr.dmp", "csv/患者.csv"} {
		got, err := os.ReadFile(filepath.Join(w.r.SSHD.RestoreDir, "restore-2", filepath.FromSlash(rel)))
		want, _ := os.ReadFile(filepath.Join(w.r.SSHD.Export, filepath.FromSlash(rel)))
		if err != nil || sha256.Sum256(got) != sha256.Sum256(want) {
			t.Errorf("%s was not sent back whole: %v", rel, err)
			res.dataLost = 1
		}
	}
	if rep, err := ledger.Verify(w.r.Cfg.LedgerDir); err != nil {
		t.Errorf("ledger: %v\n%s", err, rep)
	}
	res.falseOffln += w.falseOffline(t)
	if !t.Failed() {
		res.survived = 1
	}
	record(res)
}
