package backup

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

// A snapshot of a source holds that source's staging directory as it was
// when it was backed up, its manifest included. The paths of that
// manifest are kept on the gateway per source and cycle, so a restore of
// a file the snapshot does not hold is refused before any medium is
// powered. Paths only: the sizes and hashes are in the snapshot.
//
//	filelists/<source>/<cycle>.json.gz
const fileListsDir = "filelists"

// fileList is one kept list.
type fileList struct {
	Source string   `json:"source"`
	Cycle  string   `json:"cycle"`
	Files  []string `json:"files"` // sorted
}

func fileListPath(staging, source, cycle string) string {
	return filepath.Join(staging, fileListsDir, source, cycle+".json.gz")
}

// validListName: a source or cycle name that is one plain path element.
func validListName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\\\x00")
}

// KeepFileList keeps the paths of source's staged manifest as the file
// list of its snapshots of cycle. Call it after a snapshot of the staged
// directory was written; a list already kept for the cycle stays.
func KeepFileList(staging, source, cycle string) error {
	if !validListName(source) || !validListName(cycle) {
		return msg.Errorf("ファイル一覧の名前が不正です: %q %q", "invalid file list name: %q %q", source, cycle)
	}
	p := fileListPath(staging, source, cycle)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	m, err := pull.ReadManifest(pull.ManifestPath(staging, source))
	if err != nil {
		return err
	}
	l := fileList{Source: source, Cycle: cycle, Files: make([]string, 0, len(m.Files))}
	for _, f := range m.Files {
		l.Files = append(l.Files, f.Path)
	}
	sort.Strings(l.Files)
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if err := json.NewEncoder(zw).Encode(l); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(p, b.Bytes(), 0o600)
}

// KeptFileList returns the paths a snapshot of source taken in cycle
// holds, sorted; an error wrapping fs.ErrNotExist when none was kept.
func KeptFileList(staging, source, cycle string) ([]string, error) {
	if !validListName(source) || !validListName(cycle) {
		return nil, fs.ErrNotExist
	}
	f, err := os.Open(fileListPath(staging, source, cycle))
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, msg.Errorf("ファイル一覧 %s が壊れています: %w", "file list %s is damaged: %w", f.Name(), err)
	}
	var l fileList
	if err := json.NewDecoder(zr).Decode(&l); err != nil {
		return nil, msg.Errorf("ファイル一覧 %s が壊れています: %w", "file list %s is damaged: %w", f.Name(), err)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil { // reaches the checksum
		return nil, msg.Errorf("ファイル一覧 %s が壊れています: %w", "file list %s is damaged: %w", f.Name(), err)
	}
	if l.Source != source || l.Cycle != cycle || !sort.StringsAreSorted(l.Files) {
		return nil, msg.Errorf("ファイル一覧 %s は別のスナップショットのものです", "file list %s belongs to another snapshot", f.Name())
	}
	return l.Files, nil
}

// PruneFileLists removes the lists of snapshots no medium holds any
// more: keep says which (source, cycle) still have one.
func PruneFileLists(staging string, keep func(source, cycle string) bool) error {
	root := filepath.Join(staging, fileListsDir)
	sources, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range sources {
		lists, err := os.ReadDir(filepath.Join(root, s.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, l := range lists {
			cycle, ok := strings.CutSuffix(l.Name(), ".json.gz")
			if ok && keep(s.Name(), cycle) {
				continue
			}
			if err := os.Remove(filepath.Join(root, s.Name(), l.Name())); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
