package backup_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
)

// hostileFS lists names no honest server sends: traversal, absolute and
// embedded-slash names. Only "ok.dmp" may be staged.
type hostileFS struct{ mtime time.Time }

type fileInfo struct {
	name  string
	size  int64
	mode  os.FileMode
	mtime time.Time
}

func (f fileInfo) Name() string       { return f.name }
func (f fileInfo) Size() int64        { return f.size }
func (f fileInfo) Mode() os.FileMode  { return f.mode }
func (f fileInfo) ModTime() time.Time { return f.mtime }
func (f fileInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fileInfo) Sys() any           { return nil }

type listerAt []os.FileInfo

func (l listerAt) ListAt(dst []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[off:])
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}

const payload = "hostile payload"

func (h hostileFS) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	file := func(name string) os.FileInfo {
		return fileInfo{name: name, size: int64(len(payload)), mode: 0o644, mtime: h.mtime}
	}
	switch r.Method {
	case "List":
		return listerAt{file("../../escape.dmp"), file("/etc/cron.d/evil"), file("sub/../../x.dmp"), file(".."), file("ok.dmp")}, nil
	default: // Stat, Lstat
		if r.Filepath == "/export" {
			return listerAt{fileInfo{name: "export", mode: os.ModeDir | 0o755, mtime: h.mtime}}, nil
		}
		return listerAt{file(filepath.Base(r.Filepath))}, nil
	}
}

func (h hostileFS) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	return bytes.NewReader([]byte(payload)), nil
}

func (h hostileFS) Filewrite(*sftp.Request) (io.WriterAt, error) { return nil, os.ErrPermission }
func (h hostileFS) Filecmd(*sftp.Request) error                  { return os.ErrPermission }

func TestHostileServerNamesNeverLeaveStaging(t *testing.T) {
	h := hostileFS{mtime: time.Now().Add(-time.Hour).Truncate(time.Second)}
	srv, err := demo.StartSFTPWith(context.Background(), t.TempDir(), slog.New(slog.DiscardHandler),
		&sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	src := config.DefaultSource()
	src.Name, src.Host, src.Port, src.User = "emr", "127.0.0.1", srv.Port(), "danzen-pull"
	src.KnownHosts = []string{srv.KnownHosts}
	src.ExportDir = "/export"
	src.Completion = config.Completion{Mode: config.CompletionStable, StableFor: config.Duration(time.Second)}
	src.KeyFile = srv.ClientKeyFile
	root := t.TempDir()
	staging := filepath.Join(root, "staging")
	m, err := pull(t, src, staging, nil)
	if err != nil {
		t.Fatal(err)
	}
	// pkg/sftp already reduces listed names to their last element and drops
	// ".."; danzen's own check stands behind it. Either way every staged
	// path is local to staging.
	if len(m.Files)+len(m.Refused) != 4 {
		t.Fatalf("staged %+v, refused %+v", m.Files, m.Refused)
	}
	for _, f := range m.Files {
		if !filepath.IsLocal(f.Path) || strings.Contains(f.Path, "..") || strings.Contains(f.Path, "/") {
			t.Fatalf("unsafe staged path %q", f.Path)
		}
	}
	// Nothing was written outside staging.
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Fatalf("files appeared beside staging: %v", entries)
	}
	for _, bad := range []string{"/etc/cron.d/evil", filepath.Join(root, "escape.dmp")} {
		if b, err := os.ReadFile(bad); err == nil && strings.Contains(string(b), payload) {
			t.Fatalf("%s was written", bad)
		}
	}
}
