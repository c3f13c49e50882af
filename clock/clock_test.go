package clock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/ledger"
)

// harness runs a Clock on a fake system clock, RTC, NTP and timer. Every
// timer Run asks for arrives on timers, and fires only when the test says:
// the test decides exactly when time passes.
type harness struct {
	t       *testing.T
	mu      sync.Mutex
	wall    time.Time
	sets    []time.Time
	slews   []time.Duration
	rtc     *fakeRTC
	servers []string
	answer  func(server string) (Answer, error)
	queries int
	timers  chan timer
	changes chan Change
	c       *Clock
	done    chan error
	cancel  context.CancelFunc
}

type timer struct {
	d  time.Duration
	ch chan time.Time
}

type fakeRTC struct {
	mu      sync.Mutex
	t       time.Time
	err     error
	written []time.Time
}

func (r *fakeRTC) Read() (time.Time, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.t, r.err
}

func (r *fakeRTC) Write(t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.written = append(r.written, t)
	return nil
}

func (h *harness) Now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.wall
}

func (h *harness) Set(t time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wall = t
	h.sets = append(h.sets, t)
	return nil
}

func (h *harness) Slew(d time.Duration) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wall = h.wall.Add(d)
	h.slews = append(h.slews, d)
	return nil
}

var noAnswer = func(s string) (Answer, error) { return Answer{}, errors.New(s + ": no answer within 3s") }

// newHarness builds the clock: wall is the system clock at the start;
// rtc nil means a board without one.
func newHarness(t *testing.T, wall time.Time, rtc *fakeRTC, servers ...string) *harness {
	h := &harness{t: t, wall: wall, rtc: rtc, servers: servers, answer: noAnswer,
		timers: make(chan timer), changes: make(chan Change, 10)}
	o := Options{
		Servers: func() []string {
			h.mu.Lock()
			defer h.mu.Unlock()
			return append([]string(nil), h.servers...)
		},
		System: h,
		Query: func(_ context.Context, s string) (Answer, error) {
			h.mu.Lock()
			h.queries++
			f := h.answer
			h.mu.Unlock()
			a, err := f(s)
			a.Server = s
			return a, err
		},
		LastKnown: filepath.Join(t.TempDir(), "last-known"),
		After: func(d time.Duration) <-chan time.Time {
			ch := make(chan time.Time, 1)
			h.timers <- timer{d, ch}
			return ch
		},
	}
	if rtc != nil {
		o.RTC = rtc
	}
	h.c = New(o)
	return h
}

// run starts Run and returns the start's wait timer.
func (h *harness) run() timer {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.c.Run(ctx, func(ch Change) { h.changes <- ch }) }()
	h.t.Cleanup(h.stop)
	return h.next(DefaultWait)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	for {
		select {
		case <-h.timers: // Run may ask for a timer on its way out
		case err := <-h.done:
			if !errors.Is(err, context.Canceled) {
				h.t.Errorf("Run ended with %v, want context.Canceled", err)
			}
			h.cancel = nil
			return
		}
	}
}

// next is the next timer Run asks for, which must be for d.
func (h *harness) next(d time.Duration) timer {
	h.t.Helper()
	select {
	case tm := <-h.timers:
		if tm.d != d {
			h.t.Fatalf("Run waits %s, want %s", tm.d, d)
		}
		return tm
	case <-time.After(5 * time.Second):
		h.t.Fatal("Run asked for no timer")
	}
	return timer{}
}

// fire lets tm's time pass on the wall clock, then fires it.
func (h *harness) fire(tm timer) {
	h.mu.Lock()
	h.wall = h.wall.Add(tm.d)
	h.mu.Unlock()
	tm.ch <- h.Now()
}

func (h *harness) change() Change {
	h.t.Helper()
	select {
	case ch := <-h.changes:
		return ch
	case <-time.After(5 * time.Second):
		h.t.Fatal("no change of the clock's state")
	}
	return Change{}
}

func (h *harness) noChange() {
	h.t.Helper()
	select {
	case ch := <-h.changes:
		h.t.Fatalf("unexpected change %+v", ch)
	default:
	}
}

var (
	boot  = time.Date(1970, 1, 1, 0, 0, 12, 0, time.UTC) // a Pi without a clock
	today = time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)
)

// The start waits a few minutes for NTP, retrying every 10 s; when no
// server answers it settles on the hardware clock.
func TestNoNTPAnswerRunsOnTheRTC(t *testing.T) {
	h := newHarness(t, boot, &fakeRTC{t: today}, "192.168.10.1")
	if said := h.c.Start(); !strings.Contains(said.EN, "hardware clock (RTC)") {
		t.Errorf("Start said %q", said.EN)
	}
	if h.c.State() != ledger.ClockRTC || len(h.sets) != 1 || !h.sets[0].Equal(today) {
		t.Fatalf("after Start: state %s, sets %v; want rtc and the clock set from the RTC", h.c.State(), h.sets)
	}
	wait := h.run()
	for range 3 {
		h.fire(h.next(startRetry))
	}
	h.noChange()
	select {
	case <-h.c.Settled():
		t.Fatal("settled before the wait was over")
	default:
	}
	h.next(startRetry)
	h.fire(wait)
	ch := h.change()
	if !ch.First || ch.From != ledger.ClockRTC || ch.To != ledger.ClockRTC ||
		!strings.Contains(ch.Why.EN, "no NTP server answered within 3 minutes") || !strings.Contains(ch.Why.EN, "192.168.10.1: no answer") {
		t.Fatalf("change = %+v", ch)
	}
	<-h.c.Settled()
	st := h.c.Status()
	if st.Synced() || st.State != ledger.ClockRTC || !st.HasRTC || st.Source != "rtc" || !strings.Contains(st.Problem.EN, "no answer") {
		t.Fatalf("status = %+v", st)
	}
	// It keeps asking, once a minute now.
	h.fire(h.next(DefaultRetry))
	h.next(DefaultRetry)
	h.noChange()
}

// A board without a hardware clock (Raspberry Pi 4) and no NTP answer:
// the time saved at the last shutdown, and "unsynced".
func TestNoNTPAnswerWithoutRTCIsUnsynced(t *testing.T) {
	h := newHarness(t, boot, nil, "192.168.10.1")
	saved := today.Add(-3 * time.Hour)
	if err := os.WriteFile(h.c.o.LastKnown, []byte(saved.Format(time.RFC3339Nano)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if said := h.c.Start(); !strings.Contains(said.EN, "moved forward to the time saved last") {
		t.Errorf("Start said %q", said.EN)
	}
	if h.c.State() != ledger.ClockUnsynced || !h.Now().Equal(saved) {
		t.Fatalf("after Start: state %s, clock %s; want unsynced at %s", h.c.State(), h.Now(), saved)
	}
	wait := h.run()
	h.next(startRetry)
	h.fire(wait)
	ch := h.change()
	if !ch.First || ch.To != ledger.ClockUnsynced || !strings.Contains(ch.Why.EN, "no hardware clock") {
		t.Fatalf("change = %+v", ch)
	}
	if st := h.c.Status(); st.HasRTC || st.State != ledger.ClockUnsynced {
		t.Fatalf("status = %+v", st)
	}
	h.stop()
	b, err := os.ReadFile(h.c.o.LastKnown)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b))); err != nil || got.Before(saved) {
		t.Fatalf("saved time at the end = %s, %v; want at least %s", b, err, saved)
	}
}

// Without any NTP server configured there is nothing to wait for.
func TestNoServersSettlesAtOnce(t *testing.T) {
	h := newHarness(t, today, &fakeRTC{t: today})
	h.c.Start()
	h.run()
	ch := h.change()
	if !ch.First || ch.To != ledger.ClockRTC || !strings.Contains(ch.Why.EN, "no NTP server is configured") {
		t.Fatalf("change = %+v", ch)
	}
	<-h.c.Settled()
	if len(h.sets) != 0 {
		t.Errorf("a plausible clock was set: %v", h.sets)
	}
	h.next(DefaultRetry)
}

// An answer sets the clock (stepped when far off, slewed when close) and
// the RTC; once answers stop for a day, the state falls back to the RTC.
func TestNTPSetsTheClockAndTheRTC(t *testing.T) {
	rtc := &fakeRTC{t: today}
	h := newHarness(t, today, rtc, "192.168.10.1", "192.168.10.2")
	h.c.Start()
	wait := h.run()
	// The first round (no answer) is over once Run asks for its retry
	// timer; only then may the servers start answering.
	retry := h.next(startRetry)
	h.mu.Lock()
	h.answer = func(s string) (Answer, error) {
		if s == "192.168.10.1" {
			return Answer{}, errors.New("down")
		}
		return Answer{Offset: 2 * time.Hour, Delay: 3 * time.Millisecond}, nil
	}
	h.mu.Unlock()
	h.fire(retry)
	ch := h.change()
	if !ch.First || ch.From != ledger.ClockRTC || ch.To != ledger.ClockNTP || ch.Source != "192.168.10.2" || ch.Offset != 2*time.Hour {
		t.Fatalf("change = %+v", ch)
	}
	if len(h.sets) != 1 || !h.sets[0].Equal(today.Add(startRetry+2*time.Hour)) {
		t.Fatalf("sets = %v; want a step of 2h", h.sets)
	}
	if len(rtc.written) != 1 || !rtc.written[0].Equal(h.sets[0]) {
		t.Fatalf("RTC written %v, want the new time", rtc.written)
	}
	_ = wait // settled: the start's timer no longer matters
	h.mu.Lock()
	h.answer = func(string) (Answer, error) { return Answer{Offset: 40 * time.Millisecond}, nil }
	h.mu.Unlock()
	h.fire(h.next(DefaultResync))
	tm := h.next(DefaultResync) // the round is done
	h.mu.Lock()
	slews := append([]time.Duration(nil), h.slews...)
	h.answer = noAnswer
	h.mu.Unlock()
	if len(slews) != 1 || slews[0] != 40*time.Millisecond {
		t.Fatalf("slews = %v; a small offset is slewed", slews)
	}
	h.noChange()
	h.fire(tm)
	for range 24 { // a day and an hour after the last answer
		h.fire(h.next(DefaultResync))
	}
	ch = h.change()
	if ch.First || ch.From != ledger.ClockNTP || ch.To != ledger.ClockRTC || !strings.Contains(ch.Why.EN, "for over 1 day") {
		t.Fatalf("change after a day without answers = %+v", ch)
	}
	h.next(DefaultRetry)
}

// New servers saved on the page are asked at once, not after the next
// minute; an answer with an impossible time is refused.
func TestKickAndImplausibleAnswers(t *testing.T) {
	h := newHarness(t, today, nil)
	h.c.Start()
	h.run()
	if ch := h.change(); ch.To != ledger.ClockUnsynced {
		t.Fatalf("change = %+v", ch)
	}
	h.next(DefaultRetry)
	h.mu.Lock()
	h.servers = []string{"10.0.0.1"}
	h.answer = func(string) (Answer, error) { return Answer{Offset: -60 * 365 * 24 * time.Hour}, nil }
	h.mu.Unlock()
	h.c.Kick()
	h.next(DefaultRetry)
	h.noChange()
	if p := h.c.Status().Problem; !strings.Contains(p.EN, "impossible time") {
		t.Fatalf("problem = %v", p)
	}
	h.mu.Lock()
	h.answer = func(string) (Answer, error) { return Answer{Offset: time.Second}, nil }
	h.mu.Unlock()
	h.c.Kick()
	if ch := h.change(); ch.To != ledger.ClockNTP || ch.First {
		t.Fatalf("change = %+v", ch)
	}
	if st := h.c.Status(); !st.Synced() || st.Source != "10.0.0.1" || !st.Problem.IsZero() || st.LastSync.IsZero() {
		t.Fatalf("status = %+v", st)
	}
}

// An RTC without a plausible time (a Pi 5 whose battery ran out) does not
// count as a clock.
func TestImplausibleRTC(t *testing.T) {
	h := newHarness(t, boot, &fakeRTC{t: boot})
	h.c.Start()
	if h.c.State() != ledger.ClockUnsynced || len(h.sets) != 0 {
		t.Fatalf("state %s, sets %v", h.c.State(), h.sets)
	}
	h.run()
	if ch := h.change(); ch.To != ledger.ClockUnsynced {
		t.Fatalf("change = %+v", ch)
	}
	h.next(DefaultRetry)
}
