package web

import (
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// pullView is one source's pull as the dashboard and the history show it:
// "emr: 451 files backed up; 2 left out: …", then the files left out by
// reason. The words are the ledger's (backup.PullSummary).
type pullView struct {
	Source  string
	Summary msg.Text
	// Class is "ok", "warn" (files left out) or "bad" (failed, or no
	// complete file).
	Class   string
	LeftOut []leftOutView
}

type leftOutView struct {
	Reason msg.Text
	Count  int
	Names  []string
	More   msg.Text // "… 3 more" when not every name is shown
}

// Names shown per reason: a line on the dashboard, the ledger's whole
// list (ledger.MaxPullNames) in the history.
const (
	dashboardPullNames = 5
	historyPullNames   = ledger.MaxPullNames
)

func pullViews(recs []ledger.PullData, names int) []pullView {
	var out []pullView
	for _, d := range recs {
		v := pullView{Source: d.Source, Summary: backup.PullSummary(d), Class: "ok"}
		switch {
		case !d.OK || backup.NothingPulled(d):
			v.Class = "bad"
		case backup.LeftOutTotal(d) > 0:
			v.Class = "warn"
		}
		for _, lo := range d.LeftOut {
			lv := leftOutView{Reason: backup.LeftOutReason(lo.Reason), Count: lo.Count, Names: lo.Names[:min(len(lo.Names), names)]}
			if n := lo.Count - len(lv.Names); n > 0 {
				lv.More = msg.Sprintf("… ほか %d 件", "… %d more", n)
			}
			v.LeftOut = append(v.LeftOut, lv)
		}
		out = append(out, v)
	}
	return out
}

// pull adds a pull record to the cycle under way.
func (cl *cycleList) pull(e ledger.Entry) {
	if cl.open < 0 {
		return
	}
	d, err := ledger.Decode[ledger.PullData](e)
	if err != nil {
		return // the ledger page shows the record whole
	}
	c := &cl.rows[cl.open]
	c.Pulls = append(c.Pulls, pullViews([]ledger.PullData{d}, historyPullNames)...)
}
