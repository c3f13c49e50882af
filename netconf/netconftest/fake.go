// Package netconftest is a fake network for tests of what uses
// netconf: it records what was applied and reports the addresses the test
// says the page is reached at.
package netconftest

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/config"
)

// System is a netconf.System that changes nothing.
type System struct {
	mu      sync.Mutex
	applied []Applied
	addrs   []netip.Prefix
	fail    error
	closed  bool
}

// Applied is one call of Apply.
type Applied struct {
	Network config.Network
	Flush   bool
}

// Apply records n; a static n's address becomes the interface's (unless
// Reach says otherwise afterwards).
func (s *System) Apply(_ context.Context, n config.Network, flush bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.applied = append(s.applied, Applied{n, flush})
	if p, err := n.Prefix(); err == nil && n.Static() {
		s.addrs = []netip.Prefix{p}
	}
	return nil
}

// Addresses are the addresses set by Reach or the last static Apply.
func (s *System) Addresses(string) ([]netip.Prefix, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netip.Prefix(nil), s.addrs...), nil
}

// Close records that the manager closed.
func (s *System) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// Reach makes addrs the interface's addresses ("the page is reached
// there"), e.g. 127.0.0.1/8 for a test server.
func (s *System) Reach(addrs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addrs = nil
	for _, a := range addrs {
		s.addrs = append(s.addrs, netip.MustParsePrefix(a))
	}
}

// Fail makes every later Apply fail with err (nil: succeed again).
func (s *System) Fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// Applied lists the calls of Apply so far.
func (s *System) Applied() []Applied {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Applied(nil), s.applied...)
}

// Closed reports whether Close was called.
func (s *System) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Timers are timers the test fires (netconf.Options.AfterFunc).
type Timers struct {
	mu sync.Mutex
	ts []*Timer
}

// Timer is one AfterFunc.
type Timer struct {
	D       time.Duration
	f       func()
	stopped bool
	fired   bool
}

// AfterFunc records f; it runs when the test fires it.
func (t *Timers) AfterFunc(d time.Duration, f func()) func() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	tm := &Timer{D: d, f: f}
	t.ts = append(t.ts, tm)
	return func() bool {
		t.mu.Lock()
		defer t.mu.Unlock()
		was := !tm.stopped && !tm.fired
		tm.stopped = true
		return was
	}
}

// Fire runs every timer of d that is neither stopped nor fired, and
// reports how many ran.
func (t *Timers) Fire(d time.Duration) int {
	t.mu.Lock()
	var run []func()
	for _, tm := range t.ts {
		if tm.D == d && !tm.stopped && !tm.fired {
			tm.fired = true
			run = append(run, tm.f)
		}
	}
	t.mu.Unlock()
	for _, f := range run {
		f()
	}
	return len(run)
}

// Active counts the timers neither stopped nor fired.
func (t *Timers) Active() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, tm := range t.ts {
		if !tm.stopped && !tm.fired {
			n++
		}
	}
	return n
}
