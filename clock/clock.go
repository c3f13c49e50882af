// Package clock keeps the appliance's time on a closed hospital LAN. It
// asks the hospital's own NTP servers (none is preset; the public pool is
// never asked); when none answers within a few minutes of the start it
// runs on the board's battery-backed hardware clock (RTC), and on a board
// without one (a Raspberry Pi 4) on the time saved at the last shutdown.
// It never makes the gateway wait longer than that: a missed night is
// worse than a night at a drifting hour. It writes the RTC back whenever
// NTP sets the clock, and reports each change of state (ntp, rtc,
// unsynced) so the ledger records it and every entry carries it.
package clock

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// ValidSince is a time any correct clock is past: an RTC or a server
// saying earlier is wrong (a Pi without battery starts in 1970).
var ValidSince = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// validUntil bounds a plausible time from above (an RTC with garbage).
var validUntil = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// Defaults of Options.
const (
	DefaultWait       = 3 * time.Minute  // "a few minutes" for an NTP answer at the start
	DefaultRetry      = time.Minute      // between rounds while not synchronised
	DefaultResync     = time.Hour        // between rounds once synchronised
	DefaultStaleAfter = 24 * time.Hour   // without an answer this long, NTP time no longer counts
	startRetry        = 10 * time.Second // between rounds during the wait at the start
	slewLimit         = 500 * time.Millisecond
	saveEvery         = 10 * time.Minute
)

// Options configure New. Zero values take the defaults.
type Options struct {
	// Servers lists the NTP servers; it is read every round, so a change
	// on the page takes effect with the next (see Kick).
	Servers func() []string
	System  System // nil: Kernel
	RTC     RTC    // nil: the board has none
	// Query asks one server (nil: Query).
	Query func(ctx context.Context, server string) (Answer, error)
	// LastKnown is the file keeping the time, saved every few minutes
	// and at the end, for a board without RTC ("" keeps none).
	LastKnown  string
	Wait       time.Duration
	Retry      time.Duration
	Resync     time.Duration
	StaleAfter time.Duration
	// After is the timer (nil: time.After); tests drive a fake one.
	After func(time.Duration) <-chan time.Time
	Log   *slog.Logger
}

// Status is what the page shows of the clock.
type Status struct {
	State ledger.ClockState
	// Source is the NTP server that set the clock last, or "rtc".
	Source string
	HasRTC bool
	// Settled: the start's wait is over (NTP answered, or it gave up).
	Settled  bool
	LastSync time.Time     // the last NTP answer taken (zero: none yet)
	Offset   time.Duration // how far that answer moved the clock
	// Problem says why the last round found no time (each server's error).
	Problem msg.Text
	Servers []string
}

// Synced reports whether NTP sets the clock.
func (s Status) Synced() bool { return s.State == ledger.ClockNTP }

// Change is a change of the clock's state, or the start's first decision.
type Change struct {
	From, To ledger.ClockState
	// Source is the NTP server that set the clock, "rtc", or "".
	Source string
	Offset time.Duration
	// Why says what happened, for the ledger and the log.
	Why   msg.Text
	First bool
}

// Clock keeps the time. It is safe for concurrent use.
type Clock struct {
	o        Options
	mu       sync.Mutex
	st       Status
	rtcGood  bool // the RTC holds a time worth running on
	settled  chan struct{}
	kick     chan struct{}
	lastSave time.Time
}

// New returns a clock in state unsynced; Start sets it from the board.
func New(o Options) *Clock {
	if o.Servers == nil {
		o.Servers = func() []string { return nil }
	}
	if o.System == nil {
		o.System = Kernel{}
	}
	if o.Query == nil {
		o.Query = Query
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.Wait = or(o.Wait, DefaultWait)
	o.Retry = or(o.Retry, DefaultRetry)
	o.Resync = or(o.Resync, DefaultResync)
	o.StaleAfter = or(o.StaleAfter, DefaultStaleAfter)
	return &Clock{o: o, settled: make(chan struct{}), kick: make(chan struct{}, 1),
		st: Status{State: ledger.ClockUnsynced, HasRTC: o.RTC != nil}}
}

func or(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// State is the clock's state now, for every ledger entry.
func (c *Clock) State() ledger.ClockState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.State
}

// Status is the clock's state with what the page shows of it.
func (c *Clock) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	st.Servers = c.o.Servers()
	return st
}

// Settled is closed once the start's wait is over.
func (c *Clock) Settled() <-chan struct{} { return c.settled }

// Kick asks the servers at once (they were changed on the page).
func (c *Clock) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func plausible(t time.Time) bool { return !t.Before(ValidSince) && t.Before(validUntil) }

// Start sets the system clock from the board before anything is dated:
// from the RTC when the kernel has not (a time before ValidSince) and the
// RTC holds a plausible one; without that, forward to the time saved at
// the last shutdown. It returns what it did, for the console.
func (c *Clock) Start() msg.Text {
	now := c.o.System.Now()
	if c.o.RTC != nil {
		t, err := c.o.RTC.Read()
		switch {
		case err != nil:
			c.o.Log.Warn("hardware clock unreadable", "err", err)
		case !plausible(t):
			c.o.Log.Warn("hardware clock holds no plausible time (battery?)", "rtc", t)
		default:
			c.mu.Lock()
			c.rtcGood, c.st.State, c.st.Source = true, ledger.ClockRTC, "rtc"
			c.mu.Unlock()
			if !plausible(now) {
				c.step(t, "rtc")
			}
			return msg.T("時計をハードウェア時計(RTC)から設定しました。NTP サーバーの応答を待ちます", "the clock runs on the hardware clock (RTC) until an NTP server answers")
		}
	}
	if last, ok := c.loadLastKnown(); ok && now.Before(last) {
		c.step(last, "last-known")
		return msg.Sprintf("ハードウェア時計がないため、前回保存した時刻 %s に時計を進めました。時刻は同期されていません",
			"no hardware clock: the clock was moved forward to the time saved last (%s); time not synchronised", last.Format(time.RFC3339))
	}
	return msg.T("ハードウェア時計がありません。NTP サーバーが応答するまで時刻は同期されていません",
		"no hardware clock: time not synchronised until an NTP server answers")
}

// step sets the system clock to t, logging a failure (the state then
// stays as it is: the clock was not set).
func (c *Clock) step(t time.Time, from string) bool {
	if err := c.o.System.Set(t); err != nil {
		c.o.Log.Error("setting the clock", "from", from, "err", err)
		return false
	}
	c.o.Log.Info("clock set", "to", t.UTC().Format(time.RFC3339), "from", from)
	return true
}

// Run keeps the time until ctx ends: a round of NTP queries, then a wait
// (short during the start's wait, an hour once synchronised). onChange is
// called with the start's first decision and every later change of state.
func (c *Clock) Run(ctx context.Context, onChange func(Change)) error {
	if onChange == nil {
		onChange = func(Change) {}
	}
	wait := c.o.After(c.o.Wait)
	waitOver := false
	for {
		ans, problem := c.round(ctx)
		if ctx.Err() != nil {
			break
		}
		c.update(ans, problem, waitOver, onChange)
		c.maybeSave()
		if c.isSettled() {
			wait = nil
		}
		select {
		case <-ctx.Done():
		case <-c.o.After(c.interval()):
		case <-c.kick:
		case <-wait:
			waitOver = true
		}
		if ctx.Err() != nil {
			break
		}
	}
	c.saveLastKnown()
	return ctx.Err()
}

func (c *Clock) isSettled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.Settled
}

// interval is the wait before the next round.
func (c *Clock) interval() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !c.st.Settled:
		return min(startRetry, c.o.Retry)
	case c.st.State == ledger.ClockNTP:
		return c.o.Resync
	}
	return c.o.Retry
}

// round asks every server and returns the answer with the shortest round
// trip, or why there is none.
func (c *Clock) round(ctx context.Context) (*Answer, error) {
	servers := c.o.Servers()
	if len(servers) == 0 {
		return nil, msg.New("NTP サーバーが設定されていません", "no NTP server is configured")
	}
	var best *Answer
	var errs []error
	for _, s := range servers {
		a, err := c.o.Query(ctx, s)
		if err == nil && !plausible(c.o.System.Now().Add(a.Offset)) {
			err = msg.Errorf("NTP サーバー %s の時刻 %s は正しくありません", "NTP server %s gives an impossible time (%s)",
				s, c.o.System.Now().Add(a.Offset).UTC().Format(time.RFC3339))
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if best == nil || a.Delay < best.Delay {
			best = &a
		}
	}
	if best != nil {
		return best, nil
	}
	return nil, msg.Join(errs...)
}

// update takes a round's outcome: the clock set by an answer, the start's
// fallback once the wait is over, or NTP time that has gone stale.
func (c *Clock) update(ans *Answer, problem error, waitOver bool, onChange func(Change)) {
	if ans != nil {
		if err := c.adjust(ans.Offset); err != nil {
			ans, problem = nil, err
		}
	}
	if ans != nil {
		c.synced(*ans, onChange)
		return
	}
	c.mu.Lock()
	c.st.Problem = msg.TextOf(problem)
	st, lastSync := c.st, c.st.LastSync
	c.mu.Unlock()
	c.o.Log.Debug("no NTP time this round", "err", problem)
	noServers := len(c.o.Servers()) == 0
	switch {
	case !st.Settled && (waitOver || noServers):
		c.set(c.fallback(), "", 0, c.fallbackWhy(noServers, problem), onChange)
	case st.Settled && st.State == ledger.ClockNTP && c.o.System.Now().Sub(lastSync) > c.o.StaleAfter:
		c.set(c.fallback(), "", 0, msg.Sprintf("NTP サーバーから %s 以上応答がありません。時刻は同期されていません: %s",
			"no NTP server has answered for over %s: time not synchronised: %s", duration.Words(c.o.StaleAfter), msg.TextOf(problem)), onChange)
	}
}

// adjust moves the system clock by offset: slewed when small, so time
// never runs back between ledger entries; stepped when not.
func (c *Clock) adjust(offset time.Duration) error {
	if offset > -slewLimit && offset < slewLimit {
		return c.o.System.Slew(offset)
	}
	return c.o.System.Set(c.o.System.Now().Add(offset))
}

// synced records an answer taken and writes the RTC back (the kernel
// does not while no adjtimex client runs, and gokrazy's ntp, which did,
// is not in the image).
func (c *Clock) synced(a Answer, onChange func(Change)) {
	now := c.o.System.Now()
	if c.o.RTC != nil {
		if err := c.o.RTC.Write(now); err != nil {
			c.o.Log.Error("writing the hardware clock", "err", err)
		} else {
			c.mu.Lock()
			c.rtcGood = true
			c.mu.Unlock()
		}
	}
	c.mu.Lock()
	c.st.LastSync, c.st.Offset, c.st.Problem = now, a.Offset, msg.Text{}
	c.mu.Unlock()
	c.set(ledger.ClockNTP, a.Server, a.Offset, msg.Sprintf("NTP サーバー %s で時刻を合わせました(差 %s)", "the clock was set by the NTP server %s (it was %s off)",
		a.Server, a.Offset.Round(time.Millisecond)), onChange)
}

// fallback is the state without NTP: the RTC's when it holds a time.
func (c *Clock) fallback() ledger.ClockState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rtcGood {
		return ledger.ClockRTC
	}
	return ledger.ClockUnsynced
}

// fallbackWhy says why the start settled without NTP, and on what.
func (c *Clock) fallbackWhy(noServers bool, problem error) msg.Text {
	on := msg.T("ハードウェア時計(RTC)の時刻で動作します。時刻は同期されていません",
		"running on the hardware clock (RTC); time not synchronised")
	if c.fallback() == ledger.ClockUnsynced {
		on = msg.T("この装置には時刻を保てるハードウェア時計がないため、時刻は同期されておらず、大きくずれているおそれがあります",
			"this board has no hardware clock holding the time: time not synchronised, and it may be far off")
	}
	if noServers {
		return msg.Sprintf("NTP サーバーが設定されていません。%s", "no NTP server is configured: %s", on)
	}
	return msg.Sprintf("NTP サーバーから %s 以内に応答がありません。%s: %s", "no NTP server answered within %s: %s: %s",
		duration.Words(c.o.Wait), on, msg.TextOf(problem))
}

// set moves the state to s and tells onChange: always for the start's
// first decision, later only when the state changes.
func (c *Clock) set(s ledger.ClockState, source string, offset time.Duration, why msg.Text, onChange func(Change)) {
	if source == "" && s == ledger.ClockRTC {
		source = "rtc"
	}
	c.mu.Lock()
	first := !c.st.Settled
	ch := Change{From: c.st.State, To: s, Source: source, Offset: offset, Why: why, First: first}
	c.st.State, c.st.Settled = s, true
	if source != "" {
		c.st.Source = source
	}
	c.mu.Unlock()
	if first {
		close(c.settled)
	}
	if first || ch.From != ch.To {
		c.o.Log.Info("clock", "state", s, "why", why.String())
		onChange(ch)
	}
}

// maybeSave keeps the time on /perm every few minutes.
func (c *Clock) maybeSave() {
	now := c.o.System.Now()
	if now.Sub(c.lastSave) >= saveEvery || now.Before(c.lastSave) {
		c.saveLastKnown()
	}
}

// saveLastKnown writes the time now, if it is plausible.
func (c *Clock) saveLastKnown() {
	now := c.o.System.Now()
	if c.o.LastKnown == "" || !plausible(now) {
		return
	}
	err := os.MkdirAll(filepath.Dir(c.o.LastKnown), 0o700)
	if err == nil {
		err = atomicfile.Write(c.o.LastKnown, []byte(now.UTC().Format(time.RFC3339Nano)+"\n"), 0o600)
	}
	if err != nil {
		c.o.Log.Warn("saving the time", "file", c.o.LastKnown, "err", err)
		return
	}
	c.lastSave = now
}

// loadLastKnown reads the time saved last.
func (c *Clock) loadLastKnown() (time.Time, bool) {
	if c.o.LastKnown == "" {
		return time.Time{}, false
	}
	b, err := os.ReadFile(c.o.LastKnown)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.o.Log.Warn("reading the saved time", "file", c.o.LastKnown, "err", err)
		}
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
	if err != nil || !plausible(t) {
		c.o.Log.Warn("the saved time is unreadable", "file", c.o.LastKnown, "content", string(b))
		return time.Time{}, false
	}
	return t, true
}
