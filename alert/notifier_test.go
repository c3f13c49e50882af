package alert

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// A dead mail server must not keep the webhook from telling anyone, and
// the failed channel must be tried again on the next Send while the one
// that worked stays quiet.
func TestFailingChannelDoesNotStopTheOther(t *testing.T) {
	h := &hook{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	env := newEnv(t)
	o := env.opts(t)
	var smtpDials atomic.Int32
	real := (&net.Dialer{}).DialContext
	o.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.HasSuffix(addr, ":2525") {
			smtpDials.Add(1)
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		return real(ctx, network, addr)
	}
	spec := Spec{
		Email:   &EmailSpec{Server: "127.0.0.1", Port: 2525, From: "a@example.jp", To: []string{"b@example.jp"}},
		Webhook: &WebhookSpec{URL: srv.URL},
	}
	n := mustNew(t, spec, o)
	a := MediumNotOff("gw1", "disk-a", env.clock.Now(), msg.Text{})

	err := n.Send(context.Background(), a)
	var ce *ChannelError
	if !errors.As(err, &ce) || ce.Channel != "email" || ce.Attempts != DefaultAttempts {
		t.Fatalf("err = %v, want the email ChannelError after %d attempts", err, DefaultAttempts)
	}
	if strings.Contains(err.Error(), "webhook") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("err = %v", err)
	}
	if len(h.got()) != 1 || smtpDials.Load() != 3 {
		t.Fatalf("webhook requests %d, smtp dials %d; want 1 and 3", len(h.got()), smtpDials.Load())
	}
	if got, want := env.sl.got(), []time.Duration{2 * time.Second, 4 * time.Second}; !reflect.DeepEqual(got, want) {
		t.Errorf("backoff = %v, want %v", got, want)
	}

	env.clock.Advance(time.Minute)
	_ = n.Send(context.Background(), a)
	if len(h.got()) != 1 || smtpDials.Load() != 6 {
		t.Errorf("second Send: webhook requests %d (want 1, suppressed), smtp dials %d (want 6, retried)", len(h.got()), smtpDials.Load())
	}
}

func webhookNotifier(t *testing.T, env *testEnv, interval time.Duration) (*Notifier, *hook) {
	h := &hook{}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	spec := Spec{Webhook: &WebhookSpec{URL: srv.URL}}
	spec.RepeatInterval = durationOf(interval)
	return mustNew(t, spec, env.opts(t)), h
}

func TestRepeatIsSuppressedWithinInterval(t *testing.T) {
	env := newEnv(t)
	n, h := webhookNotifier(t, env, time.Hour)
	ctx := context.Background()
	send := func(a Alert, want int) {
		t.Helper()
		if err := n.Send(ctx, a); err != nil {
			t.Fatal(err)
		}
		if got := len(h.got()); got != want {
			t.Fatalf("after %s at %v: %d deliveries, want %d", a.Key, env.clock.Now(), got, want)
		}
	}
	a := func() Alert { return MediumNotOff("gw1", "disk-a", env.clock.Now(), msg.Text{}) }
	send(a(), 1)
	env.clock.Advance(time.Minute)
	send(a(), 1)
	env.clock.Advance(58 * time.Minute)
	send(a(), 1)
	send(MediumNotOff("gw1", "disk-b", env.clock.Now(), msg.Text{}), 2) // another condition
	env.clock.Advance(time.Minute)                                      // one hour since the first
	send(a(), 3)
	env.clock.Advance(10 * time.Minute)
	send(a(), 3)
}

func TestStateChangesAreAlwaysSent(t *testing.T) {
	env := newEnv(t)
	n, h := webhookNotifier(t, env, 6*time.Hour)
	ctx := context.Background()
	fire := MediumNotOff("gw1", "disk-a", env.clock.Now(), msg.Text{})
	steps := []struct {
		a    Alert
		sent bool
	}{
		{fire.Resolve(env.clock.Now()), false}, // nothing was announced, nothing to clear
		{fire, true},
		{fire, false},
		{fire.Resolve(env.clock.Now()), true},
		{fire.Resolve(env.clock.Now()), false},
		{fire, true}, // flapped back within the interval: a change, so sent
		{fire, false},
		{fire.Resolve(env.clock.Now()), true},
	}
	want := 0
	for i, s := range steps {
		env.clock.Advance(time.Second)
		if err := n.Send(ctx, s.a); err != nil {
			t.Fatal(err)
		}
		if s.sent {
			want++
		}
		reqs := h.got()
		if len(reqs) != want {
			t.Fatalf("step %d (resolved=%v): %d deliveries, want %d", i, s.a.Resolved, len(reqs), want)
		}
		if s.sent && reqs[want-1].body["resolved"] != s.a.Resolved {
			t.Errorf("step %d: resolved = %v", i, reqs[want-1].body["resolved"])
		}
	}
}

func TestEscalationIsSentWithinInterval(t *testing.T) {
	env := newEnv(t)
	n, h := webhookNotifier(t, env, time.Hour)
	ctx := context.Background()
	low := StagingLow("gw1", env.clock.Now(), 5e9, 100e9)
	worse := StagingLow("gw1", env.clock.Now(), 1e9, 100e9)
	worse.Severity = SeverityCritical
	for i, s := range []struct {
		a    Alert
		want int
	}{{low, 1}, {low, 1}, {worse, 2}, {worse, 2}, {low, 2}} {
		if err := n.Send(ctx, s.a); err != nil {
			t.Fatal(err)
		}
		if got := len(h.got()); got != s.want {
			t.Fatalf("step %d: %d deliveries, want %d", i, got, s.want)
		}
	}
}

func TestFailedDeliveryIsNotRemembered(t *testing.T) {
	env := newEnv(t)
	n, h := webhookNotifier(t, env, time.Hour)
	h.answers = codes(400)
	a := CycleFailed("gw1", "", env.clock.Now(), msg.Text{})
	if err := n.Send(context.Background(), a); err == nil {
		t.Fatal("want the 400")
	}
	if err := n.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if got := len(h.got()); got != 2 {
		t.Fatalf("%d requests, want 2: a failed delivery must not suppress the next", got)
	}
}

func TestConcurrentRepeatsSendOnce(t *testing.T) {
	env := newEnv(t)
	n, h := webhookNotifier(t, env, time.Hour)
	a := MediumNotOff("gw1", "disk-a", env.clock.Now(), msg.Text{})
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if err := n.Send(context.Background(), a); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(h.got()); got != 1 {
		t.Fatalf("%d deliveries, want 1", got)
	}
}

func TestCancelledContextStopsRetrying(t *testing.T) {
	env := newEnv(t)
	n, h := webhookNotifier(t, env, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := n.Send(ctx, CycleFailed("gw1", "", env.clock.Now(), msg.Text{}))
	var ce *ChannelError
	if !errors.As(err, &ce) || ce.Attempts != 1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if len(h.got()) != 0 || len(env.sl.got()) != 0 {
		t.Error("sent or waited after cancellation")
	}
}

func TestNoChannelsAndMalformedAlerts(t *testing.T) {
	env := newEnv(t)
	n := mustNew(t, Spec{}, env.opts(t))
	if (Spec{}).Enabled() {
		t.Error("empty Spec reports Enabled")
	}
	if err := n.Send(context.Background(), CycleFailed("gw1", "", time.Time{}, msg.Text{})); err != nil {
		t.Errorf("no channels: %v", err)
	}
	err := n.Send(context.Background(), Alert{Kind: "bogus"})
	if err == nil || !strings.Contains(err.Error(), "bogus") || !strings.Contains(err.Error(), "dedup_key") {
		t.Errorf("malformed alert: %v", err)
	}
}

func TestNewChecksFiles(t *testing.T) {
	env := newEnv(t)
	o := env.opts(t)
	bad := writeSecret(t, env.dir, "ca.pem", "not a certificate", 0o644)
	for name, s := range map[string]Spec{
		"bad CA":     {Webhook: &WebhookSpec{URL: "https://127.0.0.1/", CAFile: bad}},
		"missing CA": {Webhook: &WebhookSpec{URL: "https://127.0.0.1/", CAFile: "nope.pem"}},
		"invalid":    {Attempts: -1},
	} {
		if _, err := New(s, o); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	o.SecretsDir = ""
	_, err := New(Spec{Webhook: &WebhookSpec{URL: "https://127.0.0.1/", TokenFile: "hook.token"}}, o)
	if err == nil || !strings.Contains(err.Error(), "SecretsDir") {
		t.Errorf("relative secret without SecretsDir: %v", err)
	}
}

// A restart between an alert and its resolution: with a state file the
// new notifier still announces the resolution, and does not repeat a
// condition announced before the restart within the interval.
func TestStateSurvivesRestart(t *testing.T) {
	env := newEnv(t)
	h := &hook{}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	spec := Spec{Webhook: &WebhookSpec{URL: srv.URL}, RepeatInterval: durationOf(time.Hour)}
	opts := env.opts(t)
	opts.StateFile = filepath.Join(env.dir, "alerts.json")
	ctx := context.Background()
	notOff := MediumNotOff("gw1", "disk-a", env.clock.Now(), msg.Text{})
	full := LedgerFull("gw1", env.clock.Now(), msg.Text{})
	first := mustNew(t, spec, opts)
	for _, a := range []Alert{notOff, full} {
		if err := first.Send(ctx, a); err != nil {
			t.Fatal(err)
		}
	}

	env.clock.Advance(time.Minute)
	second := mustNew(t, spec, opts) // danzend restarted
	if err := second.Send(ctx, full); err != nil {
		t.Fatal(err)
	}
	if err := second.Send(ctx, notOff.Resolve(env.clock.Now())); err != nil {
		t.Fatal(err)
	}
	reqs := h.got()
	if len(reqs) != 3 || reqs[2].body["kind"] != string(KindMediumNotOff) || reqs[2].body["resolved"] != true {
		t.Fatalf("after the restart: %d deliveries, want the two alerts and the resolution of medium_not_off", len(reqs))
	}

	// A damaged state file starts afresh: the condition is told again.
	if err := os.WriteFile(opts.StateFile, []byte("{torn"), 0o600); err != nil {
		t.Fatal(err)
	}
	third := mustNew(t, spec, opts)
	if err := third.Send(ctx, full); err != nil {
		t.Fatal(err)
	}
	if len(h.got()) != 4 {
		t.Errorf("with a damaged state file the persisting condition was not announced again")
	}
}
