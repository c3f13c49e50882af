package config

import (
	"os"
	"os/exec"

	"github.com/danzen-gw/danzen/internal/msg"
)

// DefaultResticBinary is where the image ships restic: restic_binary's
// default.
const DefaultResticBinary = "/user/restic"

// ResticEnv names the variable that gives restic's path on a bench PC
// (make sets it to the pinned bin/restic).
const ResticEnv = "DANZEN_RESTIC"

// Restic is the restic binary to run. A restic_binary set to anything but
// its default is used as it is. Left at the default (the image's path),
// it is looked up, so that a configuration written for the appliance runs
// on a bench PC too: $DANZEN_RESTIC when set, else the image's path when
// it exists, else "restic" on PATH.
func (c *Config) Restic() (string, error) {
	if c.ResticBinary != DefaultResticBinary {
		return c.ResticBinary, nil
	}
	if p := os.Getenv(ResticEnv); p != "" {
		return p, nil
	}
	if fi, err := os.Stat(DefaultResticBinary); err == nil && fi.Mode().IsRegular() {
		return DefaultResticBinary, nil
	}
	if p, err := exec.LookPath("restic"); err == nil {
		return p, nil
	}
	return "", msg.Errorf("restic が見つかりません(%s はなく、%s は未設定で、PATH にもありません)。restic v0.19.1 を PATH に置くか、%s か設定の restic_binary にそのパスを指定してください",
		"restic not found (%s does not exist, %s is not set and there is none on PATH): put restic v0.19.1 on PATH, or give its path in %s or in restic_binary",
		DefaultResticBinary, ResticEnv, ResticEnv)
}
