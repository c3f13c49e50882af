package gateway

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netconf"
)

// The network step of commissioning (/commission/network): the gateway's
// address, name, time servers and time zone. A change of address applies
// with netconf's rollback timer and is saved only once the page confirms
// it from the new address; everything else is saved at once.

// NetworkView is what the network step shows.
type NetworkView struct {
	Network  config.Network
	TimeZone string
	// Managed: the settings are applied (the appliance); otherwise they
	// are only saved (a bench PC).
	Managed bool
	// Addresses are the interface's IPv4 addresses now.
	Addresses []netip.Prefix
	// Pending is the change waiting to be confirmed, if any.
	Pending *netconf.Pending
}

// NetworkResult is how ChangeNetwork ended.
type NetworkResult struct {
	// Pending is set when the change applies with the rollback timer: the
	// page must be opened at the new address and the change confirmed.
	Pending *netconf.Pending
	// Saved: the change was saved at once (nothing changed how the page
	// is reached, or the network is not managed here).
	Saved bool
}

// networkState is the time zone a pending change saves with it.
type networkState struct {
	mu       sync.Mutex
	timeZone string
}

// NetworkView returns the network step's view.
func (g *Gateway) NetworkView() NetworkView {
	cfg := g.Config()
	v := NetworkView{Network: cfg.Network, TimeZone: cfg.TimeZone, Managed: g.opts.Network.Managed()}
	if v.Managed {
		addrs, err := g.opts.Network.Addresses(cfg.Network.Iface())
		if err != nil {
			g.log.Warn("network: the interface's addresses", "err", err)
		}
		v.Addresses = addrs
		if p, ok := g.opts.Network.Pending(); ok {
			v.Pending = &p
		}
	}
	return v
}

// ChangeNetwork validates the network step's settings and applies them.
// A change of how the page is reached (mode, address, gateway, DNS)
// applies after a moment, with the rollback timer, and is saved only by
// ConfirmNetwork; anything else is saved and applied at once, which
// completes the step. reachedAt is the address the page was opened at.
func (g *Gateway) ChangeNetwork(ctx context.Context, actor, reachedAt string, n config.Network, timeZone string) (NetworkResult, error) {
	m := g.opts.Network
	if _, busy := m.Pending(); busy && m.Managed() {
		return NetworkResult{}, netconf.ErrPending
	}
	cur := g.Config()
	next := *cur
	next.Network, next.TimeZone = n, timeZone
	if err := g.checkNetwork(&next, cur); err != nil {
		return NetworkResult{}, err
	}
	if !m.Managed() || !netconf.NeedsConfirmation(cur.Network, n) {
		if err := g.saveNetwork(ctx, actor, &next); err != nil {
			return NetworkResult{}, err
		}
		g.recordNetworkStep(actor, msg.T("ネットワークと時刻の設定を保存しました", "the network and time settings were saved"))
		return NetworkResult{Saved: true}, nil
	}
	if !g.job.TryLock() {
		return NetworkResult{}, ErrBusy // a pull must not lose its address mid-way
	}
	defer g.job.Unlock()
	p, err := m.Change(actor, reachedAt, cur.Network, n, g.networkEnded)
	if err != nil {
		return NetworkResult{}, err
	}
	g.netState.mu.Lock()
	g.netState.timeZone = timeZone
	g.netState.mu.Unlock()
	g.record(ledger.Entry{Kind: ledger.KindNetworkChange, Actor: actor, Payload: networkData(n, reachedAt),
		Message: msg.Sprintf("ネットワーク設定を変更しました。%s までに新しいアドレスから確認されなければ元に戻ります",
			"network settings changed; they go back unless confirmed from the new address by %s", when.Of(cur.TimeZone).Stamp(p.Deadline))})
	return NetworkResult{Pending: &p}, nil
}

// checkNetwork validates next as a change to cur, and refuses a board
// without a hardware clock (a Raspberry Pi 4) without a time server.
func (g *Gateway) checkNetwork(next, cur *config.Config) error {
	err := next.ValidateChange(cur)
	var ve *config.ValidationError
	if err != nil && !errors.As(err, &ve) {
		return err
	}
	if ts := g.opts.TimeSync; ts != nil && !ts.Status().HasRTC && len(next.Network.NTPServers) == 0 {
		if ve == nil {
			ve = &config.ValidationError{Title: msg.T("設定に誤りがあります:", "the configuration is invalid:")}
		}
		ve.AddText("network.ntp_servers", NoRTCWarning())
	}
	if ve != nil && len(ve.Fields) > 0 {
		return ve
	}
	return nil
}

// NoRTCWarning says what a board without a hardware clock needs.
func NoRTCWarning() msg.Text {
	return msg.T("この装置には電池で時刻を保つハードウェア時計(RTC)がありません(Raspberry Pi 4 など)。電源を入れるたびに時刻が失われるため、院内の NTP サーバーを指定するか、RTC 拡張ボードを取り付けてください",
		"this board has no battery-backed hardware clock (RTC), like a Raspberry Pi 4: it loses the time at every power-up, so give the hospital's NTP server, or fit an RTC add-on board")
}

// saveNetwork saves next (its network and time zone changed) and applies
// what needs no confirmation: the host name, the time servers. The relays
// are not reopened: nothing of theirs changed.
func (g *Gateway) saveNetwork(ctx context.Context, actor string, next *config.Config) error {
	if g.opts.ConfigPath == "" {
		return ErrNoConfigFile
	}
	if !g.job.TryLock() {
		return ErrBusy
	}
	defer g.job.Unlock()
	cur := g.Config()
	changed := changedFields(cur, next)
	if len(changed) == 0 {
		return nil
	}
	if err := g.opts.Network.Update(ctx, cur.Network, next.Network); err != nil {
		return err
	}
	if err := config.Save(g.opts.ConfigPath, next); err != nil {
		return err
	}
	g.cfg.Store(next)
	g.record(ledger.Entry{Kind: ledger.KindConfigChange, Actor: actor, Message: msg.T("設定を変更", "configuration changed"),
		Payload: ledger.ConfigChangeData{Changed: changed}})
	if !slices.Equal(cur.Network.NTPServers, next.Network.NTPServers) && g.opts.TimeSync != nil {
		g.opts.TimeSync.Kick()
	}
	return nil
}

// ConfirmNetwork keeps the pending change: the page was reached at local,
// an address the new settings gave. The change is saved and the step done.
func (g *Gateway) ConfirmNetwork(ctx context.Context, actor string, local netip.Addr) error {
	m := g.opts.Network
	if !m.Managed() {
		return netconf.ErrNothingPending
	}
	p, err := m.Confirm(local)
	if err != nil {
		return err
	}
	g.netState.mu.Lock()
	tz := g.netState.timeZone
	g.netState.mu.Unlock()
	next := *g.Config()
	next.Network = p.To
	if tz != "" {
		next.TimeZone = tz
	}
	if err := g.saveConfirmed(ctx, actor, &next); err != nil {
		// What runs must be what the file says: the settings before.
		rerr := m.Reapply(ctx, p.From)
		g.record(ledger.Entry{Kind: ledger.KindNetworkRevert, Actor: actor, Payload: networkData(p.From, p.To.Address),
			Message: msg.Sprintf("確認した変更を保存できないため、前のネットワーク設定に戻しました: %s", "the confirmed change could not be saved, so the settings before came back: %s",
				msg.TextOf(errors.Join(err, rerr)))})
		return err
	}
	g.recordNetworkStep(actor, msg.Sprintf("新しいアドレス %s からページを開いて確認しました", "confirmed from the new address %s", local.Unmap()))
	return nil
}

// saveConfirmed saves the configuration with a confirmed network change.
func (g *Gateway) saveConfirmed(ctx context.Context, actor string, next *config.Config) error {
	if g.opts.ConfigPath == "" {
		return ErrNoConfigFile
	}
	for !g.job.TryLock() {
		// The change is in force already: wait for the job rather than
		// refuse what the person just confirmed.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	defer g.job.Unlock()
	cur := g.Config()
	if err := config.Save(g.opts.ConfigPath, next); err != nil {
		return err
	}
	g.cfg.Store(next)
	g.record(ledger.Entry{Kind: ledger.KindConfigChange, Actor: actor, Message: msg.T("設定を変更", "configuration changed"),
		Payload: ledger.ConfigChangeData{Changed: changedFields(cur, next)}})
	if !slices.Equal(cur.Network.NTPServers, next.Network.NTPServers) && g.opts.TimeSync != nil {
		g.opts.TimeSync.Kick()
	}
	return nil
}

// recordNetworkStep marks the network step done.
func (g *Gateway) recordNetworkStep(actor string, detail msg.Text) {
	g.record(ledger.Entry{Kind: ledger.KindCommission, Actor: actor, Message: msg.T("導入手順: ネットワークと時刻", "commissioning: network and time"),
		Payload: ledger.CommissionData{Step: StepNetwork, OK: true, Detail: detail}})
}

// networkEnded records a change that came back to the settings before:
// not confirmed in time, or not applicable.
func (g *Gateway) networkEnded(o netconf.Outcome) {
	why := msg.Sprintf("%s 以内に新しいアドレスから確認されなかったため、前のネットワーク設定に戻しました",
		"the change was not confirmed from the new address within %s, so the settings before came back", duration.Words(netconf.DefaultRollback))
	if o.Err != nil {
		why = msg.Sprintf("新しいネットワーク設定を適用できないため、前の設定に戻しました: %s", "the new network settings could not be applied, so the settings before came back: %s", msg.TextOf(o.Err))
	}
	if o.RevertErr != nil {
		why = why.Append(" ", msg.Sprintf("(前の設定に戻す際にも失敗しました: %s)", "(going back failed too: %s)", msg.TextOf(o.RevertErr)))
		g.log.Error("network: going back to the settings before failed", "err", o.RevertErr)
	}
	g.record(ledger.Entry{Kind: ledger.KindNetworkRevert, Actor: o.Pending.Actor, Payload: networkData(o.Pending.From, o.Pending.To.Address), Message: why})
}

// NetworkInterrupted records a change the previous run left unconfirmed
// (it stopped within the two minutes): the saved settings apply instead.
func (g *Gateway) NetworkInterrupted(p *netconf.Pending) {
	if p == nil {
		return
	}
	g.record(ledger.Entry{Kind: ledger.KindNetworkRevert, Actor: p.Actor, Payload: networkData(p.From, p.To.Address),
		Message: msg.T("確認前に再起動したため、ネットワークの変更は保存されず、前の設定で起動しました",
			"the gateway restarted before the network change was confirmed: it was not saved, and the settings before apply")})
}

// NetworkFailed records that the saved settings could not be applied at
// the start, and alerts it: the gateway may not be reachable where the
// hospital expects it.
func (g *Gateway) NetworkFailed(err error) {
	g.log.Error("network: the saved settings could not be applied", "err", err)
	g.record(ledger.Entry{Kind: ledger.KindError, Message: msg.TextOf(msg.Wrap(err, "ネットワーク設定を適用できません", "cannot apply the network settings")),
		Payload: ledger.ErrorData{Phase: "network"}})
	g.send(alert.CycleFailed(g.Config().GatewayID, "", time.Now(), msg.TextOf(err)))
}

// networkData is n as the ledger records it; previous is the address the
// change moved away from.
func networkData(n config.Network, previous string) ledger.NetworkData {
	d := ledger.NetworkData{Mode: n.Mode, Gateway: n.Gateway, DNS: n.DNS, NTP: n.NTPServers, Hostname: n.Hostname, Previous: previous}
	if n.Static() {
		d.Address = n.Address
	}
	return d
}
