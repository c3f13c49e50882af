package tape

import (
	"cmp"
	"path/filepath"
	"time"

	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/internal/fielderr"
	"github.com/danzen-gw/danzen/media/disk"
)

// Defaults used when a Spec value is zero. An LTO drive takes most of a
// minute to power up, self-test and load a cartridge; the SAS adapter
// notices a drive gone within seconds.
const (
	DefaultDevice        = "/dev/nst0"
	DefaultRecordSize    = 512 << 10
	MinRecordSize        = 256 << 10
	MaxRecordSize        = 1 << 20
	DefaultAppearTimeout = 3 * time.Minute
	DefaultGoneTimeout   = 30 * time.Second
)

// Spec configures one LTO tape medium. restic cannot write to tape, so the
// repository lives in SpoolDir on the gateway and each cycle appends what
// is new in it to the tape as one tar archive.
type Spec struct {
	// Name is the medium's name (the configuration sets it from the
	// medium's).
	Name string `json:"name"`
	// Device is the drive's non-rewinding st node (default /dev/nst0).
	Device string `json:"device,omitempty"`
	// SpoolDir holds the restic repository, the catalogue and, during a
	// restore, the archives read back (it needs the repository's size twice).
	SpoolDir string `json:"spool_dir"`
	// RecordSize is the tape record (tar blocking) size in bytes, a
	// multiple of 512 between 256 KiB and 1 MiB (default 512 KiB).
	RecordSize int `json:"record_size,omitempty"`
	// AppearTimeout bounds the wait for the drive after its relay closes
	// (power-up, self-test, loading the cartridge).
	AppearTimeout Duration `json:"appear_timeout,omitempty"`
	// GoneTimeout bounds the wait for the drive to vanish after the cut.
	GoneTimeout Duration `json:"gone_timeout,omitempty"`
}

// Duration is written in JSON as a Go duration string ("90s", "2m").
type Duration = duration.Duration

// FieldError names the Spec field (by its JSON name) that is wrong; it is
// the disk's type, so the configuration maps every medium's errors alike.
type FieldError = disk.FieldError

// Validate checks the spec and returns every problem found as a
// *fielderr.List of *FieldError, or nil.
func (s Spec) Validate() error {
	v := disk.FieldErrors(s.Name)
	if s.Name == "" {
		v.Add("name", "名前が空です", "name is empty")
	}
	if s.Device != "" && !filepath.IsAbs(s.Device) {
		v.Add("device", "テープ装置は /dev/nst0 のような絶対パスで指定してください", "give the drive as an absolute path such as /dev/nst0")
	}
	if s.SpoolDir == "" || !filepath.IsAbs(s.SpoolDir) {
		v.Add("spool_dir", "リポジトリを置くスプール用フォルダを絶対パスで指定してください", "give the spool directory for the repository as an absolute path")
	}
	if r := s.RecordSize; r != 0 && (r < MinRecordSize || r > MaxRecordSize || r%512 != 0) {
		v.Add("record_size", "レコード長は 262144〜1048576 バイトの 512 の倍数にしてください", "record size must be a multiple of 512 from 262144 to 1048576 bytes")
	}
	for _, t := range []struct {
		field string
		d     time.Duration
	}{{"appear_timeout", s.AppearTimeout.Std()}, {"gone_timeout", s.GoneTimeout.Std()}} {
		if t.d < 0 || t.d > fielderr.MaxTimeout {
			v.Add(t.field, "0〜10分にしてください", "must be between 0 and 10 minutes")
		}
	}
	return v.Err()
}

func (s Spec) device() string {
	if s.Device == "" {
		return DefaultDevice
	}
	return s.Device
}

func (s Spec) recordSize() int {
	if s.RecordSize == 0 {
		return DefaultRecordSize
	}
	return s.RecordSize
}

func (s Spec) appearTimeout() time.Duration {
	return cmp.Or(s.AppearTimeout.Std(), DefaultAppearTimeout)
}

func (s Spec) goneTimeout() time.Duration {
	return cmp.Or(s.GoneTimeout.Std(), DefaultGoneTimeout)
}

// RepoDir is the restic repository in the spool directory.
func (s Spec) RepoDir() string { return filepath.Join(s.SpoolDir, "repo") }

func (s Spec) cataloguePath() string { return filepath.Join(s.SpoolDir, "catalogue.json") }

func (s Spec) restoreDir() string { return filepath.Join(s.SpoolDir, "restore") }
