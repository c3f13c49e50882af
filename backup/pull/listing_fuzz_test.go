package pull

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
)

// nameServer is an SFTP server whose export lists whatever names the
// fuzzer chose: the entries flagged in dirs are directories, which list
// the same names again (as files).
type nameServer struct {
	mu    sync.Mutex
	names []string
	dirs  uint8
}

func (s *nameServer) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method != "List" {
		return FakeListing{nameInfo(filepath.Base(r.Filepath), r.Filepath == "/export")}, nil
	}
	var out FakeListing
	for i, n := range s.names {
		out = append(out, nameInfo(n, r.Filepath == "/export" && i < 8 && s.dirs&(1<<i) != 0))
	}
	return out, nil
}

func nameInfo(name string, dir bool) os.FileInfo {
	mode := os.FileMode(0o644)
	if dir {
		mode = os.ModeDir | 0o755
	}
	return FakeFile(name, 1, mode, time.Unix(1_700_000_000, 0))
}

func (s *nameServer) Fileread(*sftp.Request) (io.ReaderAt, error) { return bytes.NewReader(nil), nil }

// FuzzRemoteNamesStayInStaging: whatever names an e-chart server lists,
// every file danzen would stage, its partial file and its resume state
// land inside the source's staging directories.
func FuzzRemoteNamesStayInStaging(f *testing.F) {
	h := &nameServer{}
	src := FakeSource(f, h)
	c, err := Connect(context.Background(), src, src.KeyFile)
	if err != nil {
		f.Fatal(err)
	}
	defer func() { _ = c.Close() }() // read-only session: nothing to lose
	staging := "/var/lib/danzen/staging"
	eng := newEngine(nil, src.ExportDir, DataDir(staging, src.Name), partialRoot(staging, src.Name), 0, nil)

	sep := "\xff"
	for _, s := range []string{
		"ok.dmp", "..", ".", "../../etc/passwd", "/etc/cron.d/evil", "a/../../b", "sub" + sep + "..",
		"カルテ 一覧.csv" + sep + "\x00nul" + sep + "tab\there" + sep + "line\nbreak", "..\\..\\win", "~root" + sep + "-rf",
		strings.Repeat("a", 300), "\u202eexe.txt" + sep + "\xc0\xaf" + sep + "%2e%2e%2f",
	} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(0xff))
	}
	f.Fuzz(func(t *testing.T, list0 string, dirs uint8) {
		names := strings.Split(list0, sep)
		if len(names) > 16 {
			names = names[:16]
		}
		h.mu.Lock()
		h.names, h.dirs = names, dirs
		h.mu.Unlock()
		l, err := list(context.Background(), c.sftp, &src)
		if err != nil {
			return // a listing the client cannot read is refused as a whole
		}
		for rel := range l.files {
			if !filepath.IsLocal(filepath.FromSlash(rel)) {
				t.Fatalf("remote name %q would be staged", rel)
			}
			part, state, final := eng.paths(rel)
			for _, p := range []struct{ root, path string }{
				{eng.partRoot, part}, {eng.partRoot, state}, {eng.dataRoot, final},
			} {
				r, err := filepath.Rel(p.root, p.path)
				if err != nil || !filepath.IsLocal(r) {
					t.Fatalf("remote name %q maps to %s, outside %s", rel, p.path, p.root)
				}
			}
		}
	})
}
