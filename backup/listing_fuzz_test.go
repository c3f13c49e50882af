package backup

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
)

// nameServer is an SFTP server whose export lists whatever names the
// fuzzer chose: the entries flagged in dirs are directories, which list
// the same names again (as files).
type nameServer struct {
	mu    sync.Mutex
	names []string
	dirs  uint8
}

type nameInfo struct {
	name string
	dir  bool
}

func (f nameInfo) Name() string { return f.name }
func (f nameInfo) Size() int64  { return 1 }
func (f nameInfo) Mode() os.FileMode {
	if f.dir {
		return os.ModeDir | 0o755
	}
	return 0o644
}
func (f nameInfo) ModTime() time.Time { return time.Unix(1_700_000_000, 0) }
func (f nameInfo) IsDir() bool        { return f.dir }
func (f nameInfo) Sys() any           { return nil }

type infoList []os.FileInfo

func (l infoList) ListAt(dst []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[off:])
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}

func (s *nameServer) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method != "List" {
		return infoList{nameInfo{name: filepath.Base(r.Filepath), dir: r.Filepath == "/export"}}, nil
	}
	var out infoList
	for i, n := range s.names {
		out = append(out, nameInfo{name: n, dir: r.Filepath == "/export" && i < 8 && s.dirs&(1<<i) != 0})
	}
	return out, nil
}

func (s *nameServer) Fileread(*sftp.Request) (io.ReaderAt, error)  { return bytes.NewReader(nil), nil }
func (s *nameServer) Filewrite(*sftp.Request) (io.WriterAt, error) { return nil, os.ErrPermission }
func (s *nameServer) Filecmd(*sftp.Request) error                  { return os.ErrPermission }

// FuzzRemoteNamesStayInStaging: whatever names an e-chart server lists,
// every file danzen would stage, its partial file and its resume state
// land inside the source's staging directories.
func FuzzRemoteNamesStayInStaging(f *testing.F) {
	h := &nameServer{}
	srv, err := demo.StartSFTPWith(context.Background(), f.TempDir(), slog.New(slog.DiscardHandler),
		&sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	src := config.DefaultSource()
	src.Name, src.Host, src.Port, src.User, src.ExportDir = "emr", "127.0.0.1", srv.Port(), "danzen-pull", "/export"
	src.KnownHosts, src.KeyFile = []string{srv.KnownHosts}, srv.ClientKeyFile
	signer, err := loadSigner(src.KeyFile)
	if err != nil {
		f.Fatal(err)
	}
	cfg, err := sshClientConfig(&src, signer, sourceAddr(&src))
	if err != nil {
		f.Fatal(err)
	}
	c, err := dial(context.Background(), cfg, sourceAddr(&src))
	if err != nil {
		f.Fatal(err)
	}
	defer c.Close()
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
