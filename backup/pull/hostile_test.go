package pull_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
)

// hostileFS lists names no honest server sends: traversal, absolute and
// embedded-slash names. Only "ok.dmp" may be staged.
type hostileFS struct{ mtime time.Time }

const payload = "hostile payload"

func (h hostileFS) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	file := func(name string) os.FileInfo {
		return pull.FakeFile(name, int64(len(payload)), 0o644, h.mtime)
	}
	switch r.Method {
	case "List":
		return pull.FakeListing{file("../../escape.dmp"), file("/etc/cron.d/evil"), file("sub/../../x.dmp"), file(".."), file("ok.dmp")}, nil
	default: // Stat, Lstat
		if r.Filepath == "/export" {
			return pull.FakeListing{pull.FakeFile("export", 0, os.ModeDir|0o755, h.mtime)}, nil
		}
		return pull.FakeListing{file(filepath.Base(r.Filepath))}, nil
	}
}

func (h hostileFS) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	return bytes.NewReader([]byte(payload)), nil
}

func TestHostileServerNamesNeverLeaveStaging(t *testing.T) {
	src := pull.FakeSource(t, hostileFS{mtime: time.Now().Add(-time.Hour).Truncate(time.Second)})
	src.Completion = config.Completion{Mode: config.CompletionStable, StableFor: config.Duration(time.Second)}
	root := t.TempDir()
	staging := filepath.Join(root, "staging")
	m := mustPull(t, src, staging)
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
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("files appeared beside staging: %v", entries)
	}
	for _, bad := range []string{"/etc/cron.d/evil", filepath.Join(root, "escape.dmp")} {
		if b, err := os.ReadFile(bad); err == nil && strings.Contains(string(b), payload) {
			t.Fatalf("%s was written", bad)
		}
	}
}
