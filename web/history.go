package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/danzen-gw/danzen/ledger"
)

type historyBody struct {
	Cycles []cycleRow
	Error  string
}

type cycleRow struct {
	ID, Started, Ended, Took, By, Result string
	OK, Open                             bool
	Media                                []cycleMedium
}

type cycleMedium struct {
	Name, Snapshots, Cut string
	CutOK                bool
}

// maxHistory is how many cycles the history page lists, newest first.
const maxHistory = 100

// cyclesOf pairs cycle.start and cycle.end entries and gathers what
// happened to each medium in between: snapshots and the cut's proof. A
// job.start just before a cycle names who pressed "run now".
func cyclesOf(l lang, entries []ledger.Entry) []cycleRow {
	var out []cycleRow
	open := -1
	by := ""
	started := map[string]time.Time{}
	medium := func(c *cycleRow, name string) *cycleMedium {
		for i := range c.Media {
			if c.Media[i].Name == name {
				return &c.Media[i]
			}
		}
		c.Media = append(c.Media, cycleMedium{Name: name, Cut: "—"})
		return &c.Media[len(c.Media)-1]
	}
	for _, e := range entries {
		var d struct {
			Cycle    string `json:"cycle"`
			OK       bool   `json:"ok"`
			Snapshot string `json:"snapshot"`
			Source   string `json:"source"`
			Reason   string `json:"reason"`
		}
		if len(e.Data) > 0 {
			json.Unmarshal(e.Data, &d)
		}
		switch e.Kind {
		case "job.start":
			by = e.Actor
		case ledger.KindCycleStart:
			who := l.t("スケジュール", "schedule")
			if by != "" {
				who = by
			}
			by = ""
			out = append(out, cycleRow{ID: d.Cycle, Started: stamp(e.Time), Ended: "—", Took: "—", By: who, Open: true,
				Result: l.t("実行中または中断", "running or interrupted")})
			open = len(out) - 1
			started[d.Cycle] = e.Time
		case ledger.KindCycleEnd:
			for i := len(out) - 1; i >= 0; i-- {
				if out[i].ID == d.Cycle {
					c := &out[i]
					c.Open, c.OK, c.Ended = false, d.OK, stamp(e.Time)
					if t, ok := started[d.Cycle]; ok {
						c.Took = l.humanDuration(e.Time.Sub(t))
					}
					c.Result = l.t("成功", "succeeded")
					if !d.OK {
						c.Result = l.t("失敗", "FAILED")
					}
					break
				}
			}
			open = -1
		case ledger.KindSnapshot:
			if open >= 0 && e.Medium != "" {
				m := medium(&out[open], e.Medium)
				if m.Snapshots != "" {
					m.Snapshots += ", "
				}
				m.Snapshots += short(d.Snapshot) + " (" + d.Source + ")"
			}
		case ledger.KindPowerOffVerified, ledger.KindPowerOffUnverified:
			if open >= 0 && e.Medium != "" {
				m := medium(&out[open], e.Medium)
				m.CutOK = e.Kind == ledger.KindPowerOffVerified
				m.Cut = l.t("切断を確認", "cut verified")
				if !m.CutOK {
					m.Cut = l.t("切断を確認できません: ", "cut NOT verified: ") + d.Reason
				}
			}
		}
	}
	// Newest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if len(out) > maxHistory {
		out = out[:maxHistory]
	}
	return out
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	entries, err := ledger.Read(s.core.Config().LedgerDir, ledger.Filter{Kinds: []ledger.Kind{"job.start", ledger.KindCycleStart, ledger.KindCycleEnd,
		ledger.KindSnapshot, ledger.KindPowerOffVerified, ledger.KindPowerOffUnverified}})
	b := historyBody{Cycles: cyclesOf(l, entries)}
	if err != nil {
		b.Error = err.Error()
	}
	s.render(w, r, http.StatusOK, "history.html", "/history", l.t("サイクルの履歴", "Cycle history"), "", false, b)
}

type ledgerBody struct {
	OK      bool
	Report  string
	Error   string
	Entries []entryRow
	Older   string
	Total   int
}

type entryRow struct {
	Seq, Time, Kind, Medium, Actor, Message, Data string
	Bad                                           bool
}

// ledgerPageSize entries are listed per page, newest first.
const ledgerPageSize = 100

func (s *Server) ledgerPage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	dir := s.core.Config().LedgerDir
	rep, verr := ledger.Verify(dir)
	b := ledgerBody{OK: verr == nil, Report: rep.String()}
	entries, err := ledger.Read(dir, ledger.Filter{})
	if err != nil {
		b.Error = err.Error()
	}
	b.Total = len(entries)
	end := len(entries)
	if before, err := strconv.ParseUint(r.URL.Query().Get("before"), 10, 64); err == nil {
		for end > 0 && entries[end-1].Seq >= before {
			end--
		}
	}
	start := max(0, end-ledgerPageSize)
	for i := end - 1; i >= start; i-- {
		e := entries[i]
		b.Entries = append(b.Entries, entryRow{Seq: strconv.FormatUint(e.Seq, 10), Time: stamp(e.Time), Kind: string(e.Kind), Medium: e.Medium,
			Actor: e.Actor, Message: l.in(e.Message), Data: string(e.Data),
			Bad: e.Kind == ledger.KindPowerOffUnverified || e.Kind == ledger.KindError || e.Kind == ledger.KindAuthLockout})
	}
	if start > 0 {
		b.Older = fmt.Sprintf("/ledger?before=%d", entries[start].Seq)
	}
	s.render(w, r, http.StatusOK, "ledger.html", "/ledger", l.t("証跡台帳", "Evidence ledger"), "", false, b)
}
