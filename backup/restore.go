package backup

import (
	"context"
	"errors"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/backup/restic"
	"github.com/danzen-gw/danzen/internal/filehash"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/ledger"
)

// RestoreRequest says what to restore from one medium, and where on the
// gateway.
type RestoreRequest struct {
	// ID names the restore in the ledger ("" = a new one).
	ID string
	// Snapshot is a restic snapshot ID (short or full) or "latest"; with
	// "latest", Source picks the newest snapshot of that source ("" the
	// newest of any source) made by this gateway.
	Snapshot string
	Source   string
	// Files limits the restore to these paths of the export
	// ("/"-separated, as in the manifest). None restores everything.
	Files []string
	// Dir is where the snapshot is restored: data/ and manifest.json. It
	// must not exist yet or be empty; a restore never overwrites.
	Dir string
	// Deadline is when the medium is cut again at the latest, finished or
	// not. Zero: no deadline beyond ctx. Its location is the zone it is
	// said in, should it pass.
	Deadline time.Time
	// Drill also reads every pack (restic check --read-data) and removes
	// Dir afterwards: a rehearsal, recorded as the 訓練記録.
	Drill bool
	// Dest describes where the files end up, for the record
	// ("gateway:<dir>", "sftp:<host>:<dir>", "download", "scratch").
	Dest  string
	Actor string
}

// RestoreReport is a restore's or drill's record, as it is in the ledger.
type RestoreReport struct {
	ledger.RestoreData
	Medium MediumReport
}

// Restore powers the target's medium on, restores a snapshot into
// req.Dir, checks every restored file's size and SHA-256 against the
// manifest recorded when it was pulled, and cuts the medium again (also
// when the restore fails, is cancelled or runs into the deadline). The
// outcome is recorded in the ledger (KindRestore, or KindDrill).
func (c *Cycle) Restore(ctx context.Context, t Target, req RestoreRequest) (*RestoreReport, error) {
	start := time.Now()
	if req.ID == "" {
		req.ID = NewCycleID(start)
	}
	rr := &RestoreReport{RestoreData: ledger.RestoreData{
		ID: req.ID, Drill: req.Drill, Medium: t.Name, Actor: req.Actor, Started: start, Dest: req.Dest,
	}}
	err := c.restore(ctx, t, req, rr)
	rr.TotalMS = time.Since(start).Milliseconds()
	rr.OK = err == nil
	rr.Error = msg.TextOf(err)
	kind := ledger.KindRestore
	what := msg.T("復元", "restore")
	if req.Drill {
		kind, what = ledger.KindDrill, msg.T("復元訓練", "restore drill")
		if req.Dir != "" {
			if rerr := os.RemoveAll(req.Dir); rerr != nil && c.Logger != nil {
				c.Logger.Error("drill scratch copy not removed", "dir", req.Dir, "err", rerr)
			}
		}
	}
	text := msg.Sprintf("%s %s: 正常終了", "%s %s: ok", what, rr.ID)
	if err != nil {
		text = msg.Sprintf("%s %s: 失敗: %s", "%s %s: FAILED: %s", what, rr.ID, err)
	}
	c.record(ctx, ledger.Entry{Kind: kind, Medium: t.Name, Actor: req.Actor, Message: text, Payload: rr.RestoreData})
	c.emit(CycleEvent{Phase: "done", Medium: t.Name, Text: text})
	return rr, err
}

func (c *Cycle) restore(ctx context.Context, t Target, req RestoreRequest, rr *RestoreReport) error {
	if err := emptyDir(req.Dir); err != nil {
		return err
	}
	include, err := includePaths(req.Files)
	if err != nil {
		return err
	}
	if !req.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, req.Deadline)
		defer cancel()
	}
	start := rr.Started
	var firstByte atomic.Int64
	mr := c.Session(ctx, t, func(ctx context.Context, rp restic.Repo) error {
		rr.PowerOnMS = time.Since(start).Milliseconds()
		// The restore starts at once (restic picks "latest" itself, with
		// the same host and source filters); listing the snapshots for the
		// record follows, so it does not delay the first byte.
		restoreErr := c.restoreSnapshot(ctx, t.Name, rp, req, include, rr, &firstByte)
		if ctx.Err() != nil {
			return restoreErr
		}
		snaps, err := rp.Snapshots(ctx)
		if err != nil {
			return errors.Join(restoreErr, err)
		}
		snap, err := pickSnapshot(snaps, req, rp.Host)
		if err != nil {
			return err // says why in the operator's words, not restic's
		}
		rr.Snapshot, rr.SnapTime, rr.Source = snap.ShortID, snap.Time, tagValue(snap.Tags, "source")
		if !req.Drill {
			return restoreErr
		}
		// The drill reads every pack afterwards, so the measured times are
		// those of a real emergency restore, and a damaged pack is named
		// with the snapshots it hurts even when the restore failed on it.
		c.emit(CycleEvent{Phase: "check", Medium: t.Name, Text: msg.Plain("restic check --read-data")})
		res, err := rp.Check(ctx, restic.CheckOptions{ReadData: true})
		rr.CheckRan, rr.CheckOK = true, err == nil
		c.record(ctx, ledger.Entry{Kind: ledger.KindCheck, Medium: t.Name, Message: msg.TextOf(err),
			Payload: ledger.CheckData{OK: err == nil, Detail: "read-data"}})
		if err == nil || ctx.Err() != nil {
			return errors.Join(restoreErr, err)
		}
		damaged, ferr := rp.SnapshotsUsing(ctx, res.Summary.BrokenPacks, snaps)
		rr.Damaged = shortIDs(damaged, snaps)
		return errors.Join(msg.Errorf("リポジトリが破損しています。影響するスナップショット: %s: %w",
			"the repository is damaged; affected snapshots: %s: %w", listOrNone(rr.Damaged), errors.Join(err, ferr)), restoreErr)
	})
	rr.FirstByteMS = firstByte.Load()
	rr.Medium = mr
	rr.CutVerified = mr.CutVerified
	if mr.Err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		deadline := when.In(req.Deadline.Location()).Stamp(req.Deadline)
		return msg.Errorf("期限 %s を過ぎたため中止し、媒体を切断しました: %w", "the deadline %s passed: stopped and the medium was cut: %w",
			deadline, mr.Err)
	}
	return mr.Err
}

// restoreSnapshot restores snap into req.Dir and verifies it against its
// manifest, filling rr's figures; first is set at the first restored byte.
func (c *Cycle) restoreSnapshot(ctx context.Context, medium string, rp restic.Repo, req RestoreRequest,
	include []string, rr *RestoreReport, first *atomic.Int64) error {
	start := rr.Started
	id := req.Snapshot
	if id == "" {
		id = "latest"
	}
	opts := restic.RestoreOptions{Include: include}
	if id == "latest" && req.Source != "" {
		opts.Tags = []string{"source=" + req.Source}
	}
	c.emit(CycleEvent{Phase: "restore", Medium: medium, Text: msg.Plain(id)})
	user := rp.OnEvent
	rp.OnEvent = func(ev restic.Event) {
		if ev.Status != nil && ev.Status.BytesRestored > 0 {
			first.CompareAndSwap(0, time.Since(start).Milliseconds())
		}
		if user != nil {
			user(ev)
		}
	}
	// No --verify: every file is checked against the pull manifest below,
	// which also proves it is what the e-chart server exported.
	// (Hashing each file as restic reports it finished was tried: on two
	// cores it competes with restic and made the restore 1.4–1.9× slower.)
	sum, err := rp.RestoreWith(ctx, id, req.Dir, opts)
	if sum.BytesRestored > 0 {
		first.CompareAndSwap(0, time.Since(start).Milliseconds())
	}
	if err != nil {
		return err
	}
	c.emit(CycleEvent{Phase: "verify", Medium: medium})
	v, err := VerifyRestore(ctx, req.Dir, req.Files)
	rr.Files, rr.Bytes, rr.FilesVerified, rr.Mismatches = v.Files, v.Bytes, v.Verified, v.Mismatches
	rr.RestoreMS = time.Since(start).Milliseconds()
	return err
}

// VerifyResult is what VerifyRestore found.
type VerifyResult struct {
	Files, Verified int
	Bytes           int64
	// Mismatches names each file that is missing, has another size or
	// another SHA-256 than the manifest recorded.
	Mismatches []ledger.Mismatch
}

// VerifyRestore checks a restored snapshot in dir (data/ and
// manifest.json) against its own manifest: every listed file (or only
// files, if given) must exist with the recorded size and SHA-256. Any
// difference is an error naming the files.
func VerifyRestore(ctx context.Context, dir string, files []string) (VerifyResult, error) {
	var v VerifyResult
	m, err := pull.ReadManifest(path.Join(dir, pull.ManifestName))
	if err != nil {
		return v, msg.Errorf("復元したスナップショットにマニフェストがありません(danzen 以外で作られた可能性): %w",
			"the restored snapshot has no readable manifest (not made by danzen?): %w", err)
	}
	want, bad := expected(m, files)
	v.Files = len(want)
	sums, err := hashAll(ctx, path.Join(dir, "data"), want)
	if err != nil {
		return v, err
	}
	for i, e := range want {
		s := sums[i]
		v.Bytes += s.n
		switch {
		case s.err != nil:
			bad = append(bad, ledger.Mismatch{Path: e.Path, Why: msg.TextOf(s.err)})
		case s.n != e.Size:
			bad = append(bad, ledger.Mismatch{Path: e.Path, Why: msg.Sprintf("サイズ %d ≠ 記録 %d", "size %d, manifest says %d", s.n, e.Size)})
		case s.sum != e.SHA256:
			bad = append(bad, ledger.Mismatch{Path: e.Path, Why: msg.Sprintf("SHA-256 が記録と異なります(%s、記録は %s)",
				"SHA-256 differs from the manifest (%s, want %s)", s.sum, e.SHA256)})
		default:
			v.Verified++
		}
	}
	if len(bad) == 0 {
		return v, nil
	}
	sort.Slice(bad, func(i, j int) bool { return bad[i].Path < bad[j].Path })
	var all msg.Text
	for _, b := range bad {
		all = all.Append("; ", msg.Plain(b.Path+": ").Append("", b.Why))
	}
	v.Mismatches = bad
	return v, msg.Errorf("%d 件のファイルが取得時と一致しません: %s", "%d files differ from what was pulled: %s", len(bad), all)
}

// expected returns the manifest entries to verify (files, or all), and
// the files asked for that the manifest does not list.
func expected(m *pull.Manifest, files []string) ([]pull.FileEntry, []ledger.Mismatch) {
	if len(files) == 0 {
		return m.Files, nil
	}
	var want []pull.FileEntry
	var bad []ledger.Mismatch
	for _, f := range files {
		e, ok := m.Lookup(f)
		if !ok {
			bad = append(bad, ledger.Mismatch{Path: f, Why: msg.T("マニフェストにありません", "not in the manifest")})
			continue
		}
		want = append(want, e)
	}
	return want, bad
}

// fileSum is one restored file's SHA-256 and length.
type fileSum struct {
	sum string
	n   int64
	err error
}

// hashAll hashes the files of want below dataDir with two readers, so
// the big dump and the many small files hash side by side.
func hashAll(ctx context.Context, dataDir string, want []pull.FileEntry) ([]fileSum, error) {
	res := make([]fileSum, len(want))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(want) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				r := &res[i]
				r.sum, r.n, r.err = filehash.File(path.Join(dataDir, want[i].Path))
			}
		})
	}
	wg.Wait()
	return res, ctx.Err()
}

// pickSnapshot finds the requested snapshot among snaps.
func pickSnapshot(snaps []restic.Snapshot, req RestoreRequest, host string) (restic.Snapshot, error) {
	id := req.Snapshot
	if id == "" {
		id = "latest"
	}
	var found *restic.Snapshot
	for i := range snaps {
		s := &snaps[i]
		if id == "latest" {
			if s.Hostname != host || (req.Source != "" && tagValue(s.Tags, "source") != req.Source) {
				continue
			}
			if found == nil || s.Time.After(found.Time) {
				found = s
			}
			continue
		}
		if s.ID == id || s.ShortID == id || (len(id) >= 8 && strings.HasPrefix(s.ID, id)) {
			found = s
			break
		}
	}
	if found == nil {
		if id == "latest" {
			return restic.Snapshot{}, msg.Errorf("媒体に復元できるスナップショットがありません(取得元 %q)", "the medium holds no snapshot to restore (source %q)", req.Source)
		}
		return restic.Snapshot{}, msg.Errorf("スナップショット %s は媒体にありません(世代整理で削除された可能性)", "snapshot %s is not on the medium (forgotten by retention?)", id)
	}
	return *found, nil
}

// includePaths turns export paths into restic include patterns inside a
// snapshot (which holds data/ and manifest.json at its root). The manifest
// always comes along so the files can be verified.
func includePaths(files []string) ([]string, error) {
	if len(files) == 0 {
		return nil, nil
	}
	inc := []string{"/" + pull.ManifestName}
	for _, f := range files {
		clean := path.Clean("/" + f)
		if f == "" || clean != "/"+f || strings.ContainsAny(f, "*?[\\") {
			return nil, msg.Errorf("復元するファイル名 %q が不正です", "invalid file to restore %q: give a path of the export as listed", f)
		}
		inc = append(inc, "/data"+clean)
	}
	return inc, nil
}

// emptyDir makes sure dir is a usable restore directory: absolute, and
// either missing (it is created) or empty.
func emptyDir(dir string) error {
	if dir == "" || !path.IsAbs(dir) {
		return msg.Errorf("復元先 %q は絶対パスで指定してください", "restore directory %q must be an absolute path", dir)
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return msg.Errorf("復元先 %s を使えません: %w", "cannot use restore directory %s: %w", dir, err)
	}
	if len(ents) > 0 {
		return msg.Errorf("復元先 %s は空ではありません。上書きはしません", "restore directory %s is not empty: a restore never overwrites", dir)
	}
	return nil
}

func tagValue(tags []string, key string) string {
	for _, t := range tags {
		if v, ok := strings.CutPrefix(t, key+"="); ok {
			return v
		}
	}
	return ""
}

func shortIDs(ids []string, snaps []restic.Snapshot) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		for _, s := range snaps {
			if s.ID == id {
				id = s.ShortID + " (" + s.Time.Format(time.DateTime) + " " + tagValue(s.Tags, "source") + ")"
				break
			}
		}
		out = append(out, id)
	}
	return out
}

func listOrNone(l []string) msg.Text {
	if len(l) == 0 {
		return msg.T("(特定できません)", "(could not be determined)")
	}
	return msg.Plain(strings.Join(l, ", "))
}

// RestoredFiles lists the files a restore in dir holds that its manifest
// names (all of them, or the subset a partial restore brought back).
func RestoredFiles(dir string) ([]pull.FileEntry, error) {
	m, err := pull.ReadManifest(path.Join(dir, pull.ManifestName))
	if err != nil {
		return nil, err
	}
	var out []pull.FileEntry
	for _, f := range m.Files {
		if fi, err := os.Lstat(path.Join(dir, "data", f.Path)); err == nil && fi.Mode().IsRegular() {
			out = append(out, f)
		}
	}
	return out, nil
}
