package pull

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Staging layout, below the configured staging directory:
//
//	sources/<source>/data/…          the mirror: complete, verified files under final names
//	sources/<source>/manifest.json   the manifest of the last pull
//	partial/<source>/…               partial files and their resume state, never backed up
//
// A snapshot is taken of sources/<source>, so it carries its own manifest
// and a restore can be checked file by file.
const (
	sourcesDir = "sources"
	partialDir = "partial"
	// ManifestName is the manifest's file name inside a source directory.
	ManifestName = "manifest.json"
)

// SourceDir is what a snapshot of one source holds: data/ and manifest.json.
func SourceDir(staging, source string) string { return filepath.Join(staging, sourcesDir, source) }

// DataDir is where a source's complete files are staged.
func DataDir(staging, source string) string { return filepath.Join(SourceDir(staging, source), "data") }

// ManifestPath is where a source's manifest is kept.
func ManifestPath(staging, source string) string {
	return filepath.Join(SourceDir(staging, source), ManifestName)
}

func partialRoot(staging, source string) string { return filepath.Join(staging, partialDir, source) }

// Manifest records what a pull staged: every file with its size, mtime and
// SHA-256, and the pull's own figures. Restores are checked against it.
// Every snapshot holds one, restored by stock restic too: its JSON does
// not change.
type Manifest struct {
	Version          int         `json:"version"`
	Source           string      `json:"source"`
	Host             string      `json:"host"`
	ExportDir        string      `json:"export_dir"`
	Started          time.Time   `json:"started"`
	Finished         time.Time   `json:"finished"`
	BytesTransferred int64       `json:"bytes_transferred"`
	FilesTransferred int         `json:"files_transferred"`
	FilesUnchanged   int         `json:"files_unchanged"`
	FilesRemoved     int         `json:"files_removed"`
	RateBytesPerSec  float64     `json:"rate_bytes_per_sec"`
	TotalBytes       int64       `json:"total_bytes"`
	Files            []FileEntry `json:"files"`
	// Pending lists remote files not staged this time because they were
	// not complete yet; a previous version stays staged if there is one.
	Pending []Problem `json:"pending,omitempty"`
	// Refused lists remote entries danzen will not stage (unsafe names,
	// symlinks, special files).
	Refused []Problem `json:"refused,omitempty"`
	// Failed lists files whose transfer failed after every attempt.
	Failed []Problem `json:"failed,omitempty"`
	// Tally is this pull's figures in files and bytes (summary.go). It
	// is not part of the manifest file: a loaded manifest has none.
	Tally Tally `json:"-"`
}

// FileEntry is one staged file.
type FileEntry struct {
	Path   string    `json:"path"` // relative to the export directory, "/"-separated
	Size   int64     `json:"size"`
	MTime  time.Time `json:"mtime"`
	SHA256 string    `json:"sha256"`
}

// Problem explains why a remote entry is not staged.
type Problem struct {
	Path   string
	Reason string // stable code: "symlink", "unsafe-name", "not-complete", "changed", …
	Text   msg.Text
}

func (p Problem) String() string { return p.Path + ": " + p.Text.String() }

// problemJSON is a Problem as manifests store it: the two languages as
// flat "ja" and "en" keys beside the path.
type problemJSON struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
	JA     string `json:"ja"`
	EN     string `json:"en"`
}

// MarshalJSON keeps the manifest's format.
func (p Problem) MarshalJSON() ([]byte, error) {
	return json.Marshal(problemJSON{Path: p.Path, Reason: p.Reason, JA: p.Text.JA, EN: p.Text.EN})
}

// UnmarshalJSON reads the manifest's format.
func (p *Problem) UnmarshalJSON(b []byte) error {
	var v problemJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Problem{Path: v.Path, Reason: v.Reason, Text: msg.T(v.JA, v.EN)}
	return nil
}

// LoadManifest reads a source's manifest; a missing one is not an error.
func LoadManifest(staging, source string) (*Manifest, error) {
	m, err := ReadManifest(ManifestPath(staging, source))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, msg.Errorf("%w(次の全件取得で作り直されます)", "%w (it will be rebuilt by a full pull)", err)
	}
	return m, nil
}

// ReadManifest reads the manifest file p: a staged one, or one restored
// with its snapshot.
func ReadManifest(p string) (*Manifest, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, msg.Errorf("マニフェストを読めません: %w", "cannot read the manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, msg.Errorf("マニフェスト %s が壊れています: %w", "manifest %s is damaged: %w", p, err)
	}
	// Lookup searches; a manifest written by hand need not be sorted.
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	return &m, nil
}

func saveManifest(staging string, m *Manifest) error {
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	p := ManifestPath(staging, m.Source)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return msg.Errorf("マニフェストのディレクトリを作れません: %w", "manifest directory: %w", err)
	}
	return atomicfile.Write(p, append(data, '\n'), 0o644)
}

// Lookup returns the entry for path.
func (m *Manifest) Lookup(path string) (FileEntry, bool) {
	if m == nil {
		return FileEntry{}, false
	}
	i := sort.Search(len(m.Files), func(i int) bool { return m.Files[i].Path >= path })
	if i < len(m.Files) && m.Files[i].Path == path {
		return m.Files[i], true
	}
	return FileEntry{}, false
}

// entriesOf returns the entries m holds for the problems' files: the
// staged versions that stay while a newer one is pending or failed.
func (m *Manifest) entriesOf(ps []Problem) []FileEntry {
	var out []FileEntry
	for _, pr := range ps {
		if e, ok := m.Lookup(pr.Path); ok {
			out = append(out, e)
		}
	}
	return out
}
