package faults_test

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/restic"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/rig"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/disk/looptest"
	"github.com/danzen-gw/danzen/relay/fake"
	"github.com/danzen-gw/danzen/status"
)

// smallExport is an export for faults that need no transfer to catch.
var smallExport = map[string]string{
	"db/emr.dmp": strings.Repeat("INSERT INTO karte VALUES (1, '山田 太郎', '2026-11-26');\n", 2000),
	"csv/患者.csv": "患者ID,氏名\n1,山田 太郎\n",
}

// onMedium powers disk-a by hand (as someone with the disk on a desk
// would), mounts it, runs fn on the mount point and powers it off again.
func (w *world) onMedium(t *testing.T, fn func(mnt string)) {
	t.Helper()
	p := w.r.HW.Powers["disk-a"]
	if err := p.SetPower(true); err != nil {
		t.Fatal(err)
	}
	defer func() { must(t, p.SetPower(false)) }()
	mnt := t.TempDir()
	if out, err := exec.Command("mount", p.Loop().Path, mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v %s", err, out)
	}
	defer func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Fatalf("umount: %v %s", err, out)
		}
	}()
	fn(mnt)
}

// mediumFailed checks a cycle failed on disk-a with a message containing
// want, cut the medium with proof, and alerted.
func (s *scenario) mediumFailed(t *testing.T, rep *backup.CycleReport, err error, want string) {
	t.Helper()
	switch {
	case err == nil || rep.OK():
		t.Fatal("the cycle with the fault succeeded")
	case !strings.Contains(err.Error(), "disk-a") || !strings.Contains(err.Error(), want):
		t.Errorf("the failure does not name disk-a and %q: %v", want, err)
	}
	var named bool
	for _, a := range s.alerts.firing(string(alert.KindCycleFailed)) {
		named = named || a["medium"] == "disk-a"
	}
	if !named {
		t.Errorf("no cycle_failed alert for disk-a: %v", s.alerts.got)
	}
}

// recovered runs the cycle after the repair, then finish.
func (w *world) recovered(t *testing.T, s *scenario, res *row, drill bool) {
	t.Helper()
	if rep, err := s.cycle(t, nil); err != nil || !rep.OK() {
		t.Errorf("the cycle after the repair failed: %v", err)
	} else if len(rep.Media) != 1 || !rep.Media[0].CutVerified {
		t.Errorf("the cycle after the repair did not cut disk-a with proof: %+v", rep.Media)
	}
	w.finish(t, res, drill)
}

// finish checks that no data was lost and records the row. Staging must
// hold only complete files; where the fault reached the repository, a
// restore drill (restic check --read-data, the newest snapshot restored
// and verified file by file) must pass too.
func (w *world) finish(t *testing.T, res *row, drill bool) {
	t.Helper()
	res.lost(t, stagingComplete(w.r.Cfg.StagingDir, "emr"))
	if drill {
		if _, ok := w.run(t, "drill", ""); !ok {
			res.lost(t, errors.New("the restore drill failed"))
		}
	}
	res.falseOffln += w.falseOffline(t)
	if !t.Failed() {
		res.survived = 1
	}
	record(*res)
}

// lost fails the test with err and counts data lost, unless err is nil.
func (r *row) lost(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Error(err)
		r.dataLost = 1
	}
}

// TestMediumFaults gives one gateway, in turn, the faults of its medium
// and of the restic repository on it. Each cycle with a fault must fail
// naming the medium and the cause, cut the medium with proof and alert;
// after the repair the next cycle must succeed, and a restore drill too
// where the fault reached the repository.
func TestMediumFaults(t *testing.T) {
	w := newWorldWith(t, smallExport, 32<<20)
	w.r.Cfg.Media[0].Disk.AppearTimeout = disk.Duration(3 * time.Second)
	s := w.scenario(t)
	if _, ok := w.run(t, "cycle", ""); !ok {
		t.Fatal("the first cycle failed")
	}
	power := w.r.HW.Powers["disk-a"]
	repoDir := func(mnt string) string { return filepath.Join(mnt, disk.RepoDir) }

	t.Run("repository_missing", func(t *testing.T) {
		res := s.fault("restic repository missing", "cycle")
		w.onMedium(t, func(mnt string) { must(t, os.Rename(repoDir(mnt), repoDir(mnt)+".moved")) })
		rep, err := s.cycle(t, nil)
		s.mediumFailed(t, rep, err, "repository does not exist")
		if !errors.Is(err, restic.ErrRepoMissing) {
			t.Errorf("not restic's missing repository: %v", err)
		}
		// Never a fresh, empty repository in its place: that would hide
		// the loss of every generation.
		w.onMedium(t, func(mnt string) {
			if _, err := os.Stat(repoDir(mnt)); err == nil {
				t.Error("a new repository was created in place of the missing one")
			}
			must(t, os.Rename(repoDir(mnt)+".moved", repoDir(mnt)))
		})
		res.falseOffln += w.falseOffline(t)
		w.recovered(t, s, &res, true)
	})

	t.Run("stale_restic_lock", func(t *testing.T) {
		res := s.fault("stale restic lock (restic killed)", "cycle")
		// A restic killed while it held the repository exclusively
		// (key passwd waits for the new password on stdin).
		w.onMedium(t, func(mnt string) {
			cmd := exec.Command(s.cfg.ResticBinary, "--repo", repoDir(mnt), "--no-cache",
				"--password-file", s.cfg.KeyPath(s.cfg.Media[0].PasswordFile), "key", "passwd", "--new-password-file", "/dev/stdin")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				// restic is killed below; its stdin may be closed already.
				_ = stdin.Close()
			}()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				// A lock written whole (restic writes NAME-tmp-N, then
				// renames it).
				locks, _ := os.ReadDir(filepath.Join(repoDir(mnt), "locks"))
				if slices.ContainsFunc(locks, func(e os.DirEntry) bool { return !strings.Contains(e.Name(), "-tmp-") }) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("restic never locked the repository")
				}
				time.Sleep(20 * time.Millisecond)
			}
			must(t, cmd.Process.Kill())
			// Killed on purpose: Wait reports the signal.
			_ = cmd.Wait()
		})
		// A new generation, so the cycle also prunes (an exclusive lock).
		if err := w.r.SSHD.WriteFile("csv/患者.csv", []byte("患者ID,氏名\n1,山田 太郎\n2,佐藤 花子\n"), time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		rep, err := s.cycle(t, nil)
		if err != nil || !rep.OK() || rep.Media[0].Forgotten != 1 {
			t.Errorf("the cycle did not clear the stale lock, back up and prune: %v %+v", err, rep)
		}
		w.onMedium(t, func(mnt string) {
			if locks, _ := os.ReadDir(filepath.Join(repoDir(mnt), "locks")); len(locks) != 0 {
				t.Errorf("locks left on the medium: %v", locks)
			}
		})
		w.finish(t, &res, true)
	})

	t.Run("different_disk_plugged_in", func(t *testing.T) {
		res := s.fault("a different disk in the medium's place", "attach")
		other, err := looptest.CreateExt4(filepath.Join(t.TempDir(), "other.img"), 32<<20, looptest.ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		power.SetMode(looptest.NeverAppears)
		stranger := looptest.NewPower(other.Path, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			stranger.Follow(ctx, func() bool { return fake.CoilPersisted(w.board, "relay-disk-a") }, 10*time.Millisecond)
		}()
		rep, err := s.cycle(t, nil)
		cancel()
		<-done
		defer func() { must(t, stranger.Close()) }()
		s.mediumFailed(t, rep, err, "別のディスク")
		if rep != nil && (len(rep.Media) != 1 || len(rep.Media[0].Snapshots) != 0 || !rep.Media[0].CutVerified) {
			t.Errorf("the stranger was written or not cut: %+v", rep.Media)
		}
		// Nothing was written to the stranger.
		if err := stranger.SetPower(true); err != nil {
			t.Fatal(err)
		}
		mnt := t.TempDir()
		if out, err := exec.Command("mount", "-o", "ro", stranger.Loop().Path, mnt).CombinedOutput(); err != nil {
			t.Fatalf("mount: %v %s", err, out)
		}
		for _, name := range []string{disk.MediaIDFile, disk.RepoDir} {
			if _, err := os.Stat(filepath.Join(mnt, name)); err == nil {
				t.Errorf("%s was written to the stranger", name)
			}
		}
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Fatalf("umount: %v %s", err, out)
		}
		must(t, stranger.SetPower(false))
		res.falseOffln += w.falseOffline(t)
		power.SetMode(looptest.Healthy)
		w.recovered(t, s, &res, false) // never written
	})

	t.Run("medium_never_disappears", func(t *testing.T) {
		res := s.fault("medium never disappears after power-off", "power-off")
		power.SetMode(looptest.NeverDisappears)
		spec := s.cfg.Media[0].Disk
		gone := spec.GoneTimeout
		spec.GoneTimeout = disk.Duration(3 * time.Second) // it will not go
		rep, err := s.cycle(t, nil)
		spec.GoneTimeout = gone
		if err == nil || len(rep.Media) != 1 || rep.Media[0].CutVerified || !strings.Contains(rep.Media[0].CutReason.String(), "disk-a") {
			t.Errorf("a medium still attached was not reported as not cut: %v %+v", err, rep)
		}
		st, err := status.Compute(s.cfg.LedgerDir, []string{"disk-a"}, time.Now())
		if err != nil || st.Media[0].State == status.Cut {
			t.Errorf("the ledger calls a medium still attached cut: %v %+v", err, st)
		}
		if len(s.alerts.firing(string(alert.KindMediumNotOff))) == 0 {
			t.Errorf("no medium_not_off alert: %v", s.alerts.got)
		}
		res.falseOffln += w.falseOffline(t)
		// The repair: staff unplug the disk and fix its power.
		power.SetMode(looptest.Healthy)
		if err := power.SetPower(false); err != nil {
			t.Fatal(err)
		}
		w.recovered(t, s, &res, false) // struck after the medium was written and unmounted
	})

	t.Run("medium_full", func(t *testing.T) {
		res := s.fault("medium full", "restic backup")
		snaps := snapshots(t, s.cfg.LedgerDir)
		big := make([]byte, 40<<20) // incompressible, more than the medium holds
		rand.Read(big)
		if err := w.r.SSHD.WriteFile("db/big.bin", big, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		rep, err := s.cycle(t, nil)
		s.mediumFailed(t, rep, err, "the medium is full")
		if rep != nil && (len(rep.Media) != 1 || !disk.IsDiskFull(rep.Media[0].Err) || len(rep.Media[0].Snapshots) != 0 || !rep.Media[0].CutVerified) {
			t.Errorf("disk-a: %+v", rep.Media)
		}
		if n := len(snapshots(t, s.cfg.LedgerDir)); n != len(snaps) {
			t.Errorf("%d snapshots recorded on a full medium", n-len(snaps))
		}
		res.falseOffln += w.falseOffline(t)
		// The previous generations are intact and restorable.
		if _, ok := w.run(t, "drill", ""); !ok {
			res.lost(t, errors.New("the drill on the full medium failed: the previous generations are damaged"))
		}
		// The repair: the medium is cloned to a bigger disk (the same
		// filesystem, grown).
		img := w.r.HW.Images["disk-a"].Path
		for _, c := range [][]string{{"truncate", "-s", "128M", img}, {"e2fsck", "-fy", img}, {"resize2fs", img}} {
			if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("%v: %v %s", c, err, out)
			}
		}
		w.recovered(t, s, &res, false) // drilled above; the cycle checked the repository
		// What the failed backup left on the medium is removed, not
		// carried from night to night.
		if ents, _ := ledger.Read(s.cfg.LedgerDir, ledger.Filter{Medium: "disk-a", Kinds: []ledger.Kind{ledger.KindPruneUnreferenced}}); len(ents) == 0 {
			t.Error("the data the failed backup left on the medium was never pruned")
		}
	})

	// Last: it damages the only medium's repository for good.
	t.Run("pack_corrupted", func(t *testing.T) {
		res := s.fault("a pack file corrupted on the medium", "drill")
		want := map[string]bool{}
		for _, id := range snapshots(t, s.cfg.LedgerDir) {
			want[id[:8]] = true
		}
		w.onMedium(t, func(mnt string) {
			rig.DamagePack(t, repoDir(mnt), s.cfg.KeyPath(s.cfg.Media[0].PasswordFile))
		})
		g, err := gateway.Open(context.Background(), s.cfg, gateway.Options{RelaySources: w.sources(t)})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := g.Drill(context.Background(), "disk-a", "fault-suite", nil)
		closeGateway(t, g)
		switch {
		case err == nil || rep.OK || rep.CheckOK || !rep.CheckRan:
			t.Fatalf("the drill did not find the damaged pack: %v %+v", err, rep)
		case !rep.CutVerified:
			t.Error("the failed drill left the medium uncut")
		case len(rep.Damaged) == 0:
			t.Error("the drill does not name the damaged snapshots")
		}
		for _, id := range rep.Damaged {
			if !want[id[:8]] || !strings.Contains(err.Error(), id) {
				t.Errorf("damaged snapshot %s: not one of the medium's %v, or not in the error %v", id, want, err)
			}
		}
		drills, _ := ledger.Read(s.cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindDrill}})
		var d ledger.RestoreData
		var derr error
		if len(drills) > 0 {
			d, derr = ledger.Decode[ledger.RestoreData](drills[len(drills)-1])
		}
		if len(drills) == 0 || derr != nil || len(d.Damaged) != len(rep.Damaged) {
			t.Errorf("the ledger's drill record does not name the damaged snapshots: %+v", d)
		}
		if len(s.alerts.firing(string(alert.KindDrillFailed))) == 0 {
			t.Errorf("no drill_failed alert: %v", s.alerts.got)
		}
		// The export itself is still whole on the gateway; a drill would
		// only fail again.
		w.finish(t, &res, false)
	})
}

// snapshots lists the snapshot IDs the ledger records, oldest first.
func snapshots(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := ledger.Read(dir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindSnapshot}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range ents {
		if d, err := ledger.Decode[ledger.SnapshotData](e); err == nil && d.Snapshot != "" {
			ids = append(ids, d.Snapshot)
		}
	}
	return ids
}
