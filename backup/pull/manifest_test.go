package pull

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/internal/msg"
)

// oldManifest was written by saveManifest as it was before Problem held
// a msg.Text (commit f6891e5): every snapshot on the media holds one like
// it, restored by stock restic and read by the restore check.
const oldManifest = "testdata/manifest-2026-11.json"

func TestManifestFromBeforeMsgReadsAndIsWrittenAlike(t *testing.T) {
	m, err := ReadManifest(oldManifest)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 1 || m.Source != "emr" || m.Host != "192.0.2.20:22" || m.FilesTransferred != 2 || m.TotalBytes != 3145745 {
		t.Fatalf("figures not read: %+v", m)
	}
	if e, ok := m.Lookup("カルテ/患者 一覧.csv"); !ok || e.Size != 17 || e.SHA256 != "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae" {
		t.Fatalf("file entry not found by Lookup: %+v, %v", e, ok)
	}
	for _, c := range []struct {
		list         []Problem
		path, reason string
		text         msg.Text
	}{
		{m.Pending, "2026-11-25/emr.dmp", "not-complete", msg.T("完了マーカーがないか、ファイルがマーカーより新しいため未完了とみなしました",
			"no done-marker covers it, or the file is newer than the marker: not complete yet")},
		{m.Refused, "link.dmp", "symlink", msg.T("シンボリックリンクはたどりません", "symbolic link, not followed")},
		{m.Failed, "orders.dmp", "changed", msg.T("転送中にファイルが変更されたため取り込みませんでした(orders.dmp: size 1→2)",
			"changed while it was transferred, not staged (orders.dmp: size 1→2)")},
	} {
		if len(c.list) != 1 || c.list[0] != (Problem{Path: c.path, Reason: c.reason, Text: c.text}) {
			t.Errorf("problems %+v, want %s %s %v", c.list, c.path, c.reason, c.text)
		}
	}

	// Written again, it is the same file byte for byte: the format did
	// not change.
	staging := t.TempDir()
	if err := saveManifest(staging, m); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(oldManifest)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(ManifestPath(staging, "emr"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the manifest's format changed:\n%s\nwant\n%s", got, want)
	}
	if loaded, err := LoadManifest(staging, "emr"); err != nil || len(loaded.Failed) != 1 {
		t.Fatalf("LoadManifest: %+v, %v", loaded, err)
	}
	if loaded, err := LoadManifest(filepath.Join(staging, "none"), "emr"); loaded != nil || err != nil {
		t.Fatalf("a missing manifest: %+v, %v", loaded, err)
	}
}

// The pull's errors read whole in each language, with the files' own
// explanations in that language too.
func TestPullErrorsInEachLanguage(t *testing.T) {
	failed := make([]Problem, maxListed+2)
	for i := range failed {
		failed[i] = fileProblem("db/emr.dmp", msg.Errorf("%s: サイズ %d→%d: %w", "%s: size %d→%d: %w", "db/emr.dmp", 1, 2, errChanged))
	}
	inc := &IncompleteError{Source: "emr", Failed: failed}
	full := localErr(os.ErrPermission)
	for _, c := range []struct {
		err    error
		ja, en string
	}{
		{inc, "転送中にファイルが変わりました", "file changed during transfer"},
		{inc, "ほか 2 件", "… 2 more"},
		{full, "ステージング領域に書けません", "cannot write to staging"},
		{retryable(full), "ステージング領域に書けません", "cannot write to staging"},
	} {
		ja, en := msg.In(c.err, msg.JA), msg.In(c.err, msg.EN)
		if !strings.Contains(ja, c.ja) || strings.Contains(ja, c.en) || !strings.Contains(en, c.en) || strings.Contains(en, c.ja) {
			t.Errorf("%T in Japanese %q, in English %q", c.err, ja, en)
		}
	}
	if !isLocal(retryable(full)) {
		t.Error("a wrapped local error is not recognised")
	}
}
