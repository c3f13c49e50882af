package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/danzen-gw/danzen/internal/atomicfile"
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
}

// FileEntry is one staged file.
type FileEntry struct {
	Path   string    `json:"path"` // relative to the export directory, "/"-separated
	Size   int64     `json:"size"`
	MTime  time.Time `json:"mtime"`
	SHA256 string    `json:"sha256"`
}

// Problem explains, in both languages, why a remote entry is not staged.
type Problem struct {
	Path   string `json:"path"`
	Reason string `json:"reason"` // stable code: "symlink", "unsafe-name", "not-complete", "changed", …
	JA     string `json:"ja"`
	EN     string `json:"en"`
}

func (p Problem) String() string { return p.Path + ": " + p.JA + " / " + p.EN }

// LoadManifest reads a source's manifest; a missing one is not an error.
func LoadManifest(staging, source string) (*Manifest, error) {
	m, err := readManifest(ManifestPath(staging, source))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w (it will be rebuilt by a full pull)", err)
	}
	return m, nil
}

func readManifest(p string) (*Manifest, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest %s is damaged: %w", p, err)
	}
	// Lookup searches; a manifest written by hand need not be sorted.
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	return &m, nil
}

// hashFile returns the SHA-256 (hex) and length of the file at p.
func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func saveManifest(staging string, m *Manifest) error {
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	p := ManifestPath(staging, m.Source)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("manifest directory: %w", err)
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
