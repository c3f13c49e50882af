package gateway

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/ledger"
)

// RestoreOptions is an operator's restore request.
type RestoreOptions struct {
	Medium string
	// Snapshot is a snapshot ID or "" / "latest" (the newest, of Source
	// if given).
	Snapshot string
	Source   string
	// Files restores only these export paths; none restores everything.
	Files []string
	// Target names a configured restore target to send the verified
	// files back to, into a new folder TargetDir below its base
	// directory. Empty: the files stay in the gateway's restore area.
	Target, TargetDir string
	// Deadline cuts the medium again at the latest then. Zero: now plus
	// the configured restore window.
	Deadline time.Time
	Actor    string
}

// RestoreArea is where restores are kept on the gateway, one directory per
// restore ID. It is outside sources/, so it is never backed up itself.
func (g *Gateway) RestoreArea() string {
	return filepath.Join(g.Config().StagingDir, "restore")
}

// Restore powers the medium on for the restore only, restores, verifies
// every file against the pull manifest, cuts the medium and verifies the
// cut; then, if asked, sends the files back to the e-chart side (with the
// medium already cut).
func (g *Gateway) Restore(ctx context.Context, o RestoreOptions, events func(backup.CycleEvent)) (*backup.RestoreReport, error) {
	g.job.Lock()
	defer g.job.Unlock()
	return g.restoreLocked(ctx, o, events)
}

// StartRestore runs Restore in the background (the page); it refuses at
// once when another job runs. Progress goes to Subscribe.
func (g *Gateway) StartRestore(ctx context.Context, o RestoreOptions) error {
	if err := g.checkRestore(ctx, o); err != nil {
		return err
	}
	if !g.job.TryLock() {
		return ErrBusy
	}
	go func() {
		defer g.job.Unlock()
		if _, err := g.restoreLocked(context.WithoutCancel(ctx), o, nil); err != nil {
			g.log.Error("restore", "err", err)
		}
	}()
	return nil
}

// checkRestore refuses a request that cannot work before any medium is
// powered.
func (g *Gateway) checkRestore(ctx context.Context, o RestoreOptions) error {
	cfg := g.Config()
	if _, err := cfg.Medium(o.Medium); err != nil {
		return err
	}
	if err := g.checkRestoreFiles(o); err != nil {
		return err
	}
	if !o.Deadline.IsZero() && !o.Deadline.After(time.Now().Add(time.Minute)) {
		return msg.Errorf("切断期限 %s は1分以上先にしてください", "the deadline %s must be at least a minute ahead",
			when.Of(cfg.TimeZone).Stamp(o.Deadline))
	}
	if o.Target != "" {
		tg, err := cfg.RestoreTarget(o.Target)
		if err != nil {
			return err
		}
		if o.TargetDir == "" {
			return msg.New("書き戻し先のフォルダ名を指定してください", "name the folder to send the files back into")
		}
		// The folder must be free before a medium is powered for it.
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		return backup.CheckSendBack(ctx, *tg, cfg.KeyPath(tg.KeyFile), o.TargetDir)
	}
	return nil
}

func (g *Gateway) restoreLocked(ctx context.Context, o RestoreOptions, events func(backup.CycleEvent)) (*backup.RestoreReport, error) {
	if err := g.checkRestore(ctx, o); err != nil {
		return nil, err
	}
	g.setBusy(true)
	defer g.setBusy(false)
	cfg := g.Config()
	if o.Deadline.IsZero() {
		o.Deadline = time.Now().Add(cfg.Restore.Window.Std())
	}
	t, err := g.target(o.Medium, use{restore: true})
	if err != nil {
		return nil, err
	}
	id := backup.NewCycleID(time.Now())
	dir := filepath.Join(g.RestoreArea(), id)
	dest := "gateway:" + dir
	if o.Target != "" {
		dest = "sftp:" + o.Target + ":" + o.TargetDir
	}
	c := g.cycle(events)
	rep, err := c.Restore(ctx, t, backup.RestoreRequest{ID: id, Snapshot: o.Snapshot, Source: o.Source, Files: o.Files,
		Dir: dir, Deadline: when.Of(cfg.TimeZone).Time(o.Deadline), Dest: dest, Actor: o.Actor})
	if !rep.Medium.CutVerified && !rep.Medium.Simulated {
		g.send(alert.MediumNotOff(cfg.GatewayID, o.Medium, time.Now(), rep.Medium.CutReason))
	}
	if err != nil || o.Target == "" {
		return rep, err
	}
	tg, err := cfg.RestoreTarget(o.Target)
	if err != nil {
		return rep, err
	}
	emit := func(ev pull.Event) { c.Events(backup.CycleEvent{Phase: "send-back", Pull: &ev}) }
	// On record before the first byte: a send-back killed part-way is
	// found at the next start (interrupted.go).
	g.record(ledger.Entry{Kind: ledger.KindSendBackStart, Medium: o.Medium, Actor: o.Actor,
		Message: msg.Sprintf("%s:%s へ書き戻し開始", "sending back to %s:%s", tg.Host, o.TargetDir),
		Payload: ledger.SendBackStartData{Restore: id, Target: o.Target, Host: tg.Host, Dir: o.TargetDir}})
	res, err := backup.SendBack(ctx, *tg, cfg.KeyPath(tg.KeyFile), dir, o.TargetDir, emit)
	data := ledger.SendBackData{Restore: id, Target: o.Target, Dir: res.Dir, Files: res.Files, Bytes: res.Bytes, Error: msg.TextOf(err)}
	text := msg.Sprintf("復元データを %s:%s へ書き戻しました", "restored files sent back to %s:%s", tg.Host, res.Dir)
	if err != nil {
		text = msg.TextOf(err)
	}
	g.record(ledger.Entry{Kind: ledger.KindSendBack, Medium: o.Medium, Actor: o.Actor, Message: text, Payload: data})
	if err != nil {
		return rep, err
	}
	// The copy on the gateway has done its job; patient data is not left
	// lying around.
	return rep, os.RemoveAll(dir)
}

// Drill runs a restore drill on medium ("" = the medium drilled longest
// ago): restore the newest snapshot into a scratch area, verify every file,
// check every pack, measure the times, cut, record, delete the scratch copy.
// A failed drill raises an alert like a failed backup.
func (g *Gateway) Drill(ctx context.Context, medium, actor string, events func(backup.CycleEvent)) (*backup.RestoreReport, error) {
	g.job.Lock()
	defer g.job.Unlock()
	return g.drillLocked(ctx, medium, actor, events)
}

// StartDrill runs Drill in the background (the page's "start drill").
func (g *Gateway) StartDrill(ctx context.Context, medium, actor string) error {
	if medium != "" {
		if _, err := g.Config().Medium(medium); err != nil {
			return err
		}
	}
	if !g.job.TryLock() {
		return ErrBusy
	}
	go func() {
		defer g.job.Unlock()
		if _, err := g.drillLocked(context.WithoutCancel(ctx), medium, actor, nil); err != nil {
			g.log.Error("drill", "err", err)
		}
	}()
	return nil
}

func (g *Gateway) drillLocked(ctx context.Context, medium, actor string, events func(backup.CycleEvent)) (*backup.RestoreReport, error) {
	g.setBusy(true)
	defer g.setBusy(false)
	cfg := g.Config()
	if medium == "" {
		var err error
		if medium, err = g.nextDrillMedium(); err != nil {
			return nil, err
		}
	}
	t, err := g.target(medium, use{restore: true})
	if err != nil {
		return nil, err
	}
	id := backup.NewCycleID(time.Now())
	c := g.cycle(events)
	rep, err := c.Restore(ctx, t, backup.RestoreRequest{ID: id, Snapshot: "latest", Dir: filepath.Join(g.RestoreArea(), "drill-"+id),
		Deadline: when.Of(cfg.TimeZone).Time(time.Now().Add(cfg.Restore.Window.Std())), Drill: true, Dest: "scratch", Actor: actor})
	now := time.Now()
	drillAlert := alert.DrillFailed(cfg.GatewayID, medium, now, rep.Error)
	if err != nil {
		g.send(drillAlert)
	} else {
		g.send(drillAlert.Resolve(now))
	}
	if !rep.Medium.CutVerified && !rep.Medium.Simulated {
		g.send(alert.MediumNotOff(cfg.GatewayID, medium, now, rep.Medium.CutReason))
	}
	return rep, err
}

// nextDrillMedium is the medium drilled longest ago (never drilled first).
func (g *Gateway) nextDrillMedium() (string, error) {
	drills, err := g.Drills()
	if err != nil {
		return "", err
	}
	last := map[string]time.Time{}
	for _, d := range drills {
		if d.Started.After(last[d.Medium]) {
			last[d.Medium] = d.Started
		}
	}
	var names []string
	for _, m := range g.Config().Media {
		names = append(names, m.Name)
	}
	names = g.homeMedia(names) // a medium kept off-site cannot be drilled (offsite.go)
	if len(names) == 0 {
		return "", msg.New("媒体が設定されていません", "no medium is configured")
	}
	return backup.Due(names, 1, last)[0], nil
}

// Drills returns every drill record in the ledger (the 訓練記録), oldest
// first.
func (g *Gateway) Drills() ([]ledger.RestoreData, error) {
	return g.restoreRecords(ledger.KindDrill)
}

// Restores returns every restore record in the ledger, oldest first.
func (g *Gateway) Restores() ([]ledger.RestoreData, error) {
	return g.restoreRecords(ledger.KindRestore)
}

func (g *Gateway) restoreRecords(kind ledger.Kind) ([]ledger.RestoreData, error) {
	entries, err := ledger.Read(g.Config().LedgerDir, ledger.Filter{Kinds: []ledger.Kind{kind}})
	if err != nil {
		return nil, err
	}
	out := make([]ledger.RestoreData, 0, len(entries))
	for _, e := range entries {
		d, err := ledger.Decode[ledger.RestoreData](e)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// SnapshotRecord is a snapshot the ledger says is on a medium.
type SnapshotRecord struct {
	Medium, ID, Source string
	Cycle              string // the cycle that wrote it
	Time               time.Time
	Bytes              int64
	Files              int
}

// Snapshots lists, from the ledger and without powering anything, the
// snapshots written to medium that retention has not removed, newest
// first. The restore itself checks the medium really holds the one chosen.
func (g *Gateway) Snapshots(medium string) ([]SnapshotRecord, error) {
	if _, err := g.Config().Medium(medium); err != nil {
		return nil, err
	}
	entries, err := ledger.Read(g.Config().LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindSnapshot, ledger.KindForget}})
	if err != nil {
		return nil, err
	}
	return liveSnapshots(entries, medium), nil
}

// liveSnapshots are the snapshots entries (snapshot and forget) say
// medium holds, newest first.
func liveSnapshots(entries []ledger.Entry, medium string) []SnapshotRecord {
	var out []SnapshotRecord
	for _, k := range ledger.KeptSnapshots(entries, medium) {
		d := k.Data
		out = append(out, SnapshotRecord{Medium: medium, ID: d.Snapshot, Source: d.Source, Cycle: d.Cycle, Time: k.Entry.Time, Bytes: d.TotalBytes, Files: d.Files})
	}
	slices.SortFunc(out, func(a, b SnapshotRecord) int { return b.Time.Compare(a.Time) })
	return out
}

// RestoredFile returns the path of a file of a kept restore in the
// restore area, refusing anything that would leave it.
func (g *Gateway) RestoredFile(id, rel string) (string, error) {
	if !validRestoreID(id) || rel == "" || strings.Contains(rel, "\\") || filepath.Clean("/"+rel) != "/"+rel {
		return "", msg.New("不正な指定です", "invalid restore or file name")
	}
	p := filepath.Join(g.RestoreArea(), id, "data", filepath.FromSlash(rel))
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return "", msg.Errorf("復元したファイル %s がありません", "restored file %s not found", rel)
	}
	return p, nil
}

// RemoveRestore deletes a kept restore from the restore area.
func (g *Gateway) RemoveRestore(ctx context.Context, id, actor string) error {
	if !validRestoreID(id) {
		return msg.New("不正な指定です", "invalid restore name")
	}
	if err := os.RemoveAll(filepath.Join(g.RestoreArea(), id)); err != nil {
		return err
	}
	return g.Record(ctx, ledger.Entry{Kind: ledger.KindRestoreRemoved, Actor: actor, Message: msg.Sprintf("復元データを削除: %s", "restored copy removed: %s", id)})
}

// validRestoreID accepts the IDs NewCycleID makes.
func validRestoreID(id string) bool {
	if len(id) < 10 || len(id) > 40 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'f' || c == '-') {
			return false
		}
	}
	return true
}

// KeptRestore is a restore whose files are still in the restore area.
type KeptRestore struct {
	ledger.RestoreData
	Files []pull.FileEntry // what it holds, from its manifest
}

// KeptRestores lists the restores whose verified files are in the restore
// area, newest first (for downloads and removal on the page).
func (g *Gateway) KeptRestores() ([]KeptRestore, error) {
	recs, err := g.Restores()
	if err != nil {
		return nil, err
	}
	var out []KeptRestore
	for i := len(recs) - 1; i >= 0; i-- {
		d := recs[i]
		if !d.OK || !validRestoreID(d.ID) || !strings.HasPrefix(d.Dest, "gateway:") {
			continue
		}
		files, err := backup.RestoredFiles(filepath.Join(g.RestoreArea(), d.ID))
		if errors.Is(err, os.ErrNotExist) {
			continue // removed
		}
		if err != nil {
			return nil, err
		}
		out = append(out, KeptRestore{RestoreData: d, Files: files})
	}
	return out, nil
}
