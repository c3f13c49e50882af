package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// ErrNoConfigFile: the gateway was opened without a configuration file to
// save to (tests, the demo's in-memory use).
var ErrNoConfigFile = msg.New("設定ファイルが指定されていません", "the gateway has no configuration file to save to")

// Reconfigure validates cfg, applies it without a reboot (relays and
// drivers are reopened and every relay is driven off and verified again)
// and then saves it, keeping the replaced file as config.json.prev for
// undo. A change whose hardware cannot be opened is rolled back: the
// previous configuration keeps running, the file is not touched, and the
// refusal is recorded with its reason. So the file on disk is always what
// runs. A configuration equal to the one in use writes nothing, and the
// previous undo stays. It refuses with ErrBusy while a job runs, rather
// than changing the hardware under a powered medium. actor is recorded
// with the list of changed settings. The part of a change that shortens
// what is kept is held for its waiting period (pending.go): the longer
// values stay in force and are saved.
func (g *Gateway) Reconfigure(ctx context.Context, actor string, cfg *config.Config) error {
	if g.opts.ConfigPath == "" {
		return ErrNoConfigFile
	}
	if !g.job.TryLock() {
		return ErrBusy
	}
	defer g.job.Unlock()
	old := g.Config()
	if err := cfg.ValidateChange(old); err != nil {
		return err
	}
	// What shortens what is kept waits (pending.go); the rest applies now.
	eff, held, err := holdShortening(old, cfg)
	if err != nil {
		return err
	}
	if len(held) > 0 {
		if err := eff.ValidateChange(old); err != nil {
			return msg.Errorf("保持を減らす変更は待機期間の後に有効になるため、その間も今の設定が有効でなければなりませんが、この組み合わせでは成り立ちません: %w",
				"a change that keeps less applies only after its waiting period, and until then the current settings must stay valid beside the rest of this change, which they do not: %w", err)
		}
	}
	changed := changedFields(old, eff)
	var p PendingChange
	if len(held) > 0 {
		// Held before anything applies: a change that cannot be held is
		// refused whole.
		if p, err = g.hold(ctx, actor, old, cfg, held); err != nil {
			return err
		}
	}
	if len(changed) > 0 {
		if err := g.apply(ctx, actor, old, eff, changed); err != nil {
			if len(held) > 0 {
				if _, _, uerr := g.unhold(p.ID); uerr != nil {
					err = errors.Join(err, uerr)
				}
			}
			return err
		}
	}
	if len(held) > 0 {
		g.announce(p)
	}
	return nil
}

// apply switches to cfg (changed from old in changed) and saves it. The
// caller holds the job lock.
func (g *Gateway) apply(ctx context.Context, actor string, old, cfg *config.Config, changed []string) error {
	n, err := g.newNotifier(cfg)
	if err != nil {
		return err
	}
	if err := g.switchHardware(ctx, old, cfg); err != nil {
		return g.rolledBack(actor, changed, msg.Errorf("新しい設定の機器を開けないため、変更を取り消しました。前の設定のまま動作しています(設定ファイルも変更前のままです): %w",
			"the change was rolled back because its hardware could not be opened; the previous configuration still runs (and the file is unchanged): %w", err))
	}
	if err := config.Save(g.opts.ConfigPath, cfg); err != nil {
		// What runs must be what the file says: back to the old hardware.
		if rerr := g.switchHardware(ctx, cfg, old); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return g.rolledBack(actor, changed, msg.Errorf("新しい設定を保存できないため、変更を取り消しました: %w", "the change was rolled back because it could not be saved: %w", err))
	}
	g.cfg.Store(cfg)
	g.notifier.Store(n)
	g.alertsDown.Store(nil)
	g.record(ledger.Entry{Kind: ledger.KindConfigChange, Actor: actor, Message: msg.T("設定を変更", "configuration changed"),
		Payload: ledger.ConfigChangeData{Changed: changed}})
	return nil
}

// switchHardware closes the relays of from and opens those of to; when to
// cannot be opened, from is opened again and the error says why to failed.
// The caller holds the job lock.
func (g *Gateway) switchHardware(ctx context.Context, from, to *config.Config) error {
	if err := g.relays.Close(); err != nil {
		g.log.Error("reconfigure: a relay did not verify off while closing", "err", err)
	}
	err := g.openHardware(ctx, to)
	if err == nil {
		return nil
	}
	if rerr := g.openHardware(ctx, from); rerr != nil {
		g.log.Error("reconfigure: reopening the previous hardware failed too", "err", rerr)
		return errors.Join(err, msg.Errorf("前の設定の機器も開けません: %w", "the previous configuration's hardware could not be opened either: %w", rerr))
	}
	return err
}

// rolledBack records a change that was refused while being applied (so
// it is in the ledger and the history, with who tried it and why) and
// returns why.
func (g *Gateway) rolledBack(actor string, changed []string, why error) error {
	g.log.Error("reconfigure: change rolled back", "changed", changed, "err", why)
	g.record(ledger.Entry{Kind: ledger.KindError, Actor: actor, Message: msg.TextOf(why), Payload: ledger.ErrorData{Phase: "config"}})
	return why
}

// UndoConfig goes back to the configuration before the last change.
func (g *Gateway) UndoConfig(ctx context.Context, actor string) error {
	if g.opts.ConfigPath == "" {
		return ErrNoConfigFile
	}
	// An unfinished one (no source) is the start of commissioning:
	// Reconfigure decides whether going back to it is allowed.
	prev, _, err := config.LoadUnfinished(g.opts.ConfigPath + ".prev")
	if err != nil {
		return msg.Errorf("元に戻せる設定がありません: %w", "no previous configuration to go back to: %w", err)
	}
	// The network is never undone here: the page would lose its address
	// without the rollback timer (a network change has its own, network.go).
	prev.Network = g.Config().Network
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
	// A field left out when empty (omitempty) that b removed.
	for k := range ma {
		if _, ok := mb[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
