package gateway_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
)

// TestRestoreOfAFileNotInTheSnapshotIsRefusedBeforePower: a restore of a
// path the snapshot's manifest does not list is refused from the file
// list kept when the snapshot was written, before the medium's relay is
// switched; a file it holds still restores, and a snapshot whose list is
// not kept is still checked after the restore, as before.
func TestRestoreOfAFileNotInTheSnapshotIsRefusedBeforePower(t *testing.T) {
	r, g := backedUp(t, nil)
	relay := r.hw.Board.Relay("relay-disk-a")
	powerOns := func() int {
		t.Helper()
		entries, err := ledger.Read(r.cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindPowerOn}})
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	snaps, err := g.Snapshots("disk-a")
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshots: %v %+v", err, snaps)
	}
	commands, ons := relay.Commands(), powerOns()
	for _, o := range []gateway.RestoreOptions{
		{Medium: "disk-a", Files: []string{"no/such.file"}},
		{Medium: "disk-a", Source: "emr", Snapshot: "latest", Files: []string{"db/emr.dmp", "no/such.file"}},
		{Medium: "disk-a", Snapshot: snaps[0].ID[:8], Files: []string{"カルテ/患者 一覧.csv", "no/such.file"}},
	} {
		_, err := g.Restore(ctxT(t), o, nil)
		if err == nil || !strings.Contains(err.Error(), "no/such.file") || !strings.Contains(err.Error(), "媒体には給電していません") ||
			!strings.Contains(err.Error(), "no medium was powered") || strings.Contains(err.Error(), "db/emr.dmp") {
			t.Fatalf("restore of %v: %v", o.Files, err)
		}
		if err := g.StartRestore(ctxT(t), o); err == nil || !strings.Contains(err.Error(), "no/such.file") {
			t.Fatalf("the page's restore of %v was not refused at once: %v", o.Files, err)
		}
		if relay.Commands() != commands || powerOns() != ons {
			t.Fatalf("the medium was powered for a restore of %v", o.Files)
		}
	}

	// A file the snapshot holds is not refused.
	rep, err := g.Restore(ctxT(t), gateway.RestoreOptions{Medium: "disk-a", Snapshot: snaps[0].ID, Files: []string{"カルテ/患者 一覧.csv"}}, nil)
	if err != nil || rep.FilesVerified != 1 {
		t.Fatalf("restore of a file the snapshot holds: %v %+v", err, rep)
	}
	assertCut(t, r, "disk-a")

	// Without the kept list nothing is known before power: the restore
	// runs and the check after it refuses, as it always did.
	if err := os.RemoveAll(filepath.Join(r.cfg.StagingDir, "filelists")); err != nil {
		t.Fatal(err)
	}
	commands = relay.Commands()
	if _, err := g.Restore(ctxT(t), gateway.RestoreOptions{Medium: "disk-a", Files: []string{"no/such.file"}}, nil); err == nil ||
		!strings.Contains(err.Error(), "no/such.file") {
		t.Fatalf("a restore of a file the snapshot does not hold succeeded: %v", err)
	}
	if relay.Commands() == commands {
		t.Fatal("without a file list the restore did not run: the later check is gone")
	}
	assertCut(t, r, "disk-a")
}
