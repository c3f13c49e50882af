package web

import (
	"context"
	"net/http"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/offsite"
)

// offsitePath is the off-site rotation's page.
const offsitePath = "/offsite"

// offsiter is what the off-site page needs; *gateway.Gateway has it.
type offsiter interface {
	Offsite(now time.Time) (offsite.State, error)
	MarkOffsite(ctx context.Context, mk gateway.OffsiteMark) error
}

func (s *Server) offsiteRoutes(mux *http.ServeMux, need func(auth.Action, http.Handler) http.Handler) {
	mux.Handle("GET "+offsitePath, need(auth.ViewStatus, http.HandlerFunc(s.offsitePage)))
	mux.Handle("POST "+offsitePath, need(auth.HandleMedia, http.HandlerFunc(s.offsiteMark)))
}

type offsiteRow struct {
	Name                  string
	Away, Overdue         bool
	Where, Moved, Written msg.Text
	Due, Skipped          msg.Text
	// By and Note are what the form shows (what was typed, after a
	// refusal).
	By, Note string
}

type offsiteView struct {
	Rows      []offsiteRow
	Expect    msg.Text
	Lapsed    bool
	CanHandle bool
	Runs      int
}

// offsiteTexts are the page's words for the off-site state.
var (
	offsiteHome = msg.T("サーバ室", "server room")
	offsiteAway = msg.T("院外保管中", "off-site")
)

// offsitePage lists each medium that can be carried away: where it is,
// since when and by whom, when it was last written and when it must be
// back; hospital staff and vendor admins mark it taken or returned.
func (s *Server) offsitePage(w http.ResponseWriter, r *http.Request) {
	var flash msg.Text
	switch r.URL.Query().Get("done") {
	case "away":
		flash = msg.T("持ち出しを記録しました。媒体取扱記録簿にも記入してください。", "Recorded as taken off-site. Write it in the media handling log as well.")
	case "returned":
		flash = msg.T("返却を記録しました。媒体取扱記録簿にも記入してください。", "Recorded as returned. Write it in the media handling log as well.")
	}
	s.renderOffsite(w, r, flash, false, nil)
}

// renderOffsite shows the page; typed keeps a refused form's fields.
func (s *Server) renderOffsite(w http.ResponseWriter, r *http.Request, flash msg.Text, bad bool, typed *gateway.OffsiteMark) {
	st, err := s.core.Offsite(time.Now())
	if err != nil {
		s.failure(w, r, http.StatusInternalServerError, err, "/")
		return
	}
	v := offsiteViewOf(st, s.zone(), s.core.Config().RotationRuns())
	v.CanHandle = auth.Allowed(role(r), auth.HandleMedia)
	for i := range v.Rows {
		v.Rows[i].By = actor(r)
		if typed != nil && typed.Medium == v.Rows[i].Name {
			v.Rows[i].By, v.Rows[i].Note = typed.By, typed.Note
		}
	}
	s.render(w, r, http.StatusOK, "offsite.html", offsitePath, msg.T("院外保管", "Off-site"), flash, bad, v)
}

// offsiteViewOf is the state as the page shows it.
func offsiteViewOf(st offsite.State, z when.Zone, runs int) offsiteView {
	v := offsiteView{Lapsed: st.Lapsed, Runs: runs}
	limit := duration.Words(st.AllHomeLimit)
	switch {
	case !st.Expected:
		v.Expect = msg.T("院外保管の輪番は設定されていません(offsite.expected)。すべての媒体がサーバ室にあっても警報は出ません。",
			"No off-site rotation is set (offsite.expected): no alert is raised while every medium is in the server room.")
	case st.Lapsed:
		v.Expect = msg.Sprintf("%s から、すべての媒体がサーバ室にあります(許容 %s)。輪番の媒体を1台持ち出してください。",
			"Every medium has been in the server room since %s (allowed: %s): take one rotated medium off-site.", z.Minute(st.AllHomeSince), limit)
	case st.AllHomeSince.IsZero():
		v.Expect = msg.Sprintf("院外保管の輪番を行います。すべての媒体が %s を超えてサーバ室にあると警報が出ます。",
			"An off-site rotation is kept: an alert is raised when every medium has been in the server room for longer than %s.", limit)
	default:
		v.Expect = msg.Sprintf("すべての媒体がサーバ室にあります。%s までに1台持ち出してください。",
			"Every medium is in the server room: take one off-site by %s.", z.Minute(st.LapsesAt()))
	}
	for _, m := range st.Media {
		if m.Portable {
			v.Rows = append(v.Rows, offsiteRowOf(m, z))
		}
	}
	return v
}

func offsiteRowOf(m offsite.Medium, z when.Zone) offsiteRow {
	row := offsiteRow{Name: m.Name, Away: m.Away, Overdue: m.Overdue, Where: offsiteHome, Due: msg.Plain("—"),
		Moved: msg.T("持ち出しの記録なし", "never taken away"), Written: msg.T("未書込", "never written"), Skipped: msg.Plain("—")}
	if !m.LastWritten.IsZero() {
		row.Written = msg.Plain(z.Minute(m.LastWritten))
	}
	if !m.LastSkipped.IsZero() {
		row.Skipped = msg.Plain(z.Minute(m.LastSkipped))
	}
	switch {
	case m.Away:
		row.Where = offsiteAway
		if m.Note != "" {
			row.Where = msg.Sprintf("院外保管中(%s)", "off-site (%s)", m.Note)
		}
		row.Moved = msg.Sprintf("%s から(%s)", "since %s (%s)", z.Minute(m.Since), m.By)
		row.Due = msg.T("スケジュールなし", "nothing scheduled")
		if !m.DueBack.IsZero() {
			row.Due = msg.Plain(z.Minute(m.DueBack))
		}
		if m.Overdue {
			row.Due = msg.Sprintf("%s(期限切れ)", "%s (overdue)", z.Minute(m.DueBack))
		}
	case !m.Since.IsZero():
		row.Moved = msg.Sprintf("%s に返却(%s)", "returned %s (%s)", z.Minute(m.Since), m.By)
	}
	return row
}

// offsiteMark records a medium taken off-site or brought back, with who
// marked it, who carried it and from which address.
func (s *Server) offsiteMark(w http.ResponseWriter, r *http.Request) {
	mk := gateway.OffsiteMark{Medium: r.PostFormValue("medium"), Away: r.PostFormValue("action") == "away",
		Actor: actor(r), By: r.PostFormValue("by"), Note: r.PostFormValue("note"), Client: clientAddr(r)}
	if a := r.PostFormValue("action"); a != "away" && a != "returned" {
		s.renderOffsite(w, r, msg.T("操作が不明です(持ち出し・返却のどちらか)", "unknown action: take away or returned"), true, &mk)
		return
	}
	if err := s.core.MarkOffsite(r.Context(), mk); err != nil {
		s.renderOffsite(w, r, msg.TextOf(err), true, &mk)
		return
	}
	done := "returned"
	if mk.Away {
		done = "away"
	}
	http.Redirect(w, r, offsitePath+"?done="+done, http.StatusSeeOther)
}

// offsiteCards adds the off-site line to each medium's card on the
// dashboard; a failure to read the marks leaves the cards as they are.
func (s *Server) offsiteCards(cards []mediumCard) {
	st, err := s.core.Offsite(time.Now())
	if err != nil {
		s.log.Warn("dashboard: the off-site marks cannot be read", "err", err)
		return
	}
	z := s.zone()
	for i := range cards {
		m, ok := st.Get(cards[i].Name)
		if !ok || !m.Away {
			continue
		}
		row := offsiteRowOf(m, z)
		cards[i].Offsite = msg.Sprintf("%s %s。戻す期限 %s", "%s %s; due back %s", row.Where, row.Moved, row.Due)
		cards[i].OffsiteBad = m.Overdue
	}
}
