// Package duration is the one duration type of danzen's configuration:
// written in JSON as a Go duration string ("90s", "2m", "1h30m").
package duration

import (
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Duration is a time.Duration that reads and writes as text.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return msg.Errorf("時間の書式が不正です: %q(例: \"90s\"、\"5m\"): %w", "invalid duration %q (examples: \"90s\", \"5m\"): %w", b, err)
	}
	*d = Duration(v)
	return nil
}
