package auth

import (
	"sync"
	"time"
)

// limiter counts login failures per key (a user name or a client address).
// After max failures within window the key is locked for lockout.
type limiter struct {
	mu      sync.Mutex
	max     int
	window  time.Duration
	lockout time.Duration
	keys    map[string]*failures
}

type failures struct {
	first       time.Time // start of the current window
	n           int
	lockedUntil time.Time
}

func newLimiter(max int, window, lockout time.Duration) *limiter {
	return &limiter{max: max, window: window, lockout: lockout, keys: map[string]*failures{}}
}

// locked reports whether any of keys is locked, and until when.
func (l *limiter) locked(now time.Time, keys ...string) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var until time.Time
	for _, k := range keys {
		if f, ok := l.keys[k]; ok && now.Before(f.lockedUntil) && f.lockedUntil.After(until) {
			until = f.lockedUntil
		}
	}
	return !until.IsZero(), until
}

// fail records a failure for each key and returns the keys that became
// locked by it.
func (l *limiter) fail(now time.Time, keys ...string) (newlyLocked []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	for _, k := range keys {
		f, ok := l.keys[k]
		if !ok || f.stale(now, l.window) {
			f = &failures{first: now}
			l.keys[k] = f
		}
		f.n++
		if f.n >= l.max && f.lockedUntil.IsZero() {
			f.lockedUntil = now.Add(l.lockout)
			newlyLocked = append(newlyLocked, k)
		}
	}
	return newlyLocked
}

// reset forgets the failures of keys (after a successful login).
func (l *limiter) reset(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.keys, k)
	}
}

// prune drops entries whose window and lockout are both over, so the map
// cannot grow without bound under a spray of made-up user names.
func (l *limiter) prune(now time.Time) {
	for k, f := range l.keys {
		if f.stale(now, l.window) {
			delete(l.keys, k)
		}
	}
}

// stale reports whether f no longer counts: its window passed without a
// lockout, or its lockout is over (a lifted lockout starts from zero).
func (f *failures) stale(now time.Time, window time.Duration) bool {
	if f.lockedUntil.IsZero() {
		return now.Sub(f.first) >= window
	}
	return !now.Before(f.lockedUntil)
}
