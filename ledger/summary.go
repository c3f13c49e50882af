package ledger

import (
	"cmp"
	"slices"
	"time"
)

// State is a medium's connection state as the ledger proves it.
type State string

const (
	// StateUnknown: no power entry for the medium before this time.
	StateUnknown State = "unknown"
	// StateConnected: powered, or a cut was not verified.
	StateConnected State = "connected"
	// StateCutOff: the last cut was verified.
	StateCutOff State = "cutoff"
)

// Interval is a stretch of one state within the summarised period.
type Interval struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	State State     `json:"state"`
	// Seq is the entry that began the state, 0 if it began before the period.
	Seq uint64 `json:"seq"`
}

// Summary is a medium's record for the period [From, To).
type Summary struct {
	Medium    string        `json:"medium"`
	From      time.Time     `json:"from"`
	To        time.Time     `json:"to"`
	Connected time.Duration `json:"connected"`
	CutOff    time.Duration `json:"cut_off"`
	Unknown   time.Duration `json:"unknown"`
	// Connections counts changes into StateConnected within the period.
	Connections  int        `json:"connections"`
	VerifiedCuts int        `json:"verified_cuts"`
	FailedCuts   int        `json:"failed_cuts"` // power.off.unverified
	Snapshots    int        `json:"snapshots"`
	Checks       int        `json:"checks"`        // check with data ok=true
	FailedChecks int        `json:"failed_checks"` // check with ok=false or without data
	Errors       int        `json:"errors"`
	Intervals    []Interval `json:"intervals"`
}

// Summarize computes what the ledger proves about medium during [from, to).
//
// entries must include the medium's entries before from (they give the
// state at from), so read them with Filter{Medium: m, To: to}, not From.
// Only entries whose Medium equals medium are used, in seq order.
//
// State changes, read from these kinds only:
//   - KindPowerOn, or KindRelayCommand commanding the relay on: connected.
//   - KindPowerOffVerified: cut off.
//   - KindPowerOffUnverified: connected (a cut that was not verified never
//     counts as offline, even if the relay was commanded off).
//
// A relay commanded off changes nothing: only a verified cut does.
// Before the first such entry the state is unknown. Counts cover entries
// within [from, to): KindPowerOffVerified, KindPowerOffUnverified,
// KindSnapshot, KindCheck (data {"ok": bool}) and KindError.
//
// Times are taken in seq order; an entry whose time is earlier than the
// one before it (clock set back) is treated as happening at that earlier
// entry's time, so durations never go negative and always add up to
// to - from.
func Summarize(entries []Entry, medium string, from, to time.Time) Summary {
	return SummarizeAfter(StateUnknown, entries, medium, from, to)
}

// Then is the state after e, the next entry of the medium.
func (s State) Then(e Entry) State {
	if next := transition(e); next != "" {
		return next
	}
	return s
}

// SummarizeAfter is Summarize of the medium's entries that follow those
// that left it in state prior ("" is StateUnknown). It is exact when each
// of those lies before from: then only the state they left can count. A
// caller that keeps a medium's recent entries only (package status) folds
// the older ones into prior with Then.
func SummarizeAfter(prior State, entries []Entry, medium string, from, to time.Time) Summary {
	s := Summary{Medium: medium, From: from, To: to}
	if !to.After(from) {
		return s
	}
	if !slices.IsSortedFunc(entries, func(a, b Entry) int { return cmp.Compare(a.Seq, b.Seq) }) {
		entries = slices.Clone(entries)
		slices.SortStableFunc(entries, func(a, b Entry) int { return cmp.Compare(a.Seq, b.Seq) })
	}
	state, stateSeq := prior, uint64(0)
	if state == "" {
		state = StateUnknown
	}
	cursor := from
	// advance books the time from cursor to until under the current state.
	advance := func(until time.Time) {
		if !until.After(cursor) {
			return
		}
		d := until.Sub(cursor)
		switch state {
		case StateConnected:
			s.Connected += d
		case StateCutOff:
			s.CutOff += d
		default:
			s.Unknown += d
		}
		if n := len(s.Intervals); n > 0 && s.Intervals[n-1].State == state && s.Intervals[n-1].To.Equal(cursor) {
			s.Intervals[n-1].To = until
		} else {
			s.Intervals = append(s.Intervals, Interval{From: cursor, To: until, State: state, Seq: stateSeq})
		}
		cursor = until
	}
	var eff time.Time
	for _, e := range entries {
		if e.Medium != medium {
			continue
		}
		if e.Time.After(eff) {
			eff = e.Time
		}
		if !eff.Before(to) {
			break
		}
		inPeriod := !eff.Before(from)
		if inPeriod {
			advance(eff)
		}
		next := transition(e)
		if next != "" && next != state {
			if inPeriod && next == StateConnected {
				s.Connections++
			}
			state = next
			stateSeq = 0
			if inPeriod {
				stateSeq = e.Seq
			}
		}
		if inPeriod {
			s.count(e)
		}
	}
	advance(to)
	return s
}

// count adds an entry within the period to the counts.
func (s *Summary) count(e Entry) {
	switch e.Kind {
	case KindPowerOffVerified:
		s.VerifiedCuts++
	case KindPowerOffUnverified:
		s.FailedCuts++
	case KindSnapshot:
		s.Snapshots++
	case KindCheck:
		if c, err := decodeAs[CheckData](e); err == nil && c.OK {
			s.Checks++
		} else {
			s.FailedChecks++
		}
	case KindError:
		s.Errors++
	}
}

// transition is the state an entry moves its medium into, "" for none.
func transition(e Entry) State {
	switch e.Kind {
	case KindPowerOn, KindPowerOffUnverified:
		return StateConnected
	case KindPowerOffVerified:
		return StateCutOff
	case KindRelayCommand:
		// A relay commanded on powers the medium from that moment, even if
		// the process stopped before it could record power.on.
		if c, err := decodeAs[RelayEvent](e); err == nil && (c.On || (c.Kind == "command" && c.Want == "on")) {
			return StateConnected
		}
	}
	return ""
}
