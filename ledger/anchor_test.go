package ledger

import (
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// anchors opens dir, collecting what Replay and Observer are handed.
type hooks struct {
	replayed, observed []Anchor
}

func (h *hooks) options(from Anchor) Options {
	return Options{Now: newClock().Now, From: from, Logger: slog.New(slog.DiscardHandler),
		Replay:   func(e Entry, a Anchor) { h.replayed = append(h.replayed, a) },
		Observer: func(e Entry, a Anchor) { h.observed = append(h.observed, a) }}
}

// anchorAt is the Anchor of entry seq in dir, as Replay hands it.
func anchorAt(t *testing.T, dir string, seq uint64) Anchor {
	t.Helper()
	var found Anchor
	if _, err := VerifyFrom(dir, Anchor{}, func(e Entry, a Anchor) {
		if e.Seq == seq {
			found = a
		}
	}); err != nil {
		t.Fatal(err)
	}
	return found
}

// Every stored entry reaches the observer once, in order, with the
// offset just past its line; Replay hands over what Open checked.
func TestHooksSeeEveryEntry(t *testing.T) {
	dir := newLedger(t, 3)
	var h hooks
	l, err := OpenWith(dir, h.options(Anchor{}))
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 2)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.replayed) != 3 || h.replayed[2].Seq != 3 || len(h.observed) != 2 || h.observed[1].Seq != 5 || h.observed[1].Offset != fi.Size() {
		t.Fatalf("replayed %+v, observed %+v (file %d bytes)", h.replayed, h.observed, fi.Size())
	}
	if a := anchorAt(t, dir, 4); a != h.observed[0] {
		t.Fatalf("observed %+v, read back %+v", h.observed[0], a)
	}

	// The "interrupted" entry Open writes after a torn line is observed.
	appendRaw(t, dir, []byte(`{"seq":6,`))
	h = hooks{}
	l, err = OpenWith(dir, h.options(Anchor{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if len(h.replayed) != 5 || len(h.observed) != 1 || h.observed[0].Seq != 6 {
		t.Fatalf("after a torn line: replayed %d, observed %+v", len(h.replayed), h.observed)
	}
}

// Open from an Anchor checks the anchored entry and the lines after it,
// and hands over only those; the lines before are left to Verify.
func TestOpenFromAnchor(t *testing.T) {
	dir := newLedger(t, 10)
	a := anchorAt(t, dir, 6)
	lines := readLines(t, dir)
	lines[2] = []byte(strings.Replace(string(lines[2]), `"seq":3,"time":"2025`, `"seq":3,"time":"2024`, 1))
	writeLines(t, dir, lines)

	var h hooks
	l, err := OpenWith(dir, h.options(a))
	if err != nil {
		t.Fatalf("Open from seq 6 looked before it: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if len(h.replayed) != 4 || h.replayed[0].Seq != 7 {
		t.Fatalf("replayed %+v, want seq 7–10", h.replayed)
	}
	mustFail(t, dir, ProblemHash, 3, 3)
	rep, err := VerifyFrom(dir, a, nil)
	if err != nil || !rep.OK || rep.Entries != 10 || rep.LastSeq != 10 {
		t.Fatalf("VerifyFrom seq 6: %v\n%s", err, rep)
	}

	// Damage after the anchor is found.
	lines[8] = []byte(strings.Replace(string(lines[8]), `"seq":9,"time":"2025`, `"seq":9,"time":"2024`, 1))
	writeLines(t, dir, lines)
	if _, err := OpenWith(dir, h.options(a)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open from seq 6 with seq 9 edited: %v", err)
	}
}

// An Anchor that is not where it says is not used: Open checks the whole
// chain (and replays it from seq 1), VerifyFrom says so.
func TestAnchorMismatch(t *testing.T) {
	dir := newLedger(t, 5)
	good := anchorAt(t, dir, 3)
	for name, a := range map[string]Anchor{
		"hash":         {Seq: good.Seq, Hash: GenesisHash, Time: good.Time, Offset: good.Offset},
		"seq":          {Seq: 4, Hash: good.Hash, Time: good.Time, Offset: good.Offset},
		"time":         {Seq: good.Seq, Hash: good.Hash, Time: good.Time.Add(time.Second), Offset: good.Offset},
		"mid-line":     {Seq: good.Seq, Hash: good.Hash, Time: good.Time, Offset: good.Offset - 7},
		"past the end": {Seq: good.Seq, Hash: good.Hash, Time: good.Time, Offset: 1 << 30},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := VerifyFrom(dir, a, nil); !errors.Is(err, ErrAnchorMismatch) {
				t.Fatalf("VerifyFrom: %v", err)
			}
			var h hooks
			l, err := OpenWith(dir, h.options(a))
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if len(h.replayed) != 5 || h.replayed[0].Seq != 1 {
				t.Fatalf("replayed %+v, want all from seq 1", h.replayed)
			}
		})
	}
}

// A report read on from an Anchor is the full one, but for the clock
// jumps before the anchor.
func TestVerifyFromReportsLikeVerify(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger")
	c := newClock()
	l := openT(t, dir, c)
	appendN(t, l, 4)
	c.set(c.Now().Add(-time.Hour))
	appendN(t, l, 4)
	full, err := Verify(dir)
	if err != nil || len(full.ClockBackwards) != 1 {
		t.Fatalf("verify: %v %v", err, full.ClockBackwards)
	}
	from, err := VerifyFrom(dir, anchorAt(t, dir, 6), nil)
	if err != nil {
		t.Fatal(err)
	}
	full.ClockBackwards = nil
	if !reflect.DeepEqual(from, full) {
		t.Fatalf("from seq 6:\n%+v\nwhole:\n%+v", from, full)
	}
}

// lineBefore finds the start of a line longer than its first read.
func TestLineBeforeLongLine(t *testing.T) {
	long := strings.Repeat("x", 20000)
	data := "a\n" + long + "\n"
	got, err := lineBefore(strings.NewReader(data), int64(len(data)))
	if err != nil || string(got) != long {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
	if _, err := lineBefore(strings.NewReader(data), 1); !errors.Is(err, ErrAnchorMismatch) && !errors.Is(err, io.EOF) {
		t.Fatalf("mid-line: %v", err)
	}
}

// Folding a medium's older entries into the state they left changes no
// summary of a period they lie before, with the clock going back and forth.
func TestSummarizeAfterFolds(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	kinds := []struct {
		kind Kind
		data string
	}{{KindPowerOn, ""}, {KindPowerOffVerified, ""}, {KindPowerOffUnverified, ""}, {KindSnapshot, ""},
		{KindCheck, `{"ok":true}`}, {KindCheck, `{"ok":false}`}, {KindError, ""}, {KindMount, ""},
		{KindRelayCommand, `{"kind":"command","want":"on"}`}, {KindRelayCommand, `{"kind":"command","want":"off"}`}}
	for round := range 200 {
		var evs []ev
		now := at(0, 0)
		for range 5 + rnd.IntN(60) {
			now = now.Add(time.Duration(rnd.IntN(240)-90) * time.Minute)
			k := kinds[rnd.IntN(len(kinds))]
			evs = append(evs, ev{t: now, kind: k.kind, data: k.data, medium: []string{"usb1", "usb2"}[rnd.IntN(2)]})
		}
		es := entriesOf(evs)
		from := at(rnd.IntN(48), 0)
		to := from.Add(time.Duration(1+rnd.IntN(72)) * time.Hour)
		want := Summarize(es, "usb1", from, to)
		horizon := from.Add(-time.Duration(rnd.IntN(12)) * time.Hour) // a tracker folds less than it could
		var prior State
		i := 0
		for ; i < len(es); i++ {
			if es[i].Medium != "usb1" {
				continue
			}
			if !es[i].Time.Before(horizon) {
				break
			}
			prior = prior.Then(es[i])
		}
		got := SummarizeAfter(prior, es[i:], "usb1", from, to)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: folding %d entries changed the summary:\n got %+v\nwant %+v", round, i, got, want)
		}
	}
}
