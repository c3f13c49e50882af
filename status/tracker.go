package status

import (
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// saveEvery: after this many entries the checkpoint is written even
// without a cycle ending, so a crash never leaves much to read again.
const saveEvery = 500

// TrackerOptions tune NewTracker. The zero value is fine for production.
type TrackerOptions struct {
	Logger *slog.Logger     // default: discard
	Now    func() time.Time // the clock that decides which entries leave the window; default time.Now
}

// Tracker keeps the status of one ledger as entries are appended, so
// showing it costs the same on the first day and after ten years. It is
// fed by the Ledger's hooks (Hook), persists a checkpoint beside the
// ledger so a start reads only what came after it, and verifies the
// whole chain when asked (Verify, daily). Its Status is what Compute gives.
type Tracker struct {
	dir string
	log *slog.Logger
	now func() time.Time

	mu sync.Mutex
	cp checkpoint
	// report is the last verification (at Start or Verify); while it
	// passed, Status carries it forward to the newest entry.
	report ledger.Report
	verr   error
	// stale: an entry arrived out of order; the file is read again.
	stale   bool
	unsaved int
}

// NewTracker reads the checkpoint of the ledger in dir. A missing or
// damaged one is logged and the tracker starts empty: Open then reads
// the whole ledger into it.
func NewTracker(dir string, opts TrackerOptions) *Tracker {
	t := &Tracker{dir: dir, log: opts.Logger, now: opts.Now}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.now == nil {
		t.now = time.Now
	}
	if err := removeStaleTemps(dir); err != nil {
		t.log.Warn("status: cannot remove a temporary checkpoint", "err", err)
	}
	switch c, err := loadCheckpoint(dir); {
	case err != nil:
		t.log.Warn("status: the checkpoint is damaged; the whole ledger is read instead", "dir", dir, "err", err)
	case c != nil:
		t.cp = *c
	}
	return t
}

// Hook returns o with the tracker's hooks set: Open checks the chain from
// the checkpoint on and hands the tracker every entry it reads, and
// every entry stored afterwards.
func (t *Tracker) Hook(o ledger.Options) ledger.Options {
	t.mu.Lock()
	defer t.mu.Unlock()
	o.From = t.cp.Anchor
	if v := t.cp.Fold.LastVerify; v != nil && !v.Data.OK {
		// The last full verification failed: check it all again.
		o.From = ledger.Anchor{}
	}
	o.Replay, o.Observer = t.replay, t.observe
	return o
}

// Start brings the tracker up to the end of the ledger and takes the
// ledger's report as it stands; call it after Open. It reads only what
// the tracker has not seen, unless the checkpoint does not match the
// ledger. A failure shows in Status like a failed verification.
func (t *Tracker) Start() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.catchUp()
}

// catchUp reads the entries after the anchor (all of them when the
// anchor is not in the ledger) and takes the report. Needs mu.
func (t *Tracker) catchUp() {
	from := t.cp.Anchor
	rep, err := ledger.VerifyFrom(t.dir, from, t.apply)
	if errors.Is(err, ledger.ErrAnchorMismatch) {
		t.log.Warn("status: the checkpoint does not match the ledger; reading the whole ledger", "dir", t.dir, "err", err)
		t.cp, from = checkpoint{}, ledger.Anchor{}
		rep, err = ledger.VerifyFrom(t.dir, from, t.apply)
	}
	t.stale = false
	if err == nil && t.verr != nil && from.Seq > 0 {
		return // reading on from the anchor clears no failure: only a full verification does
	}
	t.setReport(rep, err)
}

// setReport takes a verification's outcome. After a failure the
// checkpoint is removed, so the next start checks the whole chain again
// (needs mu).
func (t *Tracker) setReport(rep ledger.Report, err error) {
	t.report, t.verr = rep, err
	if err == nil {
		return
	}
	t.log.Error("status: the evidence ledger did not verify", "dir", t.dir, "err", err)
	if rerr := os.Remove(filepath.Join(t.dir, CheckpointFileName)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		t.log.Error("status: cannot remove the checkpoint of a ledger that did not verify", "err", rerr)
	}
}

// apply takes the entry after the anchor (needs mu).
func (t *Tracker) apply(e ledger.Entry, a ledger.Anchor) {
	t.cp.apply(e, a, t.horizon)
}

// horizon is how far back entries may still count in a window.
func (t *Tracker) horizon() time.Time { return t.now().Add(-Window - keepBeyondWindow) }

// replay is Options.Replay: the entries Open reads, from seq 1 when it
// did not resume at the checkpoint.
func (t *Tracker) replay(e ledger.Entry, a ledger.Anchor) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.Seq == 1 && t.cp.Anchor.Seq > 0 {
		t.cp = checkpoint{}
	}
	t.take(e, a)
}

// observe is Options.Observer: each entry as it is stored. It writes the
// checkpoint when a cycle ends and every saveEvery entries.
func (t *Tracker) observe(e ledger.Entry, a ledger.Anchor) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.take(e, a) {
		return
	}
	if t.unsaved++; e.Kind == ledger.KindCycleEnd || t.unsaved >= saveEvery {
		if err := t.saveLocked(); err != nil {
			t.log.Warn("status: cannot write the checkpoint", "err", err)
		}
	}
}

// take applies e if it is the next entry; one further on marks the
// tracker stale (the file is read again before the next status). It
// reports whether e was applied. Needs mu.
func (t *Tracker) take(e ledger.Entry, a ledger.Anchor) bool {
	switch {
	case t.stale || e.Seq <= t.cp.Anchor.Seq:
		return false
	case e.Seq != t.cp.Anchor.Seq+1:
		t.stale = true
		return false
	}
	t.apply(e, a)
	return true
}

// Status is the status of the named media at now: what Compute(dir,
// media, now) gives, without reading the ledger.
func (t *Tracker) Status(media []string, now time.Time) (*Status, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stale {
		t.catchUp()
	}
	rep := t.reportLocked()
	if t.verr != nil && linesBroken(rep) {
		return brokenStatus(now, rep, t.verr, t.verr)
	}
	from := now.Add(-Window)
	t.cp.prune(from.Add(-keepBeyondWindow))
	periods := map[string]ledger.Summary{}
	for _, name := range media {
		s, ok := t.cp.summary(name, from, now)
		if !ok {
			// The clock went back past what the tracker keeps (more than
			// keepBeyondWindow, yet not before the first entry): rare
			// enough to read the whole ledger for.
			return Compute(t.dir, media, now)
		}
		periods[name] = s
	}
	st := t.cp.Fold.status(media, now, func(name string) ledger.Summary { return periods[name] })
	st.Ledger = rep
	if t.verr != nil {
		st.LedgerErr = msg.TextOf(t.verr)
	}
	return st, nil
}

// Unfinished is what the ledger shows started and not ended, read from
// the tracker rather than the ledger (the start-up asks after a crash).
func (t *Tracker) Unfinished() Unfinished {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stale {
		t.catchUp()
	}
	u := t.cp.Fold.Open
	u.Media = maps.Clone(u.Media)
	if u.Media == nil {
		u.Media = map[string]bool{}
	}
	return u
}

// reportLocked is the last verification's report, carried forward to the
// newest entry while it passed (needs mu).
func (t *Tracker) reportLocked() ledger.Report {
	r := t.report
	if t.verr != nil {
		return r
	}
	a := t.cp.Anchor
	r.Entries, r.LastSeq, r.LastHash, r.LastTime, r.Head = int(a.Seq), a.Seq, a.Hash, a.Time, nil
	if a.Seq > 0 {
		r.Head = &ledger.Head{Seq: a.Seq, Hash: a.Hash, Time: a.Time}
	}
	r.HeadLagsByOne = false
	r.ClockBackwards = slices.Clone(t.cp.ClockBackwards)
	return r
}

// linesBroken reports whether the report found damaged lines, which make
// the entries unreadable (head.json or a torn tail alone do not).
func linesBroken(r ledger.Report) bool {
	return slices.ContainsFunc(r.Problems, func(p ledger.Problem) bool {
		return p.Code == ledger.ProblemMalformed || p.Code == ledger.ProblemHash || p.Code == ledger.ProblemChain
	})
}

// Verify checks the whole ledger (ledger.Verify) and rebuilds the status
// from it on the way, so a checkpoint that disagreed with the ledger is
// mended. A failure shows in Status until a later verification passes.
// It reads while entries are appended, holding the tracker only at the end.
func (t *Tracker) Verify() (ledger.Report, error) {
	var fresh checkpoint
	add := func(e ledger.Entry, a ledger.Anchor) { fresh.apply(e, a, t.horizon) }
	rep, err := ledger.VerifyFrom(t.dir, ledger.Anchor{}, add)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		// Entries stored while it ran are read from the file too.
		if _, cerr := ledger.VerifyFrom(t.dir, fresh.Anchor, add); cerr != nil {
			err = cerr
		}
	}
	t.setReport(rep, err)
	if err != nil {
		return rep, err
	}
	if t.cp.Anchor.Seq <= fresh.Anchor.Seq && !t.sameStatus(&fresh) {
		t.log.Warn("status: the kept status disagreed with the ledger; rebuilt from it", "dir", t.dir)
	}
	t.cp, t.stale = fresh, false
	if err := t.saveLocked(); err != nil {
		t.log.Warn("status: cannot write the checkpoint", "err", err)
	}
	return rep, nil
}

// sameStatus reports whether c shows what the tracker shows now, for
// every medium either knows (needs mu).
func (t *Tracker) sameStatus(c *checkpoint) bool {
	now := t.now()
	from := now.Add(-Window)
	var names []string
	for _, f := range []*checkpoint{&t.cp, c} {
		for name := range f.Fold.Media {
			names = append(names, name)
		}
		for name := range f.Windows {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	status := func(c *checkpoint) string {
		st := c.Fold.status(names, now, func(name string) ledger.Summary {
			s, _ := c.summary(name, from, now)
			return s
		})
		return jsonOf(st)
	}
	return status(&t.cp) == status(c)
}

// Close writes the checkpoint; call it after closing the Ledger.
func (t *Tracker) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stale {
		t.catchUp()
	}
	return t.saveLocked()
}

// saveLocked writes the checkpoint when the tracker's state is one the
// ledger verified (needs mu).
func (t *Tracker) saveLocked() error {
	if t.verr != nil || t.stale {
		return nil
	}
	t.cp.prune(t.horizon())
	if err := t.cp.save(t.dir); err != nil {
		return msg.Wrap(err, "状態のチェックポイントを保存できません", "cannot save the status checkpoint")
	}
	t.unsaved = 0
	return nil
}

// jsonOf is v as JSON, to compare two statuses whole.
func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error() // a status always encodes; never equal to one that did
	}
	return string(b)
}
