package tape

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Names inside the tape's tar archives.
const (
	LabelMember     = "DANZEN-TAPE.json"      // the only member of tape file 0
	CatalogueMember = "DANZEN-CATALOGUE.json" // first member of every archive
	RepoPrefix      = "repo/"                 // the restic repository's files
	labelFormat     = "danzen-tape/1"
)

// Label is tape file 0: which tape this is.
type Label struct {
	Format  string    `json:"format"`
	ID      string    `json:"id"`
	Medium  string    `json:"medium"`
	Created time.Time `json:"created"`
}

// Catalogue is the gateway's record of what each tape of a medium holds.
// Each archive also carries its tape's record up to itself, so a tape can
// be read without the gateway.
type Catalogue struct {
	Medium  string        `json:"medium"`
	Current string        `json:"current,omitempty"` // the tape being appended to
	Tapes   []*TapeRecord `json:"tapes"`
}

// TapeRecord is one cartridge.
type TapeRecord struct {
	ID      string     `json:"id"`
	Created time.Time  `json:"created"`
	Full    bool       `json:"full,omitempty"` // filled mid-archive: never written again
	Files   []TapeFile `json:"files"`
}

// TapeFile is one archive on a tape.
type TapeFile struct {
	Number  int       `json:"number"` // tape file number; 0 is the label
	Written time.Time `json:"written"`
	// Baseline archives hold every repository file; the others only the
	// files new since the archive before.
	Baseline bool        `json:"baseline"`
	Entries  []FileEntry `json:"entries"`
	// Removed are repository files deleted since the archive before
	// (snapshots and indexes forgotten); a restore deletes them again.
	Removed []string `json:"removed,omitempty"`
	Bytes   int64    `json:"bytes"`
}

// FileEntry is one repository file in an archive.
type FileEntry struct {
	Path   string `json:"path"` // relative to the repository, with '/'
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Tape returns the record of the tape with that ID, or nil.
func (c *Catalogue) Tape(id string) *TapeRecord {
	for _, t := range c.Tapes {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// LastBaseline is the index in Files of the archive a restore starts at,
// or -1 when the tape holds no archive.
func (t *TapeRecord) LastBaseline() int {
	for i := len(t.Files) - 1; i >= 0; i-- {
		if t.Files[i].Baseline {
			return i
		}
	}
	return -1
}

// State is the repository as the tape holds it: every file from the last
// baseline on, less those removed since.
func (t *TapeRecord) State() map[string]FileEntry {
	st := map[string]FileEntry{}
	b := t.LastBaseline()
	if b < 0 {
		return st
	}
	for _, f := range t.Files[b:] {
		for _, p := range f.Removed {
			delete(st, p)
		}
		for _, e := range f.Entries {
			st[e.Path] = e
		}
	}
	return st
}

func (t *TapeRecord) nextFile() int {
	if len(t.Files) == 0 {
		return 1
	}
	return t.Files[len(t.Files)-1].Number + 1
}

// LoadCatalogue reads a medium's catalogue; a missing file is an empty one.
func LoadCatalogue(spec Spec) (*Catalogue, error) {
	b, err := os.ReadFile(spec.cataloguePath())
	if errors.Is(err, fs.ErrNotExist) {
		return &Catalogue{Medium: spec.Name}, nil
	}
	if err != nil {
		return nil, err
	}
	var c Catalogue
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, msg.Errorf("テープの目録 %s が壊れています: %w", "tape catalogue %s is damaged: %w", spec.cataloguePath(), err)
	}
	return &c, nil
}

func saveCatalogue(spec Spec, c *Catalogue) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(spec.SpoolDir, 0o700); err != nil {
		return err
	}
	return atomicfile.Write(spec.cataloguePath(), b, 0o600)
}

// contentAddressed reports whether restic names the file by the SHA-256
// of its content: everything but the config file.
func contentAddressed(path string) bool {
	i := strings.LastIndexByte(path, '/')
	name := path[i+1:]
	return i > 0 && len(name) == 64 && strings.Trim(name, "0123456789abcdef") == ""
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
