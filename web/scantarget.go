package web

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// The typed confirmation of a public address: the scan touches a public
// address only after a vendor admin typed it again here, so a typo in the
// register never sends a scan to a third party. A changed address needs a
// new confirmation (netprobe.CheckTargets).

type targetRow struct {
	ID, Purpose, Device, Addr string
	Confirmed                 bool
	Previous                  string // the address confirmed before, when it changed
	By, At, Contract          string
}

type targetBody struct {
	CanEdit bool
	Rows    []targetRow
	Err     msg.Text
	// Form is the row whose confirmation failed, kept for the message.
	Form struct {
		ID, Contract string
		Err          msg.Text
	}
}

// targetRows are the public addresses a scan would touch, one a row.
func targetRows(reg register.Register, s config.Scan, stamp func(time.Time) string) []targetRow {
	var rows []targetRow
	for _, p := range reg.Points {
		if !p.Scan {
			continue
		}
		for _, a := range p.Addresses() {
			if !netprobe.Public(a.Addr) {
				continue
			}
			row := targetRow{ID: p.ID, Purpose: p.Purpose, Device: p.Device(), Addr: a.Addr.String()}
			if c, ok := netprobe.Confirmed(s, p.ID, a.Addr); ok {
				row.Confirmed, row.By, row.At, row.Contract = true, c.By, stamp(c.At), c.Contract
			} else if c, ok := netprobe.Confirmation(s, p.ID); ok {
				row.Previous = c.Addr
			}
			rows = append(rows, row)
		}
	}
	return rows
}

func (s *Server) targetPage(w http.ResponseWriter, r *http.Request) {
	s.renderTargets(w, r, "", "", msg.Text{})
}

func (s *Server) renderTargets(w http.ResponseWriter, r *http.Request, id, contract string, formErr msg.Text) {
	var b targetBody
	b.CanEdit = auth.Allowed(role(r), auth.EditConfig)
	b.Form.ID, b.Form.Contract, b.Form.Err = id, contract, formErr
	reg, err := s.core.Register()
	b.Err = msg.TextOf(err)
	b.Rows = targetRows(reg, s.core.Config().Scan, s.zone().Stamp)
	flash, bad := msg.Text{}, false
	if r.URL.Query().Get("done") == "confirmed" {
		flash = msg.T("確認を記録しました。このアドレスを次の調査から調べます", "The confirmation was recorded; the next scan includes this address.")
	}
	s.render(w, r, http.StatusOK, "scantarget.html", "/scan", msg.T("グローバルIPの確認", "Confirming global addresses"), flash, bad, b)
}

// confirmTarget records that the person typed point id's public address
// again, as the hospital's: in the configuration (what the scan reads)
// and in the ledger (who, when, the line's contract ID).
func (s *Server) confirmTarget(w http.ResponseWriter, r *http.Request) {
	id, typed := r.PostFormValue("id"), strings.TrimSpace(r.PostFormValue("typed"))
	contract := strings.TrimSpace(r.PostFormValue("contract"))
	p, addr, err := s.targetToConfirm(id, typed)
	if err != nil {
		s.renderTargets(w, r, id, contract, msg.TextOf(err))
		return
	}
	cur := s.core.Config()
	next, err := cloneConfig(cur)
	if err != nil {
		s.failure(w, r, http.StatusInternalServerError, err, "/scan/confirm")
		return
	}
	prev, _ := netprobe.Confirmation(cur.Scan, id)
	// Confirmations of addresses the point no longer has are dropped: the
	// list says what the scan may touch now.
	current := p.Addresses()
	next.Scan.Confirmed = slices.DeleteFunc(next.Scan.Confirmed, func(c config.ScanConfirmation) bool {
		b, err := netip.ParseAddr(c.Addr)
		return c.Point == id && (err != nil || b.Unmap() == addr || !slices.ContainsFunc(current, func(a register.Address) bool { return a.Addr.Unmap() == b.Unmap() }))
	})
	next.Scan.Confirmed = append(next.Scan.Confirmed, config.ScanConfirmation{Point: id, Addr: addr.String(), By: actor(r), At: time.Now().UTC(), Contract: contract})
	if ve, err := s.apply(r.Context(), actor(r), next); err != nil || ve != nil {
		if err == nil {
			err = ve
		}
		s.renderTargets(w, r, id, contract, msg.TextOf(err))
		return
	}
	d := ledger.TargetConfirmData{Point: id, Addr: addr.String(), Contract: contract}
	if prev.Addr != "" && prev.Addr != d.Addr {
		d.Previous = prev.Addr
	}
	s.record(r.Context(), ledger.Entry{Kind: ledger.KindTargetConfirm, Actor: actor(r),
		Message: msg.Sprintf("接続点 %s のグローバルIP %s を病院のものと確認", "global IP %[2]s of connection point %[1]s confirmed as the hospital's", id, d.Addr),
		Payload: d})
	http.Redirect(w, r, "/scan/confirm?done=confirmed", http.StatusSeeOther)
}

// targetToConfirm is point id and the public address of it that typed
// names exactly.
func (s *Server) targetToConfirm(id, typed string) (register.Point, netip.Addr, error) {
	reg, err := s.core.Register()
	if err != nil {
		return register.Point{}, netip.Addr{}, err
	}
	i := slices.IndexFunc(reg.Points, func(p register.Point) bool { return p.ID == id })
	if i < 0 {
		return register.Point{}, netip.Addr{}, errNoPoint(id)
	}
	p, public := reg.Points[i], false
	t, terr := netip.ParseAddr(typed)
	for _, a := range p.Addresses() {
		if !netprobe.Public(a.Addr) {
			continue
		}
		public = true
		if terr == nil && t.Unmap() == a.Addr.Unmap() {
			return p, a.Addr.Unmap(), nil
		}
	}
	if !public {
		return p, netip.Addr{}, msg.Errorf("接続点 %s にはグローバルIPがありません", "connection point %s has no public address", id)
	}
	return p, netip.Addr{}, msg.Errorf("入力したアドレス「%s」が台帳のグローバルIPと一致しません。回線の契約書類で確認して、もう一度入力してください",
		"the address typed (%s) does not match the register's global IP: check it against the line's contract papers and type it again", typed)
}
