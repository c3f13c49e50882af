package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
)

// A relay's wiring test proves, before any medium is trusted to it, that
// the relay powers what it is meant to: relay on → the sense input reads
// ON → a device appears (which one: model, serial/WWN, size, file system)
// → relay off → the sense input reads OFF → the device is gone. The disk
// that appeared is what "enrol this disk" takes its identity from.

// The wiring test's steps, in order.
const (
	WireBefore   = "device-before" // only when a device is there before power-on
	WireRelayOn  = "relay-on"
	WireSenseOn  = "sense-on"
	WireAppeared = "device-appeared"
	WireRelayOff = "relay-off"
	WireSenseOff = "sense-off"
	WireGone     = "device-gone"
)

// WiringResult is what a relay's wiring test found.
type WiringResult struct {
	Relay string
	// Medium is the medium the relay powers; "" when none is configured
	// for it yet (the disk that appears is then enrolled as a new one).
	Medium    string
	Simulated bool
	// Appeared are the disks that came up with the power. A simulated
	// relay powers nothing: they are then the disks connected now that
	// nothing uses, any of which may be enrolled.
	Appeared []disk.Seen
}

// Disk returns the appeared disk that holds volume.
func (w *WiringResult) Disk(volume string) (disk.Seen, disk.SeenVolume, bool) {
	for _, d := range w.Appeared {
		for _, v := range d.Volumes {
			if v.Name == volume {
				return d, v, true
			}
		}
	}
	return disk.Seen{}, disk.SeenVolume{}, false
}

// wiringSettle is how long the new disks must stay the same before they
// are reported: the kernel shows a disk a moment before its partitions.
const wiringSettle = 1500 * time.Millisecond

// WiringTest runs the wiring test of the relay called name and returns
// what it did. The relay is switched off at the end whatever happened.
// Its outcome is recorded as the step "relay".
func (g *Gateway) WiringTest(ctx context.Context, name, actor string) (CommissionJob, error) {
	g.job.Lock()
	defer g.job.Unlock()
	r, ok := g.relays.Get(name)
	if !ok {
		return CommissionJob{}, errNoRelay(name)
	}
	g.wiringLocked(ctx, r, actor)
	j, _ := g.CommissionJob(StepRelay, name)
	return j, nil
}

// StartWiringTest runs the wiring test in the background (the page
// follows it with CommissionJob). It refuses at once if another job runs.
func (g *Gateway) StartWiringTest(ctx context.Context, name, actor string) error {
	if !g.job.TryLock() {
		return ErrBusy
	}
	r, ok := g.relays.Get(name)
	if !ok {
		g.job.Unlock()
		return errNoRelay(name)
	}
	go func() {
		defer g.job.Unlock()
		g.wiringLocked(context.WithoutCancel(ctx), r, actor)
	}()
	return nil
}

func errNoRelay(name string) error {
	return msg.Errorf("リレー %q は設定にありません", "relay %q is not in the configuration", name)
}

// wiringRun is one wiring test under way.
type wiringRun struct {
	g      *Gateway
	job    *jobRun
	r      *relay.Relay
	m      *config.Medium // the medium the relay powers, or nil
	probe  wiringProbe
	result WiringResult
	ok     bool
	// appearedOK: the device (the medium's, when known) appeared.
	appearedOK bool
	// senseOff and gone prove the cut for the medium's evidence.
	senseOff, gone bool
	offReason      msg.Text
	// outside: the test ran outside the interlock window, where the
	// interlock step took it whole (interlock.go).
	outside bool
}

// wiringLocked runs the test; the caller holds the job lock.
func (g *Gateway) wiringLocked(ctx context.Context, r *relay.Relay, actor string) {
	g.setBusy(true)
	defer g.setBusy(false)
	cfg := g.Config()
	w := &wiringRun{g: g, job: g.beginJob(StepRelay, r.Name(), actor), r: r, ok: !r.Simulated(),
		result: WiringResult{Relay: r.Name(), Simulated: r.Simulated()}}
	if i := slices.IndexFunc(cfg.Media, func(m config.Medium) bool { return m.Relay == r.Name() }); i >= 0 {
		w.m = &cfg.Media[i]
		w.result.Medium = w.m.Name
	}
	w.probe = g.probeFor(w.m)
	w.job.update(func(j *CommissionJob) { j.Wiring = &w.result })
	if err := w.probe.baseline(); err != nil {
		w.fail(WireBefore, msg.TextOf(err))
	}
	if w.outside = w.interlock(ctx); w.outside {
		w.finish(actor)
		return
	}
	powered := w.powerOn(ctx)
	if powered {
		w.appeared(ctx)
	}
	w.powerOff(ctx)
	if powered {
		w.goneAfterCut(ctx)
	}
	w.recordCut()
	w.finish(actor)
}

// set records a step's state; a failed step fails the test.
func (w *wiringRun) set(id string, state JobState, text msg.Text) {
	if state == JobFailed {
		w.ok = false
	}
	w.job.step(id, state, text)
	w.job.update(func(j *CommissionJob) { j.Wiring = &w.result })
}

func (w *wiringRun) fail(id string, text msg.Text) { w.set(id, JobFailed, text) }

// powerOn switches the relay on and judges the sense input. It reports
// whether the relay may have powered the device (the command went out).
func (w *wiringRun) powerOn(ctx context.Context) bool {
	w.set(WireRelayOn, JobRunning, msg.T("リレーをオンにしています", "switching the relay on"))
	res, err := w.r.On(ctx)
	if w.m != nil {
		w.g.record(ledger.Entry{Kind: ledger.KindPowerOn, Medium: w.m.Name, Message: msg.T("配線テストで通電", "powered for the wiring test"),
			Payload: ledger.PowerOnData{Relay: w.r.Name(), Verified: res.Verified, Simulated: res.Simulated, Sense: string(res.Sense)}})
	}
	if nv := commandFailed(err); nv != nil {
		w.fail(WireRelayOn, msg.TextOf(nv))
		w.set(WireSenseOn, JobSkipped, msg.T("リレーを操作できないため確認していません", "not checked: the relay could not be switched"))
		return false
	}
	w.set(WireRelayOn, JobOK, onText(res))
	w.judgeSense(WireSenseOn, res, err)
	return true
}

// commandFailed returns err when driving the output itself failed.
func commandFailed(err error) error {
	var nv *relay.NotVerifiedError
	if errors.As(err, &nv) && nv.Cause == relay.CauseCommand || errors.Is(err, relay.ErrClosed) {
		return err
	}
	return nil
}

func onText(res relay.Result) msg.Text {
	if res.Simulated {
		return msg.T("シミュレーション: 何も給電していません", "simulated: nothing was powered")
	}
	return msg.Sprintf("出力をオンにしました(%s)", "output switched on (%s)", res.Took.Round(time.Millisecond))
}

// judgeSense records what the sense input said of a command.
func (w *wiringRun) judgeSense(id string, res relay.Result, err error) {
	want := res.Want.Text()
	switch {
	case res.Simulated:
		w.set(id, JobSkipped, relay.ReasonSimulated())
	case err != nil:
		w.fail(id, msg.TextOf(err))
	case res.Verified:
		w.set(id, JobOK, msg.Sprintf("センス入力が %s を示しました", "the sense input reads %s", want))
	case res.Sense == relay.Unknown:
		w.fail(id, res.Reason) // no sense input: no cut is ever proven
	default:
		w.set(id, JobOK, msg.Sprintf("センス入力は %s を示しています(%s)", "the sense input reads %s (%s)", want, res.Reason))
	}
}

// appeared waits for the device the relay powers.
func (w *wiringRun) appeared(ctx context.Context) {
	if w.result.Simulated {
		seen, err := w.probe.present()
		if err != nil {
			w.fail(WireAppeared, msg.TextOf(err))
			return
		}
		w.result.Appeared = seen
		w.set(WireAppeared, JobSkipped, msg.Sprintf("シミュレーション: 給電していないため確認できません。現在接続されていて未使用のディスク: %s",
			"simulated: nothing was powered, so nothing can appear. Disks connected now that nothing uses: %s", seenList(seen)))
		return
	}
	w.set(WireAppeared, JobRunning, msg.Sprintf("装置の接続を待っています(最大 %s)", "waiting for the device (up to %s)", w.probe.appearTimeout()))
	seen, text, err := w.probe.appear(ctx)
	w.result.Appeared = seen
	if err != nil {
		w.fail(WireAppeared, msg.TextOf(err))
		return
	}
	w.appearedOK = true
	w.set(WireAppeared, JobOK, text)
}

// powerOff switches the relay off, also when ctx ended, and judges the
// sense input.
func (w *wiringRun) powerOff(ctx context.Context) {
	w.set(WireRelayOff, JobRunning, msg.T("リレーをオフにしています", "switching the relay off"))
	res, err := w.r.Off(context.WithoutCancel(ctx))
	w.senseOff = res.Verified && !res.Simulated
	if !w.senseOff {
		w.offReason = cmp.Or(msg.TextOf(err), res.Reason)
	}
	if nv := commandFailed(err); nv != nil {
		w.fail(WireRelayOff, msg.TextOf(nv))
		w.set(WireSenseOff, JobSkipped, msg.T("リレーを操作できないため確認していません", "not checked: the relay could not be switched"))
		return
	}
	off := msg.T("出力をオフにしました", "output switched off")
	if res.Simulated {
		off = msg.T("シミュレーション: 何も切断していません", "simulated: nothing was cut")
	}
	w.set(WireRelayOff, JobOK, off)
	w.judgeSense(WireSenseOff, res, err)
}

// goneAfterCut waits for the device to vanish after the cut.
func (w *wiringRun) goneAfterCut(ctx context.Context) {
	if w.result.Simulated {
		w.set(WireGone, JobSkipped, relay.ReasonSimulated())
		return
	}
	if len(w.result.Appeared) == 0 && !w.probe.isTape() {
		w.set(WireGone, JobSkipped, msg.T("現れた装置がないため確認していません", "not checked: no device appeared"))
		return
	}
	w.set(WireGone, JobRunning, msg.Sprintf("装置が消えるのを待っています(最大 %s)", "waiting for the device to go (up to %s)", w.probe.goneTimeout()))
	if err := w.probe.gone(context.WithoutCancel(ctx), w.result.Appeared); err != nil {
		w.offReason = w.offReason.Append("; ", msg.TextOf(err))
		w.fail(WireGone, msg.TextOf(err))
		return
	}
	if !w.appearedOK { // what went is not the medium's device: no proof of its cut
		w.set(WireGone, JobOK, msg.T("現れたディスクは消えました", "the disks that appeared are gone"))
		return
	}
	w.gone = true
	w.set(WireGone, JobOK, msg.T("装置は消えました(切断を確認)", "the device is gone (the cut is proven)"))
}

// recordCut closes the medium's power session in the ledger: the time
// the wiring test powered it counts as connected, and only a cut proven
// by the sense input and the device's disappearance as offline.
func (w *wiringRun) recordCut() {
	if w.m == nil {
		return
	}
	cd := ledger.CutData{Relay: w.r.Name(), SenseOff: w.senseOff, DeviceGone: w.gone, Simulated: w.result.Simulated}
	if w.senseOff && w.gone {
		w.g.record(ledger.Entry{Kind: ledger.KindPowerOffVerified, Medium: w.m.Name, Message: msg.T("配線テスト: 切断を確認", "wiring test: cut verified"), Payload: cd})
		return
	}
	cd.Reason = cmp.Or(w.offReason, msg.T("装置の消失を確認していません", "the device was not seen to go"))
	if w.result.Simulated {
		cd.Reason = relay.ReasonSimulated()
	}
	w.g.record(ledger.Entry{Kind: ledger.KindPowerOffUnverified, Medium: w.m.Name,
		Message: msg.T("配線テスト: 切断を確認できません(オフラインではありません)", "wiring test: cut NOT verified (not offline)"), Payload: cd})
}

// finish records the test as the step "relay" of commissioning.
func (w *wiringRun) finish(actor string) {
	d := ledger.CommissionData{Step: StepRelay, Item: w.r.Name(), OK: w.ok}
	d.Detail = msg.Sprintf("現れた装置: %s", "device that appeared: %s", seenList(w.result.Appeared))
	var err error
	text := msg.Sprintf("試運転: リレー %s の配線テストに合格", "commissioning: relay %s passed its wiring test", w.r.Name())
	switch {
	case w.result.Simulated:
		d.Detail = relay.ReasonSimulated()
		err = msg.New("シミュレーションのリレーは何も給電・切断しないため、配線を確認できません(オフラインではありません)",
			"a simulated relay powers and cuts nothing, so its wiring cannot be proven (not offline)")
		text = msg.Sprintf("試運転: リレー %s はシミュレーションです(オフラインではありません)", "commissioning: relay %s is simulated (not offline)", w.r.Name())
	case w.outside && w.ok:
		d.Detail = msg.T("時間帯の外: インターロックが電源を止めていることを確認", "outside the window: the interlock was seen to hold power off")
		text = msg.Sprintf("試運転: リレー %s のインターロックは時間帯の外で電源を止めています", "commissioning: relay %s: the interlock holds power off outside its window", w.r.Name())
	case !w.ok:
		failed := w.failedSteps()
		d.Detail = d.Detail.Append("; ", failed)
		err = failed.Err()
		text = msg.Sprintf("試運転: リレー %s の配線テストが不合格", "commissioning: relay %s failed its wiring test", w.r.Name())
	}
	w.g.recordCommission(actor, d, text)
	w.job.finish(err)
}

// failedSteps says what failed, step by step.
func (w *wiringRun) failedSteps() msg.Text {
	j, _ := w.g.CommissionJob(StepRelay, w.r.Name())
	var out msg.Text
	for _, s := range j.Steps {
		if s.State == JobFailed {
			out = out.Append("; ", s.Text)
		}
	}
	return out
}

// seenList names disks for people: "sdb (Model, serial X, 500 GB, ext4 UUID …)".
func seenList(seen []disk.Seen) msg.Text {
	if len(seen) == 0 {
		return msg.T("なし", "none")
	}
	var out msg.Text
	for _, s := range seen {
		out = out.Append("; ", DescribeDisk(s))
	}
	return out
}

// DescribeDisk names a disk by what identifies it, for people and the
// ledger.
func DescribeDisk(s disk.Seen) msg.Text {
	parts := []string{}
	if s.Model != "" {
		parts = append(parts, s.Model)
	}
	if len(s.Serials) > 0 {
		parts = append(parts, "serial "+strings.Join(s.Serials, " / "))
	}
	parts = append(parts, bytesize.Format(s.Size))
	var fs []string
	for _, v := range s.Volumes {
		if v.FSUUID != "" {
			fs = append(fs, fmt.Sprintf("%s ext4 %s", v.Name, v.FSUUID))
		}
	}
	base := msg.Plain(s.Name + " (" + strings.Join(parts, ", ") + ")")
	if len(fs) == 0 {
		return base.Append(" ", msg.T("ext4 なし(PC で ext4 に初期化してください)", "no ext4 (format it as ext4 on a PC)"))
	}
	return base.Append(" ", msg.Plain(strings.Join(fs, ", ")))
}
