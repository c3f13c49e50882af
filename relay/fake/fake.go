// Package fake is a relay board in memory for tests and the demo. Board
// implements relay.PinSource, so the relay package drives it through exactly
// the code path it uses for /dev/gpiochip lines. Each relay couples its
// output line to its sense line: driving the output closes the contact and,
// after an optional delay, the sense line reads the medium's supply. Modes
// model the faults the relay package must catch.
package fake

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"

	"github.com/danzen-gw/danzen/relay"
)

// Mode is a relay's behaviour: healthy or one fault.
type Mode int

const (
	Healthy       Mode = iota
	Welded             // contact stuck closed: the medium stays powered, sense reads ON
	StuckOff           // contact never closes: the medium never gets power, sense reads OFF
	SenseBroken        // sense wire cut: the sense reads inactive whatever the relay does
	SenseFloating      // sense input floating: every read returns the other level
	SlowRelease        // the supply drops late: sense reads OFF only SlowReleaseDelay after the cut
)

// SlowReleaseDelay is how long a SlowRelease relay keeps reading ON after
// the coil drops (unless SetDelays gives a longer off delay).
const SlowReleaseDelay = time.Minute

func (m Mode) String() string {
	switch m {
	case Healthy:
		return "healthy"
	case Welded:
		return "welded"
	case StuckOff:
		return "stuck-off"
	case SenseBroken:
		return "sense-broken"
	case SenseFloating:
		return "sense-floating"
	case SlowRelease:
		return "slow-release"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

type lineKey struct {
	chip string
	n    int
}

// Board is a set of fake relays addressed by chip and line, like GPIO chips.
type Board struct {
	mu     sync.Mutex
	relays map[string]*Relay
	outs   map[lineKey]*Relay
	senses map[lineKey]*Relay
	dir    string // Persist's directory, "" when the coils live in memory only
}

var _ relay.PinSource = (*Board)(nil)

// NewBoard wires a healthy relay for each spec that is not simulated: its
// output at (chip, line) with the spec's active level, and its sense, if
// any, at the sense line with the sense's active level.
func NewBoard(specs ...relay.Spec) *Board {
	b := &Board{relays: map[string]*Relay{}, outs: map[lineKey]*Relay{}, senses: map[lineKey]*Relay{}}
	for _, s := range specs {
		if s.Driver != relay.DriverSimulated {
			b.Add(s)
		}
	}
	return b
}

// Add wires one more relay as NewBoard does and returns it.
func (b *Board) Add(s relay.Spec) *Relay {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := &Relay{b: b, name: s.Name, outActiveLow: s.ActiveLow}
	b.relays[s.Name] = r
	b.outs[lineKey{s.Chip, s.Line}] = r
	if s.Sense != nil {
		r.senseActiveLow = s.Sense.ActiveLow
		b.senses[lineKey{s.Sense.Chip, s.Sense.Line}] = r
	}
	return r
}

// Relay returns the wired relay with that name, or nil.
func (b *Board) Relay(name string) *Relay {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.relays[name]
}

// Output implements relay.PinSource.
func (b *Board) Output(chip string, n int) (gpio.PinOut, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.outs[lineKey{chip, n}]
	if r == nil {
		return nil, fmt.Errorf("fake: no relay output wired at %s:%d", chip, n)
	}
	return &Pin{r: r, chip: chip, n: n}, nil
}

// Input implements relay.PinSource.
func (b *Board) Input(chip string, n int) (gpio.PinIn, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.senses[lineKey{chip, n}]
	if r == nil {
		return nil, fmt.Errorf("fake: no sense input wired at %s:%d", chip, n)
	}
	return &Pin{r: r, chip: chip, n: n, sense: true}, nil
}

// Relay is one fake relay with its contact and sense line. Its state is
// guarded by its Board's mutex.
type Relay struct {
	b                            *Board
	name                         string
	outActiveLow, senseActiveLow bool

	mode              Mode
	onDelay, offDelay time.Duration
	coil              bool      // energised by the output line
	contact           bool      // NO contact closed: the medium's supply is on
	shown             bool      // supply level the sense showed before the last change
	changed           time.Time // when contact last changed
	flip              bool      // SenseFloating's next level
	pull              gpio.Pull
	commands          int
	outReads          int
	// gate is an interlock timer in series with the coil's supply: while
	// it reports closed, the coil gets no current whatever is commanded
	// (nil: no timer).
	gate func() bool
}

// SetGate puts an interlock timer in the coil's supply: the coil is
// energised only while open() reports true, read on every look at the
// relay, so a test moves the timer by moving the clock open() reads.
// nil removes the timer.
func (r *Relay) SetGate(open func() bool) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.gate = open
	r.update(time.Now())
}

// SetMode switches the relay to a behaviour, effective at once.
func (r *Relay) SetMode(m Mode) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.mode = m
	r.update(time.Now())
}

// SetDelays sets how long the sense takes to follow the supply going on and off.
func (r *Relay) SetDelays(on, off time.Duration) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.onDelay, r.offDelay = on, off
}

// Powered reports whether the medium has power now (after the delays), which
// is what a fake medium should follow.
func (r *Relay) Powered() bool {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	now := time.Now()
	r.update(now)
	return r.supply(now)
}

// Energised reports whether the output line drives the coil.
func (r *Relay) Energised() bool {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	return r.coil
}

// Commands counts Out calls on the output line.
func (r *Relay) Commands() int {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	return r.commands
}

// OutputReads counts reads of the output line. A correct driver makes none:
// on a real gpioioctl line a read turns the output into an input, which this
// fake mimics by dropping the coil.
func (r *Relay) OutputReads() int {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	return r.outReads
}

// Pull returns the bias the driver configured on the sense input.
func (r *Relay) Pull() gpio.Pull {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	return r.pull
}

// Persist keeps every coil's state in a file under dir, as a GPIO line
// keeps its level when the process that drove it dies: a test can kill
// danzen and a new process (or the test's hardware) finds the relays as
// they were. Existing files set the coils now.
func (b *Board) Persist(dir string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b.dir = dir
	var errs []error
	for name, r := range b.relays {
		r.coil = CoilPersisted(dir, name)
		r.update(time.Now())
		errs = append(errs, r.persist())
	}
	return errors.Join(errs...)
}

// CoilPersisted reads the coil of relay name from a Persist directory.
func CoilPersisted(dir, name string) bool {
	v, err := os.ReadFile(filepath.Join(dir, name+".coil"))
	return err == nil && string(v) == "1"
}

// persist writes the coil's state under the Persist directory, if any,
// as the level a GPIO line keeps. Callers hold b.mu.
func (r *Relay) persist() error {
	if r.b.dir == "" {
		return nil
	}
	v := "0"
	if r.coil {
		v = "1"
	}
	return os.WriteFile(filepath.Join(r.b.dir, r.name+".coil"), []byte(v), 0o644)
}

// update recomputes the contact after a coil, gate or mode change. Callers hold b.mu.
func (r *Relay) update(now time.Time) {
	c := r.coil && (r.gate == nil || r.gate())
	switch r.mode {
	case Welded:
		c = true
	case StuckOff:
		c = false
	}
	if c != r.contact {
		r.shown = r.supply(now)
		r.contact, r.changed = c, now
	}
}

// supply is the supply level as the sense sees it: the contact, delayed. Callers hold b.mu.
func (r *Relay) supply(now time.Time) bool {
	d := r.onDelay
	if !r.contact {
		d = r.offDelay
		if r.mode == SlowRelease {
			d = max(d, SlowReleaseDelay)
		}
	}
	if now.Sub(r.changed) >= d {
		return r.contact
	}
	return r.shown
}

// Pin is a fake GPIO line: the output or the sense input of a Relay.
type Pin struct {
	r     *Relay
	chip  string
	n     int
	sense bool
}

var _ gpio.PinIO = (*Pin)(nil)

func (p *Pin) String() string   { return fmt.Sprintf("fake %s:%d", p.chip, p.n) }
func (p *Pin) Halt() error      { return nil }
func (p *Pin) Name() string     { return p.String() }
func (p *Pin) Number() int      { return p.n }
func (p *Pin) Function() string { return string(p.Func()) }

// Func reports the line direction without reading an output.
func (p *Pin) Func() pin.Func {
	if p.sense {
		return gpio.IN
	}
	return gpio.OUT
}

// In configures the sense input; on the output line it mimics gpioioctl,
// where the line becomes an input and the relay drops.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	b := p.r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if !p.sense {
		p.r.coil = false
		p.r.update(time.Now())
		return p.r.persist()
	}
	if edge != gpio.NoEdge {
		return errors.New("fake: edge detection is not modelled")
	}
	p.r.pull = pull
	return nil
}

// Read returns the sense level. On the output line it counts a violation
// and, like gpioioctl, turns the line into an input, dropping the relay.
func (p *Pin) Read() gpio.Level {
	b := p.r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	r := p.r
	now := time.Now()
	if !p.sense {
		r.outReads++
		r.coil = false
		r.update(now)
		// Read has no error to return; the read is already the fault
		// that OutputReads reports.
		_ = r.persist()
		return gpio.Low
	}
	var on bool
	switch r.mode {
	case SenseBroken:
		on = false
	case SenseFloating:
		r.flip = !r.flip
		return gpio.Level(r.flip)
	default:
		r.update(now) // the interlock timer may have switched since
		on = r.supply(now)
	}
	return gpio.Level(on != r.senseActiveLow)
}

// WaitForEdge never sees an edge: edges are not modelled.
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	if timeout > 0 {
		time.Sleep(timeout)
	}
	return false
}

func (p *Pin) Pull() gpio.Pull        { return p.r.Pull() }
func (p *Pin) DefaultPull() gpio.Pull { return gpio.PullNoChange }

// Out drives the output line; the coil is energised at the relay's active level.
func (p *Pin) Out(l gpio.Level) error {
	if p.sense {
		return errors.New("fake: the sense line is an input")
	}
	b := p.r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	p.r.commands++
	p.r.coil = bool(l) != p.r.outActiveLow
	p.r.update(time.Now())
	// Not kept, the level would not survive the process as a line's does.
	return p.r.persist()
}

func (p *Pin) PWM(gpio.Duty, physic.Frequency) error { return errors.New("fake: PWM is not modelled") }
