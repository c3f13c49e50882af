package backup_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/sshdtest"
	"github.com/danzen-gw/danzen/ledger"
)

func startSSHD(t *testing.T) *sshdtest.Server { return sshdtest.Run(t, sshdtest.Options{}) }

// pullRecords reads the ledger's pull records.
func pullRecords(t *testing.T, dir string) []ledger.PullData {
	t.Helper()
	entries, err := ledger.Read(dir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindPull}})
	if err != nil {
		t.Fatal(err)
	}
	var out []ledger.PullData
	for _, e := range entries {
		d, err := ledger.Decode[ledger.PullData](e)
		if err != nil {
			t.Fatal(err)
		}
		if e.Message.JA == "" || e.Message.EN == "" {
			t.Errorf("pull record without a message in both languages: %+v", e)
		}
		out = append(out, d)
	}
	return out
}

// runCycle runs a cycle with no medium over src, recorded in a real
// ledger in ledgerDir; events may be nil.
func runCycle(t *testing.T, src config.Source, staging, ledgerDir string, limit config.Rate, events func(backup.CycleEvent)) (*backup.CycleReport, error) {
	t.Helper()
	l, err := ledger.Open(ledgerDir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := l.Close(); err != nil {
			t.Errorf("close the ledger: %v", err)
		}
	}()
	cfg := config.Default()
	cfg.StagingDir, cfg.BandwidthLimit = staging, limit
	cfg.Sources = []config.Source{src}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := &backup.Cycle{Config: cfg, Ledger: l, Events: events}
	return c.Run(ctx)
}

// TestCycleRecordsWhatThePullLeftOut: an export with a name holding a
// control character, a symlink, a FIFO, a file the completion rule says
// is still being written and one rewritten during its transfer. The
// cycle's pull record in the ledger counts what was backed up and lists,
// by reason, everything left out.
func TestCycleRecordsWhatThePullLeftOut(t *testing.T) {
	s := startSSHD(t)
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	put := func(rel string, b []byte, mtime time.Time) {
		t.Helper()
		if err := s.WriteFile(rel, b, mtime); err != nil {
			t.Fatal(err)
		}
	}
	put("good.dmp", []byte("good"), past)
	put("big.dmp", make([]byte, 64<<20), past)
	put("bad\x1bname.dmp", []byte("escape"), past)
	put("late.dmp", []byte("still being written"), time.Now().Add(time.Minute)) // newer than the marker
	put("EXPORT_COMPLETE", nil, past.Add(time.Minute))
	if err := os.Symlink("/etc/passwd", filepath.Join(s.Export, "link.dmp")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(s.Export, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := s.Source("emr")
	src.Completion = config.Completion{Mode: config.CompletionMarker, Marker: "EXPORT_COMPLETE"}
	staging, ledgerDir := t.TempDir(), t.TempDir()
	var rewrote atomic.Bool
	events := func(ev backup.CycleEvent) {
		if p := ev.Pull; p != nil && p.Kind == pull.EventProgress && p.BytesDone > 8<<20 && !rewrote.Swap(true) {
			// Rewritten in place while it is read, as a careless exporter does.
			if err := os.WriteFile(filepath.Join(s.Export, "big.dmp"), make([]byte, 64<<20+1), 0o644); err != nil {
				t.Errorf("rewrite the file: %v", err)
			}
		}
	}
	rep, err := runCycle(t, src, staging, ledgerDir, 20e6, events)
	var inc *pull.IncompleteError
	if !errors.As(err, &inc) {
		t.Fatalf("want the pull incomplete (big.dmp changed), got %v", err)
	}
	recs := pullRecords(t, ledgerDir)
	if len(recs) != 1 || len(rep.PullRecords) != 1 {
		t.Fatalf("%d pull records in the ledger, %d in the report; want 1", len(recs), len(rep.PullRecords))
	}
	d := recs[0]
	if d.Source != "emr" || d.Cycle != rep.ID || !d.OK || !d.Error.IsZero() {
		t.Fatalf("record: %+v", d)
	}
	// good.dmp and the done-marker (part of the export) are backed up.
	want := ledger.PullCount{Files: 2, Bytes: 4}
	if d.Pulled != want || d.Staged != want || d.Unchanged != (ledger.PullCount{}) || d.Removed != (ledger.PullCount{}) {
		t.Fatalf("counts: pulled %+v staged %+v unchanged %+v removed %+v", d.Pulled, d.Staged, d.Unchanged, d.Removed)
	}
	left := map[string][]string{}
	for _, lo := range d.LeftOut {
		if lo.Count != len(lo.Names) {
			t.Errorf("%s: count %d, names %q", lo.Reason, lo.Count, lo.Names)
		}
		left[lo.Reason] = lo.Names
	}
	for reason, names := range map[string][]string{
		"unsafe-name": {`"bad\x1bname.dmp"`}, "symlink": {"link.dmp"}, "special": {"pipe"},
		"not-complete": {"late.dmp"}, "changed": {"big.dmp"},
	} {
		if !slices.Equal(left[reason], names) {
			t.Errorf("left out as %s: %q, want %q", reason, left[reason], names)
		}
	}
	if len(left) != 5 {
		t.Errorf("left out: %+v", d.LeftOut)
	}
}

// TestCycleRecordsAFailedPull: a pull that fails outright is on record
// too, with the reason.
func TestCycleRecordsAFailedPull(t *testing.T) {
	s := startSSHD(t)
	if err := s.WriteFile("a.dmp", []byte("a"), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	forged, err := s.NewHostKeyLine()
	if err != nil {
		t.Fatal(err)
	}
	src := s.Source("emr")
	src.KnownHosts = []string{forged}
	ledgerDir := t.TempDir()
	if _, err := runCycle(t, src, t.TempDir(), ledgerDir, 0, nil); err == nil {
		t.Fatal("a pull from a server with a changed host key succeeded")
	}
	recs := pullRecords(t, ledgerDir)
	if len(recs) != 1 || recs[0].OK || recs[0].Error.IsZero() || recs[0].Source != "emr" || recs[0].Staged.Files != 0 {
		t.Fatalf("failed pull recorded as %+v", recs)
	}
}

// rec is a pull record of emr staging files (bytes) and leaving out
// names by reason.
func rec(files int, bytes int64, left map[string][]string) ledger.PullData {
	d := ledger.PullData{Source: "emr", OK: true, Pulled: ledger.PullCount{Files: files, Bytes: bytes},
		Staged: ledger.PullCount{Files: files, Bytes: bytes}}
	for _, reason := range []string{"unsafe-name", "symlink", "special", "not-complete", "changed"} {
		if names := left[reason]; names != nil {
			d.LeftOut = append(d.LeftOut, ledger.PullLeftOut{Reason: reason, Count: len(names), Names: names})
		}
	}
	return d
}

// TestAssessPullsJudgesAgainstThePreviousPulls: a refusal is news only
// when the previous pull did not refuse the file; a file is stuck when it
// was pending in the previous pull too; an export with no complete file
// is flagged; a fall of more than the share stays flagged until the
// export is back, and 0 turns the check off.
func TestAssessPullsJudgesAgainstThePreviousPulls(t *testing.T) {
	night1 := rec(100, 1000, map[string][]string{"symlink": {"link.dmp"}, "not-complete": {"late.dmp"}})
	night2 := rec(98, 990, map[string][]string{"symlink": {"link.dmp"}, "special": {"pipe"}, "not-complete": {"late.dmp", "new.dmp"}})
	pc := backup.AssessPulls([]ledger.PullData{night1, night2}, 20)
	if !slices.Equal(pc.NewlyRefused, []string{"pipe"}) || !pc.Refused || !slices.Equal(pc.StillPending, []string{"late.dmp"}) ||
		pc.NothingComplete || pc.Dropped || pc.Source != "emr" {
		t.Fatalf("night 2: %+v", pc)
	}
	if pc := backup.AssessPulls([]ledger.PullData{night1}, 20); !slices.Equal(pc.NewlyRefused, []string{"link.dmp"}) || pc.StillPending != nil {
		t.Fatalf("first pull: %+v", pc)
	}

	// The export breaks: 60 files, then still 60, then back to 99.
	broken := rec(60, 600, nil)
	history := []ledger.PullData{night1, night2, broken}
	if pc := backup.AssessPulls(history, 20); !pc.Dropped || pc.Before.Files != 98 || pc.After.Files != 60 || pc.Refused {
		t.Fatalf("fall of 39%%: %+v", pc)
	}
	if pc := backup.AssessPulls(history, 50); pc.Dropped {
		t.Fatalf("fall of 39%% flagged with a 50%% share: %+v", pc)
	}
	if pc := backup.AssessPulls(history, 0); pc.Dropped {
		t.Fatalf("flagged with the check off: %+v", pc)
	}
	history = append(history, rec(60, 600, nil))
	if pc := backup.AssessPulls(history, 20); !pc.Dropped || pc.Before.Files != 98 {
		t.Fatalf("still broken the next night, but not flagged: %+v", pc)
	}
	history = append(history, rec(99, 995, nil))
	if pc := backup.AssessPulls(history, 20); pc.Dropped {
		t.Fatalf("mended, still flagged: %+v", pc)
	}
	// Bytes count as much as files: the dump truncated.
	if pc := backup.AssessPulls([]ledger.PullData{rec(10, 1e9, nil), rec(10, 1e6, nil)}, 20); !pc.Dropped {
		t.Fatalf("truncated dump not flagged: %+v", pc)
	}
	empty := rec(0, 0, map[string][]string{"not-complete": {"late.dmp"}})
	if pc := backup.AssessPulls([]ledger.PullData{night2, empty}, 20); !pc.NothingComplete || !pc.Dropped {
		t.Fatalf("empty export: %+v", pc)
	}
}
