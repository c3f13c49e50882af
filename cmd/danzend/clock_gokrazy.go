//go:build gokrazy

package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// validSince is a time any correct clock is past. A Raspberry Pi has no
// battery-backed clock: until NTP answers, it starts in 1970, and a
// schedule computed from that would fire at random.
var validSince = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func waitForClock(ctx context.Context, log *slog.Logger) error {
	for warned := false; time.Now().Before(validSince); warned = true {
		if !warned {
			log.Warn(msg.T("時刻が未設定です。NTP を待っています", "the clock is not set yet: waiting for NTP before scheduling").String())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return nil
}
