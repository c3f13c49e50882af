package relay

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/relay/rtu"
)

// State is a commanded or sensed power state.
type State string

const (
	On       State = "on"
	Off      State = "off"
	Unstable State = "unstable" // the sense input did not settle
	Unknown  State = "unknown"  // not read: no sense input, simulated, or interrupted
)

func (s State) opposite() State {
	switch s {
	case On:
		return Off
	case Off:
		return On
	}
	return Unknown
}

// Text names the state for people.
func (s State) Text() msg.Text {
	switch s {
	case On, Off:
		return msg.Plain(strings.ToUpper(string(s)))
	case Unstable:
		return msg.T("不安定", "unstable")
	}
	return msg.T("不明", string(s))
}

// Event kinds.
const (
	KindCheck   = "check"   // sense reading taken just before a command
	KindCommand = "command" // the output line was driven (Err says if that failed)
	KindSense   = "sense"   // the reading that confirms or contradicts the command
)

// Event is one piece of evidence: a command or a sense reading. The
// observer receives them in the order they happened for each relay.
type Event struct {
	Time      time.Time `json:"time"`
	Relay     string    `json:"relay"`
	Kind      string    `json:"kind"`
	Want      State     `json:"want"`
	Got       State     `json:"got,omitempty"` // sense reading; empty for commands
	Verified  bool      `json:"verified"`
	Simulated bool      `json:"simulated,omitempty"`
	Note      msg.Text  `json:"note,omitzero"` // why a reading is not a proof
	Err       msg.Text  `json:"err,omitzero"`
}

// Result is the outcome of one On or Off. Only Verified=true is a proof.
type Result struct {
	Relay     string        `json:"relay"`
	Want      State         `json:"want"`
	Sense     State         `json:"sense"` // last sense reading; Unknown without one
	Verified  bool          `json:"verified"`
	Simulated bool          `json:"simulated,omitempty"`
	Reason    msg.Text      `json:"reason,omitzero"` // why not verified
	Time      time.Time     `json:"time"`            // when the operation started
	Took      time.Duration `json:"took"`
}

// Reasons given with Verified=false when nothing disagreed.

// ReasonSimulated: a simulated relay powers and cuts nothing.
func ReasonSimulated() msg.Text {
	return msg.T("シミュレーション: 何も給電・切断していません(オフラインではありません)", "simulated — not offline: this relay powers nothing")
}

// ReasonNoSense: without a sense input nothing proves the state.
func ReasonNoSense() msg.Text {
	return msg.T("センス入力が設定されていないため、状態を証明できません", "no sense input is configured, so the state cannot be proven")
}

// ReasonUnproven: the sense input agrees but was never seen to change.
func ReasonUnproven() msg.Text {
	return msg.T("センス入力は指令どおりですが、起動後にまだ変化を見ていないため、センス配線の健全性が未確認です(次の通電・切断で証明されます)",
		"sense input agrees, but has not been seen to change since start, so the sense wire itself is unproven (the next on/off cycle proves it)")
}

const settle = 3 // consecutive equal readings that count as a stable sense level

// Relay is one relay output with its optional sense input. Its methods are
// safe for concurrent use; operations on one relay run one at a time.
type Relay struct {
	set   *Set
	spec  Spec
	sim   bool
	out   gpio.PinOut // never read: in gpioioctl a Read turns the line into an input
	sense gpio.PinIn

	mu sync.Mutex
	// Proof state for the standing command.
	commanded   State // last command sent (Unknown until the first)
	proven      bool  // the sense was seen to change to the commanded state
	agreed      bool  // the sense agreed without a change, only possible since start
	sawOpposite bool  // the sense read the opposite state while or just before this command stood
}

// Name returns the relay's configured name.
func (r *Relay) Name() string { return r.spec.Name }

// Spec returns the relay's configuration.
func (r *Relay) Spec() Spec { return r.spec }

// Simulated reports whether the relay powers nothing.
func (r *Relay) Simulated() bool { return r.sim }

// On drives the relay on and waits until the sense input reads ON, for at
// most the spec's on_timeout. The medium may be used only if the error is nil.
func (r *Relay) On(ctx context.Context) (Result, error) {
	if r.set.isClosed() {
		return Result{Relay: r.spec.Name, Want: On, Sense: Unknown, Simulated: r.sim}, ErrClosed
	}
	return r.op(ctx, On)
}

// Off drives the relay off and waits until the sense input reads OFF, for
// at most the spec's off_timeout. The cut is proven only if Result.Verified
// is true; any error means it is not.
func (r *Relay) Off(ctx context.Context) (Result, error) {
	if r.set.isClosed() {
		return Result{Relay: r.spec.Name, Want: Off, Sense: Unknown, Simulated: r.sim}, ErrClosed
	}
	return r.op(ctx, Off)
}

func (r *Relay) op(ctx context.Context, want State) (Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := time.Now()
	res := Result{Relay: r.spec.Name, Want: want, Sense: Unknown, Simulated: r.sim, Time: start}
	err := r.operate(ctx, want, &res)
	res.Took = time.Since(start)
	if err != nil {
		res.Reason = msg.TextOf(err)
	}
	return res, err
}

// standing is what was proven about the command before this one.
type standing struct {
	cmd            State
	proven, agreed bool
}

// operate sends want and judges what the sense input says of it into res.
func (r *Relay) operate(ctx context.Context, want State, res *Result) error {
	// Turning on is never urgent; turning off is always sent, even on a
	// cancelled context, because a cut cannot hurt.
	if want == On && ctx.Err() != nil {
		return &NotVerifiedError{Relay: r.spec.Name, Want: want, Sense: Unknown, Cause: CauseCanceled, Err: ctx.Err()}
	}
	before, checkErr := r.check(ctx, want)
	prev := standing{cmd: r.commanded, proven: r.proven, agreed: r.agreed}
	r.commanded, r.proven, r.agreed = want, false, false
	if err := r.command(ctx, want, before); err != nil {
		return err
	}
	if r.sense == nil {
		res.Reason = ReasonNoSense()
		if r.sim {
			res.Reason = ReasonSimulated()
		}
		r.set.emit(r, Event{Kind: KindSense, Want: want, Got: Unknown, Note: res.Reason})
		return nil
	}
	got, err := r.confirm(ctx, want)
	res.Sense = got
	if err != nil {
		return err
	}
	if checkErr != nil {
		// The state before the command is unknown (a module that lost power
		// has dropped its relays itself), so this agreement proves nothing.
		nv := r.linkError(want, got, checkErr)
		r.set.emit(r, Event{Kind: KindSense, Want: want, Got: got, Err: msg.TextOf(nv)})
		return nv
	}
	return r.judge(want, got, prev, res)
}

// check reads the sense input just before the command (when there is
// time to), and notes whether it read the opposite of want. A read that
// failed (a relay module's link) is returned: it leaves the result
// unproven, but the command is still sent.
func (r *Relay) check(ctx context.Context, want State) (State, error) {
	before := Unknown
	var failed error
	if r.sense != nil && ctx.Err() == nil {
		// A reading that did not settle is evidence as it is (Unstable).
		var err error
		before, err = r.read(ctx, time.Time{}, "")
		ev := Event{Kind: KindCheck, Want: want, Got: before}
		if se, ok := errors.AsType[*senseError](err); ok {
			failed = se.err
			ev.Err = msg.TextOf(se.err)
		}
		r.set.emit(r, ev)
	}
	if r.commanded != want {
		r.sawOpposite = false
	}
	if before == want.opposite() {
		r.sawOpposite = true
	}
	return before, failed
}

// command drives the output line to want. An error that may pass (a
// relay module's lost frame, an adapter being replugged) is retried within
// the spec's timeout: a coil write can be repeated safely.
func (r *Relay) command(ctx context.Context, want, before State) error {
	ev := Event{Kind: KindCommand, Want: want}
	deadline := time.Now().Add(r.spec.timeout(want))
	err := r.drive(want)
	for err != nil && temporary(err) && time.Now().Before(deadline) && (want == Off || ctx.Err() == nil) {
		r.set.log.Warn("relay command failed, retrying", "relay", r.spec.Name, "want", string(want), "err", err)
		time.Sleep(r.set.poll)
		err = r.drive(want)
	}
	if err != nil {
		nv := &NotVerifiedError{Relay: r.spec.Name, Want: want, Sense: before, Cause: CauseCommand, Err: err}
		ev.Err = msg.TextOf(nv)
		r.set.emit(r, ev)
		return nv
	}
	r.set.emit(r, ev)
	return nil
}

// temporary reports whether err says that repeating may succeed.
func temporary(err error) bool {
	t, ok := errors.AsType[interface {
		error
		Temporary() bool
	}](err)
	return ok && t.Temporary()
}

// confirm waits, up to the spec's timeout, for the sense input to read
// want, and says why it did not.
func (r *Relay) confirm(ctx context.Context, want State) (State, error) {
	timeout := r.spec.timeout(want)
	got, err := r.read(ctx, time.Now().Add(timeout), want)
	if got == want.opposite() {
		r.sawOpposite = true
	}
	if err == nil {
		return got, nil
	}
	nv := &NotVerifiedError{Relay: r.spec.Name, Want: want, Sense: got, Cause: CauseSense, Timeout: timeout}
	se, link := errors.AsType[*senseError](err)
	switch {
	case ctx.Err() != nil:
		nv.Cause, nv.Err, nv.Timeout = CauseCanceled, ctx.Err(), 0
	case link:
		nv = r.linkError(want, got, se.err)
	case got == Unstable:
		nv.Cause = CauseUnstable
	}
	r.set.emit(r, Event{Kind: KindSense, Want: want, Got: got, Err: msg.TextOf(nv)})
	return got, nv
}

// linkError is the failure when a relay module's sense input could not be
// read: its power loss, or a link that failed.
func (r *Relay) linkError(want, got State, err error) *NotVerifiedError {
	nv := &NotVerifiedError{Relay: r.spec.Name, Want: want, Sense: got, Cause: CauseLink, Err: err}
	if errors.Is(err, rtu.ErrPowerLoss) {
		nv.Cause = CausePowerLoss
	}
	return nv
}

// judge decides what a sense reading that agrees with want proves: the
// state, if the input was seen to change; nothing yet, just after start;
// else that the relay or the sense wire is stuck.
func (r *Relay) judge(want, got State, prev standing, res *Result) error {
	switch {
	case r.sawOpposite || (prev.cmd == want && prev.proven):
		r.proven, res.Verified = true, true
		r.set.emit(r, Event{Kind: KindSense, Want: want, Got: got, Verified: true})
	case prev.cmd == Unknown || (prev.cmd == want && prev.agreed):
		r.agreed, res.Reason = true, ReasonUnproven()
		r.set.emit(r, Event{Kind: KindSense, Want: want, Got: got, Note: res.Reason})
	default:
		nv := &NotVerifiedError{Relay: r.spec.Name, Want: want, Sense: got, Cause: CauseNoChange}
		r.set.emit(r, Event{Kind: KindSense, Want: want, Got: got, Err: msg.TextOf(nv)})
		return nv
	}
	return nil
}

func (r *Relay) drive(want State) error {
	if r.sim {
		return nil
	}
	level := want == On
	if r.spec.ActiveLow {
		level = !level
	}
	return r.out.Out(gpio.Level(level))
}

var errTimeout = errors.New("timeout")

// senseError is a sense reading that failed (a relay module's input):
// never a level.
type senseError struct{ err error }

func (e *senseError) Error() string { return e.err.Error() }
func (e *senseError) Unwrap() error { return e.err }

// levelReader is a sense input whose reading can fail (rtu.Input).
type levelReader interface {
	ReadLevel() (gpio.Level, error)
}

// sample reads the sense input once.
func (r *Relay) sample() (State, error) {
	var l gpio.Level
	if lr, ok := r.sense.(levelReader); ok {
		var err error
		if l, err = lr.ReadLevel(); err != nil {
			return Unknown, err
		}
	} else {
		l = r.sense.Read()
	}
	if bool(l) != r.spec.Sense.ActiveLow {
		return On, nil
	}
	return Off, nil
}

// read polls the sense input until it has read the same level settle times
// in a row (and that level is want, unless want is empty), or gives up: at
// deadline, or after 3*settle readings when deadline is zero. Giving up needs
// at least 3*settle readings, so a stalled scheduler cannot fake a failure.
// It returns the settled level, or Unstable when the last readings differ.
//
// A failed reading breaks the run of equal readings and is retried (line
// noise passes), except a module's power loss, and in the check before a
// command (zero deadline) a second failure in a row, so that a silent
// module does not hold up the cut. A failure since the last settled run
// makes giving up a *senseError.
func (r *Relay) read(ctx context.Context, deadline time.Time, want State) (State, error) {
	tick := time.NewTicker(r.set.poll)
	defer tick.Stop()
	last, run, fails := Unknown, 0, 0
	var failed error
	for n := 1; ; n++ {
		s, err := r.sample()
		switch {
		case err != nil:
			last, run, failed = Unknown, 0, err
			if fails++; errors.Is(err, rtu.ErrPowerLoss) || (deadline.IsZero() && fails >= 2) {
				return Unknown, &senseError{err}
			}
		case s == last:
			run, fails = run+1, 0
		default:
			last, run, fails = s, 1, 0
		}
		if run >= settle {
			failed = nil
			if want == "" || s == want {
				return s, nil
			}
		}
		if n >= 3*settle && (deadline.IsZero() || !time.Now().Before(deadline)) {
			switch {
			case failed != nil:
				return Unknown, &senseError{failed}
			case run >= settle:
				return last, errTimeout
			}
			return Unstable, errTimeout
		}
		select {
		case <-ctx.Done():
			if run >= settle {
				return last, ctx.Err()
			}
			return Unknown, ctx.Err()
		case <-tick.C:
		}
	}
}

func pullOf(s string) (gpio.Pull, bool) {
	switch s {
	case PullKeep:
		return gpio.PullNoChange, true
	case PullNone:
		return gpio.Float, true
	case PullUp:
		return gpio.PullUp, true
	case PullDown:
		return gpio.PullDown, true
	}
	return gpio.PullNoChange, false
}

func (r *Relay) logAttrs(e Event) []any {
	a := []any{slog.String("relay", r.spec.Name), slog.String("kind", e.Kind), slog.String("want", string(e.Want))}
	if e.Got != "" {
		a = append(a, slog.String("got", string(e.Got)))
	}
	a = append(a, slog.Bool("verified", e.Verified))
	if e.Simulated {
		a = append(a, slog.Bool("simulated", true))
	}
	if !e.Note.IsZero() {
		a = append(a, slog.String("note", e.Note.String()))
	}
	if !e.Err.IsZero() {
		a = append(a, slog.String("err", e.Err.String()))
	}
	return a
}
