package gateway

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/danzen-gw/danzen/config"
)

// LoadOrCreate loads dir/config.json. On a first start it creates the
// state layout (DESIGN.md: config.json, secrets/ 0700, staging/, ledger/,
// scans/, drills/) and a default configuration in it.
func LoadOrCreate(dir string) (cfg *config.Config, created bool, err error) {
	p := filepath.Join(dir, "config.json")
	cfg, err = config.Load(p)
	if err == nil {
		return cfg, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	for _, d := range []string{"secrets", "staging", "ledger", "scans", "drills"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, false, fmt.Errorf("create the state layout: %w", err)
		}
	}
	cfg = config.Default()
	cfg.StagingDir = filepath.Join(dir, "staging")
	cfg.SecretsDir = filepath.Join(dir, "secrets")
	cfg.LedgerDir = filepath.Join(dir, "ledger")
	if err := config.Save(p, cfg); err != nil {
		return nil, false, err
	}
	return cfg, true, nil
}
