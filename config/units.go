package config

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Duration is written in JSON as "90s", "5m" or "1h30m".
type Duration = duration.Duration

// Rate is a transfer rate in bytes per second, written as "40MB/s",
// "800KB/s" or "0" (no limit) in JSON. Units are decimal (1 MB = 10^6 B).
type Rate int64

var rateUnits = []struct {
	suffix string
	mult   int64
}{{"GB/s", 1e9}, {"MB/s", 1e6}, {"KB/s", 1e3}, {"B/s", 1}}

func (r Rate) String() string {
	if r == 0 {
		return "0"
	}
	for _, u := range rateUnits {
		if int64(r)%u.mult == 0 {
			return strconv.FormatInt(int64(r)/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(r), 10) + "B/s"
}

// ParseRate reads "40MB/s", "800KB/s", "0".
func ParseRate(s string) (Rate, error) {
	t := strings.TrimSpace(s)
	if t == "0" || t == "" {
		return 0, nil
	}
	for _, u := range rateUnits {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || n < 0 {
				break
			}
			return Rate(n * float64(u.mult)), nil
		}
	}
	return 0, msg.Errorf("帯域 %q を読めません(例: \"40MB/s\"、制限なしは \"0\")", "cannot read rate %q (example: \"40MB/s\", \"0\" for no limit)", s)
}

func (r Rate) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }

func (r *Rate) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return msg.Errorf("帯域は \"40MB/s\" のような文字列で書いてください: %w", "a rate is a string like \"40MB/s\": %w", err)
	}
	v, err := ParseRate(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}
