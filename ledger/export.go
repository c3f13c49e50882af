package ledger

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// ExportReadme is the file beside the ledger in an export: how an auditor
// re-verifies it, in both languages.
const ExportReadme = "VERIFY.txt"

// Exported is what an export holds.
type Exported struct {
	Head  *Head // nil when the ledger had no head.json yet
	Bytes int64 // of ledger.jsonl
}

// Export writes the ledger of dir as a tar archive to w: ledger.jsonl and
// head.json under the folder name, as one consistent pair (read under the
// writer's lock, so an append in between cannot make them disagree), and
// VERIFY.txt. The folder verifies as it is (`danzen ledger verify --dir
// name`, or by the recipe in the package doc).
func Export(dir, name string, w io.Writer) (Exported, error) {
	f, err := os.Open(filepath.Join(dir, FileName))
	if err != nil {
		return Exported{}, ioError(dir, "証跡台帳を開けません", "cannot open the evidence ledger", err)
	}
	defer func() { _ = f.Close() }() // read only
	size, headRaw, err := lockedPair(f, dir)
	if err != nil {
		return Exported{}, ioError(dir, "証跡台帳を読めません", "cannot read the evidence ledger", err)
	}
	var out Exported
	out.Bytes = size
	if headRaw != nil {
		var h Head
		if err := json.Unmarshal(headRaw, &h); err == nil {
			out.Head = &h
		}
	}
	tw := tar.NewWriter(w)
	now := time.Now()
	add := func(file string, size int64, r io.Reader) error {
		hdr := &tar.Header{Name: path.Join(name, file), Mode: 0o444, Size: size, ModTime: now, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	readme := exportReadme(name)
	err = errors.Join(
		add(FileName, size, io.NewSectionReader(f, 0, size)),
		addIf(headRaw != nil, func() error { return add(HeadFileName, int64(len(headRaw)), bytes.NewReader(headRaw)) }),
		add(ExportReadme, int64(len(readme)), bytes.NewReader(readme)),
		tw.Close())
	if err != nil {
		return out, msg.Errorf("証跡台帳の書き出しに失敗しました: %w", "exporting the evidence ledger failed: %w", err)
	}
	return out, nil
}

func addIf(ok bool, f func() error) error {
	if !ok {
		return nil
	}
	return f()
}

// lockedPair reads the ledger's size and head.json's bytes under a shared
// lock. The ledger only grows, so its first size bytes stay what head.json
// describes.
func lockedPair(f *os.File, dir string) (int64, []byte, error) {
	if err := flock(f, syscall.LOCK_SH); err != nil {
		return 0, nil, err
	}
	defer func() { _ = flock(f, syscall.LOCK_UN) }() // Close releases it too
	fi, err := f.Stat()
	if err != nil {
		return 0, nil, err
	}
	head, err := os.ReadFile(filepath.Join(dir, HeadFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return fi.Size(), nil, nil
	}
	return fi.Size(), head, err
}

func exportReadme(name string) []byte {
	t := msg.Sprintf(`danzen 証跡台帳(エビデンス台帳)の写しです。
検証: danzen ledger verify --dir %[1]s
(danzen コマンドがない場合は ledger.jsonl の各行について、末尾の ,"hash":"…" を除いた JSON の SHA-256 が hash と一致し、
次の行の prev と一致すること、seq が 1 から欠番なく続くこと、head.json が最後の行を指すことを確認してください。)
`, `A copy of a danzen evidence ledger.
Verify: danzen ledger verify --dir %[1]s
(Without the danzen command: for each line of ledger.jsonl, the SHA-256 of the JSON without its final ,"hash":"…"
equals hash and the next line's prev; seq runs from 1 without gaps; head.json names the last line.)
`, name)
	return []byte(t.Localize(msg.JA) + "\n" + t.Localize(msg.EN))
}
