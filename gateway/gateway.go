// Package gateway is danzen's core as the CLI, the daemon and the page
// use it: it wires the configuration to the relays, the media drivers,
// restic and the evidence ledger, and runs one job at a time.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/restic"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/tape"
	"github.com/danzen-gw/danzen/netconf"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/status"
)

// Options are what differs between the appliance, the demo and tests.
type Options struct {
	// RelaySources supplies pins for relay drivers ("fake" in the demo).
	RelaySources map[string]relay.PinSource
	// Disk is the disk drivers' environment (zero: the real /sys and /dev).
	Disk disk.Options
	// TapeHosts are the tape drives by medium name (missing: the st
	// driver at the medium's device).
	TapeHosts map[string]tape.Host
	Logger    *slog.Logger
	// ConfigPath is where Reconfigure saves; empty makes the
	// configuration read-only.
	ConfigPath string
	// Network applies the network step's settings (nil: saved only).
	Network *netconf.Manager
	// TimeSync keeps the clock (nil: the host's own time) (clock.go).
	TimeSync TimeSync
	// RecutEvery is how often an unverified cut is tried again (zero:
	// a minute; tests shorten it) (recut.go).
	RecutEvery time.Duration
	// Update is where the firmware update side is (sysupdate.go).
	Update UpdateOptions
	// Interlock is the clock the interlock window is judged by (interlock.go).
	Interlock InterlockOptions
	// Now is the wall clock of held shortenings (nil: time.Now) (pending.go).
	Now func() time.Time
}

// Gateway is an opened configuration.
type Gateway struct {
	cfg     atomic.Pointer[config.Config] // replaced whole, never edited in place
	opts    Options
	log     *slog.Logger
	ledger  *ledger.Ledger
	tracker *status.Tracker // keeps the status as entries are stored (statustrack.go)
	relays  *relay.Set
	media   map[string]driver // by medium name (mediatypes.go)
	job     sync.Mutex        // one job (cycle, setup, restore) at a time
	pending sync.Mutex        // pending.json: held shortenings (pending.go)
	nextMu  sync.Mutex
	next    time.Time
	events  hub
	busy    bool // guarded by events.mu: a job is running
	// notifier sends alerts (nil: none configured); alerts counts the
	// deliveries in flight so Close can wait for them.
	notifier atomic.Pointer[alert.Notifier]
	// alertsDown says why no alert can go out (the channels could not be
	// opened at start); nil once a saved change opens them.
	alertsDown atomic.Pointer[msg.Text]
	alerts     sync.WaitGroup
	scans      scans        // scan.go
	comm       commission   // commission.go
	netState   networkState // network.go
	recut      recutter     // recut.go
	offsite    offsiteMarks // offsite.go
}

// Open opens the ledger and the relays, then drives every relay off and
// checks every medium is gone before anything else happens (fail-safe).
// A relay or medium that does not agree is recorded as NOT offline.
func Open(ctx context.Context, cfg *config.Config, opts Options) (*Gateway, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, d := range []string{cfg.StagingDir, cfg.SecretsDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, msg.Errorf("フォルダ %s を作成できません: %w", "cannot create %s: %w", d, err)
		}
	}
	led, tracker, err := openLedger(cfg.LedgerDir, log, opts.clockState())
	if err != nil {
		return nil, err
	}
	g := &Gateway{log: log, ledger: led, tracker: tracker, opts: opts}
	g.cfg.Store(cfg)
	n, err := g.newNotifier(cfg)
	if err != nil {
		// No alert can go out, but the gateway and its page (where the
		// setting is fixed) must come up: an appliance that stops here
		// cannot be reached to repair it.
		err = msg.Wrap(err, "通知を送れません。通知の設定を直してください", "alerts cannot be sent: fix the alert settings")
		log.Error("alerts disabled", "err", err)
		g.record(ledger.Entry{Kind: ledger.KindError, Message: msg.TextOf(err), Payload: ledger.ErrorData{Phase: "alerts"}})
		why := msg.TextOf(err)
		g.alertsDown.Store(&why)
		n = nil
	}
	g.notifier.Store(n)
	if err := g.openHardware(ctx, cfg); err != nil {
		return nil, errors.Join(err, led.Close())
	}
	g.alertLedgerRoom(time.Now())
	g.startRecut()
	return g, nil
}

// openHardware opens the relays and the media drivers of cfg and runs
// the fail-safe. The caller holds the job lock or is Open.
func (g *Gateway) openHardware(ctx context.Context, cfg *config.Config) error {
	relays, err := g.openRelays(ctx, cfg)
	if err != nil {
		return err
	}
	media, err := openMedia(openEnv{cfg: cfg, opts: g.opts, log: g.log, record: g.record})
	if err != nil {
		if cerr := relays.Close(); cerr != nil {
			g.log.Error("a relay did not verify off while closing", "err", cerr)
		}
		return err
	}
	g.relays, g.media = relays, media
	g.failSafe(ctx, cfg)
	return nil
}

// openRelays opens the relays of cfg; what they do goes to the evidence
// ledger under the medium each one powers.
func (g *Gateway) openRelays(ctx context.Context, cfg *config.Config) (*relay.Set, error) {
	mediumOf := map[string]string{}
	for _, m := range cfg.Media {
		if m.Relay != "" {
			mediumOf[m.Relay] = m.Name
		}
	}
	return relay.Open(ctx, cfg.Relays, relay.Options{
		Sources: g.opts.RelaySources, Modules: cfg.RelayModules, Logger: g.log,
		Observer: func(ev relay.Event) {
			kind := ledger.KindRelaySense
			if ev.Kind == relay.KindCommand {
				kind = ledger.KindRelayCommand
			}
			e := ledger.Entry{Kind: kind, Medium: mediumOf[ev.Relay], Payload: relayEvidence(ev)}
			if !g.recut.hold(ev.Relay, e) { // a cut retry stores its evidence only if it proves the cut
				g.record(e)
			}
		},
	})
}

// failSafe drives every relay off and checks that each medium is gone. A
// disagreement is recorded as a cut that is not verified.
func (g *Gateway) failSafe(ctx context.Context, cfg *config.Config) {
	open := g.recoverInterrupted(ctx, cfg)
	results, err := g.relays.AllOff(ctx)
	senseOff, bad := offResults(results, err)
	if err != nil {
		g.log.Error("fail-safe: a relay did not switch off", "err", err)
	}
	for _, m := range cfg.Media {
		reason := bad[m.Relay]
		checked := false
		if r, ok := g.relays.Get(m.Relay); ok && r.Simulated() {
			continue // nothing was cut: no device can be seen to go, and waiting for it only delays
		}
		if d := g.media[m.Name]; d != nil {
			var gerr error
			if checked, gerr = d.goneAtStart(ctx); gerr != nil {
				reason = reason.Append("; ", msg.TextOf(gerr))
			}
		}
		switch {
		case !reason.IsZero():
			g.record(ledger.Entry{Kind: ledger.KindPowerOffUnverified, Medium: m.Name,
				Message: msg.T("起動時の切断確認に失敗", "start-up cut check failed"), Payload: ledger.CutData{Relay: m.Relay, Reason: reason}})
			g.send(alert.MediumNotOff(cfg.GatewayID, m.Name, time.Now(), reason))
		case open.media[m.Name] && senseOff[m.Relay] && checked:
			// The interrupted session's power-on is closed by this proof.
			g.record(ledger.Entry{Kind: ledger.KindPowerOffVerified, Medium: m.Name,
				Message: msg.T("起動時に切断を確認(前回の実行は中断)", "cut verified at start-up after an interrupted run"),
				Payload: ledger.CutData{Relay: m.Relay, SenseOff: true, DeviceGone: true}})
		}
	}
}

// offResults reads the start-up AllOff: which relays' sense proved them
// off, and why each relay that failed is not off (every relay, when the
// failure names none).
func offResults(results []relay.Result, err error) (senseOff map[string]bool, bad map[string]msg.Text) {
	senseOff, bad = map[string]bool{}, map[string]msg.Text{}
	for _, r := range results {
		senseOff[r.Relay] = r.Verified && !r.Simulated
	}
	if err == nil {
		return senseOff, bad
	}
	for _, r := range results {
		if !r.Reason.IsZero() && !r.Verified && !r.Simulated && r.Sense == relay.On {
			bad[r.Relay] = r.Reason
		}
	}
	if len(bad) == 0 {
		for _, r := range results {
			bad[r.Relay] = msg.TextOf(err)
		}
	}
	return senseOff, bad
}

// relayEvidence is a relay's event as the ledger stores it.
func relayEvidence(ev relay.Event) ledger.RelayEvent {
	return ledger.RelayEvent{Time: ev.Time, Relay: ev.Relay, Kind: ev.Kind, Want: string(ev.Want), Got: string(ev.Got),
		Verified: ev.Verified, Simulated: ev.Simulated, Note: ev.Note, Err: ev.Err}
}

// Config returns the configuration in use.
func (g *Gateway) Config() *config.Config { return g.cfg.Load() }

// Close cuts every relay (fail-safe) and closes the ledger.
func (g *Gateway) Close() error {
	defer g.alerts.Wait() // let a last alert (e.g. from the final cut) go out
	g.stopRecut()
	var err error
	if g.relays != nil {
		err = g.relays.Close()
	}
	return errors.Join(err, g.closeLedger())
}

// RunCycle runs one nightly cycle over the media due tonight.
func (g *Gateway) RunCycle(ctx context.Context, events func(backup.CycleEvent)) (*backup.CycleReport, error) {
	g.job.Lock()
	defer g.job.Unlock()
	return g.runCycleLocked(ctx, events)
}

func (g *Gateway) runCycleLocked(ctx context.Context, events func(backup.CycleEvent)) (*backup.CycleReport, error) {
	entries, err := ledger.Read(g.Config().LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindSnapshot}})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range g.Config().Media {
		names = append(names, m.Name)
	}
	names = g.homeForCycle(names) // a medium kept off-site is passed over, said in the ledger (offsite.go)
	return g.runTargetsLocked(ctx, backup.Due(names, g.Config().Rotation.PerCycle, backup.LastWritten(entries)), events)
}

// runTargetsLocked runs a cycle that writes the media named.
func (g *Gateway) runTargetsLocked(ctx context.Context, media []string, events func(backup.CycleEvent)) (*backup.CycleReport, error) {
	g.setBusy(true)
	defer g.setBusy(false)
	var targets []backup.Target
	for _, name := range media {
		t, err := g.target(name, use{})
		if err != nil {
			// Nothing was pulled or written: the ledger, the history and
			// an alert say why (a missing restic, a missing secret).
			err = msg.Wrap(err, "サイクルを始められません", "the cycle cannot start")
			g.record(ledger.Entry{Kind: ledger.KindError, Medium: name, Message: msg.TextOf(err), Payload: ledger.ErrorData{Phase: "cycle setup"}})
			g.alertCycle(nil, err)
			return nil, err
		}
		targets = append(targets, t)
	}
	c := g.cycle(events)
	c.Targets = targets
	g.recordInterlockCycle(targets)
	rep, err := c.Run(ctx)
	g.alertCycle(rep, err)
	g.pruneFileLists()
	return rep, err
}

func (g *Gateway) cycle(events func(backup.CycleEvent)) *backup.Cycle {
	r := g.Config().Retention
	all := func(ev backup.CycleEvent) {
		g.events.publish(ev)
		if events != nil {
			events(ev)
		}
	}
	return &backup.Cycle{
		Config: g.Config(), Ledger: g.ledger, Events: all, Logger: g.log, CheckSubset: g.Config().CheckSubset,
		Retention: restic.Policy{KeepLast: r.KeepLast, KeepDaily: r.KeepDaily, KeepWeekly: r.KeepWeekly, KeepMonthly: r.KeepMonthly},
	}
}

// backendDrive is a drive whose repository is a restic backend reached
// over the network (an S3 bucket): it gives restic its environment
// (credentials, region) and the CA file to trust.
type backendDrive interface {
	Backend() (env []string, caFile string)
}

// target assembles one medium for the use u.
func (g *Gateway) target(name string, u use) (backup.Target, error) {
	m, err := g.Config().Medium(name)
	if err != nil {
		return backup.Target{}, err
	}
	bin, err := g.Config().Restic()
	if err != nil {
		return backup.Target{}, err
	}
	var sw backup.Switch // none for a bucket without an uplink relay
	var before func(context.Context) error
	if m.Relay != "" {
		r, ok := g.relays.Get(m.Relay)
		if !ok {
			return backup.Target{}, msg.Errorf("媒体 %[2]s のリレー %[1]q が開かれていません", "relay %q of medium %s is not open", m.Relay, name)
		}
		sw, before = g.interlockSwitch(r), g.recutBeforeOn(name)
	}
	d, err := g.drive(m, u)
	if err != nil {
		return backup.Target{}, err
	}
	g.attachKit(d, name, u)
	// A backend medium (S3) gives restic its credentials and CA; they
	// travel in the environment and a file, never on a command line.
	var env []string
	var ca string
	if b, ok := d.(backendDrive); ok {
		env, ca = b.Backend()
	}
	return backup.Target{
		Name:          name,
		Switch:        sw,
		Drive:         d,
		BeforeSession: before,
		Repo: restic.Repo{
			Binary:       bin,
			PasswordFile: g.Config().KeyPath(m.PasswordFile),
			Host:         g.Config().GatewayID,
			CacheDir:     filepath.Join(g.Config().StagingDir, "restic-cache"),
			TempDir:      filepath.Join(g.Config().StagingDir, "tmp"),
			Env:          env,
			CACert:       ca,
			Logger:       g.log,
		},
	}, nil
}

// Status is the dashboard's view of the ledger, as the tracker keeps it.
func (g *Gateway) Status(ctx context.Context) (*status.Status, error) {
	var names []string
	for _, m := range g.Config().Media {
		names = append(names, m.Name)
	}
	st, err := g.tracker.Status(names, time.Now())
	if st != nil {
		st.NextCycle = g.NextCycle()
	}
	return st, err
}

func (g *Gateway) record(e ledger.Entry) {
	if e.Actor == "" {
		e.Actor = ledger.ActorSystem
	}
	stored, err := g.ledger.Append(context.Background(), e)
	if err != nil {
		g.log.Error("evidence ledger write failed", "kind", e.Kind, "err", err)
		return
	}
	g.comm.note(stored)
}

// Record appends an entry to the evidence ledger (the page's own events:
// logins, user changes, pinned keys). Actor defaults to "system".
func (g *Gateway) Record(ctx context.Context, e ledger.Entry) error {
	if e.Actor == "" {
		e.Actor = ledger.ActorSystem
	}
	stored, err := g.ledger.Append(ctx, e)
	if err == nil {
		g.comm.note(stored)
	}
	return err
}

func (g *Gateway) setBusy(b bool) {
	g.events.mu.Lock()
	g.busy = b
	if !b {
		g.events.last = nil
	}
	g.events.mu.Unlock()
}
