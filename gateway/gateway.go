// Package gateway is danzen's core as the CLI, the daemon and the page
// use it: it wires the configuration to the relays, the media drivers,
// restic and the evidence ledger, and runs one job at a time.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/restic"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/status"
)

// Options are what differs between the appliance, the demo and tests.
type Options struct {
	// RelaySources supplies pins for relay drivers ("fake" in the demo).
	RelaySources map[string]relay.PinSource
	// Disk is the disk drivers' environment (zero: the real /sys and /dev).
	Disk   disk.Options
	Logger *slog.Logger
}

// Gateway is an opened configuration.
type Gateway struct {
	cfg    *config.Config
	log    *slog.Logger
	ledger *ledger.Ledger
	relays *relay.Set
	drives map[string]*disk.Driver
	job    sync.Mutex // one job (cycle, setup, restore) at a time
	nextMu sync.Mutex
	next   time.Time
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
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	led, err := ledger.OpenWith(cfg.LedgerDir, ledger.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	g := &Gateway{cfg: cfg, log: log, ledger: led, drives: map[string]*disk.Driver{}}
	mediumOf := map[string]string{}
	for _, m := range cfg.Media {
		mediumOf[m.Relay] = m.Name
	}
	g.relays, err = relay.Open(ctx, cfg.Relays, relay.Options{
		Sources: opts.RelaySources, Logger: log,
		Observer: func(ev relay.Event) {
			kind := ledger.KindRelaySense
			if ev.Kind == relay.KindCommand {
				kind = ledger.KindRelayCommand
			}
			g.record(ledger.Entry{Kind: kind, Medium: mediumOf[ev.Relay], Data: mustJSON(ev)})
		},
	})
	if err != nil {
		led.Close()
		return nil, err
	}
	for _, m := range cfg.Media {
		if m.Disk == nil {
			continue
		}
		dopts := opts.Disk
		dopts.Logger = log
		user := opts.Disk.Events
		dopts.Events = func(ev disk.Event) {
			g.record(ledger.Entry{Kind: string(ev.Kind), Medium: ev.Medium, Message: ev.Message, Data: mustJSON(ev)})
			if user != nil {
				user(ev)
			}
		}
		d, err := disk.New(*m.Disk, dopts)
		if err != nil {
			g.Close()
			return nil, err
		}
		g.drives[m.Name] = d
	}
	g.failSafe(ctx)
	return g, nil
}

// failSafe drives every relay off and checks that each medium is gone. A
// disagreement is recorded as a cut that is not verified.
func (g *Gateway) failSafe(ctx context.Context) {
	results, err := g.relays.AllOff(ctx)
	bad := map[string]string{}
	if err != nil {
		g.log.Error("fail-safe: a relay did not switch off", "err", err)
		for _, r := range results {
			if r.Reason != "" && !r.Verified && !r.Simulated && r.Sense == relay.On {
				bad[r.Relay] = r.Reason
			}
		}
		if len(bad) == 0 {
			for _, r := range results {
				bad[r.Relay] = err.Error()
			}
		}
	}
	for _, m := range g.cfg.Media {
		reason := bad[m.Relay]
		if d := g.drives[m.Name]; d != nil {
			if gerr := d.WaitGone(ctx); gerr != nil {
				reason = joinReason(reason, gerr.Error())
			}
		}
		if reason != "" {
			g.record(ledger.Entry{Kind: ledger.KindPowerOffUnverified, Medium: m.Name,
				Message: "起動時の切断確認に失敗 / start-up cut check failed", Data: mustJSON(ledger.CutData{Relay: m.Relay, Reason: reason})})
		}
	}
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// Config returns the configuration in use.
func (g *Gateway) Config() *config.Config { return g.cfg }

// Close cuts every relay (fail-safe) and closes the ledger.
func (g *Gateway) Close() error {
	var err error
	if g.relays != nil {
		err = g.relays.Close()
	}
	return errors.Join(err, g.ledger.Close())
}

// RunCycle runs one nightly cycle over the media due tonight.
func (g *Gateway) RunCycle(ctx context.Context, events func(backup.CycleEvent)) (*backup.CycleReport, error) {
	g.job.Lock()
	defer g.job.Unlock()
	entries, err := ledger.Read(g.cfg.LedgerDir, ledger.Filter{Kinds: []string{ledger.KindSnapshot}})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range g.cfg.Media {
		names = append(names, m.Name)
	}
	var targets []backup.Target
	for _, name := range backup.Due(names, g.cfg.Rotation.PerCycle, backup.LastWritten(entries)) {
		t, err := g.target(name, nil)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	c := g.cycle(events)
	c.Targets = targets
	return c.Run(ctx)
}

func (g *Gateway) cycle(events func(backup.CycleEvent)) *backup.Cycle {
	r := g.cfg.Retention
	return &backup.Cycle{
		Config: g.cfg, Ledger: g.ledger, Events: events, Logger: g.log, CheckSubset: g.cfg.CheckSubset,
		Retention: restic.Policy{KeepLast: r.KeepLast, KeepDaily: r.KeepDaily, KeepWeekly: r.KeepWeekly, KeepMonthly: r.KeepMonthly},
	}
}

// target assembles one medium. prepare, when set, is the media ID to
// write on a freshly formatted disk before mounting it.
func (g *Gateway) target(name string, prepare *prepareOpts) (backup.Target, error) {
	m, err := g.cfg.Medium(name)
	if err != nil {
		return backup.Target{}, err
	}
	sw, ok := g.relays.Get(m.Relay)
	if !ok {
		return backup.Target{}, fmt.Errorf("relay %q of medium %s is not open", m.Relay, name)
	}
	d := g.drives[name]
	if d == nil {
		return backup.Target{}, fmt.Errorf("medium %s has no driver", name)
	}
	return backup.Target{
		Name:   name,
		Switch: sw,
		Drive:  &diskDrive{d: d, prepare: prepare},
		Repo: restic.Repo{
			Binary:       g.cfg.ResticBinary,
			PasswordFile: g.cfg.KeyPath(m.PasswordFile),
			Host:         g.cfg.GatewayID,
			CacheDir:     filepath.Join(g.cfg.StagingDir, "restic-cache"),
			TempDir:      filepath.Join(g.cfg.StagingDir, "tmp"),
			Logger:       g.log,
		},
	}, nil
}

// Status derives the dashboard's view from the ledger.
func (g *Gateway) Status(ctx context.Context) (*status.Status, error) {
	var names []string
	for _, m := range g.cfg.Media {
		names = append(names, m.Name)
	}
	st, err := status.Compute(g.cfg.LedgerDir, names, time.Now())
	if st != nil {
		st.NextCycle = g.NextCycle()
	}
	return st, err
}

func (g *Gateway) record(e ledger.Entry) {
	if e.Actor == "" {
		e.Actor = ledger.ActorSystem
	}
	if _, err := g.ledger.Append(context.Background(), e); err != nil {
		g.log.Error("evidence ledger write failed", "kind", e.Kind, "err", err)
	}
}

func mustJSON(v any) []byte {
	b, err := ledger.MarshalData(v)
	if err != nil {
		panic(err) // only called with plain data types
	}
	return b
}

// diskDrive adapts a disk driver to backup.Drive.
type diskDrive struct {
	d       *disk.Driver
	prepare *prepareOpts
	mounted *disk.Mounted
}

type prepareOpts struct {
	mediaID string
	force   bool
}

func (dd *diskDrive) BeforePowerOn() error { return dd.d.BeforePowerOn() }

func (dd *diskDrive) Attach(ctx context.Context) (string, error) {
	dev, err := dd.d.WaitAppear(ctx)
	if err != nil {
		return "", err
	}
	if dd.prepare != nil {
		if err := dd.d.Prepare(ctx, dev, dd.prepare.mediaID, dd.prepare.force); err != nil {
			return "", err
		}
	}
	m, err := dd.d.Mount(ctx, dev)
	if err != nil {
		return "", err
	}
	dd.mounted = &m
	return m.Repo, nil
}

func (dd *diskDrive) Detach(ctx context.Context) error {
	if dd.mounted == nil {
		return nil
	}
	_, err := dd.d.Detach(ctx, *dd.mounted)
	if err == nil {
		dd.mounted = nil
	}
	return err
}

func (dd *diskDrive) WaitGone(ctx context.Context) error { return dd.d.WaitGone(ctx) }

// Explain names a full medium as such, with its capacity.
func (dd *diskDrive) Explain(err error) error {
	if dd.mounted == nil {
		return err
	}
	return dd.d.FullError(err, *dd.mounted)
}
