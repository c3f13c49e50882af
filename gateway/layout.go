package gateway

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Loaded is what LoadOrCreate found.
type Loaded struct {
	Config  *config.Config
	Created bool // a first start: the layout and a default configuration were made
	// Fallback is why config.json could not be used when the previous
	// good configuration (config.json.prev) was used instead: a fault to
	// record and report, not to stop on.
	Fallback error
	// Unfinished says what the configuration still lacks (a source) while
	// the gateway is being commissioned; nil once it is complete. The
	// gateway starts so that the page can finish it.
	Unfinished error
}

// LoadOrCreate loads dir/config.json. On a first start it creates the
// state layout (DESIGN.md: config.json, secrets/ 0700, staging/, ledger/,
// scans/, drills/) and a default configuration in it. A configuration
// that is damaged (truncated by a power cut, edited badly) falls back to
// the previous good one, so the gateway still cuts its media and backs
// up; the caller reports Loaded.Fallback.
func LoadOrCreate(dir string) (Loaded, error) {
	p := filepath.Join(dir, "config.json")
	cfg, missing, err := config.LoadUnfinished(p)
	if err == nil {
		return Loaded{Config: cfg, Unfinished: unfinished(missing)}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		prev, pmissing, perr := config.LoadUnfinished(p + ".prev")
		if perr != nil {
			return Loaded{}, msg.Errorf("%w(直前の設定 %s.prev も使えません: %v)", "%w (the previous one, %s.prev, cannot be used either: %v)", err, p, perr)
		}
		return Loaded{Config: prev, Unfinished: unfinished(pmissing), Fallback: msg.Errorf("設定ファイルが壊れているため直前の設定(%s.prev)で起動しました: %w",
			"the configuration is damaged: started with the previous one (%s.prev): %w", p, err)}, nil
	}
	for _, d := range []string{"secrets", "staging", "ledger", "scans", "drills"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return Loaded{}, msg.Errorf("状態フォルダを作成できません: %w", "cannot create the state layout: %w", err)
		}
	}
	cfg = config.Default()
	cfg.StagingDir = filepath.Join(dir, "staging")
	cfg.SecretsDir = filepath.Join(dir, "secrets")
	cfg.LedgerDir = filepath.Join(dir, "ledger")
	if err := config.Save(p, cfg); err != nil {
		return Loaded{}, err
	}
	// A new gateway has no source yet: the page adds it.
	return Loaded{Config: cfg, Created: true, Unfinished: cfg.Validate()}, nil
}

// unfinished is what a configuration still lacks as an error, nil when
// it lacks nothing (a nil *ValidationError must not become a non-nil error).
func unfinished(missing *config.ValidationError) error {
	if missing == nil {
		return nil
	}
	return missing
}
