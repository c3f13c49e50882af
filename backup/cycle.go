package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/danzen-gw/danzen/backup/restic"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/relay"
)

// Switch powers one medium; *relay.Relay satisfies it.
type Switch interface {
	Name() string
	On(ctx context.Context) (relay.Result, error)
	Off(ctx context.Context) (relay.Result, error)
}

// Drive is a medium's device side, from power-on to power-off.
type Drive interface {
	// BeforePowerOn notes what is attached before the relay closes, so a
	// device that was already there is never taken for the medium.
	BeforePowerOn() error
	// Attach waits for the device after power-on, checks that it is the
	// expected medium, mounts it and returns the restic repository location.
	Attach(ctx context.Context) (repo string, err error)
	// Detach makes the medium safe to cut: flush, unmount, spin down.
	Detach(ctx context.Context) error
	// WaitGone returns nil once the device has disappeared after power-off.
	WaitGone(ctx context.Context) error
}

// A Drive may also implement Explain(error) error to turn a failure seen
// while its medium was mounted into the medium's own words ("the disk is
// full" rather than restic's text).

// A Drive may also implement Flush(ctx) error, run after fn succeeded and
// before Detach: a medium whose repository is spooled on the gateway
// (tape) copies it to the medium there. And Ejected() bool, recorded in
// the cut's evidence (a tape or cartridge unloaded before the cut).

// A Drive may also implement Immutable() error: its medium is offline by
// immutability (an S3 bucket's Object Lock), and nil means that was proven
// in this session. Such a medium's cut is verified only with that proof.

// Target is one medium written in a cycle.
type Target struct {
	Name string
	// Switch is nil for a medium without a relay (an S3 bucket without an
	// uplink relay): nothing is powered or cut, and it is offline only if
	// its Drive proves immutability.
	Switch Switch
	Drive  Drive
	// Repo carries the password file, host, cache and temp dirs; Location
	// is filled from Drive.Attach.
	Repo restic.Repo
}

// Recorder appends evidence; *ledger.Ledger satisfies it. Room says
// whether the evidence of a whole power session can still be stored.
type Recorder interface {
	Append(ctx context.Context, e ledger.Entry) (ledger.Entry, error)
	Room() error
}

// Cycle is one nightly run: pull every source, then write each target.
type Cycle struct {
	Config    *config.Config
	Targets   []Target
	Ledger    Recorder
	Retention restic.Policy
	// CheckSubset is restic check's --read-data-subset ("" = structure only).
	CheckSubset string
	Events      func(CycleEvent) // may be nil
	Logger      *slog.Logger     // may be nil
}

// CycleEvent is progress of a cycle for the CLI and the page.
type CycleEvent struct {
	Time   time.Time
	Phase  string // "pull", "power-on", "attach", "backup", "forget", "check", "prune", "detach", "power-off", "done"
	Medium string
	Pull   *Event        // set during the pull
	Restic *restic.Event // set during restic operations
	Text   string
}

// CycleReport is what a cycle did.
type CycleReport struct {
	ID       string
	Started  time.Time
	Finished time.Time
	Pulls    []*Manifest
	PullErr  error
	Media    []MediumReport
	// Anomalies are the sources flagged by this cycle's pulls (anomaly.go).
	Anomalies []Anomaly
}

// OK reports whether everything succeeded and every cut was verified.
func (r *CycleReport) OK() bool {
	if r.PullErr != nil {
		return false
	}
	for _, m := range r.Media {
		if m.Err != nil || !m.CutVerified {
			return false
		}
	}
	return true
}

// MediumReport is one target's part of a cycle.
type MediumReport struct {
	Name        string
	Snapshots   []SnapshotInfo
	Forgotten   int
	Checked     bool
	PoweredFor  time.Duration
	CutVerified bool   // offline verified: the cut, and the immutability of a medium that has it
	CutReason   string // why the cut is not verified
	Simulated   bool
	Err         error
}

// SnapshotInfo is one snapshot written.
type SnapshotInfo struct {
	Source     string
	ID         string
	DataAdded  int64
	TotalBytes int64
	Files      int
}

// NewCycleID returns a sortable, unique cycle ID used as a restic tag.
func NewCycleID(now time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Run pulls every source and then writes each target in turn. A medium is
// powered only between its power-on and its verified cut; whatever fails
// in between, the cut is still made and verified.
func (c *Cycle) Run(ctx context.Context) (*CycleReport, error) {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &CycleReport{ID: NewCycleID(time.Now()), Started: time.Now()}
	c.record(ctx, ledger.Entry{Kind: ledger.KindCycleStart, Message: "cycle " + r.ID, Data: mustJSON(map[string]any{"cycle": r.ID})})

	for _, src := range c.Config.Sources {
		prev, _ := LoadManifest(c.Config.StagingDir, src.Name) // unreadable: judged as a first pull
		m, err := Pull(ctx, src, PullOptions{
			Staging: c.Config.StagingDir, KeyFile: c.Config.KeyPath(src.KeyFile), BandwidthLimit: c.Config.BandwidthLimit, Logger: log,
			Events: func(ev Event) { c.emit(CycleEvent{Phase: "pull", Pull: &ev}) },
		})
		if m != nil {
			r.Pulls = append(r.Pulls, m)
			c.assess(ctx, r, prev, m)
		}
		if err != nil {
			r.PullErr = errors.Join(r.PullErr, err)
			c.record(ctx, ledger.Entry{Kind: ledger.KindError, Message: err.Error(), Data: mustJSON(map[string]any{"phase": "pull", "source": src.Name})})
			var inc *IncompleteError
			if !errors.As(err, &inc) {
				// Nothing new is staged: writing the media now would only
				// repeat the last snapshot, so no medium is powered.
				r.Finished = time.Now()
				c.endRecord(ctx, r)
				return r, err
			}
		}
	}
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	for _, t := range c.Targets {
		mr := c.writeTarget(ctx, t, r.ID)
		r.Media = append(r.Media, mr)
		if mr.Err != nil {
			log.Error("medium failed", "medium", t.Name, "err", mr.Err)
		}
	}
	r.Finished = time.Now()
	c.endRecord(ctx, r)
	var errs []error
	if r.PullErr != nil {
		errs = append(errs, r.PullErr)
	}
	for _, m := range r.Media {
		if m.Err != nil {
			errs = append(errs, fmt.Errorf("媒体 / medium %s: %w", m.Name, m.Err))
		}
	}
	return r, errors.Join(errs...)
}

func (c *Cycle) endRecord(ctx context.Context, r *CycleReport) {
	kind := ledger.KindCycleEnd
	msg := "cycle " + r.ID + ": ok"
	if !r.OK() {
		msg = "cycle " + r.ID + ": FAILED"
	}
	c.record(context.WithoutCancel(ctx), ledger.Entry{Kind: kind, Message: msg, Data: mustJSON(map[string]any{"cycle": r.ID, "ok": r.OK()})})
}

// Session powers a medium on, attaches it, runs fn with its repository,
// detaches it and cuts and verifies the power, recording every step. The
// cut happens whatever fn or the attach did, also when ctx is cancelled.
// Backups, medium setup and restores all go through it.
func (c *Cycle) Session(ctx context.Context, t Target, fn func(ctx context.Context, repo restic.Repo) error) (mr MediumReport) {
	mr.Name = t.Name
	// A medium powered without its power-on and cut on record could be
	// shown as offline while it is not: no room, no power.
	if err := c.Ledger.Room(); err != nil {
		mr.Err = err
		c.recordErr(ctx, t.Name, "before-power-on", err)
		return mr
	}
	if err := t.Drive.BeforePowerOn(); err != nil {
		mr.Err = err
		c.recordErr(ctx, t.Name, "before-power-on", err)
		return mr
	}
	onAt := time.Now()
	c.emit(CycleEvent{Phase: "power-on", Medium: t.Name})
	// Without a relay the medium counts as connected from here to the
	// end of the session all the same.
	res, err := relay.Result{Reason: "リレーなし: 接続のみ / no relay: connection only"}, error(nil)
	relayName := ""
	if t.Switch != nil {
		res, err = t.Switch.On(ctx)
		relayName = t.Switch.Name()
	}
	mr.Simulated = res.Simulated
	c.record(ctx, ledger.Entry{Kind: ledger.KindPowerOn, Medium: t.Name, Message: res.Reason,
		Data: mustJSON(map[string]any{"relay": relayName, "verified": res.Verified, "simulated": res.Simulated, "sense": res.Sense})})
	// From here on the medium may be powered: whatever happens, cut it.
	defer func() {
		c.cut(context.WithoutCancel(ctx), t, &mr)
		mr.PoweredFor = time.Since(onAt)
	}()
	if err != nil {
		mr.Err = fmt.Errorf("通電できません / power-on failed: %w", err)
		return mr
	}

	c.emit(CycleEvent{Phase: "attach", Medium: t.Name})
	location, err := t.Drive.Attach(ctx)
	if err != nil {
		mr.Err = err
		c.recordErr(ctx, t.Name, "attach", err)
		return mr
	}
	c.record(ctx, ledger.Entry{Kind: ledger.KindMount, Medium: t.Name, Data: mustJSON(map[string]any{"repository": location})})

	rp := t.Repo
	rp.Location = location
	rp.OnEvent = func(ev restic.Event) { c.emit(CycleEvent{Phase: ev.Op, Medium: t.Name, Restic: &ev}) }
	mr.Err = fn(ctx, rp)
	if ex, ok := t.Drive.(interface{ Explain(error) error }); ok && mr.Err != nil {
		mr.Err = ex.Explain(mr.Err)
	}
	if fl, ok := t.Drive.(interface{ Flush(context.Context) error }); ok && mr.Err == nil {
		c.emit(CycleEvent{Phase: "flush", Medium: t.Name})
		if err := fl.Flush(ctx); err != nil {
			mr.Err = err
			c.recordErr(ctx, t.Name, "flush", err)
		}
	}

	c.emit(CycleEvent{Phase: "detach", Medium: t.Name})
	// Detach even when cancelled: a medium is never cut while dirty
	// buffers could still reach it.
	if err := t.Drive.Detach(context.WithoutCancel(ctx)); err != nil {
		mr.Err = errors.Join(mr.Err, err)
		c.recordErr(ctx, t.Name, "detach", err)
		return mr
	}
	c.record(ctx, ledger.Entry{Kind: ledger.KindUnmount, Medium: t.Name})
	return mr
}

// KindPruneUnreferenced records the removal of data no snapshot uses.
const KindPruneUnreferenced = "prune.unreferenced"

// writeTarget writes every source's staging to one medium.
func (c *Cycle) writeTarget(ctx context.Context, t Target, cycleID string) MediumReport {
	var snaps []SnapshotInfo
	var forgotten int
	var checked bool
	mr := c.Session(ctx, t, func(ctx context.Context, rp restic.Repo) error {
		if err := rp.Unlock(ctx); err != nil {
			c.recordErr(ctx, t.Name, "unlock", err)
			return err
		}
		var errs error
		for _, src := range c.Config.Sources {
			c.emit(CycleEvent{Phase: "backup", Medium: t.Name, Text: src.Name})
			dir := SourceDir(c.Config.StagingDir, src.Name)
			if _, err := os.Stat(filepath.Join(dir, ManifestName)); err != nil {
				errs = errors.Join(errs, fmt.Errorf("取得元 %s はまだ一度も取得できていません / source %s has never been pulled: %w", src.Name, src.Name, err))
				continue
			}
			res, err := rp.Backup(ctx, dir, []string{"cycle=" + cycleID, "source=" + src.Name})
			if err != nil {
				errs = errors.Join(errs, err)
				c.recordErr(ctx, t.Name, "backup", err)
				continue
			}
			s := res.Summary
			si := SnapshotInfo{Source: src.Name, ID: res.SnapshotID, DataAdded: int64(s.DataAddedPacked),
				TotalBytes: int64(s.TotalBytesProcessed), Files: int(s.FilesNew + s.FilesChanged + s.FilesUnmodified)}
			snaps = append(snaps, si)
			c.record(ctx, ledger.Entry{Kind: ledger.KindSnapshot, Medium: t.Name, Message: "snapshot " + si.ID + " of " + src.Name,
				Data: mustJSON(map[string]any{"cycle": cycleID, "source": src.Name, "snapshot": si.ID, "data_added": si.DataAdded,
					"total_bytes": si.TotalBytes, "files": si.Files})})
		}
		// Generations are pruned only after a fully good night with no
		// open anomaly, so a failing or encrypted export can never push
		// good generations out.
		if errs == nil && !c.prunePaused(ctx, t.Name) {
			c.emit(CycleEvent{Phase: "forget", Medium: t.Name})
			fr, err := rp.Forget(ctx, c.Retention)
			if err != nil {
				c.recordErr(ctx, t.Name, "forget", err)
				errs = err
			} else {
				forgotten = len(fr.Removed())
				var ids []string
				for _, s := range fr.Removed() {
					ids = append(ids, s.ID)
				}
				c.record(ctx, ledger.Entry{Kind: ledger.KindForget, Medium: t.Name, Message: fmt.Sprintf("%d snapshots forgotten", forgotten),
					Data: mustJSON(ledger.ForgetData{Removed: ids, Kept: len(fr.Kept())})})
			}
		}
		c.emit(CycleEvent{Phase: "check", Medium: t.Name})
		cr, err := rp.Check(ctx, restic.CheckOptions{ReadDataSubset: c.CheckSubset})
		c.record(ctx, ledger.Entry{Kind: ledger.KindCheck, Medium: t.Name, Message: errText(err),
			Data: mustJSON(ledger.CheckData{OK: err == nil, Detail: checkDetail(c.CheckSubset)})})
		checked = err == nil
		// Packs no snapshot uses (a backup that failed part-way) would
		// fill the medium night after night: remove them. Only
		// unreferenced data goes, so this is safe while pruning of
		// generations is paused; a failure is recorded, not fatal.
		if err == nil && cr.Summary.HintPrune {
			c.emit(CycleEvent{Phase: "prune", Medium: t.Name})
			if perr := rp.Prune(ctx); perr != nil {
				c.recordErr(ctx, t.Name, "prune", perr)
			} else {
				c.record(ctx, ledger.Entry{Kind: KindPruneUnreferenced, Medium: t.Name,
					Message: "参照されないデータを削除 / removed data no snapshot uses"})
			}
		}
		return errors.Join(errs, err)
	})
	mr.Snapshots, mr.Forgotten, mr.Checked = snaps, forgotten, checked
	return mr
}

// cut powers the medium off and proves it: the sense input reads off and
// the device is gone, and a medium with immutability proved it in this
// session. Anything less is recorded as NOT offline.
func (c *Cycle) cut(ctx context.Context, t Target, mr *MediumReport) {
	c.emit(CycleEvent{Phase: "power-off", Medium: t.Name})
	if t.Switch == nil {
		c.immutableOnly(ctx, t, mr)
		return
	}
	start := time.Now()
	res, err := t.Switch.Off(ctx)
	cd := CutRecord{CutData: ledger.CutData{Relay: t.Switch.Name(), SenseOff: res.Verified}, Simulated: res.Simulated}
	if ej, ok := t.Drive.(interface{ Ejected() bool }); ok {
		cd.Ejected = ej.Ejected()
	}
	var reasons []string
	imm, hasImm := t.Drive.(interface{ Immutable() error })
	if hasImm {
		if ierr := imm.Immutable(); ierr != nil {
			reasons = append(reasons, ierr.Error())
		} else {
			cd.Immutable = true
		}
	}
	if err != nil {
		reasons = append(reasons, err.Error())
	} else if !res.Verified {
		reasons = append(reasons, res.Reason)
	}
	if res.Simulated {
		// Nothing was powered, so nothing can vanish: say so, plainly.
		cd.Reason = joinReasons(reasons)
		mr.Simulated, mr.CutReason = true, cd.Reason
		c.record(ctx, ledger.Entry{Kind: ledger.KindPowerOffUnverified, Medium: t.Name,
			Message: "シミュレーション — オフラインではありません / simulated — not offline", Data: mustJSON(cd)})
		return
	}
	goneErr := t.Drive.WaitGone(ctx)
	cd.DeviceGone = goneErr == nil
	if goneErr != nil {
		reasons = append(reasons, goneErr.Error())
		c.record(ctx, ledger.Entry{Kind: ledger.KindError, Medium: t.Name, Message: goneErr.Error(), Data: mustJSON(map[string]any{"phase": "device-gone"})})
	} else {
		c.record(ctx, ledger.Entry{Kind: ledger.KindDeviceGone, Medium: t.Name})
	}
	cd.ElapsedMS = time.Since(start).Milliseconds()
	mr.Simulated = mr.Simulated || res.Simulated
	if cd.SenseOff && cd.DeviceGone && (!hasImm || cd.Immutable) {
		mr.CutVerified = true
		c.record(ctx, ledger.Entry{Kind: ledger.KindPowerOffVerified, Medium: t.Name, Message: "切断を確認 / cut verified", Data: mustJSON(cd)})
		return
	}
	cd.Reason = joinReasons(reasons)
	mr.CutReason = cd.Reason
	c.record(ctx, ledger.Entry{Kind: ledger.KindPowerOffUnverified, Medium: t.Name,
		Message: "切断を確認できません(オフラインではありません) / cut NOT verified: the medium is not offline", Data: mustJSON(cd)})
	if err != nil || goneErr != nil {
		mr.Err = errors.Join(mr.Err, fmt.Errorf("切断を確認できません / cut not verified: %s", cd.Reason))
	}
}

// immutableOnly ends the session of a medium without a relay: nothing is
// cut, so it is offline only if its drive proved immutability in this
// session.
func (c *Cycle) immutableOnly(ctx context.Context, t Target, mr *MediumReport) {
	var cd CutRecord
	ierr := errors.New("リレーも変更不可の設定もありません / neither a relay nor immutability")
	if imm, ok := t.Drive.(interface{ Immutable() error }); ok {
		ierr = imm.Immutable()
	}
	if ierr == nil {
		cd.Immutable, mr.CutVerified = true, true
		c.record(ctx, ledger.Entry{Kind: ledger.KindPowerOffVerified, Medium: t.Name,
			Message: "変更不可を確認(オブジェクトロック) / immutable, verified (Object Lock)", Data: mustJSON(cd)})
		return
	}
	cd.Reason, mr.CutReason = ierr.Error(), ierr.Error()
	c.record(ctx, ledger.Entry{Kind: ledger.KindPowerOffUnverified, Medium: t.Name,
		Message: "変更不可を確認できません(オフラインではありません) / immutability NOT verified: the medium is not offline", Data: mustJSON(cd)})
}

// CutRecord is the ledger data of a cut: the evidence, and whether the
// relay was only simulated (then the medium is never offline).
type CutRecord struct {
	ledger.CutData
	Simulated bool `json:"simulated,omitempty"`
}

func (c *Cycle) emit(ev CycleEvent) {
	if c.Events == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	c.Events(ev)
}

// record appends evidence. A ledger that cannot be written is logged
// loudly; it must not stop a running medium from being cut.
func (c *Cycle) record(ctx context.Context, e ledger.Entry) {
	if e.Actor == "" {
		e.Actor = ledger.ActorSystem
	}
	if _, err := c.Ledger.Append(context.WithoutCancel(ctx), e); err != nil && c.Logger != nil {
		c.Logger.Error("evidence ledger write failed", "kind", e.Kind, "err", err)
	}
}

func (c *Cycle) recordErr(ctx context.Context, medium, phase string, err error) {
	c.record(ctx, ledger.Entry{Kind: ledger.KindError, Medium: medium, Message: err.Error(), Data: mustJSON(map[string]any{"phase": phase})})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func checkDetail(subset string) string {
	if subset == "" {
		return "structure"
	}
	return "read-data-subset " + subset
}

func joinReasons(rs []string) string {
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += "; "
		}
		out += r
	}
	return out
}

func mustJSON(v any) []byte {
	b, err := ledger.MarshalData(v)
	if err != nil {
		panic(err) // only called with plain data types
	}
	return b
}
