package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// clock hands out times one second apart; set moves it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2025, 1, 31, 17, 0, 0, 250_000_000, time.FixedZone("JST", 9*3600))}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(time.Second)
	return t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func openT(t *testing.T, dir string, c *clock) *Ledger {
	t.Helper()
	l, err := OpenWith(dir, Options{Now: c.Now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l
}

func appendN(t *testing.T, l *Ledger, n int) []Entry {
	t.Helper()
	var out []Entry
	for i := 0; i < n; i++ {
		e, err := l.Append(context.Background(), Entry{
			Kind: KindSnapshot, Medium: "usb1", Actor: ActorSystem,
			Message: msg.Plain(fmt.Sprintf("entry %d", l.Head().Seq+1)),
			Data:    json.RawMessage(`{"snapshot":"abc"}`),
		})
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		out = append(out, e)
	}
	return out
}

// newLedger makes a closed ledger with n entries and returns its dir.
func newLedger(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ledger")
	l, err := OpenWith(dir, Options{Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, n)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readLines(t *testing.T, dir string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))[:bytes.Count(b, []byte("\n"))]
}

func writeLines(t *testing.T, dir string, lines [][]byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, FileName), bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

func appendRaw(t *testing.T, dir string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, FileName), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// mustFail runs Verify and checks that it reports corruption of code at line.
func mustFail(t *testing.T, dir string, code ProblemCode, line int, seq uint64) Report {
	t.Helper()
	rep, err := Verify(dir)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Verify error = %v, want ErrCorrupt\n%s", err, rep)
	}
	if rep.OK || len(rep.Problems) == 0 {
		t.Fatalf("report says OK:\n%s", rep)
	}
	p := rep.Problems[0]
	if p.Code != code || rep.FirstBadLine != line || rep.FirstBadSeq != seq {
		t.Fatalf("first problem = %s line %d seq %d, want %s line %d seq %d\n%s", p.Code, rep.FirstBadLine, rep.FirstBadSeq, code, line, seq, rep)
	}
	if p.Message.JA == "" || p.Message.EN == "" || !strings.ContainsAny(p.Message.JA, "行台帳記録") {
		t.Fatalf("problem not worded in both languages: %+v", p)
	}
	return rep
}

func TestAppendReopenContinuesChain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger")
	c := newClock()
	l, err := OpenWith(dir, Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	first := appendN(t, l, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if first[0].Seq != 1 || first[0].Prev != GenesisHash {
		t.Fatalf("first entry seq %d prev %s", first[0].Seq, first[0].Prev)
	}
	if got := first[0].Time.Format(time.RFC3339Nano); got != "2025-01-31T08:00:00.25Z" {
		t.Fatalf("time stored as %s, want UTC", got)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v, %v", fi.Mode(), err)
	}

	l2 := openT(t, dir, c)
	more := appendN(t, l2, 2)
	if more[0].Seq != 4 || more[0].Prev != first[2].Hash {
		t.Fatalf("after reopen: seq %d prev %s, want 4 and %s", more[0].Seq, more[0].Prev, first[2].Hash)
	}
	rep, err := Verify(dir)
	if err != nil || !rep.OK || rep.Entries != 5 || rep.LastSeq != 5 || rep.LastHash != more[1].Hash {
		t.Fatalf("Verify: %v\n%s", err, rep)
	}
	got, err := Read(dir, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if want := append(first, more...); !reflect.DeepEqual(got, want) {
		t.Fatalf("Read differs from what Append returned:\n got %+v\nwant %+v", got, want)
	}
	h, err := readHead(dir)
	if err != nil || h == nil || h.Seq != 5 || h.Hash != more[1].Hash {
		t.Fatalf("head.json = %+v, %v", h, err)
	}
}

// TestAuditorRecipe re-verifies the file with only the steps in the
// package doc, as an auditor's own tool would.
func TestAuditorRecipe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger")
	l := openT(t, dir, newClock())
	if _, err := l.Append(context.Background(), Entry{
		Kind: KindAnomaly, Medium: "usb1", Actor: "山田", Message: msg.T("電源 <ON> & 接続", "power <ON> & connected"),
		Data: json.RawMessage(`{ "source" : "r1", "baseline_ratio": 1.50 }`),
	}); err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 3)
	prev := strings.Repeat("0", 64)
	for i, line := range readLines(t, dir) {
		s := strings.TrimSuffix(string(line), "\n")
		if !strings.HasPrefix(s, `{"seq":`) {
			t.Fatalf("line %d does not start with seq: %s", i+1, s)
		}
		body := s[:len(s)-75] + "}"
		sum := sha256.Sum256([]byte(body))
		var m struct {
			Seq        uint64
			Prev, Hash string
		}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(sum[:]) != m.Hash {
			t.Fatalf("line %d: recipe hash differs", i+1)
		}
		if m.Seq != uint64(i+1) || m.Prev != prev {
			t.Fatalf("line %d: seq %d prev %s", i+1, m.Seq, m.Prev)
		}
		prev = m.Hash
	}
	first := string(readLines(t, dir)[0])
	if !strings.Contains(first, `"message":{"ja":"電源 \u003cON\u003e \u0026 接続","en":"power \u003cON\u003e \u0026 connected"},"data":{"baseline_ratio":1.50,"source":"r1"},"prev"`) {
		t.Fatalf("data not canonical (sorted, compact, number as written): %s", first)
	}
}

func TestVerifyDetectsEditedByte(t *testing.T) {
	dir := newLedger(t, 5)
	lines := readLines(t, dir)
	lines[2] = bytes.Replace(lines[2], []byte("entry 3"), []byte("entry 8"), 1)
	writeLines(t, dir, lines)
	before, _ := os.ReadFile(filepath.Join(dir, FileName))

	mustFail(t, dir, ProblemHash, 3, 3)

	_, err := OpenWith(dir, Options{Now: newClock().Now})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open after edit: %v, want ErrCorrupt", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "改ざん") || !strings.Contains(msg, "altered") || !strings.Contains(msg, "seq 3") {
		t.Fatalf("Open error not worded for the operator in both languages: %s", msg)
	}
	after, _ := os.ReadFile(filepath.Join(dir, FileName))
	if !bytes.Equal(before, after) {
		t.Fatal("Open changed a corrupt ledger")
	}
	if _, err := Read(dir, Filter{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Read of corrupt ledger: %v", err)
	}
}

func TestVerifyDetectsDeletedLine(t *testing.T) {
	dir := newLedger(t, 5)
	lines := readLines(t, dir)
	writeLines(t, dir, append(lines[:2:2], lines[3:]...))
	mustFail(t, dir, ProblemChain, 3, 4)
}

func TestVerifyDetectsSwappedLines(t *testing.T) {
	dir := newLedger(t, 5)
	lines := readLines(t, dir)
	lines[1], lines[2] = lines[2], lines[1]
	writeLines(t, dir, lines)
	mustFail(t, dir, ProblemChain, 2, 3)
}

func TestVerifyDetectsForgedInsertion(t *testing.T) {
	dir := newLedger(t, 5)
	lines := readLines(t, dir)
	second, err := parseLine(bytes.TrimSuffix(lines[1], []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	// The forger knows the recipe: a well-formed seq 3 chained to seq 2.
	forged, _, err := encodeLine(wireEntry{
		Seq: 3, Time: "2025-01-31T08:00:01.5Z", Kind: KindPowerOffVerified, Medium: "usb1",
		Message: json.RawMessage(`"forged cut"`), Prev: second.Hash,
	})
	if err != nil {
		t.Fatal(err)
	}
	out := append([][]byte{}, lines[:2]...)
	out = append(out, forged)
	writeLines(t, dir, append(out, lines[2:]...))
	rep := mustFail(t, dir, ProblemChain, 4, 3)
	for _, p := range rep.Problems {
		if p.Line == 3 {
			t.Fatalf("the forged line itself is well formed, finding should be after it: %+v", p)
		}
	}
}

func TestVerifyDetectsRewrittenTailViaHead(t *testing.T) {
	dir := newLedger(t, 5)
	lines := readLines(t, dir)
	// Rewrite entries 3..5 consistently; only head.json still knows.
	prev, err := parseLine(bytes.TrimSuffix(lines[1], []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	h := prev.Hash
	for i := 2; i < 5; i++ {
		p, err := parseLine(bytes.TrimSuffix(lines[i], []byte("\n")))
		if err != nil {
			t.Fatal(err)
		}
		lines[i], h, err = encodeLine(wireEntry{Seq: p.Seq, Time: p.Time.Format(time.RFC3339Nano),
			Kind: p.Kind, Medium: p.Medium, Message: json.RawMessage(`"rewritten"`), Prev: h})
		if err != nil {
			t.Fatal(err)
		}
	}
	writeLines(t, dir, lines)
	mustFail(t, dir, ProblemHead, 0, 0)
}

func TestVerifyDetectsTruncatedTail(t *testing.T) {
	dir := newLedger(t, 5)
	writeLines(t, dir, readLines(t, dir)[:3])
	rep := mustFail(t, dir, ProblemTruncated, 4, 4)
	if rep.Entries != 3 {
		t.Fatalf("entries checked %d", rep.Entries)
	}
	if _, err := Open(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open after truncation: %v", err)
	}
	// Removing everything, even the whole file's content, is also seen.
	writeLines(t, dir, nil)
	mustFail(t, dir, ProblemTruncated, 1, 1)
}

func TestTornLastLineMovedAside(t *testing.T) {
	dir := newLedger(t, 3)
	torn := []byte(`{"seq":4,"time":"2025-01-31T08:00:0`)
	appendRaw(t, dir, torn)

	mustFail(t, dir, ProblemTorn, 4, 0)
	if got, err := Read(dir, Filter{}); err != nil || len(got) != 3 {
		t.Fatalf("Read with torn tail: %d entries, %v", len(got), err)
	}

	c := newClock()
	c.set(time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC))
	l := openT(t, dir, c)
	if h := l.Head(); h.Seq != 4 {
		t.Fatalf("head after Open = %+v, want seq 4 (the interrupted entry)", h)
	}
	entries, err := Read(dir, Filter{Kinds: []Kind{KindInterrupted}})
	if err != nil || len(entries) != 1 {
		t.Fatalf("interrupted entries: %v, %v", entries, err)
	}
	d, err := Decode[InterruptedData](entries[0])
	if err != nil {
		t.Fatal(err)
	}
	side, err := os.ReadFile(filepath.Join(dir, d.TornFile))
	if err != nil || !bytes.Equal(side, torn) {
		t.Fatalf("side file %q = %q, %v; want the torn bytes", d.TornFile, side, err)
	}
	sum := sha256.Sum256(torn)
	if d.TornBytes != int64(len(torn)) || d.TornSHA256 != hex.EncodeToString(sum[:]) || entries[0].Seq != 4 {
		t.Fatalf("interrupted data %+v seq %d", d, entries[0].Seq)
	}
	appendN(t, l, 1)

	rep, err := Verify(dir)
	if err != nil || !rep.OK || rep.LastSeq != 5 {
		t.Fatalf("Verify after repair: %v\n%s", err, rep)
	}
	if len(rep.TornFiles) != 1 || rep.TornFiles[0] != d.TornFile || !strings.Contains(rep.String(), d.TornFile) {
		t.Fatalf("report does not name the torn file %s:\n%s", d.TornFile, rep)
	}
}

func TestUnparsableLastLineIsTorn(t *testing.T) {
	dir := newLedger(t, 2)
	appendRaw(t, dir, []byte("\x00\x00\x00\x00\n")) // zero-filled block after a crash
	l := openT(t, dir, newClock())
	if h := l.Head(); h.Seq != 3 {
		t.Fatalf("head = %+v", h)
	}
	if rep, err := Verify(dir); err != nil || len(rep.TornFiles) != 1 {
		t.Fatalf("Verify: %v\n%s", err, rep)
	}
}

func TestParsableButWrongLastLineIsNotTorn(t *testing.T) {
	dir := newLedger(t, 3)
	lines := readLines(t, dir)
	lines[2] = bytes.Replace(lines[2], []byte("entry 3"), []byte("entry 9"), 1)
	writeLines(t, dir, lines)
	if _, err := Open(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with an edited last line: %v, want ErrCorrupt (not a torn repair)", err)
	}
	if files, _ := TornFiles(dir); len(files) != 0 {
		t.Fatalf("edited line moved aside as torn: %v", files)
	}
}

func TestTornLineAlreadyAnchoredIsCorruption(t *testing.T) {
	dir := newLedger(t, 4)
	lines := readLines(t, dir)
	// Cut the last, anchored line in half: head.json says seq 4 exists.
	lines[3] = lines[3][:len(lines[3])/2]
	writeLines(t, dir, lines)
	if _, err := Open(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open: %v, want ErrCorrupt", err)
	}
	if files, _ := TornFiles(dir); len(files) != 0 {
		t.Fatalf("moved aside although refused: %v", files)
	}
}

func TestHeadLaggingByOneIsRepaired(t *testing.T) {
	dir := newLedger(t, 3)
	lines := readLines(t, dir)
	second, _ := parseLine(bytes.TrimSuffix(lines[1], []byte("\n")))
	writeHeadFile(t, dir, Head{Seq: 2, Hash: second.Hash, Time: second.Time})

	rep, err := Verify(dir)
	if err != nil || !rep.OK || !rep.HeadLagsByOne {
		t.Fatalf("Verify with head one behind: %v\n%s", err, rep)
	}
	l := openT(t, dir, newClock())
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if h, _ := readHead(dir); h == nil || h.Seq != 3 {
		t.Fatalf("head not repaired: %+v", h)
	}

	first, _ := parseLine(bytes.TrimSuffix(lines[0], []byte("\n")))
	writeHeadFile(t, dir, Head{Seq: 1, Hash: first.Hash, Time: first.Time})
	mustFail(t, dir, ProblemHead, 0, 0)
	if _, err := Open(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with head two behind: %v", err)
	}
}

func TestHeadMissing(t *testing.T) {
	dir := newLedger(t, 3)
	if err := os.Remove(filepath.Join(dir, HeadFileName)); err != nil {
		t.Fatal(err)
	}
	mustFail(t, dir, ProblemHead, 0, 0)
}

func writeHeadFile(t *testing.T, dir string, h Head) {
	t.Helper()
	b, _ := json.Marshal(h)
	if err := os.WriteFile(filepath.Join(dir, HeadFileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentAppends(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger")
	l := openT(t, dir, newClock())
	const workers, each = 8, 25
	var wg sync.WaitGroup
	seqs := make(chan uint64, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				e, err := l.Append(context.Background(), Entry{Kind: KindRelaySense, Medium: fmt.Sprintf("m%d", w)})
				if err != nil {
					t.Error(err)
					return
				}
				seqs <- e.Seq
			}
		}()
	}
	// A reader running meanwhile must always see a consistent ledger.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			if rep, err := Verify(dir); err != nil {
				t.Errorf("Verify during appends: %v\n%s", err, rep)
				return
			}
		}
	}()
	wg.Wait()
	<-done
	close(seqs)
	seen := map[uint64]bool{}
	for s := range seqs {
		if seen[s] {
			t.Fatalf("seq %d returned twice", s)
		}
		seen[s] = true
	}
	rep, err := Verify(dir)
	if err != nil || rep.Entries != workers*each || rep.LastSeq != workers*each || len(seen) != workers*each {
		t.Fatalf("Verify: %v, %d seqs\n%s", err, len(seen), rep)
	}
}

func TestSecondOpenRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger")
	l := openT(t, dir, newClock())
	if _, err := Open(dir); !errors.Is(err, ErrInUse) {
		t.Fatalf("second Open: %v, want ErrInUse", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), Entry{Kind: KindError}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
}

func TestAppendValidation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger")
	l := openT(t, dir, newClock())
	ctx := context.Background()
	if _, err := l.Append(ctx, Entry{}); err == nil {
		t.Fatal("empty kind accepted")
	}
	if _, err := l.Append(ctx, Entry{Kind: KindError, Data: json.RawMessage(`{"a":`)}); err == nil {
		t.Fatal("invalid data accepted")
	}
	if _, err := l.Append(ctx, Entry{Kind: KindError, Message: msg.Legacy("\xff")}); err == nil {
		t.Fatal("invalid UTF-8 accepted")
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Append(canceled, Entry{Kind: KindError}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled ctx: %v", err)
	}
	if l.Head().Seq != 0 {
		t.Fatalf("rejected appends were stored: %+v", l.Head())
	}
	e, err := l.Append(ctx, Entry{Kind: KindCycleStart, Data: json.RawMessage(`null`), Seq: 99, Prev: "x", Hash: "y"})
	if err != nil || e.Seq != 1 || e.Data != nil || e.Prev != GenesisHash {
		t.Fatalf("Append: %+v, %v", e, err)
	}
	if rep, err := Verify(dir); err != nil {
		t.Fatalf("Verify: %v\n%s", err, rep)
	}
}

func TestReadFilter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger")
	c := newClock()
	l := openT(t, dir, c)
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	add := func(h int, kind Kind, medium string) {
		c.set(base.Add(time.Duration(h) * time.Hour))
		if _, err := l.Append(context.Background(), Entry{Kind: kind, Medium: medium}); err != nil {
			t.Fatal(err)
		}
	}
	add(0, KindCycleStart, "")
	add(1, KindPowerOn, "usb1")
	add(2, KindSnapshot, "usb1")
	add(3, KindPowerOn, "tape")
	add(4, KindPowerOffVerified, "usb1")
	add(5, KindCycleEnd, "")

	kinds := func(es []Entry) string {
		var s []string
		for _, e := range es {
			s = append(s, string(e.Kind))
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		f    Filter
		want string
	}{
		{Filter{Medium: "usb1"}, "power.on,snapshot,power.off.verified"},
		{Filter{Kinds: []Kind{KindCycleStart, KindCycleEnd}}, "cycle.start,cycle.end"},
		{Filter{From: base.Add(2 * time.Hour), To: base.Add(4 * time.Hour)}, "snapshot,power.on"},
		{Filter{Medium: "usb1", From: base.Add(2 * time.Hour), Kinds: []Kind{KindPowerOffVerified}}, "power.off.verified"},
	} {
		got, err := Read(dir, tc.f)
		if err != nil || kinds(got) != tc.want {
			t.Errorf("Read(%+v) = %s, %v; want %s", tc.f, kinds(got), err, tc.want)
		}
	}
	// Stopping early is fine.
	n := 0
	for _, err := range Entries(dir, Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 2 {
			break
		}
	}
	if got, err := Read(filepath.Join(t.TempDir(), "none"), Filter{}); err != nil || len(got) != 0 {
		t.Fatalf("Read of missing ledger: %v, %v", got, err)
	}
}

func TestReadStopsAtCorruption(t *testing.T) {
	dir := newLedger(t, 4)
	lines := readLines(t, dir)
	lines[1] = bytes.Replace(lines[1], []byte("entry 2"), []byte("entry 7"), 1)
	writeLines(t, dir, lines)
	got, err := Read(dir, Filter{})
	if !errors.Is(err, ErrCorrupt) || len(got) != 1 {
		t.Fatalf("Read = %d entries, %v; want 1 and ErrCorrupt", len(got), err)
	}
}

func TestVerifyMissingLedger(t *testing.T) {
	rep, err := Verify(filepath.Join(t.TempDir(), "none"))
	if err == nil || rep.OK || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Verify of missing ledger: %v", err)
	}
}

// A line that chains correctly by prev but skips seq numbers is still found.
func TestVerifyDetectsSeqGapWithValidPrev(t *testing.T) {
	dir := newLedger(t, 3)
	lines := readLines(t, dir)
	last, err := parseLine(bytes.TrimSuffix(lines[2], []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	forged, h, err := encodeLine(wireEntry{Seq: 5, Time: "2025-01-31T09:00:00Z", Kind: KindSnapshot, Prev: last.Hash})
	if err != nil {
		t.Fatal(err)
	}
	appendRaw(t, dir, forged)
	writeHeadFile(t, dir, Head{Seq: 5, Hash: h})
	mustFail(t, dir, ProblemChain, 4, 5)
}
