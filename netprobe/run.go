package netprobe

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// Files resolves the register file and the report directory of s; relative
// paths are taken from the configuration file's directory.
func Files(configPath string, s config.Scan) (registerPath, scansDir string) {
	dir := filepath.Dir(configPath)
	abs := func(p, def string) string {
		if p == "" {
			p = def
		}
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	return abs(s.Register, "register.json"), abs(s.Dir, "scans")
}

// FeedFile is where an uploaded known-exploited feed is kept: Feed,
// relative like Register, or kev-feed.json in the report directory.
func FeedFile(configPath string, s config.Scan) string {
	if s.Feed == "" {
		_, dir := Files(configPath, s)
		return filepath.Join(dir, "kev-feed.json")
	}
	if filepath.IsAbs(s.Feed) {
		return s.Feed
	}
	return filepath.Join(filepath.Dir(configPath), s.Feed)
}

// Run is one scheduled or on-demand scan: it reads the register, compares
// with the newest stored report, scans, and stores the new report. It
// returns the report and its file name in the store.
func Run(ctx context.Context, log *slog.Logger, configPath string, s config.Scan) (*Report, string, error) {
	return run(ctx, log, configPath, s, nil)
}

// run is Run; adjust, if set, changes the options last (tests).
func run(ctx context.Context, log *slog.Logger, configPath string, s config.Scan, adjust func(*Options)) (*Report, string, error) {
	regPath, dir := Files(configPath, s)
	reg, err := register.Load(regPath)
	if err != nil {
		return nil, "", err
	}
	if len(reg.Points) == 0 {
		return nil, "", msg.Errorf("接続点台帳 %s に接続点がありません", "the register %s has no connection points", regPath)
	}
	s.Feed = FeedFile(configPath, s)
	o, err := OptionsFromConfig(s)
	if err != nil {
		return nil, "", err
	}
	capPublicRate(&o, reg, s)
	o.Refuse = func(id string, a netip.Addr) error { return refusal(s, id, a) }
	o.Log = log
	if adjust != nil {
		adjust(&o)
	}
	store := Store{Dir: dir}
	if o.Previous, err = store.Latest(); err != nil {
		return nil, "", msg.Wrap(err, "前回の調査結果を読めません", "cannot read the previous report")
	}
	r, err := Scan(ctx, reg, o)
	if err != nil {
		return nil, "", err
	}
	name, err := store.Save(r)
	return r, name, err
}
