package relay_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/rtu/rtusim"
)

var tokyo = mustZone("Asia/Tokyo")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func at(day, hm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hm, tokyo)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWindowAcrossMidnight(t *testing.T) {
	// 2026-12-07 is a Monday. The window opens Monday and Friday nights.
	w, err := relay.ParseWindow("22:00", "05:00", []string{"mon", "FRI"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		open bool
	}{
		{at("2026-12-07", "21:59"), false},
		{at("2026-12-07", "22:00"), true},
		{at("2026-12-08", "04:59"), true}, // Tuesday morning, Monday's window
		{at("2026-12-08", "05:00"), false},
		{at("2026-12-08", "23:00"), false}, // Tuesday opens no window
		{at("2026-12-09", "01:00"), false},
		{at("2026-12-12", "03:00"), true}, // Saturday morning, Friday's window
	} {
		if got := w.Contains(c.at); got != c.open {
			t.Errorf("Contains(%s) = %v, want %v", c.at.Format("Mon 15:04"), got, c.open)
		}
	}
	if got, want := w.NextOpen(at("2026-12-08", "06:00")), at("2026-12-11", "22:00"); !got.Equal(want) {
		t.Errorf("NextOpen = %s, want %s", got, want)
	}
	if now := at("2026-12-07", "23:00"); !w.NextOpen(now).Equal(now) {
		t.Errorf("NextOpen inside the window = %s", w.NextOpen(now))
	}
	if got := w.Text().Localize(msg.EN); got != "22:00–05:00 (mon, fri)" {
		t.Errorf("Text = %q", got)
	}
}

func TestParseWindowRefuses(t *testing.T) {
	for _, c := range []struct {
		start, end string
		days       []string
	}{
		{"25:00", "05:00", nil}, {"22:00", "", nil}, {"02:00", "02:00", nil}, {"01:00", "04:00", []string{"monday"}},
	} {
		if _, err := relay.ParseWindow(c.start, c.end, c.days); err == nil || msg.In(err, msg.JA) == msg.In(err, msg.EN) {
			t.Errorf("ParseWindow(%q, %q, %q) = %v, want a bilingual error", c.start, c.end, c.days, err)
		}
	}
}

// testClock is the clock an interlock timer and the test share.
type testClock struct{ t atomic.Pointer[time.Time] }

func newClock(t time.Time) *testClock { c := &testClock{}; c.set(t); return c }
func (c *testClock) set(t time.Time)  { c.t.Store(&t) }
func (c *testClock) now() time.Time   { return *c.t.Load() }

// gate is the timer's contact as a function of the clock.
func (c *testClock) gate(w relay.Window) func() bool {
	return func() bool { return w.Contains(c.now()) }
}

// interlocked checks, through the real relay code path, what an
// interlock timer does: inside the window on and off are proven as
// always; outside it the ON command leaves the sense OFF (the timer holds
// the coil's supply open), which is a not-verified ON, never a success;
// and the timer opening while the relay is commanded on powers the medium.
func interlocked(t *testing.T, set *relay.Set, r *relay.Relay, clock *testClock, powered func() bool) {
	t.Helper()
	if _, err := set.AllOff(t.Context()); err != nil {
		t.Fatalf("AllOff: %v", err)
	}
	clock.set(at("2026-12-07", "23:00"))
	res, err := r.On(t.Context())
	mustVerified(t, res, err, relay.On)
	res, err = r.Off(t.Context())
	mustVerified(t, res, err, relay.Off)

	clock.set(at("2026-12-08", "12:00"))
	res, err = r.On(t.Context())
	if nv := notVerified(t, err, relay.CauseSense); nv.Sense != relay.Off || res.Verified || powered() {
		t.Fatalf("ON outside the window: %+v %v, powered %v", res, err, powered())
	}
	clock.set(at("2026-12-08", "22:30")) // the window opens while the coil is still commanded on
	if !powered() {
		t.Fatal("the timer opened the window but the medium has no power")
	}
	res, err = r.Off(t.Context())
	mustVerified(t, res, err, relay.Off)
}

func TestInterlockOnTheFakeBoard(t *testing.T) {
	w, err := relay.ParseWindow("22:00", "05:00", nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := newClock(at("2026-12-07", "23:00"))
	s := spec("disk-a", 1)
	set, board, _ := open(t, s)
	fr := board.Relay(s.Name)
	fr.SetGate(clock.gate(w))
	interlocked(t, set, get(t, set, s.Name), clock, fr.Powered)
}

func TestInterlockOnTheModule(t *testing.T) {
	w, err := relay.ParseWindow("22:00", "05:00", nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := newClock(at("2026-12-07", "23:00"))
	mod := rtusim.New(1, 4)
	mod.Gate(2, clock.gate(w))
	s := modbusSpec("disk-m", "m1", 2)
	set, _ := openModbus(t, []relay.Spec{s}, mod)
	interlocked(t, set, get(t, set, s.Name), clock, func() bool { return mod.Coil(2) })
}
