package auth

import (
	"sync"
	"time"
)

// limitKey is what a failed login counts against: a user name as tried
// from one client address, or the client address across all names. A
// name is never counted on its own, so a neighbour's failures never hold
// up the same name from another address (anyone on the LAN could
// otherwise keep "vendor" locked out); the address alone catches one
// client spraying a password across many names.
type limitKey struct {
	client string
	name   string
	byName bool // name from client; false: client across all names
}

func nameKey(name, client string) limitKey { return limitKey{client: client, name: name, byName: true} }
func clientKey(client string) limitKey     { return limitKey{client: client} }

// rule says how long a key waits after its n-th failure in a row.
type rule struct {
	max     int           // failures in a row that lock the key
	delay   time.Duration // wait after the second failure, doubling up to the lock; 0: none
	lockout time.Duration // the first lock; each further one doubles
	maxLock time.Duration // the longest lock
}

// wait is the pause after the n-th failure in a row, and whether it is a
// lock (recorded in the ledger) rather than a short wait. The first
// failure is free: everybody mistypes once.
func (r rule) wait(n int) (time.Duration, bool) {
	if n >= r.max {
		return doubled(r.lockout, n-r.max, r.maxLock), true
	}
	if n < 2 || r.delay <= 0 {
		return 0, false
	}
	return doubled(r.delay, n-2, r.lockout), false
}

// doubled is d doubled times times, at most limit.
func doubled(d time.Duration, times int, limit time.Duration) time.Duration {
	for ; times > 0 && d < limit; times-- {
		d *= 2
	}
	return min(d, limit)
}

// limiter holds back failed logins: after a failure a key waits before
// its next attempt is checked (attempts while it waits are refused
// without looking at the password).
type limiter struct {
	mu       sync.Mutex
	byName   rule
	byClient rule
	window   time.Duration // quiet time after a wait ends that forgets the failures
	keys     map[limitKey]*failures
}

type failures struct {
	n      int       // failures in a row
	until  time.Time // no attempt is checked before this
	locked bool      // until ends a lock, not a short wait
}

// lockEvent is a key that a failure locked, for the ledger.
type lockEvent struct {
	key      limitKey
	failures int
	period   time.Duration
}

func newLimiter(byName, byClient rule, window time.Duration) *limiter {
	return &limiter{byName: byName, byClient: byClient, window: window, keys: map[limitKey]*failures{}}
}

func (l *limiter) rule(k limitKey) rule {
	if k.byName {
		return l.byName
	}
	return l.byClient
}

// held reports until when the longest wait of keys runs (zero if none
// does), and whether that wait is a lock.
func (l *limiter) held(now time.Time, keys ...limitKey) (until time.Time, locked bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if f, ok := l.keys[k]; ok && now.Before(f.until) && f.until.After(until) {
			until, locked = f.until, f.locked
		}
	}
	return until, locked
}

// fail records a failure for each key and returns the locks it caused.
func (l *limiter) fail(now time.Time, keys ...limitKey) []lockEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	var locks []lockEvent
	for _, k := range keys {
		f, ok := l.keys[k]
		if !ok {
			f = &failures{}
			l.keys[k] = f
		}
		f.n++
		d, locked := l.rule(k).wait(f.n)
		f.until, f.locked = now.Add(d), locked
		if locked {
			locks = append(locks, lockEvent{key: k, failures: f.n, period: d})
		}
	}
	return locks
}

// reset forgets the failures of keys (after a successful login).
func (l *limiter) reset(keys ...limitKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.keys, k)
	}
}

// prune forgets keys that stayed quiet for the window after their last
// wait ended, so the map cannot grow without bound under a spray of
// made-up user names, and a lock that lifted long ago starts again from
// the first, free failure.
func (l *limiter) prune(now time.Time) {
	for k, f := range l.keys {
		if now.Sub(f.until) >= l.window {
			delete(l.keys, k)
		}
	}
}
