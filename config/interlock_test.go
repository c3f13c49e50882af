package config

import (
	"strings"
	"testing"
)

// TestInterlockRefusesRunsOutsideTheWindow: a schedule or drill that
// would start while the timer holds the coils' supply off is refused on
// save, naming the field, in both languages; one inside is kept.
func TestInterlockRefusesRunsOutsideTheWindow(t *testing.T) {
	c := validConfig()
	c.Schedule = "30 1 * * 1-6"
	c.Interlock = &Interlock{Start: "01:00", End: "05:00", Days: []string{"mon", "tue", "wed", "thu", "fri", "sat"}}
	if saveErr, loadErr := savedAndLoaded(t, c); saveErr != nil || loadErr != nil {
		t.Fatalf("a schedule inside the window was refused: %v / %v", saveErr, loadErr)
	}
	for _, tc := range []struct{ field, schedule, drill, want string }{
		{"schedule", "daily 01:30", "", "Sun 01:30"}, // Sunday opens no window
		{"schedule", "30 5 * * 1-6", "", "05:30"},
		{"restore.drill_schedule", "30 1 * * 1-6", "0 10 1 4 *", "10:00"},
	} {
		c.Schedule, c.Restore.DrillSchedule = tc.schedule, tc.drill
		saveErr, _ := savedAndLoaded(t, c)
		got := fieldText(t, saveErr, tc.field)
		if !strings.Contains(got, "インターロック") || !strings.Contains(got, "interlock window 01:00–05:00") || !strings.Contains(got, tc.want) {
			t.Errorf("%s %q: %q", tc.field, tc.schedule+tc.drill, got)
		}
	}
}

func TestInterlockFields(t *testing.T) {
	c := validConfig()
	c.Interlock = &Interlock{Start: "22:00", End: "22:00"}
	if got := fieldText(t, c.Validate(), "interlock"); !strings.Contains(got, "same") {
		t.Errorf("start = end: %q", got)
	}
	c.Interlock = &Interlock{Start: "00:00", End: "23:59", Relays: []string{"r1", "nope"}}
	err := c.Validate()
	if got := fieldText(t, err, "interlock.relays[1]"); !strings.Contains(got, `"nope"`) {
		t.Errorf("unknown relay: %q", got)
	}
	if got := fieldText(t, err, "interlock.relays[0]"); got != "" {
		t.Errorf("known relay refused: %q", got)
	}
	if !c.Interlocked("r1") || c.Interlocked("r2") {
		t.Error("Interlocked does not follow interlock.relays")
	}
	c.Interlock.Relays = nil
	if !c.Interlocked("r2") {
		t.Error("an interlock without relays feeds every relay")
	}
}
