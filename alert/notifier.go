package alert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
)

// DialFunc opens a network connection (net.Dialer.DialContext's shape).
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Options are the Notifier's surroundings; zero fields take real defaults.
type Options struct {
	// SecretsDir resolves relative password, token and CA file names.
	SecretsDir string
	// Now is the clock for dedup and mail Date headers.
	Now func() time.Time
	// Sleep waits between attempts; it returns early with ctx's error.
	Sleep func(ctx context.Context, d time.Duration) error
	// Dial opens every connection (SMTP and webhook).
	Dial   DialFunc
	Logger *slog.Logger
	// Zone is the time zone mail and webhook say times in: the
	// configuration's time_zone (zero: UTC, never the process's Local).
	Zone when.Zone
	// StateFile keeps what each channel has announced across restarts,
	// so a condition that clears after a restart is still announced as
	// cleared, and one that persists is not repeated early. "" keeps it
	// in the process only.
	StateFile string
}

// ChannelError is the failure of one channel for one alert.
type ChannelError struct {
	Channel  string // "email" or "webhook"
	Attempts int
	Err      error
}

func (e *ChannelError) Error() string { return e.Localize(msg.Both) }

// Localize says which channel failed, how often it was tried and why, in l.
func (e *ChannelError) Localize(l msg.Lang) string {
	return msg.In(msg.Errorf("通知チャネル %s で送信できませんでした(%d回試行): %w", "alert channel %s failed after %d attempt(s): %w",
		e.Channel, e.Attempts, e.Err), l)
}

func (e *ChannelError) Unwrap() error { return e.Err }

type channel interface {
	name() string
	send(ctx context.Context, a Alert) error
}

// Notifier sends alerts to every configured channel. It is safe for
// concurrent use. Its dedup memory lives in the process and, with
// Options.StateFile, in a file; a file that cannot be read starts empty,
// which errs on the side of telling (a persisting condition is announced
// once more).
type Notifier struct {
	channels []channel
	interval time.Duration
	attempts int
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
	log      *slog.Logger

	mu    sync.Mutex
	gen   uint64
	state map[stateKey]sent

	stateFile string
	saveMu    sync.Mutex // one write of stateFile at a time
}

type stateKey struct{ channel, key string }

// sent is what a channel last announced for a key; its presence means the
// condition is firing there.
type sent struct {
	at  time.Time
	sev int
	gen uint64
}

// Backoff between attempts: backoffBase, doubling, at most backoffMax.
// A server's Retry-After is honoured up to backoffMax.
const (
	backoffBase = 2 * time.Second
	backoffMax  = time.Minute
	// forgetAfter drops memory of a condition never resolved, so the map
	// stays bounded; it only ever causes one extra reminder.
	forgetAfter = 30 * 24 * time.Hour
)

// New validates spec and prepares the channels (reading CA files now, so
// that a bad one shows at start rather than at 2 a.m.). Secrets are read
// at each send.
func New(spec Spec, opts Options) (*Notifier, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	if opts.Dial == nil {
		opts.Dial = (&net.Dialer{}).DialContext
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	n := &Notifier{
		interval:  spec.RepeatInterval.Std(),
		attempts:  spec.Attempts,
		now:       opts.Now,
		sleep:     opts.Sleep,
		log:       opts.Logger.With("component", "alert"),
		state:     map[stateKey]sent{},
		stateFile: opts.StateFile,
	}
	n.load()
	if n.interval == 0 {
		n.interval = DefaultRepeatInterval
	}
	if n.attempts == 0 {
		n.attempts = DefaultAttempts
	}
	if spec.Email != nil {
		c, err := newEmail(*spec.Email, opts)
		if err != nil {
			return nil, msg.Wrap(err, "メール通知", "email")
		}
		n.channels = append(n.channels, c)
	}
	if spec.Webhook != nil {
		c, err := newWebhook(*spec.Webhook, opts)
		if err != nil {
			return nil, msg.Wrap(err, "webhook 通知", "webhook")
		}
		n.channels = append(n.channels, c)
	}
	return n, nil
}

// Send delivers a to every channel that has not announced the same state
// within the repeat interval, all channels in parallel. It returns nil when
// every due channel succeeded (or none was due), otherwise the joined
// *ChannelError of each failed channel. A channel that failed is not
// marked, so the next Send of the same key tries it again.
func (n *Notifier) Send(ctx context.Context, a Alert) error {
	if a.Time.IsZero() {
		a.Time = n.now()
	}
	if err := a.check(); err != nil {
		return err
	}
	errs := make([]error, len(n.channels))
	var wg sync.WaitGroup
	for i, ch := range n.channels {
		r, due := n.reserve(ch.name(), a)
		if !due {
			n.log.Debug("alert suppressed as a repeat", "channel", ch.name(), "kind", a.Kind, "key", a.Key, "resolved", a.Resolved)
			continue
		}
		wg.Go(func() {
			defer n.save()
			if err := n.deliver(ctx, ch, a); err != nil {
				n.release(r)
				errs[i] = err
				return
			}
			n.log.Info("alert sent", "channel", ch.name(), "kind", a.Kind, "severity", a.Severity, "key", a.Key, "resolved", a.Resolved)
		})
	}
	wg.Wait()
	return joinFailures(errs)
}

// joinFailures joins the channels' errors. A single one is returned as it
// is: joined, its two languages would no longer reach the ledger apart.
func joinFailures(errs []error) error {
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) == 1 {
		return failed[0]
	}
	return errors.Join(failed...)
}

// reservation remembers what reserve replaced, so that a failed delivery
// can put it back.
type reservation struct {
	k       stateKey
	prev    sent
	hadPrev bool
	gen     uint64 // 0: reserve deleted the entry (a resolved notice)
}

// reserve decides whether ch is due to announce a and, if so, records it
// at once, so that a concurrent Send of the same key is suppressed while
// this one is in flight.
func (n *Notifier) reserve(ch string, a Alert) (reservation, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.now()
	for k, s := range n.state {
		if now.Sub(s.at) > forgetAfter {
			delete(n.state, k)
		}
	}
	k := stateKey{ch, a.Key}
	prev, firing := n.state[k]
	r := reservation{k: k, prev: prev, hadPrev: firing}
	if a.Resolved {
		// Announce a recovery only where the trouble was announced;
		// afterwards the next firing is a change of state and goes out.
		if !firing {
			return r, false
		}
		delete(n.state, k)
		return r, true
	}
	if firing && a.Severity.rank() <= prev.sev && now.Sub(prev.at) < n.interval {
		return r, false
	}
	n.gen++
	r.gen = n.gen
	n.state[k] = sent{at: now, sev: a.Severity.rank(), gen: r.gen}
	return r, true
}

func (n *Notifier) release(r reservation) {
	n.mu.Lock()
	defer n.mu.Unlock()
	cur, ok := n.state[r.k]
	// Only undo our own mark: a later Send may have changed the state.
	if (r.gen != 0 && (!ok || cur.gen != r.gen)) || (r.gen == 0 && ok) {
		return
	}
	if r.hadPrev {
		n.state[r.k] = r.prev
	} else {
		delete(n.state, r.k)
	}
}

func (n *Notifier) deliver(ctx context.Context, ch channel, a Alert) error {
	for attempt := 1; ; attempt++ {
		err := ch.send(ctx, a)
		if err == nil {
			return nil
		}
		if attempt >= n.attempts || !transient(ctx, err) {
			return &ChannelError{Channel: ch.name(), Attempts: attempt, Err: err}
		}
		d := min(backoffBase<<(attempt-1), backoffMax)
		var ra *retryAfterError
		if errors.As(err, &ra) && ra.after > d {
			d = min(ra.after, backoffMax)
		}
		n.log.Warn("alert not sent, retrying", "channel", ch.name(), "key", a.Key, "attempt", attempt, "wait", d, "err", err)
		if serr := n.sleep(ctx, d); serr != nil {
			return &ChannelError{Channel: ch.name(), Attempts: attempt, Err: errors.Join(err, serr)}
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// permanentError marks a failure that a retry cannot fix (a refused
// credential, a missing STARTTLS, a 4xx answer, an unreadable secret).
type permanentError struct{ err error }

func (e *permanentError) Error() string              { return e.err.Error() }
func (e *permanentError) Localize(l msg.Lang) string { return msg.In(e.err, l) }
func (e *permanentError) Unwrap() error              { return e.err }

func permanent(err error) error { return &permanentError{err} }

// retryAfterError carries a server's Retry-After.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string              { return e.err.Error() }
func (e *retryAfterError) Localize(l msg.Lang) string { return msg.In(e.err, l) }
func (e *retryAfterError) Unwrap() error              { return e.err }

// transient: anything not known to be permanent is retried, because the
// attempts are bounded and a lost alert costs more than a repeated try.
// Certificate errors are permanent: retrying would not change the chain.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var p *permanentError
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &p), errors.As(err, &cv), errors.As(err, &ua), errors.As(err, &hn), errors.As(err, &ci):
		return false
	}
	return true
}
