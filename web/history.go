package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/status"
)

type historyBody struct {
	Cycles []cycleRow
	Error  msg.Text
}

type cycleRow struct {
	ID, Started, Ended string
	Took, By, Result   msg.Text
	OK, Open           bool
	Media              []cycleMedium
	// Pulls say what each source's pull backed up and left out (pulls.go).
	Pulls []pullView
	// What names a row that is not a cycle (a missed run, a drill…).
	What msg.Text
	// Failures explain what went wrong, and what to do (failures.go).
	Failures []failureView
	failures []status.Failure
	endedAt  time.Time
}

type cycleMedium struct {
	Name, Snapshots string
	Cut             msg.Text
	CutOK           bool
}

// maxHistory is how many cycles the history page lists, newest first.
const maxHistory = 100

// cycleList pairs cycle.start and cycle.end entries and gathers what
// happened to each medium in between: snapshots and the cut's proof. A
// job.start just before a cycle names who pressed "run now".
type cycleList struct {
	rows    []cycleRow
	open    int // the row of the cycle under way, or -1
	by      string
	started map[string]time.Time
	z       when.Zone
}

func cyclesOf(entries []ledger.Entry, z when.Zone) []cycleRow {
	cl := &cycleList{open: -1, started: map[string]time.Time{}, z: z}
	for _, e := range entries {
		cl.add(e)
	}
	out := cl.rows
	slices.Reverse(out) // newest first
	if len(out) > maxHistory {
		out = out[:maxHistory]
	}
	explainRows(out, cl.z)
	return out
}

// add takes one entry in. A payload that does not decode leaves its
// fields empty here; the ledger page shows the record whole.
func (cl *cycleList) add(e ledger.Entry) {
	cl.failure(e)
	switch e.Kind {
	case ledger.KindJobStart:
		cl.by = e.Actor
	case ledger.KindCycleStart:
		d, _ := ledger.Decode[ledger.CycleStartData](e)
		cl.start(d.Cycle, e.Time)
	case ledger.KindCycleEnd:
		d, _ := ledger.Decode[ledger.CycleEndData](e)
		cl.end(d, e.Time)
	case ledger.KindPull:
		cl.pull(e)
	case ledger.KindSnapshot:
		if cl.open >= 0 && e.Medium != "" {
			d, _ := ledger.Decode[ledger.SnapshotData](e)
			m := cl.medium(e.Medium)
			if m.Snapshots != "" {
				m.Snapshots += ", "
			}
			m.Snapshots += short(d.Snapshot) + " (" + d.Source + ")"
		}
	case ledger.KindPowerOffVerified, ledger.KindPowerOffUnverified:
		if cl.open >= 0 && e.Medium != "" {
			d, _ := ledger.Decode[ledger.CutData](e)
			m := cl.medium(e.Medium)
			m.CutOK = e.Kind == ledger.KindPowerOffVerified
			m.Cut = msg.T("切断を確認", "cut verified")
			if !m.CutOK {
				m.Cut = msg.Sprintf("切断を確認できません: %s", "cut NOT verified: %s", d.Reason)
			}
		}
	}
}

func (cl *cycleList) start(id string, at time.Time) {
	who := msg.T("スケジュール", "schedule")
	if cl.by != "" {
		who = msg.Plain(cl.by)
	}
	cl.by = ""
	cl.rows = append(cl.rows, cycleRow{ID: id, Started: cl.z.Stamp(at), Ended: "—", Took: msg.Plain("—"), By: who, Open: true,
		Result: msg.T("実行中または中断", "running or interrupted")})
	cl.open = len(cl.rows) - 1
	cl.started[id] = at
}

func (cl *cycleList) end(d ledger.CycleEndData, at time.Time) {
	cl.open = -1
	for i := len(cl.rows) - 1; i >= 0; i-- {
		c := &cl.rows[i]
		if c.ID != d.Cycle {
			continue
		}
		c.Open, c.OK, c.Ended, c.endedAt = false, d.OK, cl.z.Stamp(at), at
		if t, ok := cl.started[d.Cycle]; ok {
			c.Took = humanDuration(at.Sub(t))
		}
		c.Result = msg.T("成功", "succeeded")
		if !d.OK {
			c.Result = msg.T("失敗", "FAILED")
		}
		return
	}
}

// medium is the open cycle's line for a medium.
func (cl *cycleList) medium(name string) *cycleMedium {
	c := &cl.rows[cl.open]
	for i := range c.Media {
		if c.Media[i].Name == name {
			return &c.Media[i]
		}
	}
	c.Media = append(c.Media, cycleMedium{Name: name, Cut: msg.Plain("—")})
	return &c.Media[len(c.Media)-1]
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	entries, err := ledger.Read(s.core.Config().LedgerDir, ledger.Filter{Kinds: historyKinds()})
	b := historyBody{Cycles: cyclesOf(entries, s.zone()), Error: msg.TextOf(err)}
	s.render(w, r, http.StatusOK, "history.html", "/history", msg.T("サイクルの履歴", "Cycle history"), msg.Text{}, false, b)
}

type ledgerBody struct {
	OK      bool
	Report  ledger.Report
	Error   msg.Text
	Entries []entryRow
	Older   string
	Total   int
}

type entryRow struct {
	Seq, Time, Kind, Medium, Actor, Data string
	Message                              msg.Text
	Bad                                  bool
}

// ledgerPageSize entries are listed per page, newest first.
const ledgerPageSize = 100

func (s *Server) ledgerPage(w http.ResponseWriter, r *http.Request) {
	dir := s.core.Config().LedgerDir
	rep, verr := ledger.Verify(dir)
	b := ledgerBody{OK: verr == nil, Report: rep}
	entries, err := ledger.Read(dir, ledger.Filter{})
	b.Error = msg.TextOf(err)
	b.Total = len(entries)
	end := len(entries)
	if before, err := strconv.ParseUint(r.URL.Query().Get("before"), 10, 64); err == nil {
		for end > 0 && entries[end-1].Seq >= before {
			end--
		}
	}
	start := max(0, end-ledgerPageSize)
	z := s.zone()
	for i := end - 1; i >= start; i-- {
		e := entries[i]
		b.Entries = append(b.Entries, entryRow{Seq: strconv.FormatUint(e.Seq, 10), Time: z.Stamp(e.Time), Kind: string(e.Kind), Medium: e.Medium,
			Actor: e.Actor, Message: e.Message, Data: string(e.Data),
			Bad: e.Kind == ledger.KindPowerOffUnverified || e.Kind == ledger.KindError || e.Kind == ledger.KindAuthLockout})
	}
	if start > 0 {
		b.Older = fmt.Sprintf("/ledger?before=%d", entries[start].Seq)
	}
	s.render(w, r, http.StatusOK, "ledger.html", "/ledger", msg.T("証跡台帳", "Evidence ledger"), msg.Text{}, false, b)
}
