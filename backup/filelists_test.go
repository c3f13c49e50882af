package backup

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/danzen-gw/danzen/backup/pull"
)

// TestFileListsKeepWhatTheSnapshotHolds: the list kept for a cycle is the
// staged manifest's paths at the time, unchanged by later pulls, and goes
// when no medium holds a snapshot of that cycle any more.
func TestFileListsKeepWhatTheSnapshotHolds(t *testing.T) {
	staging := t.TempDir()
	stage := func(paths ...string) {
		t.Helper()
		m := `{"version":1,"source":"emr","files":[`
		for i, p := range paths {
			if i > 0 {
				m += ","
			}
			m += `{"path":"` + p + `","size":1,"sha256":"00"}`
		}
		p := pull.ManifestPath(staging, "emr")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(m+"]}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stage("z.csv", "db/emr.dmp")
	if err := KeepFileList(staging, "emr", "c1"); err != nil {
		t.Fatal(err)
	}
	stage("new.csv")
	if err := KeepFileList(staging, "emr", "c1"); err != nil { // a second medium of the same cycle
		t.Fatal(err)
	}
	if err := KeepFileList(staging, "emr", "c2"); err != nil {
		t.Fatal(err)
	}
	for cycle, want := range map[string][]string{"c1": {"db/emr.dmp", "z.csv"}, "c2": {"new.csv"}} {
		got, err := KeptFileList(staging, "emr", cycle)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %v %v, want %v", cycle, got, err, want)
		}
	}
	if _, err := KeptFileList(staging, "emr", "../c1"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a name leaving the directory: %v", err)
	}
	if err := PruneFileLists(staging, func(source, cycle string) bool { return cycle == "c2" }); err != nil {
		t.Fatal(err)
	}
	if _, err := KeptFileList(staging, "emr", "c1"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the list of a cycle no medium holds was kept: %v", err)
	}
	if _, err := KeptFileList(staging, "emr", "c2"); err != nil {
		t.Errorf("the list of a cycle a medium holds was pruned: %v", err)
	}
}
