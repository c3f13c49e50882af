package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/backup/restic"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/relay"
)

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
	Pull   *pull.Event   // set during the pull (and a send-back)
	Restic *restic.Event // set during restic operations
	Text   msg.Text
}

// CycleReport is what a cycle did.
type CycleReport struct {
	ID       string
	Started  time.Time
	Finished time.Time
	Pulls    []*pull.Manifest
	// PullRecords are what the ledger holds of each source's pull, also
	// of one that failed (pullrecord.go).
	PullRecords []ledger.PullData
	PullErr     error
	Media       []MediumReport
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
	CutVerified bool     // offline verified: the cut, and the immutability of a medium that has it
	CutReason   msg.Text // why the cut is not verified
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
	c.record(ctx, ledger.Entry{Kind: ledger.KindCycleStart, Message: msg.Sprintf("サイクル %s を開始", "cycle %s started", r.ID),
		Payload: ledger.CycleStartData{Cycle: r.ID}})

	if err := c.pullAll(ctx, r, log); err != nil {
		// Nothing new is staged: writing the media now would only repeat
		// the last snapshot, so no medium is powered.
		r.Finished = time.Now()
		c.endRecord(ctx, r)
		return r, err
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
			errs = append(errs, msg.Errorf("媒体 %s: %w", "medium %s: %w", m.Name, m.Err))
		}
	}
	return r, errors.Join(errs...)
}

// pullAll pulls every source into staging and records each pull. It
// returns the error of a pull that failed outright; files left out by a
// pull that ran to its end are in r.PullErr.
func (c *Cycle) pullAll(ctx context.Context, r *CycleReport, log *slog.Logger) error {
	for _, src := range c.Config.Sources {
		prev, _ := pull.LoadManifest(c.Config.StagingDir, src.Name) // unreadable: judged as a first pull
		m, err := pull.Run(ctx, src, pull.Options{
			Staging: c.Config.StagingDir, KeyFile: c.Config.KeyPath(src.KeyFile), BandwidthLimit: c.Config.BandwidthLimit, Logger: log,
			Events: func(ev pull.Event) { c.emit(CycleEvent{Phase: "pull", Pull: &ev}) },
		})
		rec := PullRecord(r.ID, src.Name, m, err)
		r.PullRecords = append(r.PullRecords, rec)
		c.record(ctx, ledger.Entry{Kind: ledger.KindPull, Message: PullSummary(rec), Payload: rec})
		if m != nil {
			r.Pulls = append(r.Pulls, m)
			c.assess(ctx, r, prev, m)
		}
		if err != nil {
			r.PullErr = errors.Join(r.PullErr, err)
			c.record(ctx, ledger.Entry{Kind: ledger.KindError, Message: msg.TextOf(err), Payload: ledger.ErrorData{Phase: "pull", Source: src.Name}})
			if !rec.OK {
				return err
			}
		}
	}
	return nil
}

func (c *Cycle) endRecord(ctx context.Context, r *CycleReport) {
	text := msg.Sprintf("サイクル %s: 正常終了", "cycle %s: ok", r.ID)
	if !r.OK() {
		text = msg.Sprintf("サイクル %s: 失敗", "cycle %s: FAILED", r.ID)
	}
	c.record(context.WithoutCancel(ctx), ledger.Entry{Kind: ledger.KindCycleEnd, Message: text, Payload: ledger.CycleEndData{Cycle: r.ID, OK: r.OK()}})
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
		c.recordErr(ctx, t.Name, "ledger-room", err)
		return mr
	}
	if t.BeforeSession != nil {
		if err := t.BeforeSession(ctx); err != nil {
			// The medium may still be powered from before: not offline.
			mr.Err, mr.CutReason = err, msg.TextOf(err)
			c.recordErr(ctx, t.Name, "cut-before-power-on", err)
			return mr
		}
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
	res, err := relay.Result{Reason: msg.T("リレーなし: 接続のみ", "no relay: connection only")}, error(nil)
	relayName := ""
	if t.Switch != nil {
		res, err = t.Switch.On(ctx)
		relayName = t.Switch.Name()
	}
	mr.Simulated = res.Simulated
	c.record(ctx, ledger.Entry{Kind: ledger.KindPowerOn, Medium: t.Name, Message: res.Reason,
		Payload: ledger.PowerOnData{Relay: relayName, Verified: res.Verified, Simulated: res.Simulated, Sense: string(res.Sense)}})
	// From here on the medium may be powered: whatever happens, cut it.
	defer func() {
		c.cut(context.WithoutCancel(ctx), t, &mr)
		mr.PoweredFor = time.Since(onAt)
	}()
	if err != nil {
		mr.Err = msg.Errorf("通電できません: %w", "power-on failed: %w", err)
		c.recordErr(ctx, t.Name, "power-on", mr.Err)
		return mr
	}

	c.emit(CycleEvent{Phase: "attach", Medium: t.Name})
	location, err := t.Drive.Attach(ctx)
	if err != nil {
		mr.Err = err
		c.recordErr(ctx, t.Name, "attach", err)
		return mr
	}
	c.record(ctx, ledger.Entry{Kind: ledger.KindMount, Medium: t.Name, Payload: ledger.MountData{Repository: location}})

	rp := t.Repo
	rp.Location = location
	rp.OnEvent = func(ev restic.Event) { c.emit(CycleEvent{Phase: ev.Op, Medium: t.Name, Restic: &ev}) }
	mr.Err = fn(ctx, rp)
	if ex, ok := t.Drive.(Explainer); ok && mr.Err != nil {
		mr.Err = ex.Explain(mr.Err)
	}
	if fl, ok := t.Drive.(Flusher); ok && mr.Err == nil {
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
			c.emit(CycleEvent{Phase: "backup", Medium: t.Name, Text: msg.Plain(src.Name)})
			dir := pull.SourceDir(c.Config.StagingDir, src.Name)
			if _, err := os.Stat(filepath.Join(dir, pull.ManifestName)); err != nil {
				err = msg.Errorf("取得元 %s はまだ一度も取得できていません: %w", "source %s has never been pulled: %w", src.Name, err)
				errs = errors.Join(errs, err)
				c.record(ctx, ledger.Entry{Kind: ledger.KindError, Medium: t.Name, Message: msg.TextOf(err), Payload: ledger.ErrorData{Phase: "pull", Source: src.Name}})
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
			c.record(ctx, ledger.Entry{Kind: ledger.KindSnapshot, Medium: t.Name,
				Message: msg.Sprintf("取得元 %[2]s のスナップショット %[1]s", "snapshot %s of %s", si.ID, src.Name),
				Payload: ledger.SnapshotData{Cycle: cycleID, Source: src.Name, Snapshot: si.ID, DataAdded: si.DataAdded,
					TotalBytes: si.TotalBytes, Files: si.Files}})
			// Without the list a restore is only checked after powering.
			if err := KeepFileList(c.Config.StagingDir, src.Name, cycleID); err != nil && c.Logger != nil {
				c.Logger.Warn("file list of the snapshot not kept", "source", src.Name, "err", err)
			}
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
				c.record(ctx, ledger.Entry{Kind: ledger.KindForget, Medium: t.Name,
					Message: msg.Sprintf("古い世代 %d 件を整理", "%d snapshots forgotten", forgotten),
					Payload: ledger.ForgetData{Removed: ids, Kept: len(fr.Kept())}})
			}
		}
		c.emit(CycleEvent{Phase: "check", Medium: t.Name})
		cr, err := rp.Check(ctx, restic.CheckOptions{ReadDataSubset: c.CheckSubset})
		c.record(ctx, ledger.Entry{Kind: ledger.KindCheck, Medium: t.Name, Message: msg.TextOf(err),
			Payload: ledger.CheckData{OK: err == nil, Detail: checkDetail(c.CheckSubset)}})
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
				c.record(ctx, ledger.Entry{Kind: ledger.KindPruneUnreferenced, Medium: t.Name,
					Message: msg.T("参照されないデータを削除", "removed data no snapshot uses")})
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
	cd := ledger.CutData{Relay: t.Switch.Name(), SenseOff: res.Verified, Simulated: res.Simulated}
	if ej, ok := t.Drive.(Ejecter); ok {
		cd.Ejected = ej.Ejected()
	}
	var reasons []msg.Text
	imm, hasImm := t.Drive.(ImmutabilityProver)
	if hasImm {
		if ierr := imm.Immutable(); ierr != nil {
			reasons = append(reasons, msg.TextOf(ierr))
		} else {
			cd.Immutable = true
		}
	}
	if err != nil {
		reasons = append(reasons, msg.TextOf(err))
	} else if !res.Verified {
		reasons = append(reasons, res.Reason)
	}
	if res.Simulated {
		// Nothing was powered, so nothing can vanish: say so, plainly.
		cd.Reason = joinReasons(reasons)
		mr.Simulated, mr.CutReason = true, cd.Reason
		c.record(ctx, ledger.Entry{Kind: ledger.KindPowerOffUnverified, Medium: t.Name,
			Message: msg.T("シミュレーション — オフラインではありません", "simulated — not offline"), Payload: cd})
		return
	}
	goneErr := t.Drive.WaitGone(ctx)
	cd.DeviceGone = goneErr == nil
	if goneErr != nil {
		reasons = append(reasons, msg.TextOf(goneErr))
		c.record(ctx, ledger.Entry{Kind: ledger.KindError, Medium: t.Name, Message: msg.TextOf(goneErr), Payload: ledger.ErrorData{Phase: "device-gone"}})
	} else {
		c.record(ctx, ledger.Entry{Kind: ledger.KindDeviceGone, Medium: t.Name})
	}
	cd.ElapsedMS = time.Since(start).Milliseconds()
	mr.Simulated = mr.Simulated || res.Simulated
	if cd.SenseOff && cd.DeviceGone && (!hasImm || cd.Immutable) {
		mr.CutVerified = true
		c.record(ctx, ledger.Entry{Kind: ledger.KindPowerOffVerified, Medium: t.Name, Message: msg.T("切断を確認", "cut verified"), Payload: cd})
		return
	}
	cd.Reason = joinReasons(reasons)
	mr.CutReason = cd.Reason
	c.record(ctx, ledger.Entry{Kind: ledger.KindPowerOffUnverified, Medium: t.Name,
		Message: msg.T("切断を確認できません(オフラインではありません)", "cut NOT verified: the medium is not offline"), Payload: cd})
	if err != nil || goneErr != nil {
		mr.Err = errors.Join(mr.Err, msg.Errorf("切断を確認できません: %s", "cut not verified: %s", cd.Reason))
	}
}

// immutableOnly ends the session of a medium without a relay: nothing is
// cut, so it is offline only if its drive proved immutability in this
// session.
func (c *Cycle) immutableOnly(ctx context.Context, t Target, mr *MediumReport) {
	var cd ledger.CutData
	ierr := msg.New("リレーも変更不可の設定もありません", "neither a relay nor immutability")
	if imm, ok := t.Drive.(ImmutabilityProver); ok {
		ierr = imm.Immutable()
	}
	if ierr == nil {
		cd.Immutable, mr.CutVerified = true, true
		c.record(ctx, ledger.Entry{Kind: ledger.KindPowerOffVerified, Medium: t.Name,
			Message: msg.T("変更不可を確認(オブジェクトロック)", "immutable, verified (Object Lock)"), Payload: cd})
		return
	}
	cd.Reason, mr.CutReason = msg.TextOf(ierr), msg.TextOf(ierr)
	c.record(ctx, ledger.Entry{Kind: ledger.KindPowerOffUnverified, Medium: t.Name,
		Message: msg.T("変更不可を確認できません(オフラインではありません)", "immutability NOT verified: the medium is not offline"), Payload: cd})
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
	c.record(ctx, ledger.Entry{Kind: ledger.KindError, Medium: medium, Message: msg.TextOf(err), Payload: ledger.ErrorData{Phase: phase}})
}

func checkDetail(subset string) string {
	if subset == "" {
		return "structure"
	}
	return "read-data-subset " + subset
}

func joinReasons(rs []msg.Text) msg.Text {
	var out msg.Text
	for _, r := range rs {
		out = out.Append("; ", r)
	}
	return out
}
