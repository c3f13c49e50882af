package config

import (
	"strings"
	"testing"
)

// TestDropAlertShareDefaultsAndIsValidated: a source alerts on a fall of
// more than 20% unless told otherwise; 0 turns it off, and a share that
// cannot be meant (negative, 100% or more) is refused with the field named.
func TestDropAlertShareDefaultsAndIsValidated(t *testing.T) {
	c, err := Parse([]byte(`{"sources": [{"name": "emr", "host": "10.0.0.5", "user": "danzen-pull", "key_file": "emr.key",
		"known_hosts": ["` + knownHost + `"], "export_dir": "/export"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Sources[0].DropAlertPercent; got != 20 {
		t.Fatalf("default drop_alert_percent = %d, want 20", got)
	}
	for _, pct := range []int{0, 1, 20, 99} {
		c := validConfig()
		c.Sources[0].DropAlertPercent = pct
		if err := c.Validate(); err != nil {
			t.Errorf("%d%% refused: %v", pct, err)
		}
	}
	for _, pct := range []int{-1, 100, 150} {
		c := validConfig()
		c.Sources[0].DropAlertPercent = pct
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "sources[0].drop_alert_percent") {
			t.Errorf("%d%% accepted or not named: %v", pct, err)
		}
	}
}
