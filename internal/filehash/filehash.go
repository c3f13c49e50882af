// Package filehash is the SHA-256 of a file or stream as danzen prints and
// compares it everywhere: lower-case hex, with the length read.
package filehash

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
)

// Reader reads r to its end and returns its SHA-256 (hex) and length.
func Reader(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// File returns the SHA-256 (hex) and length of the file at path.
func File(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer func() { _ = f.Close() }() // read-only: what was read is hashed
	return Reader(f)
}
