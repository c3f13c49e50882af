package restic

// Integration tests against the real restic binary (v0.19.1) named by
// DANZEN_RESTIC, on local repositories in t.TempDir().

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/syncbuf"
)

const testPassword = "correct horse battery staple 電子カルテ"

func resticBin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs restic (bin/restic): make test runs it, -short skips it")
	}
	p := os.Getenv("DANZEN_RESTIC")
	if p == "" {
		t.Fatal("DANZEN_RESTIC is not set: run make test, which builds bin/restic")
	}
	if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		t.Fatalf("DANZEN_RESTIC=%s is not an executable restic (%v): run make test, which builds bin/restic", p, err)
	}
	return p
}

type testRepo struct {
	*Repo
	root string // temp dir holding repo, cache, tmp, password
	logs *syncbuf.Buffer
}

func writePassword(t *testing.T, path, pw string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newRepo returns an initialised repository.
func newRepo(t *testing.T) *testRepo {
	t.Helper()
	tr := newRepoNoInit(t)
	if err := tr.Init(context.Background()); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return tr
}

func newRepoNoInit(t *testing.T) *testRepo {
	t.Helper()
	bin := resticBin(t)
	root := t.TempDir()
	pw := filepath.Join(root, "password")
	writePassword(t, pw, testPassword)
	logs := &syncbuf.Buffer{}
	r := &Repo{
		Binary:       bin,
		Location:     filepath.Join(root, "repo"),
		PasswordFile: pw,
		Host:         "danzen-test-gw",
		CacheDir:     filepath.Join(root, "cache"),
		TempDir:      filepath.Join(root, "tmp"),
		RetryLock:    2 * time.Second,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("restic driver log:\n%s", logs)
		}
	})
	return &testRepo{Repo: r, root: root, logs: logs}
}

// writeFile writes n deterministic pseudo-random bytes.
func writeFile(t *testing.T, path string, n int64, seed uint64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var key [32]byte
	copy(key[:], fmt.Sprintf("seed-%d", seed))
	if _, err := io.CopyN(f, rand.NewChaCha8(key), n); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// makeSource builds a staging-like tree: nested small files, an empty
// file, a Japanese file name, and bigMiB of large files.
func makeSource(t *testing.T, dir string, bigMiB int) {
	t.Helper()
	for i := range 24 {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("d%d/sub%d/f%02d.dat", i%3, i%2, i)), int64(1000+i*517), uint64(i))
	}
	writeFile(t, filepath.Join(dir, "カルテ", "患者一覧.csv"), 4096, 99)
	writeFile(t, filepath.Join(dir, "empty"), 0, 0)
	for i := 0; bigMiB > 0; i++ {
		n := min(bigMiB, 32)
		writeFile(t, filepath.Join(dir, "dump", fmt.Sprintf("big%d.bin", i)), int64(n)<<20, uint64(1000+i))
		bigMiB -= n
	}
}

// hashTree maps each regular file's path (relative to root) to its SHA-256.
func hashTree(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }() // read-only
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		m[rel] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func compareTrees(t *testing.T, want, got map[string]string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("empty source tree")
	}
	for p, h := range want {
		if got[p] != h {
			t.Errorf("restored %s: sha256 %q, want %q", p, got[p], h)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("restored extra file %s", p)
		}
	}
}

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) kinds() map[EventKind]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[EventKind]int{}
	for _, e := range r.events {
		m[e.Kind]++
	}
	return m
}

func (r *recorder) statuses() []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []Status
	for _, e := range r.events {
		if e.Status != nil {
			s = append(s, *e.Status)
		}
	}
	return s
}

// fastProgress makes restic report status 60 times a second (its most)
// instead of the driver's twice. A test that waits for status events then
// needs only a backup that outlasts 1/60 s after its first blob: for the
// tens of MiB of new, incompressible data these tests back up, restic
// would have to chunk, hash, compress and encrypt at several GB/s to
// finish sooner. At twice a second a fast backup of 96 MiB printed none.
const fastProgress = "RESTIC_PROGRESS_FPS=60"

func TestBackupRestoreRoundTrip(t *testing.T) {
	tr := newRepo(t)
	tr.Env = append(tr.Env, fastProgress)
	src := filepath.Join(t.TempDir(), "staging")
	makeSource(t, src, 96)
	want := hashTree(t, src)

	res := firstBackup(t, tr, src, len(want))
	checkSnapshotListed(t, tr, res, src, len(want))
	restoreFullAndPartial(t, tr, res, want)
	secondBackup(t, tr, src, res, len(want))

	cr, err := tr.Check(context.Background(), CheckOptions{ReadDataSubset: "100%"})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if cr.Summary.NumErrors != 0 {
		t.Errorf("check summary %+v", cr.Summary)
	}
	checkLogs(t, tr)
}

// firstBackup backs up src (files files, 96 MiB and more) into the empty
// repository and checks the result and the events on the way.
func firstBackup(t *testing.T, tr *testRepo, src string, files int) BackupResult {
	t.Helper()
	rec := &recorder{}
	tr.OnEvent = rec.add
	defer func() { tr.OnEvent = nil }()
	start := time.Now()
	res, err := tr.Backup(context.Background(), src, []string{"source=echart", "nightly"})
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	t.Logf("first backup of %d files (96 MiB+): %v, %d status events", files, time.Since(start), len(rec.statuses()))
	if res.SnapshotID == "" || len(res.SnapshotID) != 64 {
		t.Fatalf("snapshot ID %q", res.SnapshotID)
	}
	if res.Summary.FilesNew != uint64(files) || res.Summary.DataAdded < 96<<20 || res.Summary.TotalBytesProcessed < 96<<20 {
		t.Errorf("first summary: %+v (want %d new files)", res.Summary, files)
	}
	k := rec.kinds()
	if k[KindSummary] != 1 || k[KindStatus] == 0 {
		t.Errorf("events by kind: %v, want status events and one summary", k)
	}
	for _, s := range rec.statuses() {
		if s.TotalBytes != 0 && (s.PercentDone < 0 || s.PercentDone > 1 || s.BytesDone > s.TotalBytes) {
			t.Errorf("implausible status %+v", s)
		}
	}
	return res
}

// checkSnapshotListed checks that the repository lists the one snapshot
// res made, with this gateway's host, the tags and the source path.
func checkSnapshotListed(t *testing.T, tr *testRepo, res BackupResult, src string, files int) {
	t.Helper()
	snaps, err := tr.Snapshots(context.Background())
	if err != nil {
		t.Fatalf("Snapshots: %v", err)
	}
	if len(snaps) != 1 {
		t.Fatalf("%d snapshots, want 1", len(snaps))
	}
	sn := snaps[0]
	if sn.ID != res.SnapshotID || sn.Hostname != "danzen-test-gw" || !slices.Equal(sn.Tags, []string{"source=echart", "nightly"}) ||
		!slices.Equal(sn.Paths, []string{src}) || sn.Summary == nil || sn.Summary.FilesNew != uint64(files) {
		t.Errorf("snapshot %+v", sn)
	}
}

// restoreFullAndPartial restores res whole (the files appear directly
// under the target) and then one directory of "latest", this host's
// newest.
func restoreFullAndPartial(t *testing.T, tr *testRepo, res BackupResult, want map[string]string) {
	t.Helper()
	ctx := context.Background()
	target := filepath.Join(t.TempDir(), "restore")
	rec := &recorder{}
	tr.OnEvent = rec.add
	defer func() { tr.OnEvent = nil }()
	start := time.Now()
	rs, err := tr.Restore(ctx, res.SnapshotID[:8], target)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	t.Logf("restore: %v", time.Since(start))
	compareTrees(t, want, hashTree(t, target))
	// restic counts directories as restored files too.
	if rs.FilesRestored < uint64(len(want)) || rs.FilesRestored != rs.TotalFiles || rs.BytesRestored != res.Summary.TotalBytesProcessed ||
		rec.kinds()[KindSummary] != 1 {
		t.Errorf("restore summary %+v, events %v", rs, rec.kinds())
	}

	part := filepath.Join(t.TempDir(), "part")
	if _, err := tr.Restore(ctx, "latest", part, "/カルテ"); err != nil {
		t.Fatalf("Restore include: %v", err)
	}
	got := hashTree(t, part)
	if len(got) != 1 || got[filepath.Join("カルテ", "患者一覧.csv")] != want[filepath.Join("カルテ", "患者一覧.csv")] {
		t.Errorf("partial restore: %v", got)
	}
}

// secondBackup changes one small file and backs up again: one file
// changed, little data added, a new snapshot.
func secondBackup(t *testing.T, tr *testRepo, src string, first BackupResult, files int) {
	t.Helper()
	writeFile(t, filepath.Join(src, "d1", "sub1", "f01.dat"), 1517, 4242)
	res, err := tr.Backup(context.Background(), src, []string{"source=echart", "nightly"})
	if err != nil {
		t.Fatalf("second Backup: %v", err)
	}
	s := res.Summary
	t.Logf("second backup: files changed %d, data added %d bytes (packed %d), %.2fs", s.FilesChanged, s.DataAdded, s.DataAddedPacked, s.TotalDuration)
	if s.FilesChanged != 1 || s.FilesNew != 0 || s.FilesUnmodified != uint64(files-1) {
		t.Errorf("second summary files: %+v", s)
	}
	if s.DataAdded == 0 || s.DataAdded > 64<<10 {
		t.Errorf("second backup added %d bytes, want a little (one 1.5 KB file plus trees)", s.DataAdded)
	}
	if res.SnapshotID == first.SnapshotID {
		t.Error("second backup reused the snapshot ID")
	}
}

// checkLogs: the password never reaches a log; the command line does.
func checkLogs(t *testing.T, tr *testRepo) {
	t.Helper()
	logs := tr.logs.String()
	if strings.Contains(logs, testPassword) || strings.Contains(logs, "horse") {
		t.Error("password appears in the log")
	}
	if !strings.Contains(logs, "--password-file=") || !strings.Contains(logs, "--host=danzen-test-gw") ||
		!strings.Contains(logs, "--retry-lock=2s") || !strings.Contains(logs, "--compression=auto") {
		t.Errorf("log lacks the command line:\n%s", logs)
	}
}

func TestForgetKeepLast(t *testing.T) {
	ctx := context.Background()
	tr := newRepo(t)
	src := filepath.Join(t.TempDir(), "staging")
	makeSource(t, src, 1)
	var ids []string
	for i := range 3 {
		writeFile(t, filepath.Join(src, "generation.txt"), 100, uint64(i))
		res, err := tr.Backup(ctx, src, nil)
		if err != nil {
			t.Fatalf("Backup %d: %v", i, err)
		}
		ids = append(ids, res.SnapshotID)
	}
	fr, err := tr.Forget(ctx, Policy{KeepLast: 2})
	if err != nil {
		t.Fatalf("Forget: %v", err)
	}
	var kept, removed []string
	for _, s := range fr.Kept() {
		kept = append(kept, s.ID)
	}
	for _, s := range fr.Removed() {
		removed = append(removed, s.ID)
	}
	slices.Sort(kept)
	wantKept := slices.Sorted(slices.Values(ids[1:]))
	if len(fr.Groups) != 1 || !slices.Equal(kept, wantKept) || !slices.Equal(removed, ids[:1]) {
		t.Fatalf("forget: groups %d kept %v removed %v; want kept %v removed %v", len(fr.Groups), kept, removed, wantKept, ids[:1])
	}
	if g := fr.Groups[0]; g.Host != "danzen-test-gw" || !slices.Equal(g.Paths, []string{src}) {
		t.Errorf("group key host %q paths %v", g.Host, g.Paths)
	}
	snaps, err := tr.Snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, s := range snaps {
		left = append(left, s.ID)
	}
	slices.Sort(left)
	if !slices.Equal(left, wantKept) {
		t.Fatalf("after forget: %v, want %v", left, wantKept)
	}
	if _, err := tr.Check(ctx, CheckOptions{ReadDataSubset: "1/2"}); err != nil {
		t.Fatalf("Check after prune: %v", err)
	}
	// A newer restore still yields the latest content.
	target := filepath.Join(t.TempDir(), "r")
	if _, err := tr.Restore(ctx, ids[2], target); err != nil {
		t.Fatal(err)
	}
	compareTrees(t, hashTree(t, src), hashTree(t, target))
}

func TestWrongPassword(t *testing.T) {
	ctx := context.Background()
	tr := newRepo(t)
	bad := filepath.Join(tr.root, "wrong")
	writePassword(t, bad, "not the password")
	r := *tr.Repo
	r.PasswordFile = bad
	for name, op := range map[string]func() error{
		"snapshots": func() error { _, err := r.Snapshots(ctx); return err },
		"backup":    func() error { _, err := r.Backup(ctx, tr.root, nil); return err },
	} {
		err := op()
		if !errors.Is(err, ErrWrongPassword) {
			t.Fatalf("%s with wrong password: %v, want ErrWrongPassword", name, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "リポジトリのパスワードが違います") || !strings.Contains(msg, "wrong repository password for "+r.Location) {
			t.Errorf("%s: message %q", name, msg)
		}
		if errors.Is(err, ErrRepoMissing) || errors.Is(err, ErrFatal) {
			t.Errorf("%s: error also matches another code: %v", name, err)
		}
	}
	// A password file readable by others is refused before restic runs.
	if err := os.Chmod(bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Snapshots(ctx); !errors.Is(err, ErrPasswordFile) {
		t.Fatalf("world-readable password file: %v", err)
	}
}

func TestRepoMissing(t *testing.T) {
	ctx := context.Background()
	tr := newRepoNoInit(t)
	_, err := tr.Snapshots(ctx)
	if !errors.Is(err, ErrRepoMissing) {
		t.Fatalf("Snapshots on missing repo: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "リポジトリが見つかりません") || !strings.Contains(msg, tr.Location) {
		t.Errorf("message %q", msg)
	}
	src := filepath.Join(t.TempDir(), "s")
	makeSource(t, src, 0)
	res, err := tr.Backup(ctx, src, nil)
	if !errors.Is(err, ErrRepoMissing) || res.SnapshotID != "" {
		t.Fatalf("Backup to missing repo: %v, %+v", err, res)
	}
}

func TestMissingBinary(t *testing.T) {
	r := &Repo{Binary: filepath.Join(t.TempDir(), "no-such-restic"), Location: t.TempDir(), Host: "gw",
		Logger: slog.New(slog.DiscardHandler)}
	_, err := r.Version(context.Background())
	if !errors.Is(err, ErrBinaryMissing) || !strings.Contains(err.Error(), "no-such-restic") {
		t.Fatalf("Version with missing binary: %v", err)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	writePassword(t, pw, "x")
	r.PasswordFile = pw
	if _, err := r.Snapshots(context.Background()); !errors.Is(err, ErrBinaryMissing) {
		t.Fatalf("Snapshots with missing binary: %v", err)
	}
	// And the real one reports its version.
	r.Binary = resticBin(t)
	v, err := r.Version(context.Background())
	if err != nil || v != "0.19.1" {
		t.Fatalf("Version = %q, %v; want 0.19.1", v, err)
	}
}

// killBackupMidway runs a backup of src with restic directly (same repo,
// same flags), so the test holds the process, and SIGKILLs it once it
// reports progress: by then restic holds its lock.
func killBackupMidway(t *testing.T, tr *testRepo, src string) {
	t.Helper()
	cmd := exec.Command(tr.Binary, "backup", "--json", "--repo="+tr.Location, "--password-file="+tr.PasswordFile,
		"--host="+tr.Host, ".")
	cmd.Dir = src
	cmd.Env = tr.environ(tr.CacheDir, tr.TempDir, []string{fastProgress})
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	var seen []byte
	deadline := time.Now().Add(60 * time.Second)
	for !bytes.Contains(seen, []byte(`"message_type":"status"`)) {
		n, err := out.Read(buf)
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("no status line from restic backup (%v, kill: %v): %s", err, errors.Join(cmd.Process.Kill(), cmd.Wait()), seen)
		}
		seen = append(seen, buf[:n]...)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// Drain what restic printed before it died, then reap it: a zombie's
	// PID would still look alive to restic. Wait reports the kill.
	if _, err := io.Copy(io.Discard, out); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("the killed backup exited 0")
	}
}

// TestStaleLock kills a backup with SIGKILL: its lock stays behind and
// blocks exclusive operations until Unlock removes it.
func TestStaleLock(t *testing.T) {
	ctx := context.Background()
	tr := newRepo(t)
	src := filepath.Join(t.TempDir(), "big")
	makeSource(t, src, 128)

	killBackupMidway(t, tr, src)
	locks, _ := os.ReadDir(filepath.Join(tr.Location, "locks"))
	if len(locks) != 1 {
		t.Fatalf("%d lock files after SIGKILL, want 1", len(locks))
	}

	start := time.Now()
	_, err := tr.Check(ctx, CheckOptions{})
	waited := time.Since(start)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Check with stale lock: %v, want ErrLocked", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "ロックされています") || !strings.Contains(msg, "is locked") {
		t.Errorf("locked message %q", msg)
	}
	if waited < 2*time.Second {
		t.Errorf("Check returned after %v; --retry-lock=2s should have waited", waited)
	}
	if _, err := tr.Forget(ctx, Policy{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("Forget with stale lock: %v, want ErrLocked", err)
	}

	if err := tr.Unlock(ctx); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if locks, _ := os.ReadDir(filepath.Join(tr.Location, "locks")); len(locks) != 0 {
		t.Fatalf("%d lock files after Unlock", len(locks))
	}
	if _, err := tr.Check(ctx, CheckOptions{}); err != nil {
		t.Fatalf("Check after Unlock: %v", err)
	}
	if _, err := tr.Forget(ctx, Policy{}); err != nil {
		t.Fatalf("Forget after Unlock: %v", err)
	}
	// The killed backup left no snapshot; a new one works.
	if snaps, err := tr.Snapshots(ctx); err != nil || len(snaps) != 0 {
		t.Fatalf("snapshots after killed backup: %v, %v", snaps, err)
	}
	small := filepath.Join(t.TempDir(), "small")
	makeSource(t, small, 0)
	if res, err := tr.Backup(ctx, small, nil); err != nil || res.SnapshotID == "" {
		t.Fatalf("Backup after Unlock: %v", err)
	}
}

// TestUnreadableSourceFile makes restic meet a file it cannot read. Tests
// run as root, which reads everything, so restic is started from an OS
// thread whose capability bounding set lacks CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH: the restic process is root without those
// capabilities, and a mode-000 file really fails to open (EACCES).
func TestUnreadableSourceFile(t *testing.T) {
	ctx := context.Background()
	tr := newRepo(t)
	src := filepath.Join(t.TempDir(), "staging")
	makeSource(t, src, 0)
	locked := filepath.Join(src, "d2", "locked.dump")
	writeFile(t, locked, 5000, 7)
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}

	type outcome struct {
		res BackupResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		// This goroutine's thread is never unlocked, so Go discards it
		// when the goroutine ends; the reduced bounding set dies with it.
		runtime.LockOSThread()
		const prCapbsetDrop, capDacOverride, capDacReadSearch = 24, 1, 2
		for _, c := range []uintptr{capDacOverride, capDacReadSearch} {
			if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prCapbsetDrop, c, 0); e != 0 {
				done <- outcome{err: fmt.Errorf("prctl(PR_CAPBSET_DROP, %d): %w", c, e)}
				return
			}
		}
		res, err := tr.Backup(ctx, src, nil)
		done <- outcome{res, err}
	}()
	o := <-done
	if o.err != nil && strings.HasPrefix(o.err.Error(), "prctl") {
		t.Fatalf("cannot drop capabilities for the restic child: %v", o.err)
	}
	err := o.err
	if !errors.Is(err, ErrSourceUnreadable) {
		t.Fatalf("Backup with unreadable file: %v, want ErrSourceUnreadable", err)
	}
	var xe *ExitError
	if !errors.As(err, &xe) || xe.Code != 3 || len(xe.Items) != 1 || xe.Items[0].Item != locked {
		t.Fatalf("exit error %+v", xe)
	}
	msg := err.Error()
	if !strings.Contains(msg, locked) || !strings.Contains(msg, "読み取れませんでした") || !strings.Contains(msg, "could not be read") {
		t.Errorf("message does not name the item: %q", msg)
	}
	if !strings.Contains(xe.Items[0].Message, "permission denied") {
		t.Errorf("item message %q", xe.Items[0].Message)
	}
	// restic still wrote a (incomplete) snapshot; the result says which.
	if o.res.SnapshotID == "" || len(o.res.Errors) != 1 {
		t.Errorf("result %+v", o.res)
	}
	snaps, err := tr.Snapshots(ctx)
	if err != nil || len(snaps) != 1 || snaps[0].ID != o.res.SnapshotID {
		t.Errorf("snapshots after exit 3: %v %v", snaps, err)
	}
}

func TestCancelBackup(t *testing.T) {
	tr := newRepo(t)
	tr.Env = append(tr.Env, fastProgress)
	src := filepath.Join(t.TempDir(), "big")
	makeSource(t, src, 128)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	tr.OnEvent = func(e Event) {
		if e.Kind == KindStatus {
			once.Do(cancel)
		}
	}
	start := time.Now()
	res, err := tr.Backup(ctx, src, nil)
	elapsed := time.Since(start)
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Backup: %v, want ErrInterrupted", err)
	}
	if res.SnapshotID != "" {
		t.Errorf("cancelled backup reported snapshot %s", res.SnapshotID)
	}
	if msg := err.Error(); !strings.Contains(msg, "中断されました") || !strings.Contains(msg, "interrupted") {
		t.Errorf("message %q", msg)
	}
	t.Logf("cancelled backup returned after %v", elapsed)
	if elapsed > DefaultStopGrace {
		t.Errorf("restic did not stop on SIGINT (took %v)", elapsed)
	}
	tr.OnEvent = nil
	snaps, err := tr.Snapshots(context.Background())
	if err != nil || len(snaps) != 0 {
		t.Fatalf("snapshots after cancel: %v, %v; want none", snaps, err)
	}
	// SIGINT (not SIGKILL) let restic remove its lock.
	if locks, _ := os.ReadDir(filepath.Join(tr.Location, "locks")); len(locks) != 0 {
		t.Errorf("%d lock files left after a cancelled backup", len(locks))
	}
	// A context cancelled before the call does not start restic at all.
	if _, err := tr.Snapshots(ctx); !errors.Is(err, ErrInterrupted) {
		t.Errorf("Snapshots with done context: %v", err)
	}
}

// TestCopyToSecondRepo copies a snapshot to a repository created with the
// first one's chunker parameters and restores it from there.
func TestCopyToSecondRepo(t *testing.T) {
	ctx := context.Background()
	a := newRepo(t)
	b := newRepoNoInit(t)
	if err := b.InitLike(ctx, a.Repo); err != nil {
		t.Fatalf("InitLike: %v", err)
	}
	src := filepath.Join(t.TempDir(), "s")
	makeSource(t, src, 4)
	res, err := a.Backup(ctx, src, []string{"copytest"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Copy(ctx, a.Repo, []string{res.SnapshotID}); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	snaps, err := b.Snapshots(ctx)
	if err != nil || len(snaps) != 1 || snaps[0].Original != res.SnapshotID || snaps[0].Hostname != a.Host ||
		!slices.Equal(snaps[0].Tags, []string{"copytest"}) {
		t.Fatalf("copied snapshots %+v, %v", snaps, err)
	}
	target := filepath.Join(t.TempDir(), "r")
	if _, err := b.Restore(ctx, snaps[0].ID, target); err != nil {
		t.Fatal(err)
	}
	compareTrees(t, hashTree(t, src), hashTree(t, target))

	// Copying from a repository with the wrong password names the problem.
	bad := *a.Repo
	bad.PasswordFile = filepath.Join(a.root, "bad")
	writePassword(t, bad.PasswordFile, "nope")
	if err := b.Copy(ctx, &bad, nil); !errors.Is(err, ErrWrongPassword) || !strings.Contains(err.Error(), a.Location) {
		t.Fatalf("Copy from wrong password: %v", err)
	}
}
