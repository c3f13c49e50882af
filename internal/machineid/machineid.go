// Package machineid gives each appliance its own machine ID on its first
// start, in /perm where it survives updates: images are built once and
// written to many gateways, so nothing in the image may identify one.
// gokrazy reads /perm/machine-id before the image's /etc files.
package machineid

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"

	"github.com/danzen-gw/danzen/internal/atomicfile"
)

// Path is where gokrazy looks first.
const Path = "/perm/machine-id"

var valid = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Ensure returns the machine ID at path, making a new random one (32
// lower-case hex digits, as machine-id(5) has it) when there is none or
// the file holds no valid ID. created says a new one was written.
func Ensure(path string) (id string, created bool, err error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil && valid.MatchString(strings.TrimSpace(string(b))):
		return strings.TrimSpace(string(b)), false, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", false, fmt.Errorf("reading the machine ID: %w", err)
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", false, err
	}
	id = hex.EncodeToString(raw[:])
	if err := atomicfile.Write(path, []byte(id+"\n"), 0o444); err != nil {
		return "", false, fmt.Errorf("writing the machine ID: %w", err)
	}
	return id, true, nil
}
