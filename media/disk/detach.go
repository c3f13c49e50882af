package disk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// StepStatus is the outcome of one detach step, as the ledger stores it.
type StepStatus = ledger.DetachStatus

const (
	StepDone          StepStatus = "done"
	StepNotApplicable StepStatus = "not-applicable" // Detail says why; not an error
	StepFailed        StepStatus = "failed"
	StepSkipped       StepStatus = "skipped" // an earlier step failed, so this one must not run
)

// Detach steps, in order.
const (
	StepSyncFS    = "syncfs"
	StepUnmount   = "unmount"
	StepFlush     = "flush-buffers"     // fsync + BLKFLSBUF on the device
	StepSyncCache = "synchronize-cache" // SCSI SYNCHRONIZE CACHE
	StepStop      = "stop-unit"         // SCSI START STOP UNIT: spin down (and eject for RDX)
	StepDelete    = "delete-device"     // /sys/block/<disk>/device/delete
)

// StepResult is one detach step's outcome.
type StepResult struct {
	Step    string        `json:"step"`
	Status  StepStatus    `json:"status"`
	Detail  msg.Text      `json:"detail,omitzero"` // reason or error text
	Elapsed time.Duration `json:"elapsed"`
	Err     error         `json:"-"`
}

// DetachReport lists every step of a Detach, for the evidence ledger.
type DetachReport struct {
	Medium string       `json:"medium"`
	Device string       `json:"device"`
	Dir    string       `json:"dir"`
	Steps  []StepResult `json:"steps"`
	// StillMounted: the filesystem is still mounted (unmount failed); the
	// power must not be cut until this is resolved.
	StillMounted bool `json:"still_mounted"`
}

// Step returns the result of the named step.
func (r DetachReport) Step(name string) (StepResult, bool) {
	for _, s := range r.Steps {
		if s.Step == name {
			return s, true
		}
	}
	return StepResult{}, false
}

// Detach flushes and unmounts the medium, then stops it and removes it from
// the kernel so the power can be cut: syncfs, unmount (never lazy), fsync
// and BLKFLSBUF, SCSI SYNCHRONIZE CACHE, START STOP UNIT (with eject for
// RDX), SCSI device delete. Every step is reported. If the unmount fails
// (a *BusyError when in use) the rest is skipped and StillMounted is set;
// if a later step fails, the error is a *DetachError. Steps that do not
// apply to the device (SCSI commands on a loop device) are "not applicable"
// and are no error. Detach runs to the end whatever the context says: a
// half-detached medium is worse than a late one, and each SCSI command has
// its own timeout.
func (d *Driver) Detach(_ context.Context, m Mounted) (DetachReport, error) {
	x := &detachRun{d: d, dev: m.Device, r: DetachReport{Medium: d.spec.Name, Device: m.Device.Name, Dir: m.Dir}}
	if err := x.unmount(m); err != nil {
		return x.r, err
	}
	x.run(StepFlush, func() (StepStatus, msg.Text, error) { return StepDone, msg.Text{}, d.flush(x.dev) })
	x.stopDevice()
	for _, s := range x.r.Steps {
		if s.Status == StepFailed {
			return x.r, &DetachError{Report: x.r}
		}
	}
	return x.r, nil
}

// detachRun is one Detach: it runs the steps in order and reports each.
type detachRun struct {
	d   *Driver
	dev Device
	r   DetachReport
}

// step is one detach step: how it ended, why (for a step that did not
// apply, or a note), or the error that failed it.
type step func() (StepStatus, msg.Text, error)

func notApplicable(why msg.Text) step {
	return func() (StepStatus, msg.Text, error) { return StepNotApplicable, why, nil }
}

func failed(err error) step {
	return func() (StepStatus, msg.Text, error) { return StepFailed, msg.Text{}, err }
}

// run runs f as the step called name, and records and announces how it
// ended.
func (x *detachRun) run(name string, f step) {
	start := time.Now()
	st, detail, err := f()
	if err != nil {
		st, detail = StepFailed, msg.TextOf(err)
	}
	x.r.Steps = append(x.r.Steps, StepResult{Step: name, Status: st, Detail: detail, Elapsed: time.Since(start), Err: err})
	text := detail
	if text.IsZero() {
		text = msg.Plain(name + ": " + string(st))
	}
	x.d.emit(Event{Kind: EventDetachStep, Device: x.dev.Name, Step: name, Status: st, Message: text})
}

// skip records the named steps as not run because an earlier one failed.
func (x *detachRun) skip(names ...string) {
	for _, n := range names {
		x.r.Steps = append(x.r.Steps, StepResult{Step: n, Status: StepSkipped,
			Detail: msg.T("前の手順が失敗したため実行しません", "not run: an earlier step failed")})
		x.d.emit(Event{Kind: EventDetachStep, Device: x.dev.Name, Step: n, Status: StepSkipped, Message: msg.Plain(n + ": skipped")})
	}
}

// unmount runs syncfs and unmount, and makes sure the device's filesystem
// is mounted nowhere else. When the device must not be stopped, it skips
// the remaining steps and returns why.
func (x *detachRun) unmount(m Mounted) error {
	mountedHere, mountedElsewhere, err := x.d.mountState(m)
	if err != nil {
		x.run(StepSyncFS, failed(err))
		x.r.StillMounted = true
		x.skip(StepUnmount, StepFlush, StepSyncCache, StepStop, StepDelete)
		return &DetachError{Report: x.r}
	}
	if mountedHere {
		x.run(StepSyncFS, func() (StepStatus, msg.Text, error) { return StepDone, msg.Text{}, syncfs(m.Dir) })
		var uerr error
		x.run(StepUnmount, func() (StepStatus, msg.Text, error) {
			uerr = x.d.unmount(m.Dir)
			return StepDone, msg.Text{}, uerr
		})
		if uerr != nil {
			here, elsewhere, err := x.d.mountState(m)
			x.r.StillMounted = err != nil || here || len(elsewhere) > 0
			x.skip(StepFlush, StepSyncCache, StepStop, StepDelete)
			return uerr
		}
		x.d.emit(Event{Kind: EventUnmounted, Device: x.dev.Name, Message: msg.Sprintf("%s のマウントを外しました", "unmounted %s", m.Dir)})
		// Asked again: the unmount may have uncovered another mount.
		if _, mountedElsewhere, err = x.d.mountState(m); err != nil {
			x.d.log.Warn("mounts not re-read after unmount", "err", err)
		}
	} else {
		na := msg.T("マウントされていません", "not mounted")
		x.run(StepSyncFS, notApplicable(na))
		x.run(StepUnmount, notApplicable(na))
	}
	if len(mountedElsewhere) > 0 {
		// Stopping a disk under a live filesystem would lose data.
		x.run(StepFlush, failed(msg.Errorf("媒体 %s のファイルシステムが別の場所にもマウントされています(%s)。停止しません",
			"medium %s's filesystem is also mounted at %s; not stopping it", x.d.spec.Name, strings.Join(mountedElsewhere, ", "))))
		x.r.StillMounted = true
		x.skip(StepSyncCache, StepStop, StepDelete)
		return &DetachError{Report: x.r}
	}
	return nil
}

// stopDevice runs the SCSI steps: write back the drive's cache, stop (and
// for RDX eject) it, and delete it from the kernel. They do not apply to
// other devices.
func (x *detachRun) stopDevice() {
	if x.dev.Kind != "scsi" {
		na := msg.Sprintf("SCSI デバイスではありません(%s)", "not a SCSI device (%s)", x.dev.Kind)
		for _, n := range []string{StepSyncCache, StepStop, StepDelete} {
			x.run(n, notApplicable(na))
		}
		return
	}
	disk, err := x.d.openSame(x.dev, x.dev.Disk, os.O_RDWR|unix.O_NONBLOCK)
	if err != nil {
		x.run(StepSyncCache, failed(err))
		x.run(StepStop, failed(err))
	} else {
		x.run(StepSyncCache, syncCacheStep(disk))
		x.run(StepStop, func() (StepStatus, msg.Text, error) {
			detail := msg.T("停止", "stopped")
			if x.d.spec.RDX {
				detail = msg.T("停止・排出", "stopped and ejected")
			}
			return StepDone, detail, stopUnit(int(disk.Fd()), x.d.spec.RDX)
		})
		// Closed before the device is deleted. Only SCSI commands went
		// through it, so Close has nothing to write back or report.
		_ = disk.Close()
	}
	x.run(StepDelete, func() (StepStatus, msg.Text, error) {
		p := filepath.Join(x.d.opt.SysRoot, "class", "block", x.dev.Disk, "device", "delete")
		if err := os.WriteFile(p, []byte("1"), 0); err != nil {
			return "", msg.Text{}, msg.Errorf("SCSI デバイス(%s)を削除できません: %w", "cannot delete the SCSI device (%s): %w", p, err)
		}
		return StepDone, msg.Text{}, nil
	})
}

// syncCacheStep sends SYNCHRONIZE CACHE; a device without the command has
// no cache to lose.
func syncCacheStep(disk *os.File) step {
	return func() (StepStatus, msg.Text, error) {
		err := syncCache(int(disk.Fd()))
		var se *SCSIError
		if errors.As(err, &se) && se.unsupported() {
			return StepNotApplicable, msg.Sprintf("装置が SYNCHRONIZE CACHE に対応していません: %s",
				"the device does not implement SYNCHRONIZE CACHE: %s", err), nil
		}
		return StepDone, msg.Text{}, err
	}
}

// mountState says whether m.Dir is still m's mount and where else the
// device's filesystem is mounted.
func (d *Driver) mountState(m Mounted) (here bool, elsewhere []string, err error) {
	ms, err := d.mounts()
	if err != nil {
		return false, nil, err
	}
	for _, e := range ms {
		same := e.major == m.Device.Major && e.minor == m.Device.Minor
		switch {
		case e.dir == m.Dir && same:
			here = true
		case e.dir == m.Dir:
			return false, nil, msg.Errorf("%s には別のファイルシステム(%s)がマウントされています。触れません", "%s holds another filesystem (%s); not touching it", m.Dir, e.source)
		case same:
			elsewhere = append(elsewhere, e.dir)
		case m.Device.Disk != "" && d.diskOf(e.major, e.minor) == m.Device.Disk:
			// Another partition of the same disk: stopping it would hurt that one.
			elsewhere = append(elsewhere, e.dir+" ("+e.source+")")
		}
	}
	return here, elsewhere, nil
}

// flush writes back and drops the device's buffers (volume and whole disk).
func (d *Driver) flush(dev Device) error {
	names := []string{dev.Name}
	if dev.Disk != dev.Name {
		names = append(names, dev.Disk)
	}
	var errs []error
	for _, n := range names {
		f, err := d.openSame(dev, n, os.O_RDONLY)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := f.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("fsync %s: %w", n, err))
		}
		if err := unix.IoctlSetInt(int(f.Fd()), unix.BLKFLSBUF, 0); err != nil {
			errs = append(errs, fmt.Errorf("BLKFLSBUF %s: %w", n, err))
		}
		if err := f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}

// openSame opens the named block device (dev's volume or its whole disk)
// after checking that it still belongs to the disk WaitAppear identified:
// same disk sequence number, and for the volume the same numbers.
func (d *Driver) openSame(dev Device, name string, flag int) (*os.File, error) {
	dir := filepath.Join(d.opt.SysRoot, "class", "block", name)
	major, minor, err := readDevNum(filepath.Join(dir, "dev"))
	if err != nil {
		return nil, msg.Errorf("デバイス %s が見つかりません: %w", "device %s is gone: %w", name, err)
	}
	if name == dev.Name && (major != dev.Major || minor != dev.Minor) {
		return nil, &ChangedError{Medium: d.spec.Name, Device: name, Why: msg.Sprintf("現在は %d:%d", "now %d:%d", major, minor)}
	}
	seqFile := filepath.Join(dir, "diskseq")
	if name != dev.Disk {
		seqFile = filepath.Join(filepath.Dir(mustEval(dir)), "diskseq")
	}
	if seq, err := readUint(seqFile); err == nil && dev.DiskSeq != 0 && seq != dev.DiskSeq {
		return nil, &ChangedError{Medium: d.spec.Name, Device: name, Why: msg.Sprintf("diskseq が %d から %d に変わりました", "diskseq now %[2]d, was %[1]d", dev.DiskSeq, seq)}
	}
	f, _, err := d.openNode(name, major, minor, flag)
	return f, err
}

func mustEval(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// diskOf names the whole disk of a block device number, "" if unknown.
func (d *Driver) diskOf(major, minor uint32) string {
	p, err := filepath.EvalSymlinks(filepath.Join(d.opt.SysRoot, "dev", "block", fmt.Sprintf("%d:%d", major, minor)))
	if err != nil {
		return ""
	}
	if exists(filepath.Join(p, "partition")) {
		return filepath.Base(filepath.Dir(p))
	}
	return filepath.Base(p)
}

// Recover unmounts the medium's mount directory if a previous run left it
// mounted (danzend killed or crashed while the medium was in use), after
// flushing it, so the fail-safe cut at start never drops power under a
// live filesystem. It reports whether there was such a mount.
func (d *Driver) Recover(ctx context.Context) (bool, error) {
	dir := d.spec.Dir()
	ms, err := d.mounts()
	if err != nil {
		return false, err
	}
	found := false
	for _, m := range ms {
		if m.dir == dir {
			found = true
		}
	}
	if !found {
		return false, nil
	}
	d.emit(Event{Kind: EventDetachStep, Step: StepSyncFS, Message: msg.Sprintf("前回の実行が残したマウント %s を片付けます", "%s was left mounted by an interrupted run: flushing and unmounting it", dir)})
	if err := syncfs(dir); err != nil {
		return true, err
	}
	if err := d.unmount(dir); err != nil {
		return true, err
	}
	d.emit(Event{Kind: EventUnmounted, Message: msg.Sprintf("%s のマウントを外しました", "unmounted %s", dir)})
	return true, nil
}
