package relay_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/fake"
)

const timeout = relay.Duration(300 * time.Millisecond)

// spec is a relay on fake chip "gpiochip0" with output line n and sense line n+32.
func spec(name string, n int) relay.Spec {
	return relay.Spec{
		Name: name, Driver: relay.DriverGPIO, Chip: "gpiochip0", Line: n,
		Sense:     &relay.SenseSpec{Chip: "gpiochip0", Line: n + 32, Pull: relay.PullUp},
		OnTimeout: timeout, OffTimeout: timeout,
	}
}

type recorder struct {
	mu     sync.Mutex
	events []relay.Event
}

func (r *recorder) add(e relay.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// take returns the events of one relay, in order, and forgets all events.
func (r *recorder) take(name string) []relay.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []relay.Event
	for _, e := range r.events {
		if e.Relay == name {
			out = append(out, e)
		}
	}
	r.events = nil
	return out
}

// open opens specs over a fake board standing in for the GPIO character
// device, so the real relay code path runs. It checks at the end that no
// output line was ever read.
func open(t *testing.T, specs ...relay.Spec) (*relay.Set, *fake.Board, *recorder) {
	t.Helper()
	board := fake.NewBoard(specs...)
	rec := &recorder{}
	set, err := relay.Open(t.Context(), specs, relay.Options{
		Sources:  map[string]relay.PinSource{relay.DriverGPIO: board, relay.DriverFake: board},
		Observer: rec.add,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Poll:     2 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		_ = set.Close()
		for _, s := range specs {
			if fr := board.Relay(s.Name); fr != nil && fr.OutputReads() != 0 {
				t.Errorf("relay %s: output line was read %d times; outputs must never be read", s.Name, fr.OutputReads())
			}
		}
	})
	return set, board, rec
}

func get(t *testing.T, set *relay.Set, name string) *relay.Relay {
	t.Helper()
	r, ok := set.Get(name)
	if !ok {
		t.Fatalf("Get(%q): not found", name)
	}
	return r
}

// notVerified asserts err is a *NotVerifiedError with the given cause.
func notVerified(t *testing.T, err error, cause relay.Cause) *relay.NotVerifiedError {
	t.Helper()
	wantCause(t, err, cause)
	var nv *relay.NotVerifiedError
	errors.As(err, &nv)
	return nv
}

// wantCause fails t unless err is a *relay.NotVerifiedError for cause.
func wantCause(t *testing.T, err error, cause relay.Cause) {
	t.Helper()
	var nv *relay.NotVerifiedError
	if !errors.As(err, &nv) {
		t.Fatalf("error = %v (%T), want *relay.NotVerifiedError", err, err)
	}
	if nv.Cause != cause {
		t.Fatalf("cause = %q, want %q (%v)", nv.Cause, cause, err)
	}
}

func mustVerified(t *testing.T, res relay.Result, err error, want relay.State) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", want, err)
	}
	if !res.Verified || res.Want != want || res.Sense != want || res.Simulated || !res.Reason.IsZero() {
		t.Fatalf("result = %+v, want verified %s", res, want)
	}
}

func TestOnOffVerified(t *testing.T) {
	set, board, _ := open(t, spec("disk-a", 1))
	r, fr := get(t, set, "disk-a"), board.Relay("disk-a")
	ctx := t.Context()

	// Start-up: nothing to compare with, so the sense agrees but proves nothing yet.
	res, err := set.AllOff(ctx)
	if err != nil {
		t.Fatalf("AllOff: %v", err)
	}
	if len(res) != 1 || res[0].Verified || res[0].Sense != relay.Off || res[0].Reason != relay.ReasonUnproven() {
		t.Fatalf("start-up AllOff = %+v, want unproven OFF", res)
	}
	if fr.Pull() != gpio.PullUp {
		t.Fatalf("sense pull = %v, want pull-up", fr.Pull())
	}

	on, err := r.On(ctx)
	mustVerified(t, on, err, relay.On)
	if !fr.Powered() {
		t.Fatal("medium not powered after verified On")
	}
	off, err := r.Off(ctx)
	mustVerified(t, off, err, relay.Off)
	if fr.Powered() {
		t.Fatal("medium powered after verified Off")
	}
	// A repeated Off keeps the proof: the sense stayed OFF since the change.
	again, err := r.Off(ctx)
	mustVerified(t, again, err, relay.Off)
	if on.Took <= 0 || on.Time.IsZero() {
		t.Fatalf("On result lacks timing: %+v", on)
	}
}

func TestWeldedOffNotVerified(t *testing.T) {
	set, board, _ := open(t, spec("disk-a", 1))
	r := get(t, set, "disk-a")
	ctx := t.Context()
	if _, err := r.On(ctx); err != nil {
		t.Fatal(err)
	}
	board.Relay("disk-a").SetMode(fake.Welded)
	start := time.Now()
	res, err := r.Off(ctx)
	nv := notVerified(t, err, relay.CauseSense)
	if nv.Relay != "disk-a" || nv.Want != relay.Off || nv.Sense != relay.On || nv.Timeout != time.Duration(timeout) {
		t.Fatalf("error fields = %+v", nv)
	}
	if res.Verified || res.Sense != relay.On || res.Reason != msg.TextOf(err) {
		t.Fatalf("result = %+v", res)
	}
	if time.Since(start) < time.Duration(timeout) {
		t.Fatalf("gave up after %s, before the %s timeout", time.Since(start), time.Duration(timeout))
	}
	for l, want := range map[msg.Lang]string{
		msg.JA: "リレー disk-a: 切断を確認できません(300ms 経ってもセンス入力がONのまま。媒体に給電されている可能性があります",
		msg.EN: "relay disk-a: cut not verified: sense input still reads ON after 300ms",
	} {
		if got := msg.In(err, l); !strings.HasPrefix(got, want) {
			t.Errorf("%v message %q does not start with %q", l, got, want)
		}
	}
	if !board.Relay("disk-a").Powered() {
		t.Fatal("fake: welded relay should keep the medium powered")
	}
}

func TestStuckOffOnFails(t *testing.T) {
	set, board, _ := open(t, spec("disk-a", 1))
	r := get(t, set, "disk-a")
	ctx := t.Context()
	board.Relay("disk-a").SetMode(fake.StuckOff)
	_, err := r.On(ctx)
	nv := notVerified(t, err, relay.CauseSense)
	if nv.Want != relay.On || nv.Sense != relay.Off {
		t.Fatalf("error fields = %+v", nv)
	}
	if !strings.Contains(err.Error(), "通電を確認できません") || !strings.Contains(err.Error(), "power-on not verified: sense input still reads OFF") {
		t.Fatalf("message = %q", err)
	}
	// The sense never followed the ON command, so its OFF now proves no cut.
	res, err := r.Off(ctx)
	wantCause(t, err, relay.CauseNoChange)
	if res.Verified {
		t.Fatalf("Off after a stuck relay verified: %+v", res)
	}
}

func TestBrokenSenseNeverLooksLikeSuccess(t *testing.T) {
	ctx := t.Context()
	t.Run("breaks while on", func(t *testing.T) {
		set, board, _ := open(t, spec("disk-a", 1))
		r := get(t, set, "disk-a")
		if _, err := r.On(ctx); err != nil {
			t.Fatal(err)
		}
		board.Relay("disk-a").SetMode(fake.SenseBroken)
		res, err := r.Off(ctx)
		nv := notVerified(t, err, relay.CauseNoChange)
		if res.Verified || nv.Sense != relay.Off {
			t.Fatalf("result %+v, error %+v", res, nv)
		}
		if !strings.Contains(err.Error(), "センス配線の断線") || !strings.Contains(err.Error(), "broken sense wire") {
			t.Fatalf("message = %q", err)
		}
	})
	t.Run("broken before on", func(t *testing.T) {
		set, board, _ := open(t, spec("disk-a", 1))
		r := get(t, set, "disk-a")
		board.Relay("disk-a").SetMode(fake.SenseBroken)
		res, err := set.AllOff(ctx)
		if err != nil || res[0].Verified {
			t.Fatalf("start-up AllOff = %+v, %v; want unproven, not verified", res, err)
		}
		_, err = r.On(ctx)
		wantCause(t, err, relay.CauseSense)
		off, err := r.Off(ctx)
		wantCause(t, err, relay.CauseNoChange)
		if off.Verified {
			t.Fatal("broken sense verified a cut")
		}
		// Retrying does not turn it into a proof either.
		off, err = r.Off(ctx)
		wantCause(t, err, relay.CauseNoChange)
		if off.Verified {
			t.Fatal("retried Off verified a cut with a broken sense")
		}
	})
	t.Run("floating", func(t *testing.T) {
		set, board, _ := open(t, spec("disk-a", 1))
		r := get(t, set, "disk-a")
		if _, err := r.On(ctx); err != nil {
			t.Fatal(err)
		}
		board.Relay("disk-a").SetMode(fake.SenseFloating)
		res, err := r.Off(ctx)
		nv := notVerified(t, err, relay.CauseUnstable)
		if res.Verified || nv.Sense != relay.Unstable || res.Sense != relay.Unstable {
			t.Fatalf("result %+v, error %+v", res, nv)
		}
	})
}

func TestSlowRelease(t *testing.T) {
	ctx := t.Context()
	t.Run("mode", func(t *testing.T) {
		set, board, _ := open(t, spec("disk-a", 1))
		r := get(t, set, "disk-a")
		if _, err := r.On(ctx); err != nil {
			t.Fatal(err)
		}
		board.Relay("disk-a").SetMode(fake.SlowRelease)
		_, err := r.Off(ctx)
		nv := notVerified(t, err, relay.CauseSense)
		if nv.Sense != relay.On || !strings.Contains(err.Error(), "after 300ms") {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("late release is proven on retry", func(t *testing.T) {
		set, board, _ := open(t, spec("disk-a", 1))
		r := get(t, set, "disk-a")
		board.Relay("disk-a").SetDelays(0, 600*time.Millisecond)
		if _, err := r.On(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := r.Off(ctx)
		wantCause(t, err, relay.CauseSense)
		time.Sleep(400 * time.Millisecond)
		// The sense went from ON to OFF while the OFF command stood: a change seen.
		res, err := r.Off(ctx)
		mustVerified(t, res, err, relay.Off)
	})
	t.Run("within timeout", func(t *testing.T) {
		set, board, _ := open(t, spec("disk-a", 1))
		r := get(t, set, "disk-a")
		board.Relay("disk-a").SetDelays(50*time.Millisecond, 100*time.Millisecond)
		on, err := r.On(ctx)
		mustVerified(t, on, err, relay.On)
		off, err := r.Off(ctx)
		mustVerified(t, off, err, relay.Off)
		if on.Took < 50*time.Millisecond || off.Took < 100*time.Millisecond {
			t.Fatalf("verified before the sense followed: on %s, off %s", on.Took, off.Took)
		}
	})
}

func TestNoSenseNeverVerified(t *testing.T) {
	s := spec("uplink", 3)
	s.Sense = nil
	set, board, rec := open(t, s)
	r := get(t, set, "uplink")
	ctx := t.Context()
	for _, op := range []func(context.Context) (relay.Result, error){r.On, r.Off, r.On, r.Off} {
		res, err := op(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Verified || res.Reason != relay.ReasonNoSense() || res.Sense != relay.Unknown {
			t.Fatalf("result = %+v, want unverified with ReasonNoSense", res)
		}
	}
	if board.Relay("uplink").Powered() || board.Relay("uplink").Commands() != 4 {
		t.Fatalf("fake: powered=%v commands=%d", board.Relay("uplink").Powered(), board.Relay("uplink").Commands())
	}
	for _, e := range rec.take("uplink") {
		if e.Verified || e.Kind == relay.KindCheck {
			t.Fatalf("event %+v from a relay without sense", e)
		}
	}
}

func TestSimulated(t *testing.T) {
	specs := []relay.Spec{
		{Name: "vm-disk", Driver: relay.DriverSimulated},
		{Name: "vm-copied", Driver: relay.DriverSimulated, Chip: "pinctrl-rp1", Line: 17,
			Sense: &relay.SenseSpec{Chip: "pinctrl-rp1", Line: 27}},
	}
	rec := &recorder{}
	// No pin source at all: a VM has none.
	set, err := relay.Open(t.Context(), specs, relay.Options{Observer: rec.add, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := set.Close(); err != nil {
			t.Error(err)
		}
	}()
	if !set.Simulated() {
		t.Fatal("Set.Simulated() = false")
	}
	ctx := t.Context()
	for _, name := range []string{"vm-disk", "vm-copied"} {
		r := get(t, set, name)
		if !r.Simulated() {
			t.Fatalf("%s: Simulated() = false", name)
		}
		for _, op := range []func(context.Context) (relay.Result, error){r.On, r.Off, r.Off} {
			res, err := op(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Simulated || res.Verified || res.Reason != relay.ReasonSimulated() {
				t.Fatalf("%s: result = %+v, want simulated and unverified", name, res)
			}
		}
		evs := rec.take(name)
		if len(evs) != 6 {
			t.Fatalf("%s: %d events, want 6 (command+sense per op)", name, len(evs))
		}
		for _, e := range evs {
			if !e.Simulated || e.Verified {
				t.Fatalf("%s: event %+v, want simulated and unverified", name, e)
			}
		}
	}
	res, err := set.AllOff(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.Simulated || r.Verified {
			t.Fatalf("AllOff result %+v", r)
		}
	}
	if !strings.Contains(relay.ReasonSimulated().EN, "simulated — not offline") {
		t.Fatalf("ReasonSimulated = %q", relay.ReasonSimulated())
	}
}

func TestAllOffContinuesPastFailure(t *testing.T) {
	set, board, _ := open(t, spec("a", 1), spec("b", 2), spec("c", 3))
	ctx := t.Context()
	for _, n := range []string{"a", "b", "c"} {
		if _, err := get(t, set, n).On(ctx); err != nil {
			t.Fatal(err)
		}
	}
	board.Relay("b").SetMode(fake.Welded)
	res, err := set.AllOff(ctx)
	if err == nil {
		t.Fatal("AllOff succeeded with a welded relay")
	}
	nv := notVerified(t, err, relay.CauseSense)
	if nv.Relay != "b" {
		t.Fatalf("failing relay = %q, want b", nv.Relay)
	}
	if len(res) != 3 || res[0].Relay != "a" || res[1].Relay != "b" || res[2].Relay != "c" {
		t.Fatalf("results = %+v", res)
	}
	if !res[0].Verified || res[1].Verified || !res[2].Verified {
		t.Fatalf("verified = %v %v %v, want true false true", res[0].Verified, res[1].Verified, res[2].Verified)
	}
	if board.Relay("a").Powered() || board.Relay("c").Powered() {
		t.Fatal("healthy relays left powered")
	}
	if !strings.Contains(err.Error(), "relay b: cut not verified") {
		t.Fatalf("joined error = %q", err)
	}
}

func TestActiveLevels(t *testing.T) {
	for _, tc := range []struct{ outLow, senseLow bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		name := map[bool]string{false: "high", true: "low"}
		t.Run("out-"+name[tc.outLow]+"/sense-"+name[tc.senseLow], func(t *testing.T) {
			s := spec("disk", 5)
			s.ActiveLow, s.Sense.ActiveLow = tc.outLow, tc.senseLow
			set, board, _ := open(t, s)
			r, fr := get(t, set, "disk"), board.Relay("disk")
			ctx := t.Context()
			if _, err := set.AllOff(ctx); err != nil {
				t.Fatal(err)
			}
			if fr.Energised() {
				t.Fatal("AllOff energised the relay coil")
			}
			on, err := r.On(ctx)
			mustVerified(t, on, err, relay.On)
			if !fr.Energised() || !fr.Powered() {
				t.Fatal("On did not energise the coil")
			}
			off, err := r.Off(ctx)
			mustVerified(t, off, err, relay.Off)
			if fr.Energised() || fr.Powered() {
				t.Fatal("Off left the coil energised")
			}
		})
	}
}

func TestContextCancellation(t *testing.T) {
	s := spec("disk-a", 1)
	s.OffTimeout = relay.Duration(10 * time.Second)
	set, board, _ := open(t, s)
	r, fr := get(t, set, "disk-a"), board.Relay("disk-a")
	if _, err := r.On(t.Context()); err != nil {
		t.Fatal(err)
	}
	fr.SetMode(fake.SlowRelease)

	ctx, cancel := context.WithTimeout(t.Context(), 80*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Off(ctx)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Off waited %s after its context ended", d)
	}
	wantCause(t, err, relay.CauseCanceled)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v does not wrap the context error", err)
	}
	if fr.Energised() {
		t.Fatal("the OFF command was not sent")
	}

	// A cancelled context never turns a relay on, but always sends OFF.
	fr.SetMode(fake.Healthy)
	done, cancelNow := context.WithCancel(t.Context())
	cancelNow()
	n := fr.Commands()
	_, err = r.On(done)
	wantCause(t, err, relay.CauseCanceled)
	if fr.Commands() != n || fr.Energised() {
		t.Fatal("On with a cancelled context drove the output")
	}
	_, err = r.Off(done)
	wantCause(t, err, relay.CauseCanceled)
	if fr.Commands() != n+1 {
		t.Fatal("Off with a cancelled context did not drive the output off")
	}
}

func TestEventsInOrder(t *testing.T) {
	set, board, rec := open(t, spec("disk-a", 1))
	r := get(t, set, "disk-a")
	ctx := t.Context()
	if _, err := r.On(ctx); err != nil {
		t.Fatal(err)
	}
	board.Relay("disk-a").SetMode(fake.Welded)
	_, offErr := r.Off(ctx)
	if offErr == nil {
		t.Fatal("welded Off succeeded")
	}
	evs := rec.take("disk-a")
	type ev struct {
		kind      string
		want, got relay.State
		verified  bool
		hasErr    bool
	}
	want := []ev{
		{relay.KindCheck, relay.On, relay.Off, false, false},
		{relay.KindCommand, relay.On, "", false, false},
		{relay.KindSense, relay.On, relay.On, true, false},
		{relay.KindCheck, relay.Off, relay.On, false, false},
		{relay.KindCommand, relay.Off, "", false, false},
		{relay.KindSense, relay.Off, relay.On, false, true},
	}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(evs), len(want), evs)
	}
	for i, e := range evs {
		got := ev{e.Kind, e.Want, e.Got, e.Verified, !e.Err.IsZero()}
		if got != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got, want[i])
		}
		if e.Relay != "disk-a" || e.Simulated || e.Time.IsZero() {
			t.Errorf("event %d fields: %+v", i, e)
		}
		if i > 0 && e.Time.Before(evs[i-1].Time) {
			t.Errorf("event %d is earlier than event %d", i, i-1)
		}
	}
	if evs[5].Err != msg.TextOf(offErr) {
		t.Errorf("sense event Err = %q, want the returned error", evs[5].Err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	board := fake.NewBoard(spec("a", 1))
	src := map[string]relay.PinSource{relay.DriverGPIO: board}

	dup := spec("a", 2)
	_, err := relay.Open(ctx, []relay.Spec{spec("a", 1), dup}, relay.Options{Sources: src})
	var fe *relay.FieldError
	if !errors.As(err, &fe) || fe.Field != "name" {
		t.Fatalf("duplicate name: %v", err)
	}
	sameLine := spec("b", 1)
	_, err = relay.Open(ctx, []relay.Spec{spec("a", 1), sameLine}, relay.Options{Sources: src})
	if !errors.As(err, &fe) || fe.Field != "line" || !strings.Contains(err.Error(), "already used by relay a") {
		t.Fatalf("shared line: %v", err)
	}
	fk := spec("f", 9)
	fk.Driver = relay.DriverFake
	_, err = relay.Open(ctx, []relay.Spec{fk}, relay.Options{})
	if err == nil || !strings.Contains(err.Error(), `driver "fake" is for tests and the demo only`) || !strings.Contains(err.Error(), `use "simulated"`) {
		t.Fatalf("fake without source: %v", err)
	}

	// The second relay's line is not wired: Open fails and cuts the first.
	_, err = relay.Open(ctx, []relay.Spec{spec("a", 1), spec("z", 7)}, relay.Options{Sources: src})
	if err == nil || !strings.Contains(err.Error(), "relay z: cannot open output line gpiochip0:7") {
		t.Fatalf("unwired line: %v", err)
	}
	if fa := board.Relay("a"); fa.Commands() != 1 || fa.Energised() {
		t.Fatalf("opened output not driven off on failure: commands=%d energised=%v", fa.Commands(), fa.Energised())
	}
}

func TestGPIODriverWithoutChips(t *testing.T) {
	s := spec("disk-a", 17)
	s.Chip, s.Sense = "no-such-chip", nil
	_, err := relay.Open(t.Context(), []relay.Spec{s}, relay.Options{})
	if err == nil {
		t.Fatal("Open with driver gpio succeeded without such a chip")
	}
	if chips, _ := filepath.Glob("/dev/gpiochip*"); len(chips) > 0 {
		if !strings.Contains(err.Error(), `no GPIO chip "no-such-chip"`) {
			t.Fatalf("error = %v", err)
		}
		return
	}
	if !errors.Is(err, relay.ErrNoGPIO) {
		t.Fatalf("error = %v, want ErrNoGPIO", err)
	}
	for _, want := range []string{"/dev/gpiochip*", `driver "simulated"`, "GPIO キャラクタデバイス", "relay disk-a"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestClose(t *testing.T) {
	set, board, _ := open(t, spec("a", 1), spec("b", 2))
	ctx := t.Context()
	for _, n := range []string{"a", "b"} {
		if _, err := get(t, set, n).On(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := set.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, n := range []string{"a", "b"} {
		if board.Relay(n).Energised() || board.Relay(n).Powered() {
			t.Fatalf("%s left on after Close", n)
		}
	}
	if _, err := get(t, set, "a").On(ctx); !errors.Is(err, relay.ErrClosed) {
		t.Fatalf("On after Close: %v", err)
	}
	if _, err := set.AllOff(ctx); !errors.Is(err, relay.ErrClosed) {
		t.Fatalf("AllOff after Close: %v", err)
	}
}

func TestFakeDriverName(t *testing.T) {
	s := spec("demo", 4)
	s.Driver = relay.DriverFake
	set, board, _ := open(t, s)
	on, err := get(t, set, "demo").On(t.Context())
	mustVerified(t, on, err, relay.On)
	if !board.Relay("demo").Powered() {
		t.Fatal("fake driver did not power the medium")
	}
}
