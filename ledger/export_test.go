package ledger_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// An export unpacked elsewhere verifies on its own, holds what head.json
// named at the time, and says how to verify it.
func TestExportVerifiesElsewhere(t *testing.T) {
	dir := t.TempDir()
	l, err := ledger.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	}()
	for range 5 {
		if _, err := l.Append(context.Background(), ledger.Entry{Kind: ledger.KindConfigFallback, Message: msg.T("テスト", "test")}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	got, err := ledger.Export(dir, "danzen-ledger-gw1", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Head == nil || got.Head.Seq != 5 || got.Bytes == 0 {
		t.Fatalf("export = %+v, want head seq 5", got)
	}
	out := t.TempDir()
	tr := tar.NewReader(&buf)
	files := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = true
		p := filepath.Join(out, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{ledger.FileName, ledger.HeadFileName, ledger.ExportReadme} {
		if !files["danzen-ledger-gw1/"+f] {
			t.Errorf("export lacks %s: %v", f, files)
		}
	}
	rep, err := ledger.Verify(filepath.Join(out, "danzen-ledger-gw1"))
	if err != nil || !rep.OK || rep.LastSeq != 5 {
		t.Fatalf("the exported copy does not verify: %v\n%s", err, rep)
	}
	readme, err := os.ReadFile(filepath.Join(out, "danzen-ledger-gw1", ledger.ExportReadme))
	if err != nil || !bytes.Contains(readme, []byte("danzen ledger verify --dir danzen-ledger-gw1")) {
		t.Errorf("VERIFY.txt: %v\n%s", err, readme)
	}
}
