package web_test

import (
	"archive/tar"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/ledger"
)

// The ledger downloaded from the page verifies on its own once unpacked,
// and the download is itself recorded.
func TestLedgerDownloadVerifies(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.login("admin", adminPW)
	if page := admin.get("/ledger"); !strings.Contains(page.body, `id="ledger-export"`) {
		t.Fatalf("the ledger page has no download link:\n%s", page.body)
	}
	r := admin.get("/ledger/export")
	if r.code != http.StatusOK || !strings.Contains(r.header.Get("Content-Disposition"), ".tar") {
		t.Fatalf("GET /ledger/export: %d %q", r.code, r.header.Get("Content-Disposition"))
	}
	out := t.TempDir()
	tr := tar.NewReader(strings.NewReader(r.body))
	var folder string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		folder = filepath.Dir(filepath.FromSlash(h.Name))
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(out, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := ledger.Verify(filepath.Join(out, folder))
	if err != nil || !rep.OK || rep.Entries == 0 {
		t.Fatalf("the downloaded ledger does not verify: %v\n%s", err, rep)
	}
	entries, err := ledger.Read(e.g.Config().LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindLedgerExport}})
	if err != nil || len(entries) != 1 || entries[0].Actor != "admin" {
		t.Fatalf("the download is not recorded: %v %+v", err, entries)
	}
	if d, err := ledger.Decode[ledger.LedgerExportData](entries[0]); err != nil || d.LastSeq != rep.LastSeq {
		t.Errorf("recorded export %+v (%v), want up to seq %d", d, err, rep.LastSeq)
	}
}
