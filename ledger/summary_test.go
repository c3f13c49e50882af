package ledger

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// at is a time on the test day, 2025-04-01 UTC; hours may run past 24.
func at(h, m int) time.Time {
	return time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

type ev struct {
	t      time.Time
	kind   Kind
	medium string
	data   string
}

func entriesOf(evs []ev) []Entry {
	var out []Entry
	for i, e := range evs {
		m := e.medium
		if m == "" {
			m = "usb1"
		}
		var d json.RawMessage
		if e.data != "" {
			d = json.RawMessage(e.data)
		}
		out = append(out, Entry{Seq: uint64(i + 1), Time: e.t, Kind: e.kind, Medium: m, Data: d})
	}
	return out
}

func wantDur(t *testing.T, name string, got, want time.Duration) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func TestSummarizeConnectedVsCut(t *testing.T) {
	es := entriesOf([]ev{
		{t: at(-1, 0), kind: KindPowerOffVerified}, // state at the period start
		{t: at(1, 0), kind: KindPowerOn},
		{t: at(1, 30), kind: KindSnapshot},
		{t: at(1, 40), kind: KindCheck, data: `{"ok":true}`},
		{t: at(2, 0), kind: KindPowerOffVerified},
		{t: at(3, 0), kind: KindPowerOn, medium: "tape"}, // other medium
		{t: at(10, 0), kind: KindRelayCommand, data: `{"relay":"r1","on":true}`},
		{t: at(10, 30), kind: KindCheck, data: `{"ok":false}`},
		{t: at(11, 0), kind: KindRelayCommand, data: `{"relay":"r1","on":false}`}, // a command is no cut
		{t: at(11, 0), kind: KindPowerOffUnverified},                              // still connected
		{t: at(11, 5), kind: KindError},
		{t: at(12, 0), kind: KindPowerOffVerified},
		{t: at(23, 0), kind: KindPowerOn}, // runs past the end of the period
		{t: at(25, 0), kind: KindPowerOffVerified},
	})
	s := Summarize(es, "usb1", at(0, 0), at(24, 0))
	wantDur(t, "Connected", s.Connected, 1*time.Hour+2*time.Hour+1*time.Hour)
	wantDur(t, "CutOff", s.CutOff, 20*time.Hour)
	wantDur(t, "Unknown", s.Unknown, 0)
	if s.Connected+s.CutOff+s.Unknown != 24*time.Hour {
		t.Errorf("durations do not add up to the period")
	}
	if s.VerifiedCuts != 2 || s.FailedCuts != 1 || s.Snapshots != 1 || s.Checks != 1 || s.FailedChecks != 1 || s.Errors != 1 || s.Connections != 3 {
		t.Errorf("counts = %+v", s)
	}
	wantIv := []Interval{
		{at(0, 0), at(1, 0), StateCutOff, 0},
		{at(1, 0), at(2, 0), StateConnected, 2},
		{at(2, 0), at(10, 0), StateCutOff, 5},
		{at(10, 0), at(12, 0), StateConnected, 7},
		{at(12, 0), at(23, 0), StateCutOff, 12},
		{at(23, 0), at(24, 0), StateConnected, 13},
	}
	if len(s.Intervals) != len(wantIv) {
		t.Fatalf("intervals = %+v", s.Intervals)
	}
	for i, iv := range s.Intervals {
		w := wantIv[i]
		if !iv.From.Equal(w.From) || !iv.To.Equal(w.To) || iv.State != w.State || iv.Seq != w.Seq {
			t.Errorf("interval %d = %+v, want %+v", i, iv, w)
		}
	}

	// The next day starts connected (power.on at 23:00) until the cut at 01:00.
	next := Summarize(es, "usb1", at(24, 0), at(48, 0))
	wantDur(t, "next Connected", next.Connected, time.Hour)
	wantDur(t, "next CutOff", next.CutOff, 23*time.Hour)
	if next.VerifiedCuts != 1 || next.Connections != 0 {
		t.Errorf("next day counts = %+v", next)
	}
}

func TestSummarizeFailedCutKeepsConnectedAcrossPeriods(t *testing.T) {
	es := entriesOf([]ev{
		{t: at(1, 0), kind: KindPowerOn},
		{t: at(2, 0), kind: KindPowerOffUnverified},
		{t: at(30, 0), kind: KindPowerOffVerified},
	})
	s := Summarize(es, "usb1", at(0, 0), at(24, 0))
	wantDur(t, "Unknown", s.Unknown, time.Hour)
	wantDur(t, "Connected", s.Connected, 23*time.Hour)
	wantDur(t, "CutOff", s.CutOff, 0)
	if s.FailedCuts != 1 || s.VerifiedCuts != 0 {
		t.Errorf("counts = %+v", s)
	}
	s2 := Summarize(es, "usb1", at(24, 0), at(48, 0))
	wantDur(t, "day 2 Connected", s2.Connected, 6*time.Hour)
	wantDur(t, "day 2 CutOff", s2.CutOff, 18*time.Hour)
	if s2.FailedCuts != 0 || s2.VerifiedCuts != 1 {
		t.Errorf("day 2 counts = %+v", s2)
	}
}

func TestSummarizeNoEntries(t *testing.T) {
	s := Summarize(nil, "usb1", at(0, 0), at(24, 0))
	wantDur(t, "Unknown", s.Unknown, 24*time.Hour)
	if s.Connected != 0 || s.CutOff != 0 {
		t.Errorf("%+v", s)
	}
	if empty := Summarize(nil, "usb1", at(5, 0), at(5, 0)); empty.Unknown != 0 || len(empty.Intervals) != 0 {
		t.Errorf("empty period: %+v", empty)
	}
}

func TestSummarizeClockSetBack(t *testing.T) {
	es := entriesOf([]ev{
		{t: at(0, 0), kind: KindPowerOffVerified},
		{t: at(5, 0), kind: KindPowerOn},
		{t: at(3, 0), kind: KindPowerOffVerified}, // clock stepped back: counts as at 05:00
		{t: at(6, 0), kind: KindPowerOn},
	})
	s := Summarize(es, "usb1", at(0, 0), at(10, 0))
	wantDur(t, "Connected", s.Connected, 4*time.Hour)
	wantDur(t, "CutOff", s.CutOff, 6*time.Hour)
}

// TestSummarizeFromLedger runs the summary over entries written and read
// back through the ledger, as the evidence report does.
func TestSummarizeFromLedger(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger")
	c := newClock()
	l := openT(t, dir, c)
	add := func(tm time.Time, kind Kind, data any) {
		t.Helper()
		c.set(tm)
		e := Entry{Kind: kind, Medium: "rdx1", Actor: ActorSystem, Payload: data}
		if _, err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	add(at(-2, 0), KindPowerOffVerified, CutData{Relay: "r2", SenseOff: true, DeviceGone: true, Ejected: true})
	add(at(2, 0), KindRelayCommand, RelayEvent{Relay: "r2", Kind: "command", Want: "on"})
	add(at(2, 1), KindPowerOn, PowerOnData{Relay: "r2"})
	add(at(2, 30), KindSnapshot, nil)
	add(at(3, 0), KindRelayCommand, RelayEvent{Relay: "r2", Kind: "command", Want: "off"})
	add(at(3, 1), KindPowerOffUnverified, CutData{Relay: "r2", SenseOff: true, Reason: msg.Plain("device still present")})
	add(at(4, 0), KindPowerOffVerified, CutData{Relay: "r2", SenseOff: true, DeviceGone: true})

	es, err := Read(dir, Filter{Medium: "rdx1", To: at(24, 0)})
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(es, "rdx1", at(0, 0), at(24, 0))
	wantDur(t, "Connected", s.Connected, 2*time.Hour)
	wantDur(t, "CutOff", s.CutOff, 22*time.Hour)
	if s.VerifiedCuts != 1 || s.FailedCuts != 1 || s.Snapshots != 1 {
		t.Errorf("counts = %+v", s)
	}
}

// A boot-time cut that could not be verified leaves the medium connected,
// even when nothing said it had been powered.
func TestSummarizeUnverifiedCutAloneIsConnected(t *testing.T) {
	es := entriesOf([]ev{
		{t: at(0, 0), kind: KindPowerOffVerified},
		{t: at(6, 0), kind: KindPowerOffUnverified},
	})
	s := Summarize(es, "usb1", at(0, 0), at(24, 0))
	wantDur(t, "CutOff", s.CutOff, 6*time.Hour)
	wantDur(t, "Connected", s.Connected, 18*time.Hour)
	if s.Connections != 1 || s.FailedCuts != 1 || s.VerifiedCuts != 1 {
		t.Errorf("counts = %+v", s)
	}
}

// Summarize reads check and relay.command data without looking the kind
// up (decodeAs): their declared types must be the ones it reads.
func TestSummarizeReadsTheDeclaredTypes(t *testing.T) {
	for kind, want := range map[Kind]any{KindCheck: CheckData{}, KindRelayCommand: RelayEvent{}} {
		if ki, ok := Lookup(kind); !ok || reflect.TypeOf(ki.Data) != reflect.TypeOf(want) {
			t.Errorf("%s is declared with %T; Summarize reads a %T", kind, ki.Data, want)
		}
	}
}
