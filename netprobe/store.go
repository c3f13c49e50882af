package netprobe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/internal/atomicfile"
)

// Store keeps reports as JSON files in one directory (scans/ in the data
// directory), one per scan, named by start time so that names sort in time.
type Store struct{ Dir string }

// storeTime has fixed width, so names sort in time.
const storeTime = "20060102T150405.000Z"

// Save writes r atomically and returns its file name.
func (s Store) Save(r *Report) (string, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return "", fmt.Errorf("調査結果の保存先 %s を作れません / cannot create the scan directory %s: %w", s.Dir, s.Dir, err)
	}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		return "", err
	}
	name := "scan-" + r.Started.UTC().Format(storeTime) + ".json"
	if err := atomicfile.Write(filepath.Join(s.Dir, name), buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	return name, nil
}

// List returns the stored report names, oldest first.
func (s Store) List() ([]string, error) {
	ents, err := os.ReadDir(s.Dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, "scan-") && strings.HasSuffix(n, ".json") {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Load reads one stored report.
func (s Store) Load(name string) (*Report, error) {
	if name != filepath.Base(name) {
		return nil, fmt.Errorf("invalid report name %q", name)
	}
	data, err := os.ReadFile(filepath.Join(s.Dir, name))
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("調査結果 %s を読めません / cannot read report %s: %w", name, name, err)
	}
	return &r, nil
}

// Latest returns the newest report, nil when there is none.
func (s Store) Latest() (*Report, error) {
	names, err := s.List()
	if err != nil || len(names) == 0 {
		return nil, err
	}
	return s.Load(names[len(names)-1])
}
