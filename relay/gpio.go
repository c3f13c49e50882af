package relay

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/host/v3/gpioioctl"

	"github.com/danzen-gw/danzen/internal/msg"
)

const gpioGlob = "/dev/gpiochip*"

// charDev is the "gpio" driver: lines of the GPIO character device through
// periph's gpioioctl, the same path on Raspberry Pi 4, Pi 5 and amd64 boards.
// It is kept thin because it cannot run without /dev/gpiochip*.
type charDev struct {
	chips []*gpioioctl.GPIOChip
	mu    sync.Mutex
	used  []*gpioioctl.GPIOLine
}

func openCharDev(glob string) (*charDev, error) {
	// Checked first so that the error names the missing device rather than
	// periph's generic "no GPIO chips found".
	if m, _ := filepath.Glob(glob); len(m) == 0 {
		return nil, ErrNoGPIO
	}
	// driverreg.Init rather than host.Init: only gpioioctl is linked in, so
	// no board-specific memory-mapped driver claims the pins.
	st, err := driverreg.Init()
	if err != nil {
		return nil, fmt.Errorf("periph driverreg.Init: %w", err)
	}
	if len(gpioioctl.Chips) == 0 {
		var why []string
		for _, f := range append(append([]driverreg.DriverFailure(nil), st.Failed...), st.Skipped...) {
			why = append(why, f.String())
		}
		return nil, msg.Errorf("%w: %s", "%w: %s", ErrNoGPIO, strings.Join(why, "; "))
	}
	return &charDev{chips: gpioioctl.Chips}, nil
}

func (c *charDev) line(chip string, n int) (*gpioioctl.GPIOLine, error) {
	var found *gpioioctl.GPIOChip
	var names []string
	for _, ch := range c.chips {
		names = append(names, ch.Name()+" ("+ch.Label()+")")
		if ch.Label() == chip || ch.Name() == chip || ch.Path() == chip {
			if found != nil && found != ch {
				return nil, msg.Errorf("GPIO チップ %q が複数あります。デバイス名で指定してください", "GPIO chip %q is ambiguous: name it by device name", chip)
			}
			found = ch
		}
	}
	if found == nil {
		return nil, msg.Errorf("GPIO チップ %q がありません(あるもの: %s)", "no GPIO chip %q (present: %s)", chip, strings.Join(names, ", "))
	}
	if n < 0 || n >= found.LineCount() {
		return nil, msg.Errorf("GPIO チップ %s のラインは0〜%dです", "GPIO chip %s has lines 0..%d", chip, found.LineCount()-1)
	}
	l := found.ByNumber(n)
	c.mu.Lock()
	c.used = append(c.used, l)
	c.mu.Unlock()
	return l, nil
}

func (c *charDev) Output(chip string, n int) (gpio.PinOut, error) { return c.line(chip, n) }
func (c *charDev) Input(chip string, n int) (gpio.PinIn, error)   { return c.line(chip, n) }

// close releases the lines this Set requested. The kernel may then return a
// line to its default (input) state; see the package doc on wiring.
func (c *charDev) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.used {
		l.Close()
	}
	c.used = nil
}
