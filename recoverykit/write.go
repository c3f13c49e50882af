package recoverykit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Medium is where a kit is written; each medium type supplies one.
type Medium interface {
	// Hash is the SHA-256 (hex) of the kit's file name as the medium holds
	// it, "" when it holds none.
	Hash(ctx context.Context, name string) (string, error)
	// Put stores f so that a reader finds either the old or the whole
	// new content under f.Name.
	Put(ctx context.Context, f File) error
}

// Result says what Write did.
type Result struct {
	Written   []string // files written (new or changed)
	Unchanged []string // files the medium already held as they are
}

// Write puts files (Kit.Files: SHA256SUMS last) on m, skipping each the
// medium already holds with the same SHA-256. It stops at the first
// failure, so SHA256SUMS never lists a file that was not written.
func Write(ctx context.Context, m Medium, files []File) (Result, error) {
	var r Result
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		have, err := m.Hash(ctx, f.Name)
		if err != nil {
			return r, msg.Errorf("媒体上の %s を確認できません: %w", "cannot check %s on the medium: %w", f.Name, err)
		}
		if have == f.SHA256 {
			r.Unchanged = append(r.Unchanged, f.Name)
			continue
		}
		if err := m.Put(ctx, f); err != nil {
			return r, msg.Errorf("%s を媒体に書けません: %w", "cannot write %s to the medium: %w", f.Name, err)
		}
		r.Written = append(r.Written, f.Name)
	}
	return r, nil
}

// DirMedium is a mounted file system: the kit goes to <Root>/danzen-recovery/.
type DirMedium struct{ Root string }

var _ Medium = DirMedium{}

func (d DirMedium) dir() string { return filepath.Join(d.Root, Dir) }

// Hash reads the file back: a copy damaged on the medium is rewritten.
func (d DirMedium) Hash(_ context.Context, name string) (string, error) {
	sum, _, err := hashFile(filepath.Join(d.dir(), name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return sum, err
}

// Put writes a temporary file beside the target, syncs it and renames it
// into place.
func (d DirMedium) Put(ctx context.Context, f File) (err error) {
	dir := d.dir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+f.Name+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name()) // best effort: a hidden temporary file is never taken for the kit
		}
	}()
	err = fill(ctx, tmp, f)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, f.Name)); err != nil {
		return err
	}
	return atomicfile.SyncDir(dir)
}

// fill copies f into tmp, checking its SHA-256 on the way.
func fill(ctx context.Context, tmp *os.File, f File) error {
	if err := tmp.Chmod(f.Mode); err != nil {
		return err
	}
	src, err := f.Open()
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }() // read-only
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, src}); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return msg.Errorf("%s が読み込み中に変わりました(SHA-256 %s、期待 %s)", "%s changed while it was read (SHA-256 %s, want %s)", f.Name, got, f.SHA256)
	}
	return tmp.Sync()
}

// ctxReader stops a long copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
