package gateway

import (
	"context"
	"encoding/json"
	"reflect"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// ErrNoConfigFile: the gateway was opened without a configuration file to
// save to (tests, the demo's in-memory use).
var ErrNoConfigFile = msg.New("設定ファイルが指定されていません", "the gateway has no configuration file to save to")

// Reconfigure validates cfg, saves it (the replaced file is kept as
// config.json.prev for undo), and applies it without a reboot: relays and
// drivers are reopened and every relay is driven off and verified again.
// It refuses with ErrBusy while a job runs, rather than changing the
// hardware under a powered medium. actor is recorded with the list of
// changed settings.
func (g *Gateway) Reconfigure(ctx context.Context, actor string, cfg *config.Config) error {
	if g.opts.ConfigPath == "" {
		return ErrNoConfigFile
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if !g.job.TryLock() {
		return ErrBusy
	}
	defer g.job.Unlock()
	old := g.Config()
	n, err := g.newNotifier(cfg)
	if err != nil {
		return err
	}
	if err := config.Save(g.opts.ConfigPath, cfg); err != nil {
		return err
	}
	if err := g.relays.Close(); err != nil {
		g.log.Error("reconfigure: a relay did not verify off while closing", "err", err)
	}
	if err := g.openHardware(ctx, cfg); err != nil {
		// Keep running on the old hardware settings; the file already
		// holds the new ones, so say so plainly.
		if rerr := g.openHardware(ctx, old); rerr != nil {
			g.log.Error("reconfigure: reopening the previous hardware failed too", "err", rerr)
		}
		return msg.Errorf("新しい設定は保存されましたが、機器を開けませんでした。前の設定で動作しています: %w", "the new configuration was saved but its hardware could not be opened; still running on the previous one: %w", err)
	}
	g.cfg.Store(cfg)
	g.notifier.Store(n)
	g.record(ledger.Entry{Kind: ledger.KindConfigChange, Actor: actor, Message: msg.T("設定を変更", "configuration changed"),
		Payload: ledger.ConfigChangeData{Changed: changedFields(old, cfg)}})
	return nil
}

// UndoConfig goes back to the configuration before the last change.
func (g *Gateway) UndoConfig(ctx context.Context, actor string) error {
	if g.opts.ConfigPath == "" {
		return ErrNoConfigFile
	}
	prev, err := config.Load(g.opts.ConfigPath + ".prev")
	if err != nil {
		return msg.Errorf("元に戻せる設定がありません: %w", "no previous configuration to go back to: %w", err)
	}
	return g.Reconfigure(ctx, actor, prev)
}

// changedFields names the top-level settings that differ. The
// configuration holds no secret, so naming them is safe.
func changedFields(a, b *config.Config) []string {
	var ma, mb map[string]json.RawMessage
	// A Config always encodes to a JSON object: none of these can fail.
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	_ = json.Unmarshal(ja, &ma)
	_ = json.Unmarshal(jb, &mb)
	var out []string
	for k, v := range mb {
		if !reflect.DeepEqual(ma[k], v) {
			out = append(out, k)
		}
	}
	return out
}
