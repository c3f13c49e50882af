package pull

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
)

// An in-process SFTP server that lists whatever a test decides, for the
// names no honest e-chart server sends. Exported for the external tests.

// FakeExport answers the listings and reads of a fake e-chart server.
type FakeExport interface {
	sftp.FileLister
	sftp.FileReader
}

// FakeSource serves ex from an SFTP server on 127.0.0.1 that refuses
// every write, and returns a source that pulls its /export. The server
// stops when tb ends.
func FakeSource(tb testing.TB, ex FakeExport) config.Source {
	tb.Helper()
	h := readOnly{ex}
	srv, err := demo.StartSFTPWith(context.Background(), tb.TempDir(), slog.New(slog.DiscardHandler),
		&sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Errorf("stop the fake SFTP server: %v", err)
		}
	})
	src := config.DefaultSource()
	src.Name, src.Host, src.Port, src.User, src.ExportDir = "emr", "127.0.0.1", srv.Port(), "danzen-pull", "/export"
	src.KnownHosts, src.KeyFile = []string{srv.KnownHosts}, srv.ClientKeyFile
	return src
}

type readOnly struct{ FakeExport }

func (readOnly) Filewrite(*sftp.Request) (io.WriterAt, error) { return nil, os.ErrPermission }
func (readOnly) Filecmd(*sftp.Request) error                  { return os.ErrPermission }

// FakeListing is a fake server's answer to a listing or a stat.
type FakeListing []os.FileInfo

func (l FakeListing) ListAt(dst []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[off:])
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}

// FakeFile is a listed entry; mode carries os.ModeDir for a directory.
func FakeFile(name string, size int64, mode os.FileMode, mtime time.Time) os.FileInfo {
	return fakeInfo{name: name, size: size, mode: mode, mtime: mtime}
}

type fakeInfo struct {
	name  string
	size  int64
	mode  os.FileMode
	mtime time.Time
}

func (f fakeInfo) Name() string       { return f.name }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() os.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return f.mtime }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return nil }
