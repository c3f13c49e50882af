package web

import (
	"github.com/danzen-gw/danzen/internal/msg"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/documents"
)

type documentsBody struct {
	From, To string
	Docs     []documentRow
	Missing  []string
	Error    string
	CanEdit  bool
	Fields   []documentField
}

type documentRow struct {
	Title string
	Links []documentLink
}

type documentLink struct{ Href, Label, Name string }

type documentField struct {
	Name, Label, Value, Help string
	Errors                   []string
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
	l := langOf(w, r)
	title := l.t("提出書類", "Documents")
	set, files, from, to, err := s.documentSet(r)
	if err != nil {
		s.render(w, r, http.StatusOK, "documents.html", "/documents", title, "", false, documentsBody{Error: l.split(err.Error())})
		return
	}
	s.renderDocuments(w, r, set, files, from, to, nil, "")
}

func (s *Server) renderDocuments(w http.ResponseWriter, r *http.Request, set *documents.Set, files []documents.File, from, to string, ve *config.ValidationError, msg string) {
	l := langOf(w, r)
	period := url.Values{"from": {from}, "to": {to}}.Encode()
	b := documentsBody{From: from, To: to, Error: msg, CanEdit: auth.Allowed(role(r), auth.EditConfig)}
	for _, info := range documents.All {
		row := documentRow{Title: l.t(info.JA, info.EN)}
		for _, lg := range documents.Langs {
			for _, f := range []struct{ format, label string }{{documents.FormatHTML, "HTML"}, {documents.FormatMarkdown, "Markdown"}} {
				name := documents.FileName(info.ID, lg, f.format)
				label := l.t("日本語 ", "Japanese ")
				if lg == "en" {
					label = l.t("英語 ", "English ")
				}
				row.Links = append(row.Links, documentLink{Href: "/documents/" + name + "?" + period, Name: name, Label: label + f.label})
			}
		}
		for _, f := range files {
			if strings.HasPrefix(f.Name, "wiring-") && info.ID == "build-runbook" {
				row.Links = append(row.Links, documentLink{Href: "/documents/" + f.Name + "?" + period, Name: f.Name, Label: f.Name})
			}
		}
		b.Docs = append(b.Docs, row)
	}
	for _, m := range set.Missing {
		b.Missing = append(b.Missing, l.t(m.JA, m.EN)+" ("+m.Field+")")
	}
	if b.CanEdit {
		b.Fields = documentFields(l, s.core.Config().Documents, ve)
	}
	flash, bad := flashOf(l, r)
	s.render(w, r, http.StatusOK, "documents.html", "/documents", l.t("提出書類", "Documents"), flash, bad, b)
}

// documentDownload serves one generated file. Only names the generator
// itself made can match: a path is never built from the request.
func (s *Server) documentDownload(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	_, files, _, _, err := s.documentSet(r)
	if err != nil {
		s.message(w, r, http.StatusOK, l.split(err.Error()), true, "/documents")
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
	w.Write(f.Data)
}

// fieldHelp is the hint under each person-entered field of the form.
var fieldHelp = map[string][2]string{
	"systems_covered":  {"「、」または「,」で区切る(例: 電子カルテ、オーダリング)", "separated by commas (e.g. 電子カルテ, オーダリング)"},
	"responsible":      {"氏名と役職", "name and post"},
	"operator":         {"媒体の管理と訓練を行う人", "who looks after the media and runs drills"},
	"password_storage": {"場所だけを書く。パスワードは書かない", "the place only, never a password"},
	"rpo":              {"例: 24h", "e.g. 24h"},
	"rto":              {"例: 4h", "e.g. 4h"},
	"drill_schedule":   {"例: 毎年10月", "e.g. every October"},
	"gateway_address":  {"電子カルテサーバの authorized_keys の from= に使う", "used as from= in the e-chart server's authorized_keys"},
}

func documentFields(l lang, d config.Documents, ve *config.ValidationError) []documentField {
	var out []documentField
	for _, f := range documents.Fields {
		h := fieldHelp[f.Name]
		df := documentField{Name: f.Name, Label: l.t(f.JA, f.EN), Value: f.Value(d), Help: l.t(h[0], h[1])}
		if ve != nil {
			for _, e := range ve.For("documents." + f.Name) {
				df.Errors = append(df.Errors, l.in(e.Text))
			}
		}
		out = append(out, df)
	}
	return out
}

// documentFields saves the person-entered fields through the core, like
// every other configuration change (validated, recorded in the ledger).
func (s *Server) documentFields(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	next, err := cloneConfig(s.core.Config())
	if err != nil {
		s.message(w, r, http.StatusOK, err.Error(), true, "/documents")
		return
	}
	v := r.PostFormValue
	d := config.Documents{
		HospitalName: strings.TrimSpace(v("hospital_name")), Responsible: strings.TrimSpace(v("responsible")),
		Operator: strings.TrimSpace(v("operator")), VendorContact: strings.TrimSpace(v("vendor_contact")),
		MediaStorage: strings.TrimSpace(v("media_storage")), PasswordStorage: strings.TrimSpace(v("password_storage")),
		DrillSchedule: strings.TrimSpace(v("drill_schedule")), GatewayAddress: strings.TrimSpace(v("gateway_address")),
		SFTPChroot: strings.TrimSpace(v("sftp_chroot")),
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
		if t := strings.TrimSpace(v(f.name)); t != "" {
			if err := f.dst.UnmarshalText([]byte(t)); err != nil || *f.dst < 0 {
				ve.Fields = append(ve.Fields, config.FieldError{Field: "documents." + f.name, Text: msg.T("「4h」「30m」のように書いてください", "write it like \"4h\" or \"30m\"")})
			}
		}
	}
	next.Documents = d
	msg := ""
	if len(ve.Fields) == 0 {
		ve, msg = s.apply(r.Context(), l, actor(r), next)
	}
	if ve == nil && msg == "" {
		http.Redirect(w, r, "/documents?done=saved", http.StatusSeeOther)
		return
	}
	set, files, from, to, err := s.documentSet(r)
	if err != nil {
		s.message(w, r, http.StatusOK, l.split(err.Error()), true, "/documents")
		return
	}
	if ve != nil && msg == "" {
		msg = l.t("入力に誤りがあります。各欄の説明を確認してください", "Some fields are invalid: see the message beside each.")
	}
	s.renderDocuments(w, r, set, files, from, to, ve, msg)
}
