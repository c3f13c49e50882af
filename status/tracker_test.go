package status

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// rig is a ledger with a tracker fed by its hooks, on a clock the test
// moves by hand.
type rig struct {
	t        *testing.T
	dir      string
	now      time.Time
	rnd      *rand.Rand
	tr       *Tracker
	l        *ledger.Ledger
	replayed int // entries Open handed the tracker at the last open
}

var rigMedia = []string{"a", "b", "c", "e"} // "e" never appears; "d" is not asked for

func newRig(t *testing.T, seed uint64) *rig {
	r := &rig{t: t, dir: filepath.Join(memDir(t), "ledger"), now: time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC),
		rnd: rand.New(rand.NewPCG(seed, seed))}
	r.open()
	t.Cleanup(func() {
		if r.l != nil {
			if err := r.l.Close(); err != nil {
				t.Error(err)
			}
		}
	})
	return r
}

// memDir is a temporary directory in memory where there is one: these
// tests append hundreds of entries, each fsynced, and test no disk.
func memDir(t *testing.T) string {
	dir, err := os.MkdirTemp("/dev/shm", "danzen-status-test-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	})
	return dir
}

// open opens the ledger with a new tracker on its checkpoint.
func (r *rig) open() {
	r.t.Helper()
	r.tr = NewTracker(r.dir, TrackerOptions{Now: func() time.Time { return r.now }})
	opts := r.tr.Hook(ledger.Options{Now: func() time.Time { return r.now }, Reserve: -1})
	replay := opts.Replay
	r.replayed = 0
	opts.Replay = func(e ledger.Entry, a ledger.Anchor) { r.replayed++; replay(e, a) }
	l, err := ledger.OpenWith(r.dir, opts)
	if err != nil {
		r.t.Fatal(err)
	}
	r.l = l
	r.tr.Start()
}

// restart closes the ledger (and the tracker, unless crash) and opens
// them again.
func (r *rig) restart(crash bool) {
	r.t.Helper()
	if err := r.l.Close(); err != nil {
		r.t.Fatal(err)
	}
	r.l = nil
	if !crash {
		if err := r.tr.Close(); err != nil {
			r.t.Fatal(err)
		}
	}
	r.open()
}

func (r *rig) add(e ledger.Entry) {
	r.t.Helper()
	if _, err := r.l.Append(context.Background(), e); err != nil {
		r.t.Fatal(err)
	}
}

// step moves the clock on, now and then back, as a real one does.
func (r *rig) step() {
	switch n := r.rnd.IntN(100); {
	case n < 3:
		r.now = r.now.Add(-time.Duration(r.rnd.IntN(6*60)) * time.Minute) // set back a little
	case n < 80:
		r.now = r.now.Add(time.Duration(1+r.rnd.IntN(600)) * time.Second)
	default:
		r.now = r.now.Add(time.Duration(1+r.rnd.IntN(20)) * time.Hour)
	}
}

// randomEntry is an entry of the kinds the status reads, and some it
// does not, for a random medium or none.
func (r *rig) randomEntry() ledger.Entry {
	m := []string{"a", "b", "c", "d", ""}[r.rnd.IntN(5)]
	on := r.rnd.IntN(2) == 0
	switch r.rnd.IntN(17) {
	case 13:
		return ledger.Entry{Kind: ledger.KindCycleStart, Payload: ledger.CycleStartData{Cycle: fmt.Sprint(r.now.Unix())}}
	case 14:
		return ledger.Entry{Kind: ledger.KindSendBackStart, Payload: ledger.SendBackStartData{Host: "emr", Dir: fmt.Sprint("/in/", r.now.Unix())}}
	case 15:
		return ledger.Entry{Kind: ledger.KindSendBack, Payload: ledger.SendBackData{Dir: "/in"}}
	case 0, 1:
		return ledger.Entry{Kind: ledger.KindPowerOn, Medium: m, Payload: ledger.PowerOnData{Relay: "r-" + m}}
	case 2, 3:
		return ledger.Entry{Kind: ledger.KindPowerOffVerified, Medium: m, Payload: ledger.CutData{SenseOff: true, DeviceGone: true, Immutable: on}}
	case 4:
		return ledger.Entry{Kind: ledger.KindPowerOffUnverified, Medium: m,
			Payload: ledger.CutData{Reason: msg.Sprintf("センス %d", "sense %d", r.rnd.IntN(9)), Simulated: on}}
	case 5:
		return ledger.Entry{Kind: ledger.KindSnapshot, Medium: m, Payload: ledger.SnapshotData{Snapshot: fmt.Sprintf("%08x", r.rnd.Uint32()), Source: "emr"}}
	case 6:
		return ledger.Entry{Kind: ledger.KindCheck, Medium: m, Payload: ledger.CheckData{OK: on}}
	case 7:
		return ledger.Entry{Kind: ledger.KindRelayCommand, Medium: m, Payload: ledger.RelayEvent{Relay: "r-" + m, Kind: "command", Want: map[bool]string{true: "on", false: "off"}[on]}}
	case 8:
		return ledger.Entry{Kind: ledger.KindError, Medium: m, Payload: ledger.ErrorData{Phase: "backup"}}
	case 9:
		return ledger.Entry{Kind: ledger.KindDiskMounted, Medium: m, Payload: ledger.DiskEvent{Medium: m, Kind: ledger.KindDiskMounted}}
	case 10:
		return ledger.Entry{Kind: ledger.KindCycleEnd, Message: msg.T("終了", "done"), Payload: ledger.CycleEndData{Cycle: fmt.Sprint(r.now.Unix()), OK: on}}
	case 11:
		return ledger.Entry{Kind: ledger.KindDrill, Payload: ledger.RestoreData{ID: fmt.Sprint(r.now.Unix()), Drill: true, Medium: m, OK: on}}
	case 12:
		return ledger.Entry{Kind: ledger.KindScan, Payload: ledger.ScanData{Report: fmt.Sprint(r.now.Unix()), Cautions: r.rnd.IntN(4)}}
	}
	return ledger.Entry{Kind: ledger.KindAuthLogin, Actor: "alice", Message: msg.T("ログイン", "signed in")}
}

// appendRandom appends n random entries, moving the clock between them.
func (r *rig) appendRandom(n int) {
	r.t.Helper()
	for range n {
		r.step()
		r.add(r.randomEntry())
	}
}

// same fails unless the tracker shows what Compute shows now.
func (r *rig) same(what string) {
	r.t.Helper()
	got, gerr := r.tr.Status(rigMedia, r.now)
	want, werr := Compute(r.dir, rigMedia, r.now)
	if g, w := jsonOf(got), jsonOf(want); g != w || fmt.Sprint(gerr) != fmt.Sprint(werr) {
		r.t.Fatalf("%s: the tracker shows\n%s (%v)\nCompute shows\n%s (%v)", what, g, gerr, w, werr)
	}
	if werr == nil {
		if g, w := jsonOf(r.tr.Unfinished()), jsonOf(unfinishedOf(r.t, r.dir)); g != w {
			r.t.Fatalf("%s: the tracker has %s unfinished, the ledger %s", what, g, w)
		}
	}
}

// unfinishedOf reads what the ledger in dir shows started and not ended:
// whatever began after the last entry that ended its like.
func unfinishedOf(t *testing.T, dir string) Unfinished {
	entries, err := ledger.Read(dir, ledger.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]ledger.Entry{} // by kind, and by kind and medium
	for _, e := range entries {
		last[string(e.Kind)], last[string(e.Kind)+"/"+e.Medium] = e, e
	}
	since := func(begin string, ends ...string) (ledger.Entry, bool) {
		b, ok := last[begin]
		for _, end := range ends {
			ok = ok && b.Seq > last[end].Seq
		}
		return b, ok
	}
	u := Unfinished{Media: map[string]bool{}}
	if e, ok := since(string(ledger.KindCycleStart), string(ledger.KindCycleEnd)); ok {
		d, _ := ledger.Decode[ledger.CycleStartData](e)
		u.Cycle = d.Cycle
	}
	if e, ok := since(string(ledger.KindSendBackStart), string(ledger.KindSendBack)); ok {
		d, _ := ledger.Decode[ledger.SendBackStartData](e)
		u.SendBack = d.Host + ":" + d.Dir
	}
	for _, m := range []string{"a", "b", "c", "d", ""} {
		on, off := string(ledger.KindPowerOn)+"/"+m, "/"+m
		if _, ok := since(on, string(ledger.KindPowerOffVerified)+off, string(ledger.KindPowerOffUnverified)+off); ok {
			u.Media[m] = true
		}
	}
	return u
}

// The tracker gives exactly what a full read gives: through random
// appends over months (entries leave the window, the clock goes back),
// across restarts from the checkpoint and after a crash.
func TestTrackerIsCompute(t *testing.T) {
	r := newRig(t, 1)
	r.same("empty")
	for round := range 40 {
		r.appendRandom(1 + r.rnd.IntN(30))
		r.now = r.now.Add(time.Duration(r.rnd.IntN(72)) * time.Hour)
		r.same(fmt.Sprintf("round %d", round))
		switch round % 10 {
		case 3:
			r.restart(false)
			if r.replayed != 0 {
				t.Fatalf("round %d: a clean restart read %d entries again", round, r.replayed)
			}
			r.same(fmt.Sprintf("round %d, restarted", round))
		case 7:
			// A crash: the checkpoint is as old as the last cycle's end.
			head := r.l.Head().Seq
			r.restart(true)
			if uint64(r.replayed) >= head {
				t.Fatalf("round %d: a crash read all %d entries again", round, r.replayed)
			}
			r.same(fmt.Sprintf("round %d, after a crash", round))
		}
	}
	if r.tr.cp.Horizon.IsZero() {
		t.Fatal("nothing ever left the window: the test does not test the window")
	}
	// Set back further than the tracker keeps: it reads the ledger.
	r.now = r.now.Add(-3 * 24 * time.Hour)
	r.same("clock set back three days")
	// A Raspberry Pi before NTP: nothing is known of that month.
	r.now = time.Unix(0, 0).UTC()
	r.same("clock in 1970")
}

// A damaged, missing or foreign checkpoint is read as missing: Open
// reads the whole ledger, and the status is still exact.
func TestTrackerWithoutUsableCheckpoint(t *testing.T) {
	other := newRig(t, 2)
	other.appendRandom(30)
	other.restart(false)
	for _, c := range []struct {
		name   string
		damage func(path string) error
	}{
		{"missing", os.Remove},
		{"damaged", func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			i := strings.Index(string(b), `"state":"`) + len(`"state":"`)
			b[i] ^= 1 // still JSON: only the checksum tells
			return os.WriteFile(p, b, 0o600)
		}},
		{"truncated", func(p string) error { return os.Truncate(p, 10) }},
		{"another ledger's", func(p string) error {
			b, err := os.ReadFile(filepath.Join(other.dir, CheckpointFileName))
			if err != nil {
				return err
			}
			return os.WriteFile(p, b, 0o600)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, 3)
			r.appendRandom(200)
			r.same("before")
			if err := r.l.Close(); err != nil {
				t.Fatal(err)
			}
			r.l = nil
			if err := r.tr.Close(); err != nil {
				t.Fatal(err)
			}
			if err := c.damage(filepath.Join(r.dir, CheckpointFileName)); err != nil {
				t.Fatal(err)
			}
			r.open()
			if r.replayed != 200 {
				t.Fatalf("Open read %d entries, want all 200", r.replayed)
			}
			r.same("reopened")
			r.appendRandom(20)
			r.same("appended")
		})
	}
}

// A torn last line is moved aside at Open and its "interrupted" entry
// reaches the tracker; the report names the side file.
func TestTrackerAfterTornLine(t *testing.T) {
	r := newRig(t, 4)
	r.appendRandom(50)
	r.restart(false)
	if err := r.l.Close(); err != nil {
		t.Fatal(err)
	}
	r.l = nil
	f, err := os.OpenFile(filepath.Join(r.dir, ledger.FileName), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"seq":51,"time":"2026-`); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r.open()
	st, err := r.tr.Status(rigMedia, r.now)
	if err != nil || len(st.Ledger.TornFiles) != 1 || st.Ledger.LastSeq != 51 {
		t.Fatalf("after a torn line: %v, report %+v", err, st.Ledger)
	}
	r.same("after a torn line")
}

// A full verification rebuilds the status from the ledger; a damaged
// line shows on the page as Compute shows it, and the next start checks
// the whole chain again.
func TestTrackerVerify(t *testing.T) {
	r := newRig(t, 5)
	r.appendRandom(100)
	if rep, err := r.tr.Verify(); err != nil || !rep.OK || rep.Entries != 100 {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	r.same("verified")
	// A kept state that disagrees with the ledger is mended.
	r.tr.mu.Lock()
	r.tr.cp.Fold.medium("a").State = Cut
	r.tr.mu.Unlock()
	if _, err := r.tr.Verify(); err != nil {
		t.Fatal(err)
	}
	r.same("mended")

	path := filepath.Join(r.dir, ledger.FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), `"seq":10,"time":"`) + len(`"seq":10,"time":"`)
	b[i+3]++ // another year: the line's hash no longer matches
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := r.tr.Verify(); !errors.Is(err, ledger.ErrCorrupt) {
		t.Fatalf("verify of an edited ledger: %v", err)
	}
	st, err := r.tr.Status(rigMedia, r.now)
	if err == nil || st.LedgerErr.IsZero() || len(st.Media) != 0 {
		t.Fatalf("an edited ledger shows media or no error: %v %+v", err, st)
	}
	r.same("edited")
	// Reading on from the checkpoint (an entry out of order) does not
	// clear the failure.
	r.tr.observe(ledger.Entry{Seq: 999, Kind: ledger.KindAuthLogin}, ledger.Anchor{Seq: 999})
	if st, _ := r.tr.Status(rigMedia, r.now); st.LedgerErr.IsZero() {
		t.Fatal("a partial read cleared the failed verification")
	}
	// Recorded as the gateway does; the next start does not trust the
	// checkpoint and Open refuses the ledger.
	r.add(ledger.Entry{Kind: ledger.KindLedgerVerified, Payload: ledger.LedgerVerifiedData{OK: false}})
	if err := r.l.Close(); err != nil {
		t.Fatal(err)
	}
	r.l = nil
	if err := r.tr.Close(); err != nil {
		t.Fatal(err)
	}
	tr := NewTracker(r.dir, TrackerOptions{})
	if _, err := ledger.OpenWith(r.dir, tr.Hook(ledger.Options{Reserve: -1})); !errors.Is(err, ledger.ErrCorrupt) {
		t.Fatalf("Open after a failed verification: %v", err)
	}
}

// An entry that reaches the observer out of order (a gap) makes the
// tracker read the file again before it answers.
func TestTrackerStaleReadsAgain(t *testing.T) {
	r := newRig(t, 6)
	r.appendRandom(10)
	e, a := ledger.Entry{Seq: 99, Kind: ledger.KindAuthLogin}, ledger.Anchor{Seq: 99}
	r.tr.observe(e, a)
	if !r.tr.stale {
		t.Fatal("a gap did not make the tracker stale")
	}
	r.same("stale")
	if r.tr.stale {
		t.Fatal("still stale after Status")
	}
}
