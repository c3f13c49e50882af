package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
)

// TestPullExitStatusSaysWhatWasLeftOut: `danzen pull` and `danzen backup
// --once` exit 0 only when the whole export was taken, 3 when files were
// left out (named in the output), 4 when the export held no complete file,
// and 1 when the pull failed, as the README's table says.
func TestPullExitStatusSaysWhatWasLeftOut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sshd, which needs root: make test runs it, -short skips it")
	}
	srv := startSSHD(t)
	past := time.Now().Add(-time.Hour)
	if err := srv.WriteFile("dump.dmp", []byte("patient records"), past); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(srv.Export, "link.dmp")); err != nil {
		t.Fatal(err)
	}
	bin := build(t)
	_, cfgPath := sshdConfig(t, srv, t.TempDir(), func(src *config.Source) {
		src.Completion = config.Completion{Mode: config.CompletionMarker, Marker: "EXPORT_COMPLETE"}
	})
	expect := func(code int, says string, args ...string) {
		t.Helper()
		out, got := run(t, bin, args...)
		if got != code || !strings.Contains(out, says) {
			t.Fatalf("danzen %s: exit %d, want %d and %q:\n%s", args[0], got, code, says, out)
		}
	}

	// No marker yet: the export holds no complete file.
	expect(4, "nothing pulled: the export of source emr held no complete file", "pull", "--config", cfgPath)
	// Complete, but with a symbolic link that is never followed.
	if err := srv.WriteFile("EXPORT_COMPLETE", nil, past.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	expect(3, "link.dmp", "pull", "--config", cfgPath)
	expect(3, "files left out: 1", "backup", "--config", cfgPath, "--once")
	// The whole export taken.
	if err := os.Remove(filepath.Join(srv.Export, "link.dmp")); err != nil {
		t.Fatal(err)
	}
	expect(0, "source emr", "pull", "--config", cfgPath)
	// The server gone: a failure like any other.
	srv.Stop()
	expect(1, "emr", "pull", "--config", cfgPath)
}
