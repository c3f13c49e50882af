// Package netconf applies the gateway's network settings (config.Network)
// on the appliance, and makes a change of address safe to try from the
// page: the new settings apply with a rollback timer, and unless the page
// is reached at the new address and the change confirmed within two
// minutes, the settings before come back. A change is saved in the
// configuration only once confirmed, so a restart in between also ends on
// the settings before.
//
// The System does the work (linux.go: gokrazy's own DHCP client for both
// DHCP and static addresses, netlink to remove what the settings before
// left); without one (a bench PC) nothing is applied. In DHCP mode it also
// puts 169.254.10.10/16 on the interface while no DHCP server answers
// (linklocal.go), so that the page can be reached on a LAN without one.
package netconf

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

// System changes the network for real.
type System interface {
	// Apply makes n's interface follow n. flush first removes every IPv4
	// address and default route on it (what other settings left).
	Apply(ctx context.Context, n config.Network, flush bool) error
	// Addresses are the IPv4 addresses on iface now.
	Addresses(iface string) ([]netip.Prefix, error)
	// Close stops what Apply started (a DHCP client).
	Close() error
}

// DefaultRollback is how long a change waits to be confirmed from the
// new address before the settings before come back.
const DefaultRollback = 2 * time.Minute

// DefaultApplyDelay lets the page's answer (with the new address to
// open) reach the browser before the address changes under it.
const DefaultApplyDelay = 2 * time.Second

// pendingFile keeps an unconfirmed change across a restart.
const pendingFile = "pending.json"

var (
	// ErrPending: a change waits for its confirmation; confirm it or let
	// it roll back before the next.
	ErrPending = msg.New("ネットワークの変更が確認待ちです。新しいアドレスから確認するか、元に戻るまで待ってください",
		"a network change is waiting for its confirmation: confirm it from the new address, or wait until it rolls back")
	// ErrNothingPending: no change waits for a confirmation (it was
	// confirmed already, or rolled back).
	ErrNothingPending = msg.New("確認待ちのネットワーク変更はありません(すでに確認されたか、元に戻りました)",
		"no network change is waiting for a confirmation (it was confirmed already, or rolled back)")
)

// Options configure New.
type Options struct {
	// System applies the settings; nil: this danzend does not manage the
	// network (a bench PC): changes are saved only.
	System System
	// Dir keeps an unconfirmed change across a restart.
	Dir        string
	Rollback   time.Duration
	ApplyDelay time.Duration
	// AfterFunc runs f after d unless stopped (nil: time.AfterFunc);
	// tests fire the timers themselves.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
	Now       func() time.Time
	Log       *slog.Logger
}

// Pending is a change of address waiting to be confirmed.
type Pending struct {
	From     config.Network `json:"from"`
	To       config.Network `json:"to"`
	Actor    string         `json:"actor"`
	Started  time.Time      `json:"started"`
	Deadline time.Time      `json:"deadline"`
	// Applied: the new settings are in force (the apply delay is over).
	Applied bool `json:"applied"`
	// Previous is the address the page was reached at before.
	Previous string `json:"previous,omitempty"`
}

// Outcome is how a change ended, for the ledger.
type Outcome struct {
	Pending Pending
	// Err says why it rolled back when applying failed (nil: not
	// confirmed in time); RevertErr why going back failed too.
	Err, RevertErr error
}

// Manager applies network settings and keeps at most one change pending.
type Manager struct {
	o   Options
	mu  sync.Mutex
	p   *Pending
	gen int // counts changes, so a late timer of an ended one does nothing
	// stop cancels the pending change's timers.
	stop []func() bool
}

// New returns a manager.
func New(o Options) *Manager {
	if o.Rollback <= 0 {
		o.Rollback = DefaultRollback
	}
	if o.ApplyDelay <= 0 {
		o.ApplyDelay = DefaultApplyDelay
	}
	if o.AfterFunc == nil {
		o.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Manager{o: o}
}

// Managed reports whether settings are applied (the appliance) or only
// saved (a bench PC).
func (m *Manager) Managed() bool { return m != nil && m.o.System != nil }

// NeedsConfirmation reports whether going from a to b changes how the
// page is reached (mode, interface, address, gateway, DNS): such a
// change applies with the rollback timer. The host name and the time
// servers apply at once.
func NeedsConfirmation(a, b config.Network) bool {
	return a.Mode != b.Mode || a.Iface() != b.Iface() || a.Address != b.Address || a.Gateway != b.Gateway || !slices.Equal(a.DNS, b.DNS)
}

// Boot applies the saved settings n at the start. A change the previous
// run left unconfirmed (it stopped within the two minutes) is returned:
// n, the settings before it, is what applies now.
func (m *Manager) Boot(ctx context.Context, n config.Network) (*Pending, error) {
	left, err := m.takePendingFile()
	if err != nil {
		m.o.Log.Warn("network: an unconfirmed change of the previous run is unreadable; the saved settings apply", "err", err)
	}
	if !m.Managed() {
		return left, nil
	}
	// What the unconfirmed change set is removed first.
	return left, m.o.System.Apply(ctx, n, left != nil || err != nil)
}

// Update applies a change that needs no confirmation (the host name; the
// time servers need nothing here).
func (m *Manager) Update(ctx context.Context, from, to config.Network) error {
	switch {
	case !m.Managed() || from.Hostname == to.Hostname && !NeedsConfirmation(from, to):
		return nil
	case NeedsConfirmation(from, to):
		return errors.New("netconf: Update of a change that needs confirmation")
	}
	if _, busy := m.Pending(); busy {
		return ErrPending
	}
	return m.o.System.Apply(ctx, to, false)
}

// Change applies to after the apply delay and starts the rollback timer:
// unless Confirm is called within the rollback time, from comes back and
// done is called. done is also called, at once, when to cannot be applied.
// previous is the address the page was reached at.
func (m *Manager) Change(actor, previous string, from, to config.Network, done func(Outcome)) (Pending, error) {
	if !m.Managed() {
		return Pending{}, errors.New("netconf: Change on an unmanaged network")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.p != nil {
		return Pending{}, ErrPending
	}
	now := m.o.Now()
	p := &Pending{From: from, To: to, Actor: actor, Started: now, Deadline: now.Add(m.o.ApplyDelay + m.o.Rollback), Previous: previous}
	if err := m.savePending(p); err != nil {
		return Pending{}, err
	}
	m.gen++
	gen := m.gen
	m.p = p
	m.stop = []func() bool{
		m.o.AfterFunc(m.o.ApplyDelay, func() { m.apply(gen, done) }),
		m.o.AfterFunc(m.o.ApplyDelay+m.o.Rollback, func() { m.revert(gen, nil, done) }),
	}
	return *p, nil
}

// apply puts the pending change in force; a failure rolls it back now.
func (m *Manager) apply(gen int, done func(Outcome)) {
	m.mu.Lock()
	if m.p == nil || m.gen != gen {
		m.mu.Unlock()
		return
	}
	to := m.p.To
	m.mu.Unlock()
	m.o.Log.Info("network: applying a change; the settings before come back unless it is confirmed", "mode", to.Mode, "address", to.Address, "within", m.o.Rollback)
	err := m.o.System.Apply(context.Background(), to, true)
	if err != nil {
		m.revert(gen, err, done)
		return
	}
	m.mu.Lock()
	if m.p != nil && m.gen == gen {
		m.p.Applied = true
		if serr := m.savePending(m.p); serr != nil {
			m.o.Log.Warn("network: keeping the pending change", "err", serr)
		}
	}
	m.mu.Unlock()
}

// revert brings the settings before back, unless the change ended
// otherwise meanwhile.
func (m *Manager) revert(gen int, why error, done func(Outcome)) {
	p, ok := m.end(gen)
	if !ok {
		return
	}
	m.o.Log.Warn("network: the change was not confirmed in time or could not be applied; the settings before come back", "err", why)
	rerr := m.o.System.Apply(context.Background(), p.From, true)
	done(Outcome{Pending: p, Err: why, RevertErr: rerr})
}

// Confirm ends the pending change as kept: the page was reached at local,
// one of the interface's addresses under the new settings. The caller
// saves p.To.
func (m *Manager) Confirm(local netip.Addr) (Pending, error) {
	m.mu.Lock()
	p, gen := m.p, m.gen
	m.mu.Unlock()
	if p == nil {
		return Pending{}, ErrNothingPending
	}
	if !p.Applied {
		return Pending{}, msg.New("新しい設定はまだ適用中です。数秒後にもう一度確認してください", "the new settings are still being applied: confirm again in a few seconds")
	}
	addrs, err := m.o.System.Addresses(p.To.Iface())
	if err != nil {
		return Pending{}, err
	}
	if !reachedAt(local.Unmap(), addrs) {
		return Pending{}, msg.Errorf("このページは新しいアドレスではなく %s で開かれています。新しいアドレスで開き直して確認してください",
			"this page was opened at %s, not at a new address: open it at the new address and confirm there", local)
	}
	got, ok := m.end(gen)
	if !ok {
		return Pending{}, ErrNothingPending
	}
	return got, nil
}

func reachedAt(local netip.Addr, addrs []netip.Prefix) bool {
	for _, a := range addrs {
		if a.Addr() == local {
			return true
		}
	}
	return false
}

// end takes the pending change gen off: its timers stop, its file goes.
func (m *Manager) end(gen int) (Pending, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.p == nil || m.gen != gen {
		return Pending{}, false
	}
	p := *m.p
	m.p = nil
	for _, stop := range m.stop {
		stop()
	}
	m.stop = nil
	if err := m.removePending(); err != nil {
		m.o.Log.Warn("network: removing the pending change", "err", err)
	}
	return p, true
}

// Reapply applies n again, removing what other settings left: after a
// confirmed change could not be saved, the saved settings come back.
func (m *Manager) Reapply(ctx context.Context, n config.Network) error {
	if !m.Managed() {
		return nil
	}
	return m.o.System.Apply(ctx, n, true)
}

// Pending is the change waiting for its confirmation, if any.
func (m *Manager) Pending() (Pending, bool) {
	if m == nil {
		return Pending{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.p == nil {
		return Pending{}, false
	}
	return *m.p, true
}

// Addresses are the IPv4 addresses on iface now (none when unmanaged).
func (m *Manager) Addresses(iface string) ([]netip.Prefix, error) {
	if !m.Managed() {
		return nil, nil
	}
	return m.o.System.Addresses(iface)
}

// Close stops the timers and what the System runs. A change still
// pending stays in its file: the next start ends it on the saved settings.
func (m *Manager) Close() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	for _, stop := range m.stop {
		stop()
	}
	m.stop = nil
	m.mu.Unlock()
	if !m.Managed() {
		return nil
	}
	return m.o.System.Close()
}

func (m *Manager) savePending(p *Pending) error {
	if m.o.Dir == "" {
		return nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.o.Dir, 0o700); err != nil {
		return msg.Errorf("フォルダ %s を作成できません: %w", "cannot create %s: %w", m.o.Dir, err)
	}
	return atomicfile.Write(filepath.Join(m.o.Dir, pendingFile), b, 0o600)
}

func (m *Manager) removePending() error {
	if m.o.Dir == "" {
		return nil
	}
	if err := os.Remove(filepath.Join(m.o.Dir, pendingFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// takePendingFile reads and removes the change a previous run left.
func (m *Manager) takePendingFile() (*Pending, error) {
	if m.o.Dir == "" {
		return nil, nil
	}
	path := filepath.Join(m.o.Dir, pendingFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p Pending
	perr := json.Unmarshal(b, &p)
	if err := os.Remove(path); err != nil {
		return nil, errors.Join(perr, err)
	}
	if perr != nil {
		return nil, perr
	}
	return &p, nil
}
