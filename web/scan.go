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
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
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
	name  string // the register's JSON name, as its validation names it
	label msg.Text
	text  func(*register.Point) *string
	flag  func(*register.Point) *bool
	opts  []option
}

// pointFields are the sheet's fields in its order.
func pointFields() []pointField {
	return []pointField{
		{name: "id", label: msg.T("ID(例: CAF00001)", "ID (e.g. CAF00001)"), text: func(p *register.Point) *string { return &p.ID }},
		{name: "purpose", label: msg.T("用途・システム名", "Purpose / system"), text: func(p *register.Point) *string { return &p.Purpose }},
		{name: "echart_connected", label: msg.T("電子カルテのネットワークに接続している", "Connected to the e-chart network"), flag: func(p *register.Point) *bool { return &p.EChart }},
		{name: "scan", label: msg.T("脆弱性診断を行う(この接続点のアドレスを調べる)", "Diagnose (scan this point's addresses)"), flag: func(p *register.Point) *bool { return &p.Scan }},
		{name: "line_type", label: msg.T("通信形態", "Line type"), text: func(p *register.Point) *string { return &p.LineType }, opts: []option{
			opt(register.LineInternet, "インターネット", "internet"), opt(register.LineInternetVPN, "インターネットVPN", "internet VPN"),
			opt(register.LineClosed, "閉域網", "closed network"), opt(register.LineMobile, "モバイル回線", "mobile")}},
		{name: "carrier", label: msg.T("回線事業者", "Carrier"), text: func(p *register.Point) *string { return &p.Carrier }},
		{name: "service", label: msg.T("回線品目", "Line service"), text: func(p *register.Point) *string { return &p.Service }},
		{name: "provider", label: msg.T("プロバイダ名", "Provider"), text: func(p *register.Point) *string { return &p.Provider }},
		{name: "provider_plan", label: msg.T("プロバイダ品目", "Provider plan"), text: func(p *register.Point) *string { return &p.ProviderPlan }},
		{name: "onu_location", label: msg.T("回線終端装置(ONU・モデム)設置場所", "ONU / modem location"), text: func(p *register.Point) *string { return &p.ONULocation }},
		{name: "global_ip", label: msg.T("グローバルIPアドレス(不明なら空欄)", "Global IP address (empty if unknown)"), text: func(p *register.Point) *string { return &p.GlobalIP }},
		{name: "ip_mode", label: msg.T("固定IP/動的IP", "Fixed or dynamic IP"), text: func(p *register.Point) *string { return &p.IPMode }, opts: []option{
			opt("", "不明", "unknown"), opt(register.IPFixed, "固定IP", "fixed"), opt(register.IPDynamic, "動的IP", "dynamic")}},
		{name: "fqdn", label: msg.T("FQDN(記録のみ。名前解決はしません)", "FQDN (recorded only, never resolved)"), text: func(p *register.Point) *string { return &p.FQDN }},
		{name: "maker", label: msg.T("機器メーカー", "Device maker"), text: func(p *register.Point) *string { return &p.Maker }},
		{name: "model", label: msg.T("機種名", "Model"), text: func(p *register.Point) *string { return &p.Model }},
		{name: "firmware", label: msg.T("ソフトウェア(ファームウェア)バージョン", "Firmware version"), text: func(p *register.Point) *string { return &p.Firmware }},
		{name: "lan_address", label: msg.T("LAN側管理アドレス", "LAN-side management address"), text: func(p *register.Point) *string { return &p.LANAddress }},
		{name: "note", label: msg.T("備考", "Note"), text: func(p *register.Point) *string { return &p.Note }},
	}
}

type scanBody struct {
	CanEdit, CanScan bool
	Running, Busy    bool // a scan runs; another job holds the gateway
	Points           []pointRow
	RegisterErr      msg.Text
	Form             pointForm
	ImportErrs       []msg.Text
	FeedDate         string
	FeedErr          msg.Text
	Latest           *reportView
	Reports          []reportRow
	ReportsErr       msg.Text
	ScanErr          msg.Text
}

type pointRow struct {
	ID, Purpose, Carrier, Device, LAN, Note string
	EChart, Scan, Line, Global              msg.Text
}

// pointForm is the add/edit form: Orig is the ID being edited ("" adds).
type pointForm struct {
	Orig   string
	Fields []fieldView
	Other  []msg.Text // problems not tied to a field
}

type reportView struct {
	ID, Started, Finished, FeedDate, TCPPorts string
	Cautions                                  int
	Rows                                      []findingRow
	Changes                                   *netprobe.Diff
	Previous                                  string
}

// findingRow is one row of the report's table (No, ID, 接続機器,
// IPアドレス, 注目情報, 調査結果) in the page's language.
type findingRow struct {
	No         int
	ID, Device string
	Addresses  msg.Text
	Caution    bool
	Lines      []msg.Text
}

func findingRows(rep *netprobe.Report) []findingRow {
	rows := rep.Rows() // one per target, in order
	out := make([]findingRow, len(rows))
	for i, row := range rows {
		t := rep.Targets[i]
		out[i] = findingRow{No: row.No, ID: row.ID, Device: row.Device, Addresses: msg.Plain(row.Addresses), Lines: row.Lines,
			Caution: slices.ContainsFunc(t.Findings, func(f netprobe.Finding) bool { return f.Caution })}
		if len(t.Point.Addresses()) == 0 {
			out[i].Addresses = msg.T("調査不可 (IPアドレス不明)", "not scanned (no IP address known)")
		}
	}
	return out
}

type reportRow struct {
	ID, Started, FeedDate string
	Cautions, New         int
}

// reportFormats are the downloads of a report; the page says its times in
// the configured zone, the CSV has none and the JSON keeps them as stored.
var reportFormats = map[string]struct {
	contentType string
	write       func(*netprobe.Report, io.Writer, when.Zone) error
}{
	"html": {"text/html; charset=utf-8", (*netprobe.Report).WriteHTML},
	"csv":  {"text/csv; charset=utf-8", func(r *netprobe.Report, w io.Writer, _ when.Zone) error { return r.WriteCSV(w) }},
	"json": {"application/json", func(r *netprobe.Report, w io.Writer, _ when.Zone) error { return r.WriteJSON(w) }},
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
	form := blankPointForm()
	if p != nil {
		form = pointForm{Orig: p.ID, Fields: pointViews(*p, nil, -1)}
	}
	s.renderScan(w, r, form, nil, nil)
}

// blankPointForm is the form that adds a point.
func blankPointForm() pointForm {
	return pointForm{Fields: pointViews(register.Point{Scan: true, LineType: register.LineInternet}, nil, -1)}
}

func (s *Server) renderScan(w http.ResponseWriter, r *http.Request, form pointForm, importErrs []msg.Text, scanErr error) {
	rl := role(r)
	running, _ := s.core.Running()
	b := scanBody{CanEdit: auth.Allowed(rl, auth.EditConfig), CanScan: auth.Allowed(rl, auth.RunCycle),
		Running: s.core.Scanning(), Busy: running, Form: form, ImportErrs: importErrs, ScanErr: msg.TextOf(scanErr)}
	reg, err := s.core.Register()
	b.RegisterErr = msg.TextOf(err)
	for _, p := range reg.Points {
		b.Points = append(b.Points, pointRowOf(p))
	}
	if f, err := s.core.ScanFeed(); err != nil {
		b.FeedErr = msg.TextOf(err)
	} else {
		b.FeedDate = f.Date
	}
	list, err := s.core.ScanReports()
	b.ReportsErr = msg.TextOf(err)
	z := s.zone()
	for _, x := range list {
		b.Reports = append(b.Reports, reportRow{ID: x.ID, Started: z.Stamp(x.Started), FeedDate: x.FeedDate, Cautions: x.Cautions, New: x.New})
	}
	if len(list) > 0 {
		if rep, err := s.core.ScanReport(list[0].ID); err != nil {
			b.ReportsErr = msg.TextOf(err)
		} else {
			b.Latest = reportViewOf(list[0].ID, rep, z)
		}
	}
	flash, bad := flashOf(r)
	if flash.IsZero() {
		flash, bad = scanFlash(r)
	}
	s.render(w, r, http.StatusOK, "scan.html", "/scan", msg.T("外部接続点の自己診断", "WAN-edge self-scan"), flash, bad, b)
}

func pointRowOf(p register.Point) pointRow {
	yes := func(v bool) msg.Text {
		if v {
			return msg.T("あり", "yes")
		}
		return msg.T("なし", "no")
	}
	var lines []string // carrier and provider, each with its plan
	for _, s := range []string{p.Carrier + " " + p.Service, p.Provider + " " + p.ProviderPlan} {
		if s = strings.TrimSpace(s); s != "" {
			lines = append(lines, s)
		}
	}
	row := pointRow{ID: p.ID, Purpose: p.Purpose, EChart: yes(p.EChart), Scan: yes(p.Scan), Line: optionLabel("line_type", p.LineType),
		Carrier: strings.Join(lines, " / "), Global: msg.Plain(p.GlobalIP),
		Device: strings.TrimSpace(p.Device() + " " + p.Firmware), LAN: p.LANAddress, Note: p.Note}
	if p.IPMode != "" {
		row.Global = msg.Sprintf("%s(%s)", "%s (%s)", p.GlobalIP, optionLabel("ip_mode", p.IPMode))
	}
	if p.FQDN != "" {
		row.Global = row.Global.Append(" ", msg.Plain(p.FQDN))
	}
	return row
}

func optionLabel(field, value string) msg.Text {
	for _, f := range pointFields() {
		for _, o := range f.opts {
			if f.name == field && o.value == value {
				return o.label
			}
		}
	}
	return msg.Plain(value)
}

// pointViews draws the form for p; errors of the register's row index i
// (points[i].field) are shown beside their fields.
func pointViews(p register.Point, ve *config.ValidationError, i int) []fieldView {
	var out []fieldView
	for _, f := range pointFields() {
		v := fieldView{Name: f.name, ID: "point-" + f.name, Label: f.label}
		switch {
		case f.flag != nil:
			v.Check, v.Checked = true, *f.flag(&p)
		case f.opts != nil:
			v.Select = true
			for _, o := range f.opts {
				v.Options = append(v.Options, optionView{Value: o.value, Label: o.label, Selected: o.value == *f.text(&p)})
			}
		default:
			v.Value = *f.text(&p)
		}
		if ve != nil {
			for _, e := range ve.For(fmt.Sprintf("points[%d].%s", i, f.name)) {
				v.Errors = append(v.Errors, e.Text)
			}
		}
		out = append(out, v)
	}
	return out
}

func pointOf(r *http.Request) register.Point {
	var p register.Point
	for _, f := range pointFields() {
		if f.flag != nil {
			*f.flag(&p) = r.PostFormValue(f.name) != ""
		} else {
			*f.text(&p) = strings.TrimSpace(r.PostFormValue(f.name))
		}
	}
	return p
}

func reportViewOf(id string, r *netprobe.Report, z when.Zone) *reportView {
	v := &reportView{ID: id, Started: z.Stamp(r.Started), Finished: z.Stamp(r.Finished), FeedDate: r.FeedDate, TCPPorts: r.TCPPorts,
		Cautions: r.Cautions(), Rows: findingRows(r), Changes: r.Changes}
	if r.Changes != nil {
		v.Previous = z.Stamp(r.Changes.Previous)
	}
	return v
}

// savePoint adds a point (orig empty) or replaces the point orig.
func (s *Server) savePoint(w http.ResponseWriter, r *http.Request) {
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
			return errNoPoint(orig)
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
		form.Fields = pointViews(p, ve, at)
		form.Other = append(form.Other, fieldsInvalid())
	} else {
		form.Fields = pointViews(p, nil, at)
		form.Other = append(form.Other, msg.TextOf(err))
	}
	s.renderScan(w, r, form, nil, nil)
}

func errNoPoint(id string) error {
	return msg.Errorf("接続点 %s は台帳にありません", "no connection point %s in the register", id)
}

// fieldsInvalid heads a form whose messages stand beside its fields.
func fieldsInvalid() msg.Text {
	return msg.T("入力に誤りがあります。各欄の説明を確認してください", "Some fields are invalid: see the message beside each.")
}

func (s *Server) deletePoint(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("id")
	err := s.core.UpdateRegister(r.Context(), actor(r), "delete "+id, func(reg *register.Register) error {
		i := slices.IndexFunc(reg.Points, func(q register.Point) bool { return q.ID == id })
		if i < 0 {
			return errNoPoint(id)
		}
		reg.Points = slices.Delete(reg.Points, i, i+1)
		return nil
	})
	if err != nil {
		s.failure(w, r, http.StatusOK, err, "/scan#register")
		return
	}
	http.Redirect(w, r, "/scan?done=register#register", http.StatusSeeOther)
}

// uploaded reads an uploaded file field, or the same field pasted as
// text (nothing when there is neither).
func uploaded(r *http.Request, name string) ([]byte, error) {
	f, _, err := r.FormFile(name)
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
		return []byte(r.PostFormValue(name)), nil
	}
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only
	return io.ReadAll(io.LimitReader(f, maxBody))
}

// importRegister replaces the register with an uploaded CSV of the sheet.
func (s *Server) importRegister(w http.ResponseWriter, r *http.Request) {
	data, err := uploaded(r, "csv")
	if err != nil || len(data) == 0 {
		s.renderScan(w, r, blankPointForm(), []msg.Text{msg.T("CSV ファイルを選んでください", "choose a CSV file")}, nil)
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
		var msgs []msg.Text
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			for _, f := range ve.Fields {
				msgs = append(msgs, msg.Sprintf("%s: %s", "%s: %s", f.Field, f.Text))
			}
		} else {
			msgs = append(msgs, msg.TextOf(err))
		}
		s.renderScan(w, r, blankPointForm(), msgs, nil)
		return
	}
	http.Redirect(w, r, "/scan?done=imported#register", http.StatusSeeOther)
}

func (s *Server) exportRegister(w http.ResponseWriter, r *http.Request) {
	reg, err := s.core.Register()
	if err != nil {
		s.failure(w, r, http.StatusOK, err, "/scan")
		return
	}
	// ?encoding=cp932: Shift_JIS for tools that read nothing else.
	enc, err := register.ParseEncoding(r.URL.Query().Get("encoding"))
	if err != nil {
		s.failure(w, r, http.StatusBadRequest, err, "/scan")
		return
	}
	var b bytes.Buffer
	if err := register.WriteCSVAs(&b, reg, enc); err != nil {
		s.failure(w, r, http.StatusOK, err, "/scan#register")
		return
	}
	setPageHeaders(w)
	w.Header().Set("Content-Type", map[register.Encoding]string{register.UTF8: "text/csv; charset=utf-8", register.CP932: "text/csv; charset=shift_jis"}[enc])
	w.Header().Set("Content-Disposition", attachment("register.csv"))
	s.download(w, "register.csv", b.Bytes())
}

// scanNow is the "scan now" button. The operator may tick "anyway" to
// scan beside a running cycle.
func (s *Server) scanNow(w http.ResponseWriter, r *http.Request) {
	err := s.core.StartScan(r.Context(), actor(r), r.PostFormValue("anyway") != "")
	switch {
	case errors.Is(err, gateway.ErrBusy):
		http.Redirect(w, r, "/scan?err=busy", http.StatusSeeOther)
	case err != nil:
		s.renderScan(w, r, blankPointForm(), nil, err)
	default:
		http.Redirect(w, r, "/scan?done=scan", http.StatusSeeOther)
	}
}

// uploadFeed replaces the known-exploited feed with a newer uploaded one;
// the core checks it before anything is kept.
func (s *Server) uploadFeed(w http.ResponseWriter, r *http.Request) {
	data, err := uploaded(r, "feed")
	if err == nil {
		_, err = s.core.UploadFeed(r.Context(), actor(r), data)
	}
	if err != nil {
		s.failure(w, r, http.StatusOK, msg.Wrap(err, "脆弱性フィードを更新できません(使用中のフィードは変わりません)", "The feed was not replaced (the one in use is kept)"), "/scan#feed")
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
	if err := f.write(rep, &b, s.zone()); err != nil {
		s.failure(w, r, http.StatusInternalServerError, err, "/scan")
		return
	}
	h := w.Header()
	setPageHeaders(w)
	// The HTML report is self-contained: its style is inline.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("Content-Type", f.contentType)
	h.Set("Content-Disposition", attachment("danzen-scan-"+name))
	s.download(w, name, b.Bytes())
}

// scanFlash are the page's own ?done= codes.
func scanFlash(r *http.Request) (msg.Text, bool) {
	m := map[string]msg.Text{
		"register": msg.T("接続点台帳を保存しました", "The register was saved."),
		"imported": msg.T("CSV から接続点台帳を置き換えました", "The register was replaced from the CSV."),
		"scan":     msg.T("自己診断を開始しました。終わるとこのページに結果が表示されます", "The scan has started; its report appears on this page when it ends."),
		"feed":     msg.T("脆弱性フィードを更新しました。次の診断から使われます", "The feed was replaced; the next scan uses it."),
	}[r.URL.Query().Get("done")]
	return m, false
}

// scanLine is the dashboard's line on the newest self-scan; bad when it
// failed or found a 注意.
func scanLine(d *ledger.ScanData, z when.Zone) (msg.Text, bool) {
	if d == nil {
		return msg.T("まだ実施されていません", "no scan yet"), false
	}
	if !d.Error.IsZero() {
		return msg.Sprintf("失敗: %s — %s", "FAILED: %s — %s", d.Error, z.Stamp(d.Finished)), true
	}
	return msg.Sprintf("注意 %d 件(前回から新たに %d 件) — %s", "%d cautions (%d new since the last scan) — %s", d.Cautions, d.NewCautions, z.Stamp(d.Finished)), d.Cautions > 0
}
