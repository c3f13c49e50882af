package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/internal/msg"
)

type documentsBody struct {
	From, To string
	Docs     []documentRow
	Missing  []msg.Text
	Error    msg.Text
	CanEdit  bool
	Fields   []documentField
}

type documentRow struct {
	Title msg.Text
	Links []documentLink
}

type documentLink struct {
	Href, Name string
	Label      msg.Text
}

type documentField struct {
	Name, Value string
	Label, Help msg.Text
	Errors      []msg.Text
}

// documentSet builds every document for the period the request asks for.
func (s *Server) documentSet(r *http.Request) (*documents.Set, []documents.File, string, string, error) {
	q := r.URL.Query()
	cfg := s.core.Config()
	from, to, err := documents.Period(cfg.TimeZone, q.Get("from"), q.Get("to"), time.Now())
	if err != nil {
		return nil, nil, "", "", err
	}
	in, err := s.core.Documents(r.Context(), from, to)
	if err != nil {
		return nil, nil, "", "", err
	}
	if s.certs != nil {
		in.CertFingerprint = s.certs.Fingerprint()
	}
	set, err := documents.Build(in)
	if err != nil {
		return nil, nil, "", "", err
	}
	files, err := set.Files()
	return set, files, from.Format(time.DateOnly), to.Format(time.DateOnly), err
}

func (s *Server) documentsPage(w http.ResponseWriter, r *http.Request) {
	set, files, from, to, err := s.documentSet(r)
	if err != nil {
		s.render(w, r, http.StatusOK, "documents.html", "/documents", msg.T("提出書類", "Documents"), msg.Text{}, false, documentsBody{Error: msg.TextOf(err)})
		return
	}
	s.renderDocuments(w, r, set, files, from, to, nil, nil)
}

func (s *Server) renderDocuments(w http.ResponseWriter, r *http.Request, set *documents.Set, files []documents.File, from, to string, ve *config.ValidationError, problem error) {
	period := url.Values{"from": {from}, "to": {to}}.Encode()
	b := documentsBody{From: from, To: to, Error: msg.TextOf(problem), CanEdit: auth.Allowed(role(r), auth.EditConfig)}
	for _, info := range documents.All {
		row := documentRow{Title: info.Title}
		for _, lg := range documents.Langs {
			for _, f := range []struct{ format, label string }{{documents.FormatHTML, "HTML"}, {documents.FormatMarkdown, "Markdown"}} {
				name := documents.FileName(info.ID, lg, f.format)
				label := msg.Sprintf("日本語 %s", "Japanese %s", f.label)
				if lg == "en" {
					label = msg.Sprintf("英語 %s", "English %s", f.label)
				}
				row.Links = append(row.Links, documentLink{Href: "/documents/" + name + "?" + period, Name: name, Label: label})
			}
		}
		for _, f := range files {
			if strings.HasPrefix(f.Name, "wiring-") && info.ID == "build-runbook" {
				row.Links = append(row.Links, documentLink{Href: "/documents/" + f.Name + "?" + period, Name: f.Name, Label: msg.Plain(f.Name)})
			}
		}
		b.Docs = append(b.Docs, row)
	}
	for _, m := range set.Missing {
		b.Missing = append(b.Missing, msg.Sprintf("%s(%s)", "%s (%s)", m.Label, m.Field))
	}
	if b.CanEdit {
		b.Fields = documentFields(s.core.Config().Documents, ve)
	}
	flash, bad := flashOf(r)
	s.render(w, r, http.StatusOK, "documents.html", "/documents", msg.T("提出書類", "Documents"), flash, bad, b)
}

// documentDownload serves one generated file. Only names the generator
// itself made can match: a path is never built from the request.
func (s *Server) documentDownload(w http.ResponseWriter, r *http.Request) {
	_, files, _, _, err := s.documentSet(r)
	if err != nil {
		s.failure(w, r, http.StatusOK, err, "/documents")
		return
	}
	f, ok := documents.Lookup(files, r.PathValue("name"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	setPageHeaders(w)
	// The files are self-contained: their print CSS is inline.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	h.Set("Content-Type", f.ContentType)
	h.Set("Content-Disposition", attachment(f.Name))
	s.download(w, f.Name, f.Data)
}

// fieldHelp is the hint under each person-entered field of the form.
func fieldHelp(name string) msg.Text {
	return map[string]msg.Text{
		"systems_covered":  msg.T("「、」または「,」で区切る(例: 電子カルテ、オーダリング)", "separated by commas (e.g. EMR, ordering system)"),
		"responsible":      msg.T("氏名と役職", "name and post"),
		"operator":         msg.T("媒体の管理と訓練を行う人", "who looks after the media and runs drills"),
		"password_storage": msg.T("場所だけを書く。パスワードは書かない", "the place only, never a password"),
		"rpo":              msg.T("例: 24h", "e.g. 24h"),
		"rto":              msg.T("例: 4h", "e.g. 4h"),
		"drill_schedule":   msg.T("例: 毎年10月", "e.g. every October"),
		"gateway_address":  msg.T("電子カルテサーバの authorized_keys の from= に使う", "used as from= in the e-chart server's authorized_keys"),
	}[name]
}

func documentFields(d config.Documents, ve *config.ValidationError) []documentField {
	var out []documentField
	for _, f := range documents.Fields {
		df := documentField{Name: f.Name, Label: f.Label, Value: f.Value(d), Help: fieldHelp(f.Name)}
		if ve != nil {
			for _, e := range ve.For("documents." + f.Name) {
				df.Errors = append(df.Errors, e.Text)
			}
		}
		out = append(out, df)
	}
	return out
}

// documentFields saves the person-entered fields through the core, like
// every other configuration change (validated, recorded in the ledger).
func (s *Server) documentFields(w http.ResponseWriter, r *http.Request) {
	next, err := cloneConfig(s.core.Config())
	if err != nil {
		s.failure(w, r, http.StatusOK, err, "/documents")
		return
	}
	d, ve := documentsForm(r)
	next.Documents = d
	var problem error
	if len(ve.Fields) == 0 {
		ve, problem = s.apply(r.Context(), actor(r), next)
	}
	if ve == nil && problem == nil {
		http.Redirect(w, r, "/documents?done=saved", http.StatusSeeOther)
		return
	}
	set, files, from, to, err := s.documentSet(r)
	if err != nil {
		s.failure(w, r, http.StatusOK, err, "/documents")
		return
	}
	if ve != nil && problem == nil {
		problem = fieldsInvalid().Err()
	}
	s.renderDocuments(w, r, set, files, from, to, ve, problem)
}

// documentsForm reads the submitted fields; durations that do not parse
// are refused here, beside their fields.
func documentsForm(r *http.Request) (config.Documents, *config.ValidationError) {
	v := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	d := config.Documents{
		HospitalName: v("hospital_name"), Responsible: v("responsible"), Operator: v("operator"), VendorContact: v("vendor_contact"),
		MediaStorage: v("media_storage"), PasswordStorage: v("password_storage"), DrillSchedule: v("drill_schedule"),
		GatewayAddress: v("gateway_address"), SFTPChroot: v("sftp_chroot"),
	}
	for _, sys := range strings.FieldsFunc(v("systems_covered"), func(r rune) bool { return r == ',' || r == '、' }) {
		if sys = strings.TrimSpace(sys); sys != "" {
			d.SystemsCovered = append(d.SystemsCovered, sys)
		}
	}
	ve := &config.ValidationError{}
	for _, f := range []struct {
		name string
		dst  *config.Duration
	}{{"rpo", &d.RPO}, {"rto", &d.RTO}} {
		if t := v(f.name); t != "" {
			if err := f.dst.UnmarshalText([]byte(t)); err != nil || *f.dst < 0 {
				ve.AddText("documents."+f.name, msg.T("「4h」「30m」のように書いてください", "write it like \"4h\" or \"30m\""))
			}
		}
	}
	return d, ve
}
