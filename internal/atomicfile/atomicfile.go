// Package atomicfile writes files so that a power cut leaves either the old
// or the new content, never a mix: temp file, fsync, rename, fsync of the
// directory.
package atomicfile

import (
	"os"
	"path/filepath"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Write replaces path with data. perm applies to a newly created file.
func Write(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return msg.Errorf("%s の一時ファイルを作れません: %w", "cannot create a temporary file beside %s: %w", path, err)
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			// Best effort: what a failed removal leaves is a hidden
			// temporary file that no reader takes for path.
			_ = os.Remove(name)
		}
	}()
	err = fill(tmp, data, perm)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = msg.Errorf("%s を閉じられません: %w", "cannot close %s: %w", name, cerr)
	}
	if err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return msg.Errorf("%s を置き換えられません: %w", "cannot rename into %s: %w", path, err)
	}
	return SyncDir(dir)
}

// fill gives f its mode and content and makes them durable.
func fill(f *os.File, data []byte, perm os.FileMode) error {
	if err := f.Chmod(perm); err != nil {
		return msg.Errorf("%s の権限を設定できません: %w", "cannot chmod %s: %w", f.Name(), err)
	}
	if _, err := f.Write(data); err != nil {
		return msg.Errorf("%s に書き込めません: %w", "cannot write %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return msg.Errorf("%s をディスクに書き出せません(fsync): %w", "cannot fsync %s: %w", f.Name(), err)
	}
	return nil
}

// SyncDir makes renames and creations in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return msg.Errorf("フォルダ %s を開けません: %w", "cannot open directory %s: %w", dir, err)
	}
	err = d.Sync()
	_ = d.Close() // opened read-only: after Sync, Close has nothing left to report
	if err != nil {
		return msg.Errorf("フォルダ %s をディスクに書き出せません(fsync): %w", "cannot fsync directory %s: %w", dir, err)
	}
	return nil
}
