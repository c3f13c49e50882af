package gateway

import (
	"context"
	"slices"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/schedule"
)

// The hardware interlock is a timer switch in the + line of the relay
// coils' supply (config.Interlock): outside its window no command can
// power a medium. The gateway never relies on it being there; it checks
// it. The wiring test, outside the window, commands the relay on and
// expects the sense input to stay OFF; every power-on outside the window
// that reaches ON is recorded and alerted (the timer let power through,
// and the medium is not offline until a proven cut); every cycle records
// whether it started inside the window and whether the schedule fits it.

// InterlockOptions are what tests change of the interlock's checks.
type InterlockOptions struct {
	// Now is the clock the window is judged by (nil: time.Now); a test
	// shares it with its fake timer.
	Now func() time.Time
}

// WireInterlock is the wiring test's step that checks the interlock
// timer (only for a relay behind one).
const WireInterlock = "interlock"

// interlockView is a relay's interlock window at one moment.
type interlockView struct {
	window relay.Window
	now    time.Time // in the configured zone
	inside bool
}

// interlockOf returns the interlock window relay name's coil is behind,
// as it stands now; false when it is behind none.
func (g *Gateway) interlockOf(name string) (interlockView, bool) {
	cfg := g.Config()
	if !cfg.Interlocked(name) {
		return interlockView{}, false
	}
	w, loc, ok := cfg.InterlockWindow()
	if !ok {
		return interlockView{}, false
	}
	now := time.Now()
	if g.opts.Interlock.Now != nil {
		now = g.opts.Interlock.Now()
	}
	now = now.In(loc)
	return interlockView{window: w, now: now, inside: w.Contains(now)}, true
}

// data is the ledger's record of the window for use and relays.
func (v interlockView) data(use string, relays ...string) ledger.InterlockData {
	d := ledger.InterlockData{Use: use, Relays: relays, Window: v.window.Text(), Inside: v.inside}
	if !v.inside {
		d.NextOpen = v.window.NextOpen(v.now)
	}
	return d
}

// nextOpenText says when the window opens next, for people.
func (v interlockView) nextOpenText() msg.Text {
	return msg.Plain(v.window.NextOpen(v.now).Format("2006-01-02 15:04"))
}

// mediumOf is the medium relay name powers, "" when none.
func mediumOf(cfg *config.Config, name string) string {
	if i := slices.IndexFunc(cfg.Media, func(m config.Medium) bool { return m.Relay == name }); i >= 0 {
		return cfg.Media[i].Name
	}
	return ""
}

// interlockOpen records and alerts that relay name reached ON outside
// the window: the timer let power through. The power-on itself is
// recorded by whoever switched (the medium is not offline until a cut is
// proven).
func (g *Gateway) interlockOpen(name, use string, v interlockView, res relay.Result) {
	cfg := g.Config()
	d := v.data(use, name)
	d.Checked, d.Held, d.Sense = true, false, string(res.Sense)
	text := msg.Sprintf("インターロックが時間帯 %s の外でリレー %s に電源を通しました(オフラインではありません)",
		"the interlock let relay %[2]s power up outside its window %[1]s (not offline)", v.window.Text(), name)
	medium := mediumOf(cfg, name)
	g.record(ledger.Entry{Kind: ledger.KindInterlock, Medium: medium, Message: text, Payload: d})
	g.send(alert.InterlockOpen(cfg.GatewayID, name, medium, time.Now(), v.window.Text(), text))
}

// interlockedSwitch is a relay as a cycle, restore or drill switches it,
// with the interlock's checks around its power-on.
type interlockedSwitch struct {
	g *Gateway
	r *relay.Relay
}

// interlockSwitch wraps r for a session.
func (g *Gateway) interlockSwitch(r *relay.Relay) backup.Switch {
	return &interlockedSwitch{g: g, r: r}
}

func (s *interlockedSwitch) Name() string { return s.r.Name() }

func (s *interlockedSwitch) Off(ctx context.Context) (relay.Result, error) { return s.r.Off(ctx) }

// On powers the relay. Outside the window a sense that reads ON is the
// timer failing (alerted), and one that stays OFF is the timer working:
// the error then says that a session now needs the timer overridden by
// hand, which is what a restore outside the window takes.
func (s *interlockedSwitch) On(ctx context.Context) (relay.Result, error) {
	res, err := s.r.On(ctx)
	v, ok := s.g.interlockOf(s.r.Name())
	if !ok || v.inside || res.Simulated {
		return res, err
	}
	switch {
	case res.Sense == relay.On:
		s.g.interlockOpen(s.r.Name(), "power", v, res)
	case err != nil:
		err = msg.Errorf("%w。今はインターロックの時間帯 %s の外で、タイマーがコイル電源を切っています。今すぐ復元するには、タイマースイッチを手動でオンにし、終わったら自動に戻してください(次に時間帯が始まるのは %s)",
			"%w. It is outside the interlock window %s, so the timer holds the coil supply off. To restore now, switch the timer on by hand and back to automatic when done (the window opens next at %s)",
			err, v.window.Text(), v.nextOpenText())
	}
	return res, err
}

// recordInterlockCycle records, as a cycle starts, whether it starts
// inside the interlock window and whether the schedule fits the window.
// A cycle outside it (started by hand, or a timer whose clock drifted)
// fails at power-on, which the cycle reports and alerts.
func (g *Gateway) recordInterlockCycle(targets []backup.Target) {
	var relays []string
	for _, t := range targets {
		if t.Switch != nil && g.Config().Interlocked(t.Switch.Name()) {
			relays = append(relays, t.Switch.Name())
		}
	}
	if len(relays) == 0 {
		return
	}
	v, ok := g.interlockOf(relays[0])
	if !ok {
		return
	}
	d := v.data("cycle", relays...)
	if s, err := schedule.Parse(g.Config().Schedule); err == nil {
		_, outside := config.OutsideWindow(s, v.window, v.now.Location())
		d.ScheduleFits = !outside
	}
	text := msg.Sprintf("サイクルはインターロックの時間帯 %s の中で始まりました", "the cycle started inside the interlock window %s", v.window.Text())
	switch {
	case !v.inside:
		text = msg.Sprintf("サイクルはインターロックの時間帯 %s の外で始まりました: タイマーが手動でオンにされていなければ媒体に給電できません",
			"the cycle started outside the interlock window %s: no medium can be powered unless the timer is switched on by hand", v.window.Text())
	case !d.ScheduleFits:
		text = msg.Sprintf("サイクルはインターロックの時間帯 %s の中で始まりましたが、スケジュールは時間帯の外にも実行します",
			"the cycle started inside the interlock window %s, but the schedule also runs outside it", v.window.Text())
	}
	g.record(ledger.Entry{Kind: ledger.KindInterlock, Message: text, Payload: d})
}

// interlock runs the wiring test's interlock step before anything is
// powered. Inside the window it says it cannot check now, and when it
// can, and the test goes on as usual. Outside, it commands the relay on
// and expects the sense to stay OFF and no device to appear; it then
// takes the whole test (the steps that need power wait for the window)
// and reports true. When the sense reads ON the timer let power through:
// that is recorded and alerted, and the test goes on as usual so that
// the cut is proven.
func (w *wiringRun) interlock(ctx context.Context) bool {
	v, ok := w.g.interlockOf(w.r.Name())
	if !ok || w.result.Simulated {
		return false
	}
	if v.inside {
		w.set(WireInterlock, JobSkipped, msg.Sprintf("今はインターロックの時間帯 %s の中のため、タイマーが電源を止めることは確認できません。時間帯が終わる %s 以降にもう一度配線テストを実行してください",
			"inside the interlock window %s now, so the timer's cut cannot be checked: run the wiring test again after the window closes at %s",
			v.window.Text(), msg.Plain(v.window.NextClose(v.now).Format("2006-01-02 15:04"))))
		w.g.record(ledger.Entry{Kind: ledger.KindInterlock, Medium: w.result.Medium,
			Message: msg.T("配線テスト: 時間帯の中のためインターロックは未確認", "wiring test: inside the window, the interlock was not checked"), Payload: v.data("wiring", w.r.Name())})
		return false
	}
	w.set(WireInterlock, JobRunning, msg.Sprintf("時間帯 %s の外でリレーをオンにし、センス入力が OFF のままか確かめています",
		"outside the window %s: switching the relay on, the sense input must stay OFF", v.window.Text()))
	res, err := w.r.On(ctx)
	if res.Sense == relay.On {
		w.fail(WireInterlock, msg.T("センス入力が ON になりました: インターロックが時間帯の外で電源を通しています(オフラインではありません)",
			"the sense input reads ON: the interlock lets power through outside its window (not offline)"))
		w.g.interlockOpen(w.r.Name(), "wiring", v, res)
		return false
	}
	w.outsideWindow(ctx, v, res, err)
	return true
}

// outsideWindow ends a wiring test outside the window in which the relay
// did not reach ON. The sense staying OFF proves the timer only on a relay
// whose wiring test passed before (a broken sense wire reads the same),
// and only if no device appears either; then the medium never had power,
// which is recorded as a proven cut. A device that appears is the timer
// letting power through behind a sense that does not see it.
func (w *wiringRun) outsideWindow(ctx context.Context, v interlockView, on relay.Result, onErr error) {
	d := v.data("wiring", w.r.Name())
	d.Checked, d.Sense = true, string(on.Sense)
	var text msg.Text
	switch {
	case commandFailed(onErr) != nil:
		w.fail(WireInterlock, msg.TextOf(onErr))
		d.Checked = false
		text = msg.T("配線テスト: リレーを操作できずインターロックを確認できません", "wiring test: the relay could not be switched, the interlock was not checked")
	case on.Sense != relay.Off:
		w.fail(WireInterlock, msg.Sprintf("センス入力が %s のため、インターロックを確認できません: %s", "the sense input reads %s, so the interlock cannot be checked: %s", on.Sense.Text(), msg.TextOf(onErr)))
		text = msg.T("配線テスト: センス入力が読めずインターロックを確認できません", "wiring test: the sense input gave no reading, the interlock was not checked")
	case !w.g.relayPassed(w.r.Name()):
		w.fail(WireInterlock, msg.T("センス入力は OFF のままでしたが、このリレーはまだ配線テストに合格していないため、センス線が切れていても同じに見えます。時間帯の中で配線テストに合格してから、時間帯の外でもう一度実行してください",
			"the sense input stayed OFF, but this relay has not passed a wiring test yet, and a broken sense wire would read the same: pass the wiring test inside the window, then run it again outside"))
		text = msg.T("配線テスト: インターロックは未確認(リレーの配線が未確認)", "wiring test: interlock not proven (the relay's wiring is not proven yet)")
	default:
		if !w.nothingAppears(ctx, v, on, &d) {
			return
		}
		text = msg.Sprintf("配線テスト: インターロックは時間帯 %s の外で電源を止めています", "wiring test: the interlock holds power off outside its window %s", v.window.Text())
		if !d.Held {
			text = msg.T("配線テスト: 装置を確認できずインターロックは未確認", "wiring test: the device could not be looked for, the interlock was not proven")
		}
	}
	_, offErr := w.r.Off(context.WithoutCancel(ctx))
	if nv := commandFailed(offErr); nv != nil {
		w.fail(WireRelayOff, msg.TextOf(nv))
	}
	w.g.record(ledger.Entry{Kind: ledger.KindInterlock, Medium: w.result.Medium, Message: text, Payload: d})
	if d.Held && commandFailed(offErr) == nil && w.m != nil {
		// The medium never had power: the sense, proven on this relay,
		// stayed OFF, and no device came.
		w.g.record(ledger.Entry{Kind: ledger.KindPowerOffVerified, Medium: w.m.Name, Message: msg.T("配線テスト(時間帯の外): インターロックが給電を止め、媒体に電源は届いていません", "wiring test outside the window: the interlock held, no power reached the medium"),
			Payload: ledger.CutData{Relay: w.r.Name(), SenseOff: true, DeviceGone: true}})
	}
	wait := msg.Sprintf("時間帯の外のため給電できません: 時間帯の中(次は %s)で配線テストを実行すると確認します",
		"not powered outside the window: run the wiring test inside it (next from %s) to check this", v.nextOpenText())
	for _, id := range []string{WireRelayOn, WireSenseOn, WireAppeared, WireRelayOff, WireSenseOff, WireGone} {
		if id != WireRelayOff || commandFailed(offErr) == nil {
			w.set(id, JobSkipped, wait)
		}
	}
}

// nothingAppears waits the device's appear timeout and reports whether
// nothing appeared, marking d held. A device that appears means the timer
// let power through although the sense reads OFF: that is alerted, and
// the test proves the cut as usual (the sense is then not trusted).
func (w *wiringRun) nothingAppears(ctx context.Context, v interlockView, on relay.Result, d *ledger.InterlockData) bool {
	w.set(WireInterlock, JobRunning, msg.Sprintf("センス入力は OFF のままです。装置が現れないことを確かめています(最大 %s)",
		"the sense input stays OFF; checking that no device appears (up to %s)", w.probe.appearTimeout()))
	start := time.Now()
	seen, _, err := w.probe.appear(ctx)
	switch {
	case err == nil:
		w.fail(WireInterlock, msg.Sprintf("センス入力は OFF ですが装置が現れました(%s): インターロックが時間帯の外で電源を通し、センス入力がそれを示していません(オフラインではありません)",
			"the sense input reads OFF but a device appeared (%s): the interlock lets power through outside its window and the sense does not show it (not offline)", seenList(seen)))
		w.g.interlockOpen(w.r.Name(), "wiring", v, on)
		w.result.Appeared, w.appearedOK = seen, true
		w.powerOff(ctx)
		w.goneAfterCut(ctx)
		w.recordCut()
		return false
	case time.Since(start) < w.probe.appearTimeout():
		w.fail(WireInterlock, msg.Sprintf("装置を確認できません: %s", "cannot look for the device: %s", msg.TextOf(err)))
		return true
	}
	d.Held = true
	w.set(WireInterlock, JobOK, msg.Sprintf("センス入力は OFF のまま、装置も現れませんでした: 時間帯の外ではタイマーがコイル電源を切っています(次に時間帯が始まるのは %s)",
		"the sense input stayed OFF and no device appeared: outside the window the timer holds the coil supply off (the window opens next at %s)", v.nextOpenText()))
	return true
}

// relayPassed reports whether relay name's latest wiring test passed.
func (g *Gateway) relayPassed(name string) bool {
	latest, err := g.comm.entries(g.Config().LedgerDir)
	if err != nil {
		return false
	}
	e, ok := latest[stepKey{StepRelay, name}]
	if !ok {
		return false
	}
	d, err := ledger.Decode[ledger.CommissionData](e)
	return err == nil && d.OK
}
