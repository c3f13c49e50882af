package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/clock"
)

// board is a fake system clock, and its hardware clock where passed as the RTC.
type board struct {
	mu  sync.Mutex
	now time.Time
	rtc time.Time
}

func (b *board) Now() time.Time { b.mu.Lock(); defer b.mu.Unlock(); return b.now }
func (b *board) Set(t time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = t
	return nil
}
func (b *board) Slew(d time.Duration) error { return b.Set(b.Now().Add(d)) }
func (b *board) Read() (time.Time, error)   { return b.rtc, nil }
func (b *board) Write(time.Time) error      { return nil }

// waitResult runs waitForClock in the background.
func waitResult(ctx context.Context, c *clock.Clock) <-chan error {
	done := make(chan error, 1)
	go func() { done <- waitForClock(ctx, io.Discard, slog.New(slog.DiscardHandler), c) }()
	return done
}

// The schedule starts at once on a hardware clock, whatever NTP does: a
// restart just before a due time must not lose that night's cycle.
func TestScheduleStartsAtOnceOnTheRTC(t *testing.T) {
	b := &board{now: time.Date(2027, 4, 1, 1, 59, 0, 0, time.UTC), rtc: time.Date(2027, 4, 1, 1, 59, 0, 0, time.UTC)}
	never := make(chan time.Time)
	c := clock.New(clock.Options{System: b, RTC: b, Servers: func() []string { return []string{"192.0.2.1"} },
		Query: func(ctx context.Context, _ string) (clock.Answer, error) {
			<-ctx.Done()
			return clock.Answer{}, ctx.Err()
		},
		After: func(time.Duration) <-chan time.Time { return never }})
	c.Start()
	select {
	case err := <-waitResult(context.Background(), c):
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the schedule waited for NTP on a board with a hardware clock")
	}
}

// Without a hardware clock the schedule waits for the clock to settle,
// which the clock bounds (here: no server configured, so its first round).
func TestScheduleWaitsForTheClockWithoutRTC(t *testing.T) {
	b := &board{now: time.Unix(0, 0)}
	after := func(time.Duration) <-chan time.Time { return make(chan time.Time) }
	c := clock.New(clock.Options{System: b, After: after})
	c.Start()
	done := waitResult(context.Background(), c)
	select {
	case err := <-done:
		t.Fatalf("the schedule started on a 1970 clock before it settled (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx, nil) }()
	defer func() {
		cancel()
		if err := <-ran; !errors.Is(err, context.Canceled) {
			t.Errorf("clock.Run: %v", err)
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the schedule did not start once the clock settled")
	}
}

// A stop while waiting ends the wait.
func TestScheduleWaitEndsWithTheDaemon(t *testing.T) {
	c := clock.New(clock.Options{System: &board{now: time.Unix(0, 0)}})
	c.Start()
	ctx, cancel := context.WithCancel(context.Background())
	done := waitResult(ctx, c)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the wait did not end on stop")
	}
}
