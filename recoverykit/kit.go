// Package recoverykit puts on every medium what an offline PC needs to
// restore from it without apt-get: restic for linux/amd64, linux/arm64
// and windows/amd64, built from the pinned restic, their SHA256SUMS and
// the recovery sheet in Japanese and English.
//
// The kit is built by `make recovery-kit` into bin/recovery-kit and
// shipped in the image at AppliancePath. Open reads and verifies it (a
// kit whose files do not match its SHA256SUMS is refused); Write copies
// it onto a medium through the small Medium interface, each medium type
// supplying its own. The names below are a contract with the recovery
// sheet, which tells the reader where to find them.
package recoverykit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/danzen-gw/danzen/internal/filehash"
	"github.com/danzen-gw/danzen/internal/msg"
)

const (
	// Dir is the kit's folder on a medium: at the root of a disk's file
	// system beside restic/, and the object prefix danzen-recovery/ beside
	// the repository in a bucket.
	Dir = "danzen-recovery"
	// SumsName lists each file's SHA-256 as sha256sum writes it.
	SumsName = "SHA256SUMS"
	// SheetJA and SheetEN are the recovery sheet as HTML.
	SheetJA = "recovery-sheet-ja.html"
	SheetEN = "recovery-sheet-en.html"
	// AppliancePath is where the image carries the kit (gokrazy/build).
	AppliancePath = "/usr/share/danzen/recovery-kit"
	// Env names the variable that gives the kit's directory on a bench PC
	// (make sets it to bin/recovery-kit).
	Env = "DANZEN_RECOVERY_KIT"
	// ResticVersion is the restic the kit carries: the pinned one.
	ResticVersion = "0.19.1"
)

// Platform is one operating system and architecture the kit carries
// restic for.
type Platform struct{ OS, Arch string }

// Platforms are the PCs a hospital restores on: a Linux PC or live USB,
// a Raspberry Pi or arm64 board, and Windows.
var Platforms = []Platform{{"linux", "amd64"}, {"linux", "arm64"}, {"windows", "amd64"}}

// BinaryName is restic's file name for p: restic_<version>_<os>_<arch>[.exe].
func BinaryName(version string, p Platform) string {
	n := "restic_" + version + "_" + p.OS + "_" + p.Arch
	if p.OS == "windows" {
		n += ".exe"
	}
	return n
}

// File is one file of the kit as a medium gets it.
type File struct {
	Name   string
	SHA256 string // hex
	Size   int64
	Mode   os.FileMode
	// Open reads the content (the kit's file, or bytes in memory).
	Open func() (io.ReadCloser, error)
}

// Kit is a verified kit: the binaries of every platform in Platforms.
type Kit struct {
	Dir      string
	Binaries []File
}

// ErrNotFound: neither $DANZEN_RECOVERY_KIT nor the image's kit is there.
var ErrNotFound = errors.New("recovery kit not found")

// applianceMark is a file only a danzen image has (gokrazy/build writes
// it): where it exists, a missing kit is a fault, not a bench PC.
const applianceMark = "/etc/gokrazy/sbom.json"

// OnAppliance reports whether this is a danzen image.
func OnAppliance() bool {
	_, err := os.Stat(applianceMark)
	return err == nil
}

// Locate returns the kit's directory: $DANZEN_RECOVERY_KIT when set, else
// the image's path when it exists (as config.Restic finds restic).
func Locate() (string, error) {
	if p := os.Getenv(Env); p != "" {
		return p, nil
	}
	if fi, err := os.Stat(AppliancePath); err == nil && fi.IsDir() {
		return AppliancePath, nil
	}
	return "", msg.Errorf("リカバリーキット(媒体に書く restic と復旧手順書)が見つかりません。%s がなく、%s も未設定です。イメージを `make image` で作り直すか、%s に bin/recovery-kit を指定してください: %w",
		"the recovery kit (restic and the recovery sheet for the media) is missing: %s does not exist and %s is not set; rebuild the image with `make image`, or set %s to bin/recovery-kit: %w",
		AppliancePath, Env, Env, ErrNotFound)
}

// Open reads the kit in dir and verifies every binary against its
// SHA256SUMS: a missing, extra-less or damaged file refuses the kit.
func Open(dir string) (*Kit, error) {
	sums, err := readSums(filepath.Join(dir, SumsName))
	if err != nil {
		return nil, damaged(dir, err)
	}
	k := &Kit{Dir: dir}
	for _, p := range Platforms {
		name := BinaryName(ResticVersion, p)
		want, ok := sums[name]
		if !ok {
			return nil, damaged(dir, msg.Errorf("%s に %s の行がありません", "%s lists no %s", SumsName, name))
		}
		path := filepath.Join(dir, name)
		got, size, err := hashFile(path)
		if err != nil {
			return nil, damaged(dir, err)
		}
		if got != want {
			return nil, damaged(dir, msg.Errorf("%s の SHA-256 が %s と一致しません(%s、記載 %s)",
				"%s does not match %s (SHA-256 %s, listed %s)", name, SumsName, got, want))
		}
		k.Binaries = append(k.Binaries, File{Name: name, SHA256: got, Size: size, Mode: 0o755,
			Open: func() (io.ReadCloser, error) { return os.Open(path) }})
	}
	return k, nil
}

func damaged(dir string, err error) error {
	return msg.Errorf("リカバリーキット %s が壊れているため使いません(`make recovery-kit` で作り直してください): %w",
		"the recovery kit %s is damaged and is not used (rebuild it with `make recovery-kit`): %w", dir, err)
}

// readSums parses a sha256sum listing ("<hex>  <name>" or "<hex> *<name>").
func readSums(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		sum, name, ok := strings.Cut(line, " ")
		name = strings.TrimPrefix(strings.TrimSpace(name), "*")
		if _, err := hex.DecodeString(sum); !ok || err != nil || len(sum) != 64 || name == "" {
			return nil, msg.Errorf("%s の行 %q を読めません", "%s: cannot read the line %q", path, line)
		}
		sums[name] = sum
	}
	return sums, sc.Err()
}

func hashFile(path string) (string, int64, error) {
	sum, n, err := filehash.File(path)
	if err != nil {
		return "", 0, msg.Errorf("%s を読めません: %w", "cannot read %s: %w", path, err)
	}
	return sum, n, nil
}

// Bytes is a file of the kit held in memory (the recovery sheet).
func Bytes(name string, data []byte) File {
	sum := sha256.Sum256(data)
	return File{Name: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)), Mode: 0o644,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

// Files are what a medium gets: the binaries, the sheets given (name →
// HTML, SheetJA and SheetEN) and, last, SHA256SUMS over all of them, so
// that a reader who finds SHA256SUMS finds everything it lists.
func (k *Kit) Files(sheets map[string][]byte) []File {
	files := append([]File{}, k.Binaries...)
	names := make([]string, 0, len(sheets))
	for n := range sheets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		files = append(files, Bytes(n, sheets[n]))
	}
	var sums strings.Builder
	for _, f := range files {
		fmt.Fprintf(&sums, "%s  %s\n", f.SHA256, f.Name)
	}
	return append(files, Bytes(SumsName, []byte(sums.String())))
}
