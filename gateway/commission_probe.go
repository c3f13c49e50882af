package gateway

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/tape"
)

// wiringProbe looks for the device a relay powers during its wiring test:
// the disks that come and go with it, or the tape drive of its medium.
type wiringProbe interface {
	// baseline notes what is there before the power goes on.
	baseline() error
	// present lists the unused disks connected now (a simulated relay's
	// candidates for enrolment).
	present() ([]disk.Seen, error)
	// appear waits for the device, says what appeared and returns the
	// new disks.
	appear(ctx context.Context) ([]disk.Seen, msg.Text, error)
	// gone waits for the device (or the disks that appeared) to vanish.
	gone(ctx context.Context, appeared []disk.Seen) error
	appearTimeout() time.Duration
	goneTimeout() time.Duration
	isTape() bool
}

// probeFor returns the probe for the medium a relay powers: its tape
// drive for a tape medium, else the disks (a relay with no medium yet
// is taken to power the disk that is to be enrolled).
func (g *Gateway) probeFor(m *config.Medium) wiringProbe {
	if m != nil && m.Tape != nil {
		host := g.opts.TapeHosts[m.Name]
		if host == nil {
			host = tape.St{Path: cmp.Or(m.Tape.Device, tape.DefaultDevice)}
		}
		return &tapeProbe{host: host, appearIn: cmp.Or(m.Tape.AppearTimeout.Std(), tape.DefaultAppearTimeout),
			goneIn: cmp.Or(m.Tape.GoneTimeout.Std(), tape.DefaultGoneTimeout)}
	}
	p := &diskProbe{opts: g.opts.Disk, appearIn: disk.DefaultAppearTimeout, goneIn: disk.DefaultGoneTimeout}
	if m != nil && m.Disk != nil {
		p.appearIn = cmp.Or(m.Disk.AppearTimeout.Std(), p.appearIn)
		p.goneIn = cmp.Or(m.Disk.GoneTimeout.Std(), p.goneIn)
		if m.Disk.Serial != "" || m.Disk.FSUUID != "" {
			p.want, p.medium = m.Disk, m.Name
		}
	}
	p.opts.Logger = g.log
	return p
}

// diskProbe finds the disks that come with the power by comparing what
// the kernel lists before and after. When the relay powers a medium whose
// disk is known, it waits for that disk: another one appearing at the
// same moment (a USB stick plugged in) proves nothing about the wiring.
type diskProbe struct {
	opts             disk.Options
	appearIn, goneIn time.Duration
	before           map[string]bool // keys of the disks seen before power-on
	// want is the identity of the medium's disk (nil: any new disk is the
	// one the relay powers) and medium its name.
	want   *disk.Spec
	medium string
}

func (p *diskProbe) appearTimeout() time.Duration { return p.appearIn }
func (p *diskProbe) goneTimeout() time.Duration   { return p.goneIn }
func (p *diskProbe) isTape() bool                 { return false }

func (p *diskProbe) baseline() error {
	seen, err := disk.Survey(p.opts)
	p.before = map[string]bool{}
	for _, s := range seen {
		p.before[s.Key] = true
	}
	return err
}

func (p *diskProbe) present() ([]disk.Seen, error) {
	seen, err := disk.Survey(p.opts)
	return slices.DeleteFunc(seen, func(s disk.Seen) bool { return s.InUse }), err
}

// fresh lists the unused disks that were not there before power-on.
func (p *diskProbe) fresh() ([]disk.Seen, error) {
	seen, err := p.present()
	return slices.DeleteFunc(seen, func(s disk.Seen) bool { return p.before[s.Key] }), err
}

// appear waits until new disks have appeared (the medium's, when it is
// known) and stayed the same for wiringSettle, within the appear timeout.
func (p *diskProbe) appear(ctx context.Context) ([]disk.Seen, msg.Text, error) {
	ctx, cancel := context.WithTimeout(ctx, p.appearIn)
	defer cancel()
	var last []disk.Seen
	var since time.Time
	for {
		seen, err := p.fresh()
		if err != nil {
			return nil, msg.Text{}, err
		}
		if !slices.EqualFunc(seen, last, sameSeen) {
			last, since = seen, time.Now()
		}
		if p.found(last) && time.Since(since) >= wiringSettle {
			text := msg.Sprintf("現れたディスク: %s", "disk that appeared: %s", seenList(last))
			if p.want != nil {
				text = text.Append("。", msg.Sprintf("媒体 %s のディスクです(識別で確認)", "it is medium %s's disk (by its identity)", p.medium))
			}
			return last, text, nil
		}
		if !sleepCtx(ctx, 250*time.Millisecond) {
			return last, msg.Text{}, p.notAppeared(last)
		}
	}
}

// found reports whether seen holds the disk the test waits for.
func (p *diskProbe) found(seen []disk.Seen) bool {
	if p.want == nil {
		return len(seen) > 0
	}
	return slices.ContainsFunc(seen, func(s disk.Seen) bool { return s.Is(*p.want) })
}

// notAppeared says why the appear step failed: nothing new, or only
// disks that are not the medium's.
func (p *diskProbe) notAppeared(seen []disk.Seen) error {
	switch {
	case len(seen) > 0 && p.want == nil:
		return msg.Errorf("%s 以内に現れたディスクが落ち着きませんでした(現れたり消えたりしています): %s。ケーブルと電源を確認してください",
			"the disks that appeared did not settle within %s (they come and go): %s. Check the cable and the power supply", p.appearIn, seenList(seen))
	case len(seen) > 0:
		return msg.Errorf("%[1]s 以内に媒体 %[2]s のディスクは現れず、別のディスクが現れました: %[3]s。媒体のディスクを交換したのなら、下でこのディスクを登録してください。そうでなければリレーの配線を確認してください",
			"medium %[2]s's disk did not appear within %[1]s, but another disk did: %[3]s. If it replaces the medium's disk, enrol it below; if not, check the relay's wiring",
			p.appearIn, p.medium, seenList(seen))
	}
	return msg.Errorf("%s 以内に新しいディスクが現れませんでした。リレーの配線、電源、ケーブルを確認してください",
		"no new disk appeared within %s: check the relay's wiring, the power supply and the cable", p.appearIn)
}

func sameSeen(a, b disk.Seen) bool {
	return a.Key == b.Key && slices.Equal(a.Volumes, b.Volumes)
}

// gone waits until none of the disks that appeared (the medium's, when
// it is among them) is listed any more.
func (p *diskProbe) gone(ctx context.Context, appeared []disk.Seen) error {
	ctx, cancel := context.WithTimeout(ctx, p.goneIn)
	defer cancel()
	if p.want != nil && p.found(appeared) {
		appeared = slices.DeleteFunc(slices.Clone(appeared), func(s disk.Seen) bool { return !s.Is(*p.want) })
	}
	for {
		seen, err := disk.Survey(p.opts)
		if err != nil {
			return err
		}
		var still []string
		for _, s := range seen {
			if slices.ContainsFunc(appeared, func(a disk.Seen) bool { return a.Key == s.Key }) {
				still = append(still, s.Name)
			}
		}
		if len(still) == 0 {
			return nil
		}
		if !sleepCtx(ctx, 250*time.Millisecond) {
			return msg.Errorf("切断から %s たってもディスク %v が見えています。リレーが給電を切っていません(接点の溶着、配線違い)",
				"disk %[2]v is still present %[1]s after the cut: the relay does not cut its power (welded contact, wrong wiring)", p.goneIn, still)
		}
	}
}

// tapeProbe watches the tape drive of a tape medium.
type tapeProbe struct {
	host             tape.Host
	appearIn, goneIn time.Duration
}

func (p *tapeProbe) appearTimeout() time.Duration { return p.appearIn }
func (p *tapeProbe) goneTimeout() time.Duration   { return p.goneIn }
func (p *tapeProbe) isTape() bool                 { return true }

func (p *tapeProbe) baseline() error {
	if p.host.Present() {
		return msg.Errorf("テープ装置 %s は通電前から接続されています。リレーがこの装置を給電していることを確認できません",
			"tape drive %s is present before power-on: the relay cannot be shown to power it", p.host)
	}
	return nil
}

func (p *tapeProbe) present() ([]disk.Seen, error) { return nil, nil }

func (p *tapeProbe) appear(ctx context.Context) ([]disk.Seen, msg.Text, error) {
	if waitFor(ctx, p.appearIn, p.host.Present) {
		return nil, msg.Sprintf("テープ装置 %s が現れました", "tape drive %s appeared", p.host), nil
	}
	return nil, msg.Text{}, msg.Errorf("%[2]s 以内にテープ装置 %[1]s が現れませんでした。リレーの配線と装置の電源を確認してください",
		"tape drive %s did not appear within %s: check the relay's wiring and the drive's power", p.host, p.appearIn)
}

func (p *tapeProbe) gone(ctx context.Context, _ []disk.Seen) error {
	if waitFor(ctx, p.goneIn, func() bool { return !p.host.Present() }) {
		return nil
	}
	return msg.Errorf("切断から %[2]s たってもテープ装置 %[1]s が見えています。リレーが給電を切っていません",
		"tape drive %s is still present %s after the cut: the relay does not cut its power", p.host, p.goneIn)
}

// waitFor polls cond until it holds or within has passed.
func waitFor(ctx context.Context, within time.Duration, cond func() bool) bool {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for !cond() {
		if !sleepCtx(ctx, 250*time.Millisecond) {
			return cond()
		}
	}
	return true
}

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
