package rtusim

import (
	"sync/atomic"
	"testing"
)

// TestGatedCoil: a coil behind a timer closes only while the timer lets
// it, whatever the register says; the input follows the contact, and
// OnCoil hears the timer's changes too.
func TestGatedCoil(t *testing.T) {
	m := New(1, 2)
	var open atomic.Bool
	var changes []bool
	m.OnCoil(func(coil int, on bool) {
		if coil == 0 {
			changes = append(changes, on)
		}
	})
	m.Gate(0, open.Load)
	m.handle(frame(1, 5, 0, 0, 0xff, 0)) // coil 0 on
	if m.Coil(0) || m.Input(0) {
		t.Fatal("a gated coil closed while its timer was open")
	}
	open.Store(true)
	if !m.Coil(0) || !m.Input(0) {
		t.Fatal("the coil did not close when its timer did")
	}
	open.Store(false)
	if m.Input(0) {
		t.Fatal("the contact stayed closed after the timer opened")
	}
	m.Weld(0, true)
	if !m.Coil(0) {
		t.Fatal("a welded contact opened with the timer")
	}
	if len(changes) != 3 || !changes[0] || changes[1] || !changes[2] {
		t.Fatalf("OnCoil heard %v", changes)
	}
}
