package pull_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/sshdtest"
)

func startSSHD(t *testing.T, opts sshdtest.Options) *sshdtest.Server { return sshdtest.Run(t, opts) }

// put writes a file into the server's export, failing the test if it cannot.
func put(t *testing.T, s *sshdtest.Server, rel string, b []byte, mtime time.Time) {
	t.Helper()
	if err := s.WriteFile(rel, b, mtime); err != nil {
		t.Fatal(err)
	}
}

// data returns n deterministic pseudo-random bytes.
func data(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n - n%8; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// mustPull pulls and fails the test on any error.
func mustPull(t *testing.T, src config.Source, staging string) *pull.Manifest {
	t.Helper()
	m, err := runPull(t, src, staging, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func runPull(t *testing.T, src config.Source, staging string, events func(pull.Event)) (*pull.Manifest, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	return pull.Run(ctx, src, pull.Options{Staging: staging, KeyFile: src.KeyFile, Events: events})
}

// checkStaged asserts every manifest entry is staged with its SHA-256 and
// matches want (path → content).
func checkStaged(t *testing.T, m *pull.Manifest, staging string, want map[string][]byte) {
	t.Helper()
	if len(m.Files) != len(want) {
		var got []string
		for _, f := range m.Files {
			got = append(got, f.Path)
		}
		t.Fatalf("manifest has %d files %q, want %d", len(m.Files), got, len(want))
	}
	for _, f := range m.Files {
		w, ok := want[f.Path]
		if !ok {
			t.Fatalf("unexpected file %q in manifest", f.Path)
		}
		b, err := os.ReadFile(filepath.Join(pull.DataDir(staging, m.Source), filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatalf("staged file: %v", err)
		}
		if !bytes.Equal(b, w) || f.SHA256 != sum(w) || f.Size != int64(len(w)) {
			t.Fatalf("%s: staged content/manifest differs from the source", f.Path)
		}
	}
}

var past = time.Now().Add(-time.Hour).Truncate(time.Second)

func TestFirstPullThenOnlyChangedFilesThenMirror(t *testing.T) {
	s := startSSHD(t, sshdtest.Options{})
	files := map[string][]byte{
		"db/emr.dmp":         data(1, 3<<20+17),
		"db/orders.dmp":      data(2, 12<<20+5), // above one chunk: ranged reads
		"カルテ/患者 一覧 2026.csv": []byte("患者ID,氏名\n1,山田 太郎\n"),
		"カルテ/画像/スキャン ファイル.pdf": data(3, 70000),
		"empty.txt":                    {},
		"deep/a/b/c/d/e/f/g/h/i/j.txt": []byte("deep"),
	}
	for rel, b := range files {
		if err := s.WriteFile(rel, b, past); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WriteFile("EXPORT_COMPLETE", nil, past.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	files["EXPORT_COMPLETE"] = []byte{} // the done-marker is part of the export
	src := s.Source("emr")
	src.Completion = config.Completion{Mode: config.CompletionMarker, Marker: "EXPORT_COMPLETE"}
	staging := t.TempDir()

	m := mustPull(t, src, staging)
	checkStaged(t, m, staging, files)
	if m.FilesTransferred != len(files) || m.BytesTransferred != int64(15<<20+22+70000+len(files["カルテ/患者 一覧 2026.csv"])+4) {
		t.Fatalf("first pull: transferred %d files, %d bytes", m.FilesTransferred, m.BytesTransferred)
	}
	onDisk, err := pull.LoadManifest(staging, "emr")
	if err != nil || onDisk == nil || len(onDisk.Files) != len(files) {
		t.Fatalf("manifest not saved: %v", err)
	}

	// Second pull: one file changed, one removed at the source.
	files["db/emr.dmp"] = data(4, 3<<20+17)
	put(t, s, "db/emr.dmp", files["db/emr.dmp"], past.Add(30*time.Second))
	if err := os.Remove(filepath.Join(s.Export, "empty.txt")); err != nil {
		t.Fatal(err)
	}
	delete(files, "empty.txt")
	m = mustPull(t, src, staging)
	checkStaged(t, m, staging, files)
	if m.FilesTransferred != 1 || m.BytesTransferred != 3<<20+17 || m.FilesUnchanged != len(files)-1 || m.FilesRemoved != 1 {
		t.Fatalf("second pull moved %d files (%d bytes), unchanged %d, removed %d; want 1, %d, %d, 1",
			m.FilesTransferred, m.BytesTransferred, m.FilesUnchanged, m.FilesRemoved, 3<<20+17, len(files)-1)
	}
	if _, err := os.Stat(filepath.Join(pull.DataDir(staging, "emr"), "empty.txt")); err == nil {
		t.Fatal("file gone from the source is still staged")
	}
	if n := countFiles(t, filepath.Join(staging, "partial")); n != 0 {
		t.Fatalf("%d partial files left behind", n)
	}
}

// countFiles counts the files below dir; a missing dir holds none.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return n
}

func TestRSAClientKey(t *testing.T) {
	s := startSSHD(t, sshdtest.Options{RSAClientKey: true})
	want := map[string][]byte{"a.dmp": data(9, 1000)}
	put(t, s, "a.dmp", want["a.dmp"], past)
	src := s.Source("emr")
	src.Completion = config.Completion{Mode: config.CompletionStable, StableFor: config.Duration(time.Second)}
	staging := t.TempDir()
	m := mustPull(t, src, staging)
	checkStaged(t, m, staging, want)
}

func TestHostKeyChangedOrUnknownRefusedNothingWritten(t *testing.T) {
	s := startSSHD(t, sshdtest.Options{})
	put(t, s, "a.dmp", []byte("x"), past)
	_, _, realKey, _, _, err := ssh.ParseKnownHosts([]byte(s.KnownHosts))
	if err != nil {
		t.Fatal(err)
	}
	forged, err := s.NewHostKeyLine()
	if err != nil {
		t.Fatal(err)
	}
	otherHost := strings.Replace(s.KnownHosts, "[127.0.0.1]", "[192.0.2.1]", 1)
	for _, tc := range []struct {
		name    string
		line    string
		changed bool
	}{{"changed", forged, true}, {"unknown", otherHost, false}} {
		t.Run(tc.name, func(t *testing.T) {
			src := s.Source("emr")
			src.KnownHosts = []string{tc.line}
			staging := filepath.Join(t.TempDir(), "staging")
			_, err := runPull(t, src, staging, nil)
			var hk *pull.HostKeyError
			if !errors.As(err, &hk) {
				t.Fatalf("want HostKeyError, got %v", err)
			}
			fp := ssh.FingerprintSHA256(realKey)
			if hk.Changed != tc.changed || hk.Fingerprint != fp || !strings.Contains(err.Error(), fp) || !strings.Contains(err.Error(), "--accept") {
				t.Fatalf("error does not show the offered key and how to accept it: %v", err)
			}
			if _, err := os.Stat(staging); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("staging was written despite the refused key: %v", err)
			}
		})
	}
}

func TestGrowingFileIsNotPulled(t *testing.T) {
	s := startSSHD(t, sshdtest.Options{})
	put(t, s, "done.dmp", []byte("finished"), past)
	put(t, s, "growing.dmp", []byte("start"), time.Time{})
	src := s.Source("emr")
	src.Completion = config.Completion{Mode: config.CompletionStable, StableFor: config.Duration(2 * time.Second)}
	ctx, cancel := context.WithCancel(context.Background())
	f, err := os.OpenFile(filepath.Join(s.Export, "growing.dmp"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() { // the exporter is still writing
		defer wg.Done()
		for ctx.Err() == nil && werr == nil {
			_, werr = f.Write(data(5, 4096))
			time.Sleep(100 * time.Millisecond)
		}
	}()
	staging := t.TempDir()
	m, err := runPull(t, src, staging, nil)
	cancel()
	wg.Wait()
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		t.Fatalf("the exporter's writes failed: %v", werr)
	}
	if err != nil {
		t.Fatal(err)
	}
	checkStaged(t, m, staging, map[string][]byte{"done.dmp": []byte("finished")})
	if len(m.Pending) != 1 || m.Pending[0].Path != "growing.dmp" || m.Pending[0].Reason != "not-complete" {
		t.Fatalf("growing file not reported pending: %+v", m.Pending)
	}
	// Once it is quiet, the next pull takes it.
	time.Sleep(1100 * time.Millisecond)
	want, err := os.ReadFile(filepath.Join(s.Export, "growing.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	m = mustPull(t, src, staging)
	checkStaged(t, m, staging, map[string][]byte{"done.dmp": []byte("finished"), "growing.dmp": want})
}

func TestDoneMarkers(t *testing.T) {
	s := startSSHD(t, sshdtest.Options{})
	put(t, s, "a.dmp", []byte("a"), past)
	put(t, s, "a.dmp.done", nil, past.Add(time.Second))
	put(t, s, "b.dmp", []byte("b"), past) // no marker yet
	put(t, s, "c.dmp", []byte("c"), past.Add(time.Minute))
	put(t, s, "c.dmp.done", nil, past) // marker older than the file: a new export is running
	src := s.Source("emr")
	src.Completion = config.Completion{Mode: config.CompletionMarker, Marker: "{name}.done"}
	staging := t.TempDir()
	m := mustPull(t, src, staging)
	// Markers are staged too, each being complete by definition.
	checkStaged(t, m, staging, map[string][]byte{"a.dmp": []byte("a"), "a.dmp.done": {}, "c.dmp.done": {}})
	pending := map[string]bool{}
	for _, p := range m.Pending {
		pending[p.Path] = true
	}
	if len(pending) != 2 || !pending["b.dmp"] || !pending["c.dmp"] {
		t.Fatalf("pending = %+v, want b.dmp and c.dmp", m.Pending)
	}

	// A directory marker covers its directory and below, not its siblings.
	s2 := startSSHD(t, sshdtest.Options{})
	put(t, s2, "2026-11-25/emr.dmp", []byte("night1"), past)
	put(t, s2, "2026-11-25/sub/x.csv", []byte("x"), past)
	put(t, s2, "2026-11-25/EXPORT_COMPLETE", nil, past.Add(time.Second))
	put(t, s2, "2026-11-26/emr.dmp", []byte("night2, running"), past)
	src2 := s2.Source("emr")
	src2.Completion = config.Completion{Mode: config.CompletionMarker, Marker: "EXPORT_COMPLETE"}
	staging2 := t.TempDir()
	m = mustPull(t, src2, staging2)
	checkStaged(t, m, staging2, map[string][]byte{"2026-11-25/emr.dmp": []byte("night1"), "2026-11-25/sub/x.csv": []byte("x"),
		"2026-11-25/EXPORT_COMPLETE": {}})
	if len(m.Pending) != 1 || m.Pending[0].Path != "2026-11-26/emr.dmp" {
		t.Fatalf("pending = %+v", m.Pending)
	}
}

func TestUnsafeNamesAndSymlinksRefused(t *testing.T) {
	s := startSSHD(t, sshdtest.Options{})
	put(t, s, "good.dmp", []byte("good"), past)
	put(t, s, "bad\x1bname.dmp", []byte("escape"), past)
	put(t, s, "line\nbreak.dmp", []byte("newline"), past)
	if err := os.Symlink("/etc/passwd", filepath.Join(s.Export, "link.dmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(s.Export, "up")); err != nil {
		t.Fatal(err)
	}
	src := s.Source("emr")
	src.Completion = config.Completion{Mode: config.CompletionStable, StableFor: config.Duration(time.Second)}
	staging := t.TempDir()
	m := mustPull(t, src, staging)
	checkStaged(t, m, staging, map[string][]byte{"good.dmp": []byte("good")})
	reasons := map[string]int{}
	for _, p := range m.Refused {
		reasons[p.Reason]++
		if p.Text.JA == "" || p.Text.EN == "" {
			t.Fatalf("refusal not explained in both languages: %+v", p)
		}
	}
	if reasons["unsafe-name"] != 2 || reasons["symlink"] != 2 {
		t.Fatalf("refused = %+v", m.Refused)
	}
	if n := countFiles(t, staging); n != 2 { // good.dmp and the manifest
		t.Fatalf("staging holds %d files, want 2", n)
	}
}

// TestResumeAfterConnectionKilled cuts every SSH connection in the middle
// of a big file; the pull reconnects and continues from its checkpoint.
func TestResumeAfterConnectionKilled(t *testing.T) {
	s := startSSHD(t, sshdtest.Options{})
	const size = 200<<20 + 12345
	big := data(7, size)
	put(t, s, "emr.dmp", big, past)
	src := s.Source("emr")
	src.Completion = config.Completion{Mode: config.CompletionStable, StableFor: config.Duration(time.Second)}
	staging := t.TempDir()
	var killed atomic.Bool
	var resumedAt atomic.Int64
	events := func(ev pull.Event) {
		if ev.Kind == pull.EventProgress && ev.BytesDone > 100<<20 && !killed.Swap(true) {
			if n, err := s.KillSessions(); err != nil || n == 0 {
				t.Errorf("kill sessions: %d, %v", n, err)
			}
		}
		if ev.Kind == pull.EventResume {
			resumedAt.Store(ev.Offset)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	m, err := pull.Run(ctx, src, pull.Options{Staging: staging, KeyFile: src.KeyFile, Events: events,
		BandwidthLimit: 40e6})
	if err != nil {
		t.Fatal(err)
	}
	if !killed.Load() {
		t.Fatal("the connection was never cut")
	}
	if r := resumedAt.Load(); r < 64<<20 {
		t.Fatalf("did not resume from a checkpoint (offset %d)", r)
	}
	checkStaged(t, m, staging, map[string][]byte{"emr.dmp": big})
	if m.BytesTransferred >= size {
		t.Fatalf("transferred %d bytes for a %d-byte file after resume: the data was pulled again", m.BytesTransferred, size)
	}
}

// TestFileRewrittenDuringTransfer: the exporter rewrites a file while it
// is read. It must not be staged as complete; the old version stays.
func TestFileRewrittenDuringTransfer(t *testing.T) {
	s := startSSHD(t, sshdtest.Options{})
	const size = 64 << 20
	v1 := data(11, size)
	put(t, s, "emr.dmp", v1, past)
	put(t, s, "EXPORT_COMPLETE", nil, past.Add(time.Second))
	src := s.Source("emr")
	src.Completion = config.Completion{Mode: config.CompletionMarker, Marker: "EXPORT_COMPLETE"}
	staging := t.TempDir()
	// First night: v1 staged.
	mustPull(t, src, staging)
	v2 := data(12, size)
	put(t, s, "emr.dmp", v2, past.Add(2*time.Second))
	put(t, s, "EXPORT_COMPLETE", nil, past.Add(3*time.Second))
	var rewrote atomic.Bool
	events := func(ev pull.Event) {
		if ev.Kind == pull.EventProgress && ev.BytesDone > 8<<20 && !rewrote.Swap(true) {
			// Rewritten in place, as a careless exporter does.
			if err := os.WriteFile(filepath.Join(s.Export, "emr.dmp"), data(13, size), 0o644); err != nil {
				t.Errorf("rewrite the file: %v", err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	m, err := pull.Run(ctx, src, pull.Options{Staging: staging, KeyFile: src.KeyFile, Events: events, BandwidthLimit: 20e6})
	var inc *pull.IncompleteError
	if !errors.As(err, &inc) || len(inc.Failed) != 1 || inc.Failed[0].Reason != "changed" {
		t.Fatalf("want an IncompleteError naming the changed file, got %v", err)
	}
	checkStaged(t, m, staging, map[string][]byte{"emr.dmp": v1, "EXPORT_COMPLETE": {}})
}

func TestTwoThousandSmallFiles(t *testing.T) {
	s := startSSHD(t, sshdtest.Options{})
	want := map[string][]byte{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		rel := fmt.Sprintf("d%02d/f%04d.dat", i%20, i)
		b := data(uint64(100+i), 4096+r.IntN(60*1024))
		want[rel] = b
		if err := s.WriteFile(rel, b, past); err != nil {
			t.Fatal(err)
		}
	}
	src := s.Source("emr")
	src.Completion = config.Completion{Mode: config.CompletionStable, StableFor: config.Duration(time.Second)}
	staging := t.TempDir()
	start := time.Now()
	m := mustPull(t, src, staging)
	t.Logf("2000 files in %v", time.Since(start))
	checkStaged(t, m, staging, want)
}

func TestAccountIsReadOnly(t *testing.T) {
	s := startSSHD(t, sshdtest.Options{})
	put(t, s, "a.dmp", []byte("a"), past)
	key, err := os.ReadFile(s.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	_, _, hk, _, _, err := ssh.ParseKnownHosts([]byte(s.KnownHosts))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{User: sshdtest.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(hk)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }() // the verdicts below do not depend on how it ends
	// No shell, no command.
	if sess, err := c.NewSession(); err == nil {
		out, err := sess.CombinedOutput("id")
		if err == nil && strings.Contains(string(out), "uid=") {
			t.Fatalf("the pull account ran a command: %s", out)
		}
	}
	// No port forwarding.
	if fc, err := c.Dial("tcp", s.Addr()); err == nil {
		_ = fc.Close() // the test fails on the forward itself
		t.Fatal("the pull account could forward a TCP connection")
	}
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sc.Close() }() // as above
	rf, err := sc.Open("a.dmp")
	if err != nil {
		t.Fatalf("read refused: %v", err)
	}
	if err := rf.Close(); err != nil {
		t.Fatal(err)
	}
	if f, err := sc.Create("new.dmp"); err == nil {
		_ = f.Close() // the test fails on the create itself
		t.Fatal("the pull account created a file")
	}
	if err := sc.Remove("a.dmp"); err == nil {
		t.Fatal("the pull account removed a file")
	}
	if err := sc.Rename("a.dmp", "b.dmp"); err == nil {
		t.Fatal("the pull account renamed a file")
	}
	if _, err := os.Stat(filepath.Join(s.Export, "a.dmp")); err != nil {
		t.Fatal(err)
	}
}

func TestLooseKeyPermissionsRefused(t *testing.T) {
	s := startSSHD(t, sshdtest.Options{})
	if err := os.Chmod(s.ClientKeyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	src := s.Source("emr")
	_, err := runPull(t, src, t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable key was used: %v", err)
	}
}

// TestCompletionMarkerIsBackedUp: the done-marker is part of the export,
// so a restored export shows it was complete: a directory marker and
// per-file markers are staged with the files they cover. While the next
// export runs (its marker gone, its files pending), the staged marker
// stays with the staged files it covered.
func TestCompletionMarkerIsBackedUp(t *testing.T) {
	s := startSSHD(t, sshdtest.Options{})
	marker := []byte("2026-11-25T02:00:00+09:00\n")
	put(t, s, "emr.dmp", []byte("night1"), past)
	put(t, s, "sub/x.csv", []byte("x"), past)
	put(t, s, "EXPORT_COMPLETE", marker, past.Add(time.Second))
	src := s.Source("emr")
	src.Completion = config.Completion{Mode: config.CompletionMarker, Marker: "EXPORT_COMPLETE"}
	staging := t.TempDir()
	m := mustPull(t, src, staging)
	night1 := map[string][]byte{"emr.dmp": []byte("night1"), "sub/x.csv": []byte("x"), "EXPORT_COMPLETE": marker}
	checkStaged(t, m, staging, night1)

	// The next export is running: the marker is gone, emr.dmp half new.
	if err := os.Remove(filepath.Join(s.Export, "EXPORT_COMPLETE")); err != nil {
		t.Fatal(err)
	}
	put(t, s, "emr.dmp", []byte("night2, runn"), past.Add(time.Minute))
	m = mustPull(t, src, staging)
	checkStaged(t, m, staging, night1)
	if len(m.Pending) != 2 {
		t.Fatalf("pending = %+v, want emr.dmp and sub/x.csv", m.Pending)
	}

	// Per-file markers are staged beside their files.
	s2 := startSSHD(t, sshdtest.Options{})
	put(t, s2, "a.dmp", []byte("a"), past)
	put(t, s2, "a.dmp.done", nil, past.Add(time.Second))
	src2 := s2.Source("emr")
	src2.Completion = config.Completion{Mode: config.CompletionMarker, Marker: "{name}.done"}
	staging2 := t.TempDir()
	checkStaged(t, mustPull(t, src2, staging2), staging2, map[string][]byte{"a.dmp": []byte("a"), "a.dmp.done": {}})
}
