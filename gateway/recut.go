package gateway

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/status"
)

// A cut that could not be commanded or verified (a relay module's adapter
// unplugged, a module that does not answer, a contact welded for a while)
// may leave the medium powered and online. The gateway records and alerts
// it at once, then tries the cut again every recutEvery while no job holds
// the gateway, and once more right before a session powers the medium on,
// so the medium is proven offline as soon as the fault clears instead of
// at the next night's cut.

// recutEvery is how often an unverified cut is tried again. Nothing tells
// the gateway that a relay module answers again or that a contact let go,
// so it asks; a minute bounds how long a medium stays online after the
// fault clears, and one Off command a minute costs the relay and the
// module nothing. A retry that fails records nothing (below), so a welded
// relay does not fill the ledger.
const recutEvery = time.Minute

// recutter is the retry loop's state.
type recutter struct {
	cancel context.CancelFunc // ends the loop and a retry under way (Close)
	done   chan struct{}      // closed when the loop has returned

	mu sync.Mutex
	// held collects the relay evidence of a retry under way, by relay:
	// it is stored only if the retry proves the cut.
	held map[string][]ledger.Entry
	// failing is the last failure logged per medium, so the log, too,
	// says only what changed.
	failing map[string]string
}

// startRecut starts the retry loop (Open).
func (g *Gateway) startRecut() {
	every := g.opts.RecutEvery
	if every <= 0 {
		every = recutEvery
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.recut.cancel, g.recut.done = cancel, make(chan struct{})
	go func() {
		defer close(g.recut.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				g.recutTick(ctx)
			}
		}
	}()
}

// stopRecut ends the retry loop and waits for a retry under way (Close,
// before the relays are closed).
func (g *Gateway) stopRecut() {
	if g.recut.cancel == nil {
		return
	}
	g.recut.cancel()
	<-g.recut.done
}

// hold keeps e (relay evidence of relay) back while a retry of that relay
// is under way; it reports whether it did.
func (rc *recutter) hold(relayName string, e ledger.Entry) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if held, ok := rc.held[relayName]; ok {
		rc.held[relayName] = append(held, e)
		return true
	}
	return false
}

// holding starts holding the evidence of relayName; the function it
// returns stops and hands over what was held.
func (rc *recutter) holding(relayName string) func() []ledger.Entry {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.held == nil {
		rc.held = map[string][]ledger.Entry{}
	}
	rc.held[relayName] = []ledger.Entry{}
	return func() []ledger.Entry {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		held := rc.held[relayName]
		delete(rc.held, relayName)
		return held
	}
}

// changed notes why medium's retry failed and reports whether that differs
// from the last time ("" clears it).
func (rc *recutter) changed(medium, why string) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.failing == nil {
		rc.failing = map[string]string{}
	}
	last, ok := rc.failing[medium]
	rc.failing[medium] = why
	return !ok || last != why
}

// recutTick tries the cut of every medium whose last cut is not verified.
// It runs only while no job holds the gateway: a job's sessions cut their
// own media (and re-cut first, recutBeforeOn), and a retry must never cut
// a medium a session has just powered.
func (g *Gateway) recutTick(ctx context.Context) {
	if !g.job.TryLock() {
		return
	}
	defer g.job.Unlock()
	cfg := g.Config()
	for _, m := range g.unverifiedCuts(cfg) {
		if ctx.Err() != nil {
			return
		}
		g.recutMedium(ctx, cfg, m)
	}
}

// recutCandidate is a medium a retry can prove offline.
type recutCandidate struct {
	medium config.Medium
	relay  *relay.Relay
	driver driver
}

// unverifiedCuts are the media whose last cut is not verified and that a
// cut alone can prove offline: a relay that is not simulated and a device
// to see gone. A medium offline by immutability proves it only in a
// session, so its retry could never succeed. The caller holds the job lock.
func (g *Gateway) unverifiedCuts(cfg *config.Config) []recutCandidate {
	var names []string
	for _, m := range cfg.Media {
		names = append(names, m.Name)
	}
	st, err := g.tracker.Status(names, time.Now())
	if err != nil || st == nil {
		g.log.Error("cut retry: cannot read the media's state", "err", err)
		return nil
	}
	fault := map[string]bool{}
	for _, sm := range st.Media {
		fault[sm.Name] = sm.State == status.Fault
	}
	var out []recutCandidate
	for _, m := range cfg.Media {
		if c, ok := g.recutCandidate(m); ok && fault[m.Name] {
			out = append(out, c)
		}
	}
	return out
}

// recutCandidate returns what re-cutting m needs, if a cut alone can prove
// m offline.
func (g *Gateway) recutCandidate(m config.Medium) (recutCandidate, bool) {
	if m.Relay == "" {
		return recutCandidate{}, false
	}
	if t, ok := MediumTypeOf(m.Type); !ok || t.Immutable {
		return recutCandidate{}, false
	}
	r, ok := g.relays.Get(m.Relay)
	d := g.media[m.Name]
	// Without a sense input no cut is ever verified: retrying proves nothing.
	if !ok || r.Simulated() || r.Spec().Sense == nil || d == nil {
		return recutCandidate{}, false
	}
	return recutCandidate{medium: m, relay: r, driver: d}, true
}

// recutMedium tries one medium's cut again. Only a proven cut is recorded,
// with the evidence of this attempt; a failure is logged when it differs
// from the last one.
func (g *Gateway) recutMedium(ctx context.Context, cfg *config.Config, c recutCandidate) {
	stop := g.recut.holding(c.relay.Name())
	cd, proven, err := g.cutAgain(ctx, c)
	held := stop()
	if !proven {
		if err == nil {
			err = errOffUnproven
		}
		if g.recut.changed(c.medium.Name, msg.In(err, msg.EN)) {
			g.log.Warn("cut retry: the medium is still not proven offline", "medium", c.medium.Name, "err", err)
		}
		return
	}
	g.recut.changed(c.medium.Name, "")
	for _, e := range held {
		g.record(e)
	}
	text := msg.T("再試行で切断を確認", "cut verified on retry")
	if c.relay.Spec().Driver == relay.DriverModbus {
		text = msg.T("再試行で切断を確認(リレーモジュールが再び応答)", "cut verified on retry (the relay module answers again)")
	}
	g.cutProven(cfg, c.medium.Name, text, cd)
}

// errOffUnproven: the relay answers and its sense reads OFF, but it was not
// seen to change to OFF since the cut failed, so that proves nothing: a
// module silent since start-up, a restart since, or a module that began
// to answer in the middle of a retry (the check before the command went
// unanswered, the command went through). The next session's power-on and
// cut prove it (recutBeforeOn).
var errOffUnproven = msg.New("センス入力は OFF ですが、変化を確認できていないため切断を証明できません(次の通電・切断で証明されます)",
	"the sense input reads OFF but was not seen to change, so the cut is not proven (the next power-on and cut prove it)")

// cutProven records a medium's cut as verified and announces that the
// medium is offline again.
func (g *Gateway) cutProven(cfg *config.Config, medium string, text msg.Text, cd ledger.CutData) {
	g.record(ledger.Entry{Kind: ledger.KindDeviceGone, Medium: medium})
	g.record(ledger.Entry{Kind: ledger.KindPowerOffVerified, Medium: medium, Message: text, Payload: cd})
	now := time.Now()
	g.send(alert.MediumNotOff(cfg.GatewayID, medium, now, msg.Text{}).Resolve(now))
}

// cutAgain drives the medium's relay off and checks that its device is
// gone, as the start-up fail-safe does. proven says both are proven, and
// cd is then the cut's evidence. Otherwise err says why, or is nil when
// the sense reads OFF and the device is gone but the sense was not seen
// to change (errOffUnproven). The caller holds the job lock.
func (g *Gateway) cutAgain(ctx context.Context, c recutCandidate) (cd ledger.CutData, proven bool, err error) {
	start := time.Now()
	res, err := c.relay.Off(ctx)
	nv, _ := errors.AsType[*relay.NotVerifiedError](err)
	offUnseen := res.Sense == relay.Off && ((err == nil && !res.Verified) || (nv != nil && nv.Cause == relay.CauseNoChange))
	if err != nil && !offUnseen {
		return cd, false, err // the device check cannot make up for the relay
	}
	if _, err := c.driver.goneAtStart(ctx); err != nil {
		return cd, false, err
	}
	if offUnseen {
		return cd, false, nil
	}
	return ledger.CutData{Relay: c.relay.Name(), SenseOff: true, DeviceGone: true, ElapsedMS: time.Since(start).Milliseconds()}, true, nil
}

// recutBeforeOn is a session's first step (backup.Target.BeforeSession)
// for a medium with a relay: when its last cut is not verified it cuts
// and verifies it first, so the power-on starts from a proven OFF and is
// not refused because the sense "already read ON". If that cut still
// fails the session fails with its reason and the medium is not powered.
//
// The one exception: the relay answers, its sense reads OFF and the
// device is gone, but the sense was not seen to change (errOffUnproven:
// a module silent since start-up, or a restart since the failed cut).
// Refusing then would stop every backup to that medium for good, though
// nothing speaks against it being off, and the retry can never prove it
// without powering it. Powering it on is harmless to data, and the
// session proves both changes: its power-on sees the sense go from OFF to
// ON, and so its cut sees ON go to OFF. A medium whose sense still reads
// ON, whose relay does not answer or whose device is still there is never
// powered: neither its power-on nor its cut could be proven.
func (g *Gateway) recutBeforeOn(name string) func(context.Context) error {
	return func(ctx context.Context) error {
		cfg := g.Config()
		m, err := cfg.Medium(name)
		if err != nil {
			return err
		}
		c, ok := g.recutCandidate(*m)
		if !ok || !g.cutUnverified(name) {
			return nil
		}
		cd, proven, err := g.cutAgain(ctx, c)
		switch {
		case err != nil:
			return msg.Errorf("前回の切断が確認できておらず、通電前の切断も確認できません: %w",
				"the last cut is not verified, and the cut before the power-on is not verified either: %w", err)
		case !proven:
			g.log.Info("the medium's relay reads off but its cut is unproven; the session proves it", "medium", name)
		default:
			g.cutProven(cfg, name, msg.T("通電前に切断を確認", "cut verified before the power-on"), cd)
		}
		return nil
	}
}

// cutUnverified reports whether the medium's last cut is not verified.
func (g *Gateway) cutUnverified(name string) bool {
	st, err := g.tracker.Status([]string{name}, time.Now())
	if err != nil || st == nil || len(st.Media) != 1 {
		return true // unknown: cutting once more costs nothing
	}
	return st.Media[0].State == status.Fault
}
