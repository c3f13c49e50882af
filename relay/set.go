package relay

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/relay/rtu"

	"periph.io/x/conn/v3/gpio"
)

// PinSource opens GPIO lines by chip and line offset. The GPIO character
// device driver and relay/fake implement it, so the same relay code drives
// real and fake pins. Outputs are gpio.PinOut so that nothing here can read
// them back.
type PinSource interface {
	Output(chip string, line int) (gpio.PinOut, error)
	Input(chip string, line int) (gpio.PinIn, error)
}

// Options configures Open. The zero value is usable on real hardware.
type Options struct {
	// Sources maps a Spec.Driver name to its pins. "gpio" defaults to the
	// GPIO character device; "fake" must be given (tests, demo); "simulated"
	// needs no pins.
	Sources map[string]PinSource
	// Observer receives every Event, one at a time. It must not block for
	// long and must not call back into the Set.
	Observer func(Event)
	// Modules are the Modbus RTU relay modules that relays of driver
	// "modbus" name in their chip field.
	Modules []rtu.ModuleSpec
	Logger  *slog.Logger
	// Poll is the sense sampling interval (default 10ms); a level counts once
	// it is read 3 times in a row, which rides out contact bounce.
	Poll time.Duration
}

// Set is the relays of one appliance.
type Set struct {
	relays   []*Relay
	byName   map[string]*Relay
	observer func(Event)
	log      *slog.Logger
	poll     time.Duration
	emitMu   sync.Mutex
	closers  []func()
	closed   atomic.Bool
	once     sync.Once
	closeErr error
}

// Open validates specs and opens their lines. It does not drive any output:
// call AllOff right after, before anything else, to reach a known, verified
// state. If opening fails part-way, the outputs already opened are driven
// off (best effort) and released.
func Open(ctx context.Context, specs []Spec, opts Options) (*Set, error) {
	s := &Set{byName: map[string]*Relay{}, observer: opts.Observer, log: opts.Logger, poll: opts.Poll}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.poll <= 0 {
		s.poll = 10 * time.Millisecond
	}
	if err := checkSpecs(specs); err != nil {
		return nil, err
	}
	if opts.Sources[DriverModbus] == nil {
		if err := CheckModuleNames(specs, opts.Modules); err != nil {
			return nil, err
		}
	}
	sources := map[string]PinSource{}
	source := func(driver string) (PinSource, error) {
		if src, ok := sources[driver]; ok {
			return src, nil
		}
		src, err := s.pinSource(ctx, driver, opts)
		if err == nil {
			sources[driver] = src
		}
		return src, err
	}
	for _, sp := range specs {
		if err := ctx.Err(); err != nil {
			return nil, s.abandon(err)
		}
		r := &Relay{set: s, spec: sp, commanded: Unknown, sim: sp.Driver == DriverSimulated}
		if !r.sim {
			src, err := source(sp.Driver)
			if err != nil {
				return nil, s.abandon(msg.Errorf("リレー %s: %w", "relay %s: %w", sp.Name, err))
			}
			if r.out, err = src.Output(sp.Chip, sp.Line); err != nil {
				return nil, s.abandon(msg.Errorf("リレー %s: 出力ライン %s:%d を開けません: %w", "relay %s: cannot open output line %s:%d: %w", sp.Name, sp.Chip, sp.Line, err))
			}
			// Registered before the sense so a failure below still cuts this output.
			s.relays = append(s.relays, r)
			if sn := sp.Sense; sn != nil {
				pull, _ := pullOf(sn.Pull)
				in, err := src.Input(sn.Chip, sn.Line)
				if err == nil {
					err = in.In(pull, gpio.NoEdge)
				}
				if err != nil {
					return nil, s.abandon(msg.Errorf("リレー %s: センス入力 %s:%d を開けません: %w", "relay %s: cannot open sense input %s:%d: %w", sp.Name, sn.Chip, sn.Line, err))
				}
				r.sense = in
			}
		} else {
			s.relays = append(s.relays, r)
		}
		s.byName[sp.Name] = r
	}
	return s, nil
}

// pinSource opens the pins of driver: Options.Sources' if given, else the
// GPIO character device, or the Modbus relay modules of Options.Modules.
// What it opens is released by Close.
func (s *Set) pinSource(ctx context.Context, driver string, opts Options) (PinSource, error) {
	if src := opts.Sources[driver]; src != nil {
		return src, nil
	}
	switch driver {
	case DriverGPIO:
		cd, err := openCharDev(gpioGlob)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, cd.close)
		return cd, nil
	case DriverModbus:
		bus, err := rtu.Open(ctx, opts.Modules, rtu.Options{Logger: s.log})
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, func() {
			if err := bus.Close(); err != nil {
				s.log.Warn("relay modules: closing the serial ports", "err", err)
			}
		})
		return bus, nil
	case DriverFake:
		return nil, FakeRefused().Err()
	}
	return nil, msg.Errorf("ドライバ %q のピンが Options.Sources にありません", "no pin source for driver %q in Options.Sources", driver)
}

// checkSpecs validates every spec and that no name or line is used twice.
func checkSpecs(specs []Spec) error {
	var errs []error
	names := map[string]bool{}
	invalid := map[int]bool{}
	for i, sp := range specs {
		if err := sp.Validate(); err != nil {
			errs = append(errs, err)
			invalid[i] = true
			continue
		}
		if names[sp.Name] {
			errs = append(errs, &FieldError{In: item(sp.Name), Field: "name", Text: msg.T("名前が重複しています", "name is used twice")})
		}
		names[sp.Name] = true
	}
	for _, c := range LineConflicts(specs) {
		if !invalid[c.Index] {
			errs = append(errs, &FieldError{In: item(specs[c.Index].Name), Field: c.Field, Text: c.Text})
		}
	}
	return errors.Join(errs...)
}

// CheckModuleNames checks that every relay of driver "modbus" names a
// configured module in its chip and its sense chip.
func CheckModuleNames(specs []Spec, modules []rtu.ModuleSpec) error {
	names := map[string]bool{}
	for _, m := range modules {
		names[m.Name] = true
	}
	var errs []error
	missing := func(sp Spec, field, chip string) {
		errs = append(errs, &FieldError{In: item(sp.Name), Field: field,
			Text: msg.Sprintf("リレーモジュール %q が relay_modules にありません", "there is no relay module %q in relay_modules", chip)})
	}
	for _, sp := range specs {
		if sp.Driver != DriverModbus {
			continue
		}
		if !names[sp.Chip] {
			missing(sp, "chip", sp.Chip)
		}
		if sp.Sense != nil && !names[sp.Sense.Chip] {
			missing(sp, "sense.chip", sp.Sense.Chip)
		}
	}
	return errors.Join(errs...)
}

// LineConflict is a GPIO line that a relay uses when an earlier relay (or
// its own output) already uses it: two relays on one line switch or sense
// each other's medium, so neither cut could be proven.
type LineConflict struct {
	Index int    // the relay in the list that uses the line second
	Field string // "line" or "sense.line"
	Text  msg.Text
}

// LineConflicts finds every line used twice among specs, outputs and
// sense inputs alike (a relay of the simulated driver uses no line). The
// configuration refuses them before they are saved; Open refuses them too.
func LineConflicts(specs []Spec) []LineConflict {
	type key struct {
		driver, chip string
		input        bool // a Modbus module's discrete inputs are not its coils
		line         int
	}
	lines := map[key]string{}
	var out []LineConflict
	use := func(i int, field, chip string, line int) {
		d := specs[i].Driver
		k := key{d, chip, d == DriverModbus && field == "sense.line", line}
		if other, ok := lines[k]; ok {
			out = append(out, LineConflict{Index: i, Field: field,
				Text: msg.Sprintf("ライン %s:%d はリレー %s がすでに使っています", "line %s:%d is already used by relay %s", chip, line, other)})
			return
		}
		lines[k] = specs[i].Name
	}
	for i, sp := range specs {
		if sp.Driver == DriverSimulated {
			continue
		}
		use(i, "line", sp.Chip, sp.Line)
		if sp.Sense != nil {
			use(i, "sense.line", sp.Sense.Chip, sp.Sense.Line)
		}
	}
	return out
}

// abandon cuts what Open had opened, releases it and returns cause.
func (s *Set) abandon(cause error) error {
	for _, r := range s.relays {
		ev := Event{Kind: KindCommand, Want: Off}
		if err := r.drive(Off); err != nil {
			err = msg.Errorf("リレー %s: 出力をOFFにできません: %w", "relay %s: cannot drive output off: %w", r.spec.Name, err)
			ev.Err = msg.TextOf(err)
			cause = errors.Join(cause, err)
		}
		s.emit(r, ev)
	}
	for _, c := range s.closers {
		c()
	}
	return cause
}

// Get returns the relay with the given name.
func (s *Set) Get(name string) (*Relay, bool) {
	r, ok := s.byName[name]
	return r, ok
}

// Relays returns the relays in configuration order.
func (s *Set) Relays() []*Relay {
	return append([]*Relay(nil), s.relays...)
}

// Simulated reports whether any relay of the set powers nothing.
func (s *Set) Simulated() bool {
	for _, r := range s.relays {
		if r.sim {
			return true
		}
	}
	return false
}

// AllOff drives every relay off and verifies each, all at once so that a
// stuck relay does not delay cutting the others. It is the fail-safe run at
// start and at Close. The error joins every relay's error; results are in
// configuration order.
func (s *Set) AllOff(ctx context.Context) ([]Result, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	return s.allOff(ctx)
}

func (s *Set) allOff(ctx context.Context) ([]Result, error) {
	results := make([]Result, len(s.relays))
	errs := make([]error, len(s.relays))
	var wg sync.WaitGroup
	for i, r := range s.relays {
		wg.Go(func() { results[i], errs[i] = r.op(ctx, Off) })
	}
	wg.Wait()
	return results, errors.Join(errs...)
}

// Close drives every relay off, waits for the verification (bounded by each
// off_timeout) and releases the lines. The outputs stay off after release.
// It returns the AllOff error; later calls return the same.
func (s *Set) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		_, s.closeErr = s.allOff(context.Background())
		for _, c := range s.closers {
			c()
		}
	})
	return s.closeErr
}

func (s *Set) isClosed() bool { return s.closed.Load() }

func (s *Set) emit(r *Relay, e Event) {
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	e.Time = time.Now()
	e.Relay = r.spec.Name
	e.Simulated = r.sim
	level := slog.LevelInfo
	switch {
	case !e.Err.IsZero():
		level = slog.LevelError
	case e.Kind == KindSense && !e.Verified:
		level = slog.LevelWarn
	}
	s.log.Log(context.Background(), level, "relay "+e.Kind, r.logAttrs(e)...)
	if s.observer != nil {
		s.observer(e)
	}
}

// FakeRefused says that a program which gives no pins of its own (all but
// the tests and the demo) cannot drive the fake driver, and what to use
// on a PC without relays instead.
func FakeRefused() msg.Text {
	return msg.Sprintf("ドライバ %q は試験とデモ専用で、このプログラムでは動かせません。リレーのない PC では %q にしてください(何も給電しないため、オフラインの証明にはなりません)",
		"driver %q is for tests and the demo only: this program cannot drive it. On a PC without relays use %q (it powers nothing, so no cut is ever proven)", DriverFake, DriverSimulated)
}
