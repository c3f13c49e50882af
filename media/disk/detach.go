package disk

import (
	"context"
	"errors"
	"fmt"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
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
	Detail  string        `json:"detail,omitempty"` // reason or error text
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
	dev := m.Device
	r := DetachReport{Medium: d.spec.Name, Device: dev.Name, Dir: m.Dir}
	run := func(name string, f func() (StepStatus, string, error)) bool {
		start := time.Now()
		st, detail, err := f()
		if err != nil {
			st, detail = StepFailed, err.Error()
		}
		res := StepResult{Step: name, Status: st, Detail: detail, Elapsed: time.Since(start), Err: err}
		r.Steps = append(r.Steps, res)
		text := msg.Legacy(detail)
		if err != nil {
			text = msg.TextOf(err)
		}
		if text.IsZero() {
			text = msg.Plain(name + ": " + string(st))
		}
		d.emit(Event{Kind: EventDetachStep, Device: dev.Name, Step: name, Status: st, Message: text})
		return st != StepFailed
	}
	skipRest := func(names ...string) {
		for _, n := range names {
			r.Steps = append(r.Steps, StepResult{Step: n, Status: StepSkipped, Detail: "前の手順が失敗したため実行しません / not run: an earlier step failed"})
			d.emit(Event{Kind: EventDetachStep, Device: dev.Name, Step: n, Status: StepSkipped, Message: msg.Plain(n + ": skipped")})
		}
	}

	mountedHere, mountedElsewhere, err := d.mountState(m)
	if err != nil {
		run(StepSyncFS, func() (StepStatus, string, error) { return "", "", err })
		r.StillMounted = true
		skipRest(StepUnmount, StepFlush, StepSyncCache, StepStop, StepDelete)
		return r, &DetachError{Report: r}
	}
	if mountedHere {
		run(StepSyncFS, func() (StepStatus, string, error) { return StepDone, "", syncfs(m.Dir) })
		var uerr error
		run(StepUnmount, func() (StepStatus, string, error) {
			uerr = d.unmount(m.Dir)
			return StepDone, "", uerr
		})
		if uerr != nil {
			here, elsewhere, err := d.mountState(m)
			r.StillMounted = err != nil || here || len(elsewhere) > 0
			skipRest(StepFlush, StepSyncCache, StepStop, StepDelete)
			return r, uerr
		}
		d.emit(Event{Kind: EventUnmounted, Device: dev.Name, Message: msg.Sprintf("%s のマウントを外しました", "unmounted %s", m.Dir)})
		_, mountedElsewhere, _ = d.mountState(m)
	} else {
		na := "マウントされていません / not mounted"
		run(StepSyncFS, func() (StepStatus, string, error) { return StepNotApplicable, na, nil })
		run(StepUnmount, func() (StepStatus, string, error) { return StepNotApplicable, na, nil })
	}
	if len(mountedElsewhere) > 0 {
		// Stopping a disk under a live filesystem would lose data.
		err := fmt.Errorf("媒体 %s のファイルシステムが別の場所にもマウントされています(%s)。停止しません / medium %s's filesystem is also mounted at %s; not stopping it",
			d.spec.Name, strings.Join(mountedElsewhere, ", "), d.spec.Name, strings.Join(mountedElsewhere, ", "))
		run(StepFlush, func() (StepStatus, string, error) { return "", "", err })
		r.StillMounted = true
		skipRest(StepSyncCache, StepStop, StepDelete)
		return r, &DetachError{Report: r}
	}

	run(StepFlush, func() (StepStatus, string, error) { return StepDone, "", d.flush(dev) })

	scsi := dev.Kind == "scsi"
	naSCSI := fmt.Sprintf("SCSI デバイスではありません(%s)/ not a SCSI device (%s)", dev.Kind, dev.Kind)
	var disk *os.File
	if scsi {
		disk, err = d.openSame(dev, dev.Disk, os.O_RDWR|unix.O_NONBLOCK)
	}
	openErr := err
	if disk != nil {
		defer disk.Close()
	}
	run(StepSyncCache, func() (StepStatus, string, error) {
		if !scsi {
			return StepNotApplicable, naSCSI, nil
		}
		if disk == nil {
			return "", "", openErr
		}
		err := syncCache(int(disk.Fd()))
		var se *SCSIError
		if errors.As(err, &se) && se.unsupported() {
			return StepNotApplicable, "装置が SYNCHRONIZE CACHE に対応していません / the device does not implement SYNCHRONIZE CACHE: " + err.Error(), nil
		}
		return StepDone, "", err
	})
	run(StepStop, func() (StepStatus, string, error) {
		if !scsi {
			return StepNotApplicable, naSCSI, nil
		}
		if disk == nil {
			return "", "", openErr
		}
		detail := "停止 / stopped"
		if d.spec.RDX {
			detail = "停止・排出 / stopped and ejected"
		}
		return StepDone, detail, stopUnit(int(disk.Fd()), d.spec.RDX)
	})
	if disk != nil {
		disk.Close()
	}
	run(StepDelete, func() (StepStatus, string, error) {
		if !scsi {
			return StepNotApplicable, naSCSI, nil
		}
		p := filepath.Join(d.opt.SysRoot, "class", "block", dev.Disk, "device", "delete")
		if err := os.WriteFile(p, []byte("1"), 0); err != nil {
			return "", "", fmt.Errorf("SCSI デバイスを削除できません / cannot delete the SCSI device (%s): %w", p, err)
		}
		return StepDone, "", nil
	})
	for _, s := range r.Steps {
		if s.Status == StepFailed {
			return r, &DetachError{Report: r}
		}
	}
	return r, nil
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
			return false, nil, fmt.Errorf("%s には別のファイルシステム(%s)がマウントされています。触れません / %s holds another filesystem (%s); not touching it",
				m.Dir, e.source, m.Dir, e.source)
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
		f.Close()
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
		return nil, fmt.Errorf("デバイス %s が見つかりません / device %s is gone: %w", name, name, err)
	}
	if name == dev.Name && (major != dev.Major || minor != dev.Minor) {
		return nil, &ChangedError{Medium: d.spec.Name, Device: name, Why: fmt.Sprintf("now %d:%d", major, minor)}
	}
	seqFile := filepath.Join(dir, "diskseq")
	if name != dev.Disk {
		seqFile = filepath.Join(filepath.Dir(mustEval(dir)), "diskseq")
	}
	if seq, err := readUint(seqFile); err == nil && dev.DiskSeq != 0 && seq != dev.DiskSeq {
		return nil, &ChangedError{Medium: d.spec.Name, Device: name, Why: fmt.Sprintf("diskseq now %d, was %d", seq, dev.DiskSeq)}
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
