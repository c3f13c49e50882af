package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/netprobe/kev"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// scanner is what the self-scan page needs from the core.
type scanner interface {
	Register() (register.Register, error)
	UpdateRegister(ctx context.Context, actor, what string, change func(*register.Register) error) error
	StartScan(ctx context.Context, actor string, anyway bool) error
	Scanning() bool
	ScanReports() ([]gateway.ScanSummary, error)
	ScanReport(id string) (*netprobe.Report, error)
	ScanFeed() (*kev.Feed, error)
	UploadFeed(ctx context.Context, actor string, data []byte) (*kev.Feed, error)
}

// pointField is one field of the 回線・機器情報記入シート on the page.
type pointField struct {
	name   string // the register's JSON name, as its validation names it
	ja, en string
	text   func(*register.Point) *string
	flag   func(*register.Point) *bool
	opts   [][3]string // value, Japanese, English
}

var pointFields = []pointField{
	{name: "id", ja: "ID(例: CAF00001)", en: "ID (e.g. CAF00001)", text: func(p *register.Point) *string { return &p.ID }},
	{name: "purpose", ja: "用途・システム名", en: "Purpose / system", text: func(p *register.Point) *string { return &p.Purpose }},
	{name: "echart_connected", ja: "電子カルテのネットワークに接続している", en: "Connected to the e-chart network", flag: func(p *register.Point) *bool { return &p.EChart }},
	{name: "scan", ja: "脆弱性診断を行う(この接続点のアドレスを調べる)", en: "Diagnose (scan this point's addresses)", flag: func(p *register.Point) *bool { return &p.Scan }},
	{name: "line_type", ja: "通信形態", en: "Line type", text: func(p *register.Point) *string { return &p.LineType }, opts: [][3]string{
		{register.LineInternet, "インターネット", "internet"}, {register.LineInternetVPN, "インターネットVPN", "internet VPN"},
		{register.LineClosed, "閉域網", "closed network"}, {register.LineMobile, "モバイル回線", "mobile"}}},
	{name: "carrier", ja: "回線事業者", en: "Carrier", text: func(p *register.Point) *string { return &p.Carrier }},
	{name: "service", ja: "回線品目", en: "Line service", text: func(p *register.Point) *string { return &p.Service }},
	{name: "provider", ja: "プロバイダ名", en: "Provider", text: func(p *register.Point) *string { return &p.Provider }},
	{name: "provider_plan", ja: "プロバイダ品目", en: "Provider plan", text: func(p *register.Point) *string { return &p.ProviderPlan }},
	{name: "onu_location", ja: "回線終端装置(ONU・モデム)設置場所", en: "ONU / modem location", text: func(p *register.Point) *string { return &p.ONULocation }},
	{name: "global_ip", ja: "グローバルIPアドレス(不明なら空欄)", en: "Global IP address (empty if unknown)", text: func(p *register.Point) *string { return &p.GlobalIP }},
	{name: "ip_mode", ja: "固定IP/動的IP", en: "Fixed or dynamic IP", text: func(p *register.Point) *string { return &p.IPMode }, opts: [][3]string{
		{"", "不明", "unknown"}, {register.IPFixed, "固定IP", "fixed"}, {register.IPDynamic, "動的IP", "dynamic"}}},
	{name: "fqdn", ja: "FQDN(記録のみ。名前解決はしません)", en: "FQDN (recorded only, never resolved)", text: func(p *register.Point) *string { return &p.FQDN }},
	{name: "maker", ja: "機器メーカー", en: "Device maker", text: func(p *register.Point) *string { return &p.Maker }},
	{name: "model", ja: "機種名", en: "Model", text: func(p *register.Point) *string { return &p.Model }},
	{name: "firmware", ja: "ソフトウェア(ファームウェア)バージョン", en: "Firmware version", text: func(p *register.Point) *string { return &p.Firmware }},
	{name: "lan_address", ja: "LAN側管理アドレス", en: "LAN-side management address", text: func(p *register.Point) *string { return &p.LANAddress }},
	{name: "note", ja: "備考", en: "Note", text: func(p *register.Point) *string { return &p.Note }},
}

type scanBody struct {
	CanEdit, CanScan bool
	Running, Busy    bool // a scan runs; another job holds the gateway
	Points           []pointRow
	RegisterErr      string
	Form             pointForm
	ImportErrs       []string
	FeedDate         string
	FeedErr          string
	Latest           *reportView
	Reports          []reportRow
	ReportsErr       string
	ScanErr          string
}

type pointRow struct {
	ID, Purpose, EChart, Scan, Line, Carrier, Global, Device, LAN, Note string
}

// pointForm is the add/edit form: Orig is the ID being edited ("" adds).
type pointForm struct {
	Orig   string
	Fields []fieldView
	Other  []string // problems not tied to a field
}

type reportView struct {
	ID, Started, Finished, FeedDate, TCPPorts string
	Cautions                                  int
	Rows                                      []netprobe.Row
	Changes                                   *netprobe.Diff
	Previous                                  string
}

type reportRow struct {
	ID, Started, FeedDate string
	Cautions, New         int
}

// reportFormats are the downloads of a report.
var reportFormats = map[string]struct {
	contentType string
	write       func(*netprobe.Report, io.Writer) error
}{
	"html": {"text/html; charset=utf-8", (*netprobe.Report).WriteHTML},
	"csv":  {"text/csv; charset=utf-8", (*netprobe.Report).WriteCSV},
	"json": {"application/json", (*netprobe.Report).WriteJSON},
}

func (s *Server) scanPage(w http.ResponseWriter, r *http.Request) {
	var p *register.Point
	if id := r.URL.Query().Get("edit"); id != "" {
		if reg, err := s.core.Register(); err == nil {
			if i := slices.IndexFunc(reg.Points, func(q register.Point) bool { return q.ID == id }); i >= 0 {
				p = &reg.Points[i]
			}
		}
	}
	l := langOf(w, r)
	form := pointForm{Fields: pointViews(l, register.Point{Scan: true, LineType: register.LineInternet}, nil, -1)}
	if p != nil {
		form = pointForm{Orig: p.ID, Fields: pointViews(l, *p, nil, -1)}
	}
	s.renderScan(w, r, form, nil, "")
}

func (s *Server) renderScan(w http.ResponseWriter, r *http.Request, form pointForm, importErrs []string, scanErr string) {
	l := langOf(w, r)
	rl := role(r)
	running, _ := s.core.Running()
	b := scanBody{CanEdit: auth.Allowed(rl, auth.EditConfig), CanScan: auth.Allowed(rl, auth.RunCycle),
		Running: s.core.Scanning(), Busy: running, Form: form, ImportErrs: importErrs, ScanErr: scanErr}
	reg, err := s.core.Register()
	if err != nil {
		b.RegisterErr = l.split(err.Error())
	}
	for _, p := range reg.Points {
		b.Points = append(b.Points, pointRowOf(l, p))
	}
	if f, err := s.core.ScanFeed(); err != nil {
		b.FeedErr = l.split(err.Error())
	} else {
		b.FeedDate = f.Date
	}
	list, err := s.core.ScanReports()
	if err != nil {
		b.ReportsErr = l.split(err.Error())
	}
	for _, x := range list {
		b.Reports = append(b.Reports, reportRow{ID: x.ID, Started: stamp(x.Started), FeedDate: x.FeedDate, Cautions: x.Cautions, New: x.New})
	}
	if len(list) > 0 {
		if rep, err := s.core.ScanReport(list[0].ID); err != nil {
			b.ReportsErr = l.split(err.Error())
		} else {
			b.Latest = reportViewOf(list[0].ID, rep)
		}
	}
	flash, bad := flashOf(l, r)
	if flash == "" {
		flash, bad = scanFlash(l, r)
	}
	s.render(w, r, http.StatusOK, "scan.html", "/scan", l.t("外部接続点の自己診断", "WAN-edge self-scan"), flash, bad, b)
}

func pointRowOf(l lang, p register.Point) pointRow {
	yes := func(v bool) string { return map[bool]string{true: l.t("あり", "yes"), false: l.t("なし", "no")}[v] }
	var lines []string // carrier and provider, each with its plan
	for _, s := range []string{p.Carrier + " " + p.Service, p.Provider + " " + p.ProviderPlan} {
		if s = strings.TrimSpace(s); s != "" {
			lines = append(lines, s)
		}
	}
	row := pointRow{ID: p.ID, Purpose: p.Purpose, EChart: yes(p.EChart), Scan: yes(p.Scan), Line: optionLabel(l, "line_type", p.LineType),
		Carrier: strings.Join(lines, " / "), Global: p.GlobalIP,
		Device: strings.TrimSpace(p.Device() + " " + p.Firmware), LAN: p.LANAddress, Note: p.Note}
	if p.IPMode != "" {
		row.Global += " (" + optionLabel(l, "ip_mode", p.IPMode) + ")"
	}
	if p.FQDN != "" {
		row.Global += " " + p.FQDN
	}
	return row
}

func optionLabel(l lang, field, value string) string {
	for _, f := range pointFields {
		for _, o := range f.opts {
			if f.name == field && o[0] == value {
				return l.t(o[1], o[2])
			}
		}
	}
	return value
}

// pointViews draws the form for p; errors of the register's row index i
// (points[i].field) are shown beside their fields.
func pointViews(l lang, p register.Point, ve *config.ValidationError, i int) []fieldView {
	var out []fieldView
	for _, f := range pointFields {
		v := fieldView{Name: f.name, ID: "point-" + f.name, Label: l.t(f.ja, f.en)}
		switch {
		case f.flag != nil:
			v.Check, v.Checked = true, *f.flag(&p)
		case f.opts != nil:
			v.Select = true
			for _, o := range f.opts {
				v.Options = append(v.Options, optionView{Value: o[0], Label: l.t(o[1], o[2]), Selected: o[0] == *f.text(&p)})
			}
		default:
			v.Value = *f.text(&p)
		}
		if ve != nil {
			for _, e := range ve.For(fmt.Sprintf("points[%d].%s", i, f.name)) {
				v.Errors = append(v.Errors, l.in(e.Text))
			}
		}
		out = append(out, v)
	}
	return out
}

func pointOf(r *http.Request) register.Point {
	var p register.Point
	for _, f := range pointFields {
		if f.flag != nil {
			*f.flag(&p) = r.PostFormValue(f.name) != ""
		} else {
			*f.text(&p) = strings.TrimSpace(r.PostFormValue(f.name))
		}
	}
	return p
}

func reportViewOf(id string, r *netprobe.Report) *reportView {
	v := &reportView{ID: id, Started: stamp(r.Started), Finished: stamp(r.Finished), FeedDate: r.FeedDate, TCPPorts: r.TCPPorts,
		Cautions: r.Cautions(), Rows: r.Rows(), Changes: r.Changes}
	if r.Changes != nil {
		v.Previous = stamp(r.Changes.Previous)
	}
	return v
}

// savePoint adds a point (orig empty) or replaces the point orig.
func (s *Server) savePoint(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	p, orig := pointOf(r), r.PostFormValue("orig")
	at := -1 // the row the point lands in, for the messages
	what := "add"
	if orig != "" {
		what = "edit " + orig
	}
	err := s.core.UpdateRegister(r.Context(), actor(r), what, func(reg *register.Register) error {
		if orig == "" {
			at = len(reg.Points)
			reg.Points = append(reg.Points, p)
			return nil
		}
		at = slices.IndexFunc(reg.Points, func(q register.Point) bool { return q.ID == orig })
		if at < 0 {
			return fmt.Errorf("接続点 %s は台帳にありません / no connection point %s in the register", orig, orig)
		}
		reg.Points[at] = p
		return nil
	})
	if err == nil {
		http.Redirect(w, r, "/scan?done=register#register", http.StatusSeeOther)
		return
	}
	form := pointForm{Orig: orig}
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		form.Fields = pointViews(l, p, ve, at)
		form.Other = append(form.Other, l.t("入力に誤りがあります。各欄の説明を確認してください", "Some fields are invalid: see the message beside each."))
	} else {
		form.Fields = pointViews(l, p, nil, at)
		form.Other = append(form.Other, l.split(err.Error()))
	}
	s.renderScan(w, r, form, nil, "")
}

func (s *Server) deletePoint(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	id := r.PostFormValue("id")
	err := s.core.UpdateRegister(r.Context(), actor(r), "delete "+id, func(reg *register.Register) error {
		i := slices.IndexFunc(reg.Points, func(q register.Point) bool { return q.ID == id })
		if i < 0 {
			return fmt.Errorf("接続点 %s は台帳にありません / no connection point %s in the register", id, id)
		}
		reg.Points = slices.Delete(reg.Points, i, i+1)
		return nil
	})
	if err != nil {
		s.message(w, r, http.StatusOK, l.split(err.Error()), true, "/scan#register")
		return
	}
	http.Redirect(w, r, "/scan?done=register#register", http.StatusSeeOther)
}

// uploaded reads an uploaded file field (or the same field pasted as text).
func uploaded(r *http.Request, name string) ([]byte, error) {
	f, _, err := r.FormFile(name)
	if err != nil {
		if v := r.PostFormValue(name); v != "" {
			return []byte(v), nil
		}
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxBody))
}

// importRegister replaces the register with an uploaded CSV of the sheet.
func (s *Server) importRegister(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	blank := pointForm{Fields: pointViews(l, register.Point{Scan: true, LineType: register.LineInternet}, nil, -1)}
	data, err := uploaded(r, "csv")
	if err != nil {
		s.renderScan(w, r, blank, []string{l.t("CSV ファイルを選んでください", "choose a CSV file")}, "")
		return
	}
	reg, err := register.ReadCSV(bytes.NewReader(data))
	if err == nil {
		err = s.core.UpdateRegister(r.Context(), actor(r), "import", func(cur *register.Register) error {
			*cur = reg
			return nil
		})
	}
	if err != nil {
		var msgs []string
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			for _, f := range ve.Fields {
				msgs = append(msgs, f.Field+": "+l.in(f.Text))
			}
		} else {
			msgs = append(msgs, l.split(err.Error()))
		}
		s.renderScan(w, r, blank, msgs, "")
		return
	}
	http.Redirect(w, r, "/scan?done=imported#register", http.StatusSeeOther)
}

func (s *Server) exportRegister(w http.ResponseWriter, r *http.Request) {
	reg, err := s.core.Register()
	if err != nil {
		s.message(w, r, http.StatusOK, langOf(w, r).split(err.Error()), true, "/scan")
		return
	}
	var b bytes.Buffer
	if err := register.WriteCSV(&b, reg); err != nil {
		s.message(w, r, http.StatusInternalServerError, err.Error(), true, "/scan")
		return
	}
	setPageHeaders(w)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", attachment("register.csv"))
	w.Write(b.Bytes())
}

// scanNow is the "scan now" button. The operator may tick "anyway" to
// scan beside a running cycle.
func (s *Server) scanNow(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	err := s.core.StartScan(r.Context(), actor(r), r.PostFormValue("anyway") != "")
	switch {
	case errors.Is(err, gateway.ErrBusy):
		http.Redirect(w, r, "/scan?err=busy", http.StatusSeeOther)
	case err != nil:
		s.renderScan(w, r, pointForm{Fields: pointViews(l, register.Point{Scan: true, LineType: register.LineInternet}, nil, -1)}, nil, l.split(err.Error()))
	default:
		http.Redirect(w, r, "/scan?done=scan", http.StatusSeeOther)
	}
}

// uploadFeed replaces the known-exploited feed with a newer uploaded one;
// the core checks it before anything is kept.
func (s *Server) uploadFeed(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	data, err := uploaded(r, "feed")
	if err == nil {
		_, err = s.core.UploadFeed(r.Context(), actor(r), data)
	}
	if err != nil {
		s.message(w, r, http.StatusOK, l.t("脆弱性フィードを更新できません(使用中のフィードは変わりません): ", "The feed was not replaced (the one in use is kept): ")+l.split(err.Error()), true, "/scan#feed")
		return
	}
	http.Redirect(w, r, "/scan?done=feed#feed", http.StatusSeeOther)
}

// reportDownload serves /scan/reports/{id}.{html,csv,json}. The core
// accepts only IDs of stored reports, so no path is built from the request.
func (s *Server) reportDownload(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 {
		http.NotFound(w, r)
		return
	}
	f, ok := reportFormats[name[dot+1:]]
	if !ok {
		http.NotFound(w, r)
		return
	}
	rep, err := s.core.ScanReport(name[:dot])
	if err != nil {
		http.NotFound(w, r)
		return
	}
	var b bytes.Buffer
	if err := f.write(rep, &b); err != nil {
		s.message(w, r, http.StatusInternalServerError, err.Error(), true, "/scan")
		return
	}
	h := w.Header()
	setPageHeaders(w)
	// The HTML report is self-contained: its style is inline.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("Content-Type", f.contentType)
	h.Set("Content-Disposition", attachment("danzen-scan-"+name))
	w.Write(b.Bytes())
}

// scanFlash are the page's own ?done= codes.
func scanFlash(l lang, r *http.Request) (string, bool) {
	m, ok := map[string][2]string{
		"register": {"接続点台帳を保存しました", "The register was saved."},
		"imported": {"CSV から接続点台帳を置き換えました", "The register was replaced from the CSV."},
		"scan":     {"自己診断を開始しました。終わるとこのページに結果が表示されます", "The scan has started; its report appears on this page when it ends."},
		"feed":     {"脆弱性フィードを更新しました。次の診断から使われます", "The feed was replaced; the next scan uses it."},
	}[r.URL.Query().Get("done")]
	if !ok {
		return "", false
	}
	return l.t(m[0], m[1]), false
}

// scanLine is the dashboard's line on the newest self-scan; bad when it
// failed or found a 注意.
func scanLine(l lang, d *ledger.ScanData) (string, bool) {
	if d == nil {
		return l.t("まだ実施されていません", "no scan yet"), false
	}
	if !d.Error.IsZero() {
		return l.t("失敗: ", "FAILED: ") + l.in(d.Error) + " — " + stamp(d.Finished), true
	}
	return fmt.Sprintf(l.t("注意 %d 件(前回から新たに %d 件) — %s", "%d cautions (%d new since the last scan) — %s"), d.Cautions, d.NewCautions, stamp(d.Finished)), d.Cautions > 0
}
