package gateway_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	testrig "github.com/danzen-gw/danzen/internal/rig"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
)

// backedUp returns a gateway whose disk-a holds one cycle's snapshot;
// configure, if set, changes the configuration first.
func backedUp(t *testing.T, configure func(*rig)) (*rig, *gateway.Gateway) {
	t.Helper()
	r := newRig(t, []string{"disk-a"}, 128<<20)
	if configure != nil {
		configure(r)
		if err := r.cfg.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	g := r.open(t)
	r.prepare(t, g, "disk-a")
	if rep, err := g.RunCycle(ctxT(t), nil); err != nil || !rep.OK() {
		t.Fatalf("cycle: %v %+v", err, rep)
	}
	return r, g
}

// assertCut fails unless the medium's relay is open and its disk detached.
func assertCut(t *testing.T, r *rig, medium string) {
	t.Helper()
	if r.hw.Board.Relay("relay-"+medium).Energised() || r.hw.Powers[medium].Loop() != nil {
		t.Fatalf("%s is still powered or attached", medium)
	}
}

func TestRestoreVerifiesEveryFileAndCutsTheMedium(t *testing.T) {
	r, g := backedUp(t, nil)
	snaps, err := g.Snapshots("disk-a")
	if err != nil || len(snaps) != 1 || snaps[0].Source != "emr" || snaps[0].Files != 3 || snaps[0].Bytes == 0 {
		t.Fatalf("snapshots from the ledger (2 files and the manifest): %+v %v", snaps, err)
	}
	var phases []string
	rep, err := g.Restore(ctxT(t), gateway.RestoreOptions{Medium: "disk-a", Snapshot: snaps[0].ID, Actor: "vendor"},
		func(ev backup.CycleEvent) { phases = append(phases, ev.Phase) })
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Files != 2 || rep.FilesVerified != 2 || len(rep.Mismatches) != 0 || !rep.CutVerified {
		t.Fatalf("restore report: %+v", rep.RestoreData)
	}
	if rep.PowerOnMS <= 0 || rep.FirstByteMS < rep.PowerOnMS || rep.RestoreMS < rep.FirstByteMS || rep.TotalMS < rep.RestoreMS {
		t.Fatalf("times out of order: power-on %d, first byte %d, restored %d, total %d", rep.PowerOnMS, rep.FirstByteMS, rep.RestoreMS, rep.TotalMS)
	}
	assertCut(t, r, "disk-a")
	for _, p := range []string{"power-on", "restore", "verify", "power-off"} {
		if !strings.Contains(strings.Join(phases, " "), p) {
			t.Errorf("no %q phase in %v", p, phases)
		}
	}
	// The files are in the restore area, identical to the export.
	for _, rel := range []string{"db/emr.dmp", "カルテ/患者 一覧.csv"} {
		p, err := g.RestoredFile(rep.ID, rel)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(p)
		want, _ := os.ReadFile(filepath.Join(r.sshd.Export, filepath.FromSlash(rel)))
		if string(got) != string(want) {
			t.Fatalf("%s differs from the export", rel)
		}
	}
	if _, err := g.RestoredFile(rep.ID, "../../secrets/disk-a.restic-password"); err == nil {
		t.Fatal("a path leaving the restore area was accepted")
	}
	recs, err := g.Restores()
	if err != nil || len(recs) != 1 || recs[0].Actor != "vendor" || !recs[0].OK || recs[0].Dest != "gateway:"+filepath.Join(g.RestoreArea(), rep.ID) {
		t.Fatalf("restore records: %+v %v", recs, err)
	}

	// A single file, as for a download.
	one, err := g.Restore(ctxT(t), gateway.RestoreOptions{Medium: "disk-a", Files: []string{"カルテ/患者 一覧.csv"}}, nil)
	if err != nil || one.Files != 1 || one.FilesVerified != 1 {
		t.Fatalf("single file: %v %+v", err, one.RestoreData)
	}
	if _, err := g.RestoredFile(one.ID, "db/emr.dmp"); err == nil {
		t.Fatal("a single-file restore restored other files")
	}
	if _, err := g.Restore(ctxT(t), gateway.RestoreOptions{Medium: "disk-a", Files: []string{"no/such.file"}}, nil); err == nil {
		t.Fatal("restoring a file the snapshot does not hold succeeded")
	}
	assertCut(t, r, "disk-a")
	kept, err := g.KeptRestores()
	if err != nil || len(kept) != 2 || kept[0].ID != one.ID || len(kept[0].Files) != 1 || len(kept[1].Files) != 2 {
		t.Fatalf("kept restores: %+v %v", kept, err)
	}
	if err := g.RemoveRestore(ctxT(t), one.ID, "vendor"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(g.RestoreArea(), one.ID)); !os.IsNotExist(err) {
		t.Fatal("removed restore still there")
	}
}

// A cancelled restore (the operator pressed stop, or the daemon shuts
// down) still detaches and cuts the medium, with the proof.
func TestCancelledRestoreLeavesTheMediumCut(t *testing.T) {
	r, g := backedUp(t, nil)
	ctx, cancel := context.WithCancel(ctxT(t))
	rep, err := g.Restore(ctx, gateway.RestoreOptions{Medium: "disk-a"}, func(ev backup.CycleEvent) {
		if ev.Phase == "restore" {
			cancel()
		}
	})
	if err == nil || rep.OK {
		t.Fatal("a cancelled restore reported success")
	}
	if !rep.CutVerified || !rep.Medium.CutVerified {
		t.Fatalf("cancelled restore: cut not verified: %+v", rep.Medium)
	}
	assertCut(t, r, "disk-a")
	entries, _ := ledger.Read(r.cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindRestore}})
	if len(entries) != 1 || !strings.Contains(entries[0].Message.String(), "FAILED") {
		t.Fatalf("the failed restore is not in the ledger: %+v", entries)
	}
}

// A deadline too close to be of use is refused before anything is powered.
func TestRestoreDeadlineTooCloseIsRefused(t *testing.T) {
	r, g := backedUp(t, nil)
	before := r.hw.Board.Relay("relay-disk-a").Commands()
	_, err := g.Restore(ctxT(t), gateway.RestoreOptions{Medium: "disk-a", Deadline: time.Now().Add(time.Second)}, nil)
	if err == nil || !strings.Contains(err.Error(), "1分以上先") {
		t.Fatalf("a deadline a second ahead was accepted: %v", err)
	}
	if r.hw.Board.Relay("relay-disk-a").Commands() != before {
		t.Fatal("the relay was switched for a refused restore")
	}
}

// The drill restores the newest snapshot into scratch, verifies, measures
// and removes the scratch copy; a damaged pack is found by check
// --read-data, named with the snapshot it hurts, and the drill fails.
func TestDrillRecordsTimesAndFindsACorruptPack(t *testing.T) {
	r, g := backedUp(t, nil)
	rep, err := g.Drill(ctxT(t), "", "staff", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || !rep.Drill || !rep.CheckRan || !rep.CheckOK || rep.FilesVerified != 2 || rep.RestoreMS <= 0 || rep.FirstByteMS <= 0 || !rep.CutVerified {
		t.Fatalf("drill: %+v", rep.RestoreData)
	}
	if ents, _ := os.ReadDir(g.RestoreArea()); len(ents) != 0 {
		t.Fatalf("the drill left its scratch copy: %v", ents)
	}
	if st, err := g.Status(ctxT(t)); err != nil || st.LastDrill == nil || st.LastDrill.ID != rep.ID || !st.LastDrill.OK {
		t.Fatalf("status does not show the drill: %v %+v", err, st)
	}
	assertCut(t, r, "disk-a")

	// Damage one data pack on the disk, as a failing sector would.
	p := r.hw.Powers["disk-a"]
	if err := p.SetPower(true); err != nil {
		t.Fatal(err)
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", p.Loop().Path, mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v %s", err, out)
	}
	testrig.DamagePack(t, filepath.Join(mnt, disk.RepoDir), r.cfg.KeyPath(r.cfg.Media[0].PasswordFile))
	if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
		t.Fatalf("umount: %v %s", err, out)
	}
	if err := p.SetPower(false); err != nil {
		t.Fatal(err)
	}

	rep, err = g.Drill(ctxT(t), "disk-a", "staff", nil)
	if err == nil || rep.OK || rep.CheckOK || !rep.CheckRan {
		t.Fatalf("a drill on a damaged repository passed: %v %+v", err, rep.RestoreData)
	}
	if len(rep.Damaged) != 1 || !strings.HasPrefix(rep.Damaged[0], rep.Snapshot) {
		t.Fatalf("damaged snapshots %v, want the one snapshot %s", rep.Damaged, rep.Snapshot)
	}
	if !strings.Contains(err.Error(), rep.Snapshot) {
		t.Fatalf("the error does not name the snapshot: %v", err)
	}
	if !rep.CutVerified {
		t.Fatal("failed drill left the medium uncut")
	}
	assertCut(t, r, "disk-a")
	drills, err := g.Drills()
	if err != nil || len(drills) != 2 || !drills[0].OK || drills[1].OK || drills[1].Actor != "staff" {
		t.Fatalf("drill records: %+v %v", drills, err)
	}
}

// Restored files go back to the e-chart server through a separate
// write-enabled account, into a new folder; never over existing files.
func TestRestoreSendsBackThroughTheWriteAccount(t *testing.T) {
	r, g := backedUp(t, func(r *rig) { r.cfg.Restore.Targets = []config.RestoreTarget{r.sshd.RestoreTarget("emr-back")} })
	rep, err := g.Restore(ctxT(t), gateway.RestoreOptions{Medium: "disk-a", Target: "emr-back", TargetDir: "restore-1", Actor: "vendor"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"db/emr.dmp", "カルテ/患者 一覧.csv"} {
		got, err := os.ReadFile(filepath.Join(r.sshd.RestoreDir, "restore-1", filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(filepath.Join(r.sshd.Export, filepath.FromSlash(rel)))
		if string(got) != string(want) {
			t.Fatalf("%s sent back differs", rel)
		}
	}
	if _, err := os.Stat(filepath.Join(g.RestoreArea(), rep.ID)); !os.IsNotExist(err) {
		t.Fatal("the gateway kept its copy after sending it back")
	}
	// An existing folder is refused before the medium is powered.
	powerOns := func() int {
		ents, _ := ledger.Read(r.cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindPowerOn}})
		return len(ents)
	}
	before := powerOns()
	_, err = g.Restore(ctxT(t), gateway.RestoreOptions{Medium: "disk-a", Target: "emr-back", TargetDir: "restore-1"}, nil)
	if err == nil || !strings.Contains(err.Error(), "never overwrites") {
		t.Fatalf("sending into an existing folder: %v", err)
	}
	if powerOns() != before {
		t.Error("the medium was powered for a send-back into an existing folder")
	}
	for _, bad := range []string{"../export", "a/b", ""} {
		if _, err := g.Restore(ctxT(t), gateway.RestoreOptions{Medium: "disk-a", Target: "emr-back", TargetDir: bad}, nil); err == nil {
			t.Fatalf("folder name %q accepted", bad)
		}
	}
	assertCut(t, r, "disk-a")
	ents, _ := ledger.Read(r.cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindSendBack}})
	if len(ents) != 1 || !strings.Contains(ents[0].Message.String(), "restore-1") {
		t.Fatalf("send-backs not recorded: %+v", ents)
	}

	// The pull account stays read-only, and may not be the write account.
	bad := *r.cfg
	pull := r.sshd.RestoreTarget("same")
	pull.User, pull.KeyFile = r.cfg.Sources[0].User, r.cfg.Sources[0].KeyFile
	bad.Restore.Targets = []config.RestoreTarget{pull}
	var ve *config.ValidationError
	if err := bad.Validate(); !errors.As(err, &ve) || len(ve.For("restore.targets[0].user")) == 0 || len(ve.For("restore.targets[0].key_file")) == 0 {
		t.Fatalf("the pull account as restore target: %v", err)
	}
}

// The drill schedule runs drills by itself; an empty one runs none.
func TestDrillScheduleRunsTheDrill(t *testing.T) {
	r, g := backedUp(t, func(r *rig) { r.cfg.Restore.DrillSchedule = "0 10 1 4 *" }) // yearly, 1 April 10:00
	jst := time.FixedZone("JST", 9*3600)
	ctx, cancel := context.WithCancel(ctxT(t))
	clock := &stepClock{done: cancel, times: []time.Time{
		time.Date(2027, 3, 31, 9, 0, 0, 0, jst),
		time.Date(2027, 4, 1, 10, 0, 0, 0, jst), // due
		time.Date(2027, 4, 1, 10, 5, 0, 0, jst),
	}}
	if err := g.RunDrillSchedule(ctx, clock); err != context.Canceled {
		t.Fatal(err)
	}
	drills, err := g.Drills()
	if err != nil || len(drills) != 1 || !drills[0].OK || drills[0].Actor != ledger.ActorSystem {
		t.Fatalf("scheduled drills: %+v %v", drills, err)
	}
	assertCut(t, r, "disk-a")
}
