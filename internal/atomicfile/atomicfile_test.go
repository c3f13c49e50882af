package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/internal/msg"
)

func TestWriteReplacesWithoutLeavingATempFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	for _, content := range []string{"old", "new"} {
		if err := Write(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "new" {
		t.Fatalf("content %q, %v; want \"new\"", b, err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v, %v", fi.Mode(), err)
	}
	assertOnly(t, dir, "state.json")
}

// A write that fails after the temporary file was made removes it, and
// says what failed in each language.
func TestFailedWriteCleansUp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "taken")
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	err := Write(p, []byte("x"), 0o600) // a file cannot replace a directory
	if err == nil {
		t.Fatal("a directory was replaced by a file")
	}
	if ja, en := msg.In(err, msg.JA), msg.In(err, msg.EN); !strings.HasPrefix(ja, p+" を置き換えられません") || !strings.HasPrefix(en, "cannot rename into "+p) {
		t.Errorf("message:\n%s\n%s", ja, en)
	}
	assertOnly(t, dir, "taken")

	err = Write(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(msg.In(err, msg.EN), "cannot create a temporary file beside") {
		t.Errorf("write into a missing directory: %v", err)
	}
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}
