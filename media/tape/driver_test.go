package tape_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/media/tape"
	"github.com/danzen-gw/danzen/media/tape/tapefake"
)

// world is a drive, a cartridge and a spool repository of made-up files
// named as restic names them (by their SHA-256).
type world struct {
	t     *testing.T
	spec  tape.Spec
	drive *tapefake.Drive
	d     *tape.Driver
}

func newWorld(t *testing.T, capacity int64) *world {
	spool := t.TempDir()
	spec := tape.Spec{Name: "lto", SpoolDir: spool, RecordSize: tape.MinRecordSize,
		AppearTimeout: tape.Duration(2 * time.Second), GoneTimeout: tape.Duration(time.Second)}
	drive := tapefake.NewDrive("/dev/nst0")
	drive.Insert(tapefake.NewCartridge(capacity))
	d, err := tape.New(spec, tape.Options{Host: drive, Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, spec: spec, drive: drive, d: d}
	w.put("config", "repository config")
	w.put("keys/", "key")
	return w
}

// put writes a repository file; a path ending in / gets its SHA-256 name.
func (w *world) put(p, content string) string {
	if strings.HasSuffix(p, "/") {
		sum := sha256.Sum256([]byte(content))
		name := hex.EncodeToString(sum[:])
		if p == "data/" {
			p += name[:2] + "/"
		}
		p += name
	}
	full := filepath.Join(w.spec.RepoDir(), filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return p
}

// session powers the drive, attaches, flushes (for a backup), ejects and
// cuts, as backup.Cycle.Session does; it returns the attach location and
// the first error, after checking the cut.
func (w *world) session(restore bool, during func(repo string)) (string, error) {
	w.t.Helper()
	ctx := context.Background()
	if err := w.d.BeforePowerOn(); err != nil {
		return "", err
	}
	w.drive.SetPower(true)
	defer func() {
		w.drive.SetPower(false)
		if err := w.d.WaitGone(ctx); err != nil {
			w.t.Fatal(err)
		}
		if w.drive.Loaded() {
			w.t.Fatal("cartridge still loaded after the session")
		}
	}()
	repo, err := w.d.Attach(ctx, restore)
	if err != nil {
		return "", err
	}
	if during != nil {
		during(repo)
	}
	if err := w.d.Flush(ctx); err != nil {
		return repo, errors.Join(err, w.d.Detach(ctx))
	}
	if err := w.d.Detach(ctx); err != nil {
		return repo, err
	}
	if !w.d.Ejected() {
		w.t.Fatal("not ejected after detach")
	}
	return repo, nil
}

func (w *world) catalogue() *tape.Catalogue {
	c, err := tape.LoadCatalogue(w.spec)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) lastFile() tape.TapeFile {
	c := w.catalogue()
	tr := c.Tape(c.Current)
	return tr.Files[len(tr.Files)-1]
}

func paths(f tape.TapeFile) []string {
	var ps []string
	for _, e := range f.Entries {
		ps = append(ps, e.Path)
	}
	return ps
}

// snapshotOf lists the repository's files and contents.
func snapshotOf(t *testing.T, dir string) map[string]string {
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAppendIncrementalsBaselineAfterPruneAndRestore(t *testing.T) {
	w := newWorld(t, 1<<30)
	pack1 := w.put("data/", strings.Repeat("pack one ", 100000))
	snap1 := w.put("snapshots/", "snapshot one")
	w.put("index/", "index one")
	w.put("locks/", "a lock is never archived")
	if _, err := w.session(false, nil); err != nil {
		t.Fatal(err)
	}
	f := w.lastFile()
	if f.Number != 1 || !f.Baseline || len(f.Entries) != 5 {
		t.Fatalf("first archive: %+v", f)
	}
	for _, p := range paths(f) {
		if strings.HasPrefix(p, "locks/") {
			t.Fatalf("lock archived: %s", p)
		}
	}

	// Second cycle: only the new files.
	pack2 := w.put("data/", "pack two")
	snap2 := w.put("snapshots/", "snapshot two")
	if _, err := w.session(false, nil); err != nil {
		t.Fatal(err)
	}
	f = w.lastFile()
	if f.Number != 2 || f.Baseline || strings.Join(paths(f), ",") != strings.Join([]string{pack2, snap2}, ",") && strings.Join(paths(f), ",") != strings.Join([]string{snap2, pack2}, ",") {
		t.Fatalf("second archive: %+v", f)
	}

	// forget removes a snapshot: recorded, no baseline.
	if err := os.Remove(filepath.Join(w.spec.RepoDir(), snap1)); err != nil {
		t.Fatal(err)
	}
	snap3 := w.put("snapshots/", "snapshot three")
	if _, err := w.session(false, nil); err != nil {
		t.Fatal(err)
	}
	f = w.lastFile()
	if f.Baseline || len(f.Removed) != 1 || f.Removed[0] != snap1 || len(f.Entries) != 1 || f.Entries[0].Path != snap3 {
		t.Fatalf("third archive: %+v", f)
	}

	// A restore from the tape now gives the repository as it is.
	w.restoresAsSpooled(t)

	// prune rewrites packs: the next archive is a full baseline.
	if err := os.Remove(filepath.Join(w.spec.RepoDir(), pack1)); err != nil {
		t.Fatal(err)
	}
	w.put("data/", "pack one, repacked")
	if _, err := w.session(false, nil); err != nil {
		t.Fatal(err)
	}
	f = w.lastFile()
	if f.Number != 4 || !f.Baseline || len(f.Entries) != 7 {
		t.Fatalf("archive after prune: %+v", f)
	}

	// Stock GNU tar reads every archive on the tape with the documented
	// blocking factor, and the repository comes out under repo/.
	files := w.catalogueCartridgeFiles(t)
	if len(files) != 5 {
		t.Fatalf("tape holds %d files, want label + 4 archives", len(files))
	}
	out := extractWithGNUTar(t, files)
	if b, err := os.ReadFile(filepath.Join(out, "repo", pack2)); err != nil || string(b) != "pack two" {
		t.Fatalf("GNU tar extracted %q, %v", b, err)
	}
}

// restoresAsSpooled restores from the tape and compares the result with
// the spool repository (locks aside), then checks that the restore
// directory was removed at Detach.
func (w *world) restoresAsSpooled(t *testing.T) {
	t.Helper()
	want := snapshotOf(t, w.spec.RepoDir())
	for p := range want {
		if strings.HasPrefix(p, "locks/") {
			delete(want, p)
		}
	}
	_, err := w.session(true, func(repo string) {
		got := snapshotOf(t, repo)
		if len(got) != len(want) {
			t.Errorf("restored %d files, want %d", len(got), len(want))
		}
		for p, c := range want {
			if got[p] != c {
				t.Errorf("restored %s differs", p)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(w.spec.SpoolDir, "restore")); !os.IsNotExist(err) {
		t.Fatalf("restore directory left behind: %v", err)
	}
}

// extractWithGNUTar extracts each tape file (its records) with GNU tar
// and the documented blocking factor, and returns where.
func extractWithGNUTar(t *testing.T, files [][][]byte) string {
	t.Helper()
	out := t.TempDir()
	for i, recs := range files {
		img := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(img, bytes.Join(recs, nil), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if len(r) != tape.MinRecordSize {
				t.Fatalf("file %d has a record of %d bytes", i, len(r))
			}
		}
		cmd := exec.Command("tar", "-x", "-b", "512", "-f", img, "-C", out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("GNU tar on tape file %d: %v\n%s", i, err, b)
		}
	}
	return out
}

func (w *world) catalogueCartridgeFiles(t *testing.T) [][][]byte {
	c := w.drive.Remove()
	defer w.drive.Insert(c)
	return c.Files()
}

func TestDamagedSpoolFileNotWritten(t *testing.T) {
	w := newWorld(t, 1<<30)
	p := w.put("data/", "good")
	if err := os.WriteFile(filepath.Join(w.spec.RepoDir(), p), []byte("bitrot"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := w.session(false, nil)
	if err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("damaged spool: %v", err)
	}
}

func TestTapeFullThenNewTapeBaseline(t *testing.T) {
	w := newWorld(t, 5*tape.MinRecordSize)
	pack1 := w.put("data/", strings.Repeat("x", 400<<10))
	if _, err := w.session(false, nil); err != nil {
		t.Fatal(err)
	}
	w.put("data/", strings.Repeat("y", 600<<10))
	_, err := w.session(false, nil)
	var full *tape.TapeFullError
	if !errors.As(err, &full) || !strings.Contains(err.Error(), "新しい") || !strings.Contains(err.Error(), "new (blank) tape") {
		t.Fatalf("tape full: %v", err)
	}
	first := w.catalogue().Tapes[0]
	if !first.Full || len(first.Files) != 1 {
		t.Fatalf("full tape record: %+v", first)
	}
	// The same tape again is refused before anything runs.
	if _, err := w.session(false, nil); !errors.As(err, &full) {
		t.Fatalf("full tape reinserted: %v", err)
	}
	// A new tape gets a label and a full baseline.
	fullTape := w.drive.Remove()
	if n := len(fullTape.Files()); n != 3 {
		t.Fatalf("full tape holds %d files, want label, archive and the partial one", n)
	}
	w.drive.Insert(tapefake.NewCartridge(1 << 30))
	if _, err := w.session(false, nil); err != nil {
		t.Fatal(err)
	}
	c := w.catalogue()
	if len(c.Tapes) != 2 || c.Current != c.Tapes[1].ID {
		t.Fatalf("catalogue: %+v", c)
	}
	if f := w.lastFile(); f.Number != 1 || !f.Baseline || len(f.Entries) != 4 {
		t.Fatalf("new tape: %+v", f)
	}
	// The full tape still restores its last good archive, with the
	// catalogue and, for a replacement gateway, without it (reading on to
	// the archive the full tape cut short).
	newTape := w.drive.Remove()
	w.drive.Insert(fullTape)
	for _, lost := range []bool{false, true} {
		if lost {
			if err := os.Remove(filepath.Join(w.spec.SpoolDir, "catalogue.json")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.session(true, func(repo string) {
			if got := snapshotOf(t, repo); len(got) != 3 || got[pack1] == "" {
				t.Errorf("restored from the full tape (catalogue lost %v): %d files", lost, len(got))
			}
		}); err != nil {
			t.Fatalf("restore from the full tape (catalogue lost %v): %v", lost, err)
		}
	}
	w.drive.Remove()
	w.drive.Insert(newTape)
}

func TestWriteProtectedRefused(t *testing.T) {
	w := newWorld(t, 1<<30)
	c := w.drive.Remove()
	c.SetWriteProtected(true)
	w.drive.Insert(c)
	w.put("data/", "pack")
	_, err := w.session(false, nil)
	if !errors.Is(err, tape.ErrWriteProtected) || !strings.Contains(err.Error(), "書き込み禁止") || !strings.Contains(err.Error(), "write-protected") {
		t.Fatalf("write-protected: %v", err)
	}
	if w.drive.Unloads() != 1 {
		t.Fatal("a refused tape is not ejected")
	}
}

func TestNoTapeAndStrayDrive(t *testing.T) {
	w := newWorld(t, 1<<30)
	w.drive.Remove()
	if _, err := w.session(false, nil); err == nil || !strings.Contains(err.Error(), "no tape in drive") {
		t.Fatalf("no tape: %v", err)
	}
	w.drive.SetPower(true)
	defer w.drive.SetPower(false)
	if err := w.d.BeforePowerOn(); err == nil || !strings.Contains(err.Error(), "before power-on") {
		t.Fatalf("drive present before power-on: %v", err)
	}
}

func TestRecoveryCommands(t *testing.T) {
	spec := tape.Spec{Name: "lto", Device: "/dev/nst1", SpoolDir: "/perm/spool", RecordSize: 1 << 20}
	rec := &tape.TapeRecord{ID: "lto-x", Files: []tape.TapeFile{{Number: 1, Baseline: true}, {Number: 2}, {Number: 3, Baseline: true}, {Number: 4}}}
	got := strings.Join(tape.RecoveryCommands(spec, rec, "/mnt/r"), "\n")
	for _, want := range []string{
		"mt -f /dev/nst1 asf 0 && tar -x -O -b 2048 -f /dev/nst1 DANZEN-TAPE.json",
		"for n in 3 4; do mt -f /dev/nst1 asf $n && tar -x -b 2048 -f /dev/nst1 || break; done",
		"mt -f /dev/nst1 offline",
		"restic -r /mnt/r/repo restore latest --target /mnt/r/restored",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if got := strings.Join(tape.RecoveryCommands(spec, nil, "/mnt/r"), "\n"); !strings.Contains(got, "n=1; while mt -f /dev/nst1 asf $n && tar -x -b 2048 -f /dev/nst1; do n=$((n+1)); done") {
		t.Errorf("without a catalogue:\n%s", got)
	}
}

// raw writes records and a filemark at the end of the tape, as another
// program or a write cut short would.
func (w *world) raw(atEnd, filemark bool, records ...[]byte) {
	w.t.Helper()
	w.drive.SetPower(true)
	defer w.drive.SetPower(false)
	h, err := w.drive.Open(true)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := h.Load(); err != nil {
		w.t.Fatal(err)
	}
	if err := h.SetVariableBlock(); err != nil {
		w.t.Fatal(err)
	}
	if atEnd {
		if err := h.SpaceEOD(); err != nil {
			w.t.Fatal(err)
		}
	}
	for _, r := range records {
		if err := h.WriteRecord(r); err != nil {
			w.t.Fatal(err)
		}
	}
	if filemark {
		if err := h.WriteFilemark(); err != nil {
			w.t.Fatal(err)
		}
	}
}

func TestForeignTapeRefused(t *testing.T) {
	w := newWorld(t, 1<<30)
	w.raw(false, true, bytes.Repeat([]byte("not tar"), 1000))
	if _, err := w.session(false, nil); err == nil || !strings.Contains(err.Error(), "not a danzen tape") {
		t.Fatalf("foreign tape: %v", err)
	}
	if w.drive.Unloads() != 1 {
		t.Fatal("a refused tape is not ejected")
	}
}

// TestErasedTapeIsBlank: a tape holding only a filemark is blank (so st
// shows a never-written tape), but one whose empty first file is followed
// by data is someone else's.
func TestErasedTapeIsBlank(t *testing.T) {
	w := newWorld(t, 1<<30)
	w.raw(false, true)
	if _, err := w.session(false, nil); err != nil {
		t.Fatalf("erased tape: %v", err)
	}
	if f := w.lastFile(); f.Number != 1 || !f.Baseline {
		t.Fatalf("erased tape: %+v", f)
	}
	w.drive.Remove()
	w.drive.Insert(tapefake.NewCartridge(1 << 30))
	w.raw(false, true)
	w.raw(true, true, bytes.Repeat([]byte("data"), 100))
	if _, err := w.session(false, nil); err == nil || !strings.Contains(err.Error(), "first file is empty and data follows") {
		t.Fatalf("empty first file before data: %v", err)
	}
}

// TestBrokenArchiveSkipped: an archive cut short (not catalogued) lies
// between good ones; appending goes on after it and both restore paths
// (with the catalogue, and reading the tape alone) skip it.
func TestBrokenArchiveSkipped(t *testing.T) {
	w := newWorld(t, 1<<30)
	w.put("data/", "pack one")
	if _, err := w.session(false, nil); err != nil {
		t.Fatal(err)
	}
	w.raw(true, true, make([]byte, tape.MinRecordSize)) // zero blocks: an empty, broken tar
	pack2 := w.put("data/", "pack two")
	if _, err := w.session(false, nil); err != nil {
		t.Fatal(err)
	}
	if f := w.lastFile(); f.Number != 3 || f.Baseline || len(f.Entries) != 1 || f.Entries[0].Path != pack2 {
		t.Fatalf("archive after the broken one: %+v", f)
	}
	// Power lost mid-write: records without a filemark at the end.
	w.raw(true, false, bytes.Repeat([]byte{1}, tape.MinRecordSize))
	pack3 := w.put("data/", "pack three")
	if _, err := w.session(false, nil); err != nil {
		t.Fatal(err)
	}
	if f := w.lastFile(); f.Number != 5 || len(f.Entries) != 1 || f.Entries[0].Path != pack3 {
		t.Fatalf("archive after a power loss: %+v", f)
	}
	want := snapshotOf(t, w.spec.RepoDir())
	for _, lost := range []bool{false, true} {
		if lost {
			if err := os.Remove(filepath.Join(w.spec.SpoolDir, "catalogue.json")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.session(true, func(repo string) {
			if got := snapshotOf(t, repo); len(got) != len(want) || got[pack2] != "pack two" || got[pack3] != "pack three" {
				t.Errorf("catalogue lost %v: restored %d files, want %d", lost, len(got), len(want))
			}
		}); err != nil {
			t.Fatalf("catalogue lost %v: %v", lost, err)
		}
	}
}

// TestRotatedTapes: each tape is brought up to date from its own last
// archive, so tapes can rotate (one off-site while the other is written).
func TestRotatedTapes(t *testing.T) {
	w := newWorld(t, 1<<30)
	w.put("data/", "pack one")
	if _, err := w.session(false, nil); err != nil {
		t.Fatal(err)
	}
	a := w.drive.Remove()
	w.drive.Insert(tapefake.NewCartridge(1 << 30))
	pack2 := w.put("data/", "pack two")
	if _, err := w.session(false, nil); err != nil {
		t.Fatal(err)
	}
	if f := w.lastFile(); !f.Baseline || len(f.Entries) != 4 {
		t.Fatalf("tape B: %+v", f)
	}
	w.drive.Remove()
	w.drive.Insert(a)
	pack3 := w.put("data/", "pack three")
	if _, err := w.session(false, nil); err != nil {
		t.Fatal(err)
	}
	f := w.lastFile()
	if f.Number != 2 || f.Baseline || len(f.Entries) != 2 || f.Entries[0].Path > f.Entries[1].Path ||
		!(f.Entries[0].Path == pack2 || f.Entries[1].Path == pack2) || !(f.Entries[0].Path == pack3 || f.Entries[1].Path == pack3) {
		t.Fatalf("tape A brought up to date: %+v", f)
	}
}
