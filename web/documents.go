package web

import (
	"errors"
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
	Summary  *formSummary // every error of a refused form, above it
	CanEdit  bool
	Fields   []documentField
	BCP      []bcpField // bcpform.go
	// CanRecord: the exercise form is shown (bcpform.go).
	CanRecord bool
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
	Shown       msg.Text // a duration in words, shown instead of Value
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
	s.renderDocuments(w, r, set, files, from, to, documentsForm{})
}

// documentsForm is a submitted fields form that was refused: what was
// typed, field by field, is shown again beside every error at once.
type documentsForm struct {
	typed   map[string]string
	ve      *config.ValidationError
	problem error
}

func (s *Server) renderDocuments(w http.ResponseWriter, r *http.Request, set *documents.Set, files []documents.File, from, to string, form documentsForm) {
	ve, problem := form.ve, form.problem
	period := url.Values{"from": {from}, "to": {to}}.Encode()
	b := documentsBody{From: from, To: to, Error: msg.TextOf(problem), CanEdit: auth.Allowed(role(r), auth.EditConfig), CanRecord: canRecordExercise(r)}
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
		b.Fields = documentFields(s.core.Config().Documents, form.typed, ve)
		b.BCP = bcpFields(s.core.Config().Documents.BCP, form.typed, ve)
		for _, f := range b.Fields {
			if len(f.Errors) > 0 {
				b.Summary = b.Summary.with(summaryField{ID: "field-" + f.Name, Label: f.Label, Texts: f.Errors})
			}
		}
		for _, f := range b.BCP {
			if len(f.Errors) > 0 {
				b.Summary = b.Summary.with(summaryField{ID: "field-" + f.Name, Label: f.Label, Texts: f.Errors})
			}
		}
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
		"rpo":              msg.T("例: 1日、24時間", "e.g. 1 day, 24h"),
		"rto":              msg.T("例: 4時間", "e.g. 4 hours"),
		"drill_schedule":   msg.T("例: 毎年10月", "e.g. every October"),
		"gateway_address":  msg.T("電子カルテサーバの authorized_keys の from= に使う", "used as from= in the e-chart server's authorized_keys"),
	}[name]
}

// documentFields are the form's fields: what was typed when a refused
// form comes back (typed), else the saved values, durations in words.
func documentFields(d config.Documents, typed map[string]string, ve *config.ValidationError) []documentField {
	durations := map[string]config.Duration{"rpo": d.RPO, "rto": d.RTO}
	var out []documentField
	for _, f := range documents.Fields {
		df := documentField{Name: f.Name, Label: f.Label, Value: f.Value(d), Help: fieldHelp(f.Name)}
		if v, ok := typed[f.Name]; ok {
			df.Value = v
		} else if dur, ok := durations[f.Name]; ok && dur > 0 {
			df.Shown = dur.Words()
		}
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
// A refused form comes back as typed, with every error at once.
func (s *Server) documentFields(w http.ResponseWriter, r *http.Request) {
	cur := s.core.Config()
	next, err := cloneConfig(cur)
	if err != nil {
		s.failure(w, r, http.StatusOK, err, "/documents")
		return
	}
	d, typed, ve := readDocumentsForm(r)
	next.Documents = d
	var problem error
	if len(ve.Fields) == 0 {
		ve, problem = s.apply(r.Context(), actor(r), next)
	} else {
		addDocumentErrors(ve, next.ValidateChange(cur))
	}
	switch {
	case errors.Is(problem, errUnchanged):
		http.Redirect(w, r, "/documents?done=nochange", http.StatusSeeOther)
		return
	case ve == nil && problem == nil:
		http.Redirect(w, r, "/documents?done=saved", http.StatusSeeOther)
		return
	}
	set, files, from, to, err := s.documentSet(r)
	if err != nil {
		s.failure(w, r, http.StatusOK, err, "/documents")
		return
	}
	s.renderDocuments(w, r, set, files, from, to, documentsForm{typed: typed, ve: ve, problem: problem})
}

// addDocumentErrors adds to ve what validation says about the document
// fields that did parse (a field that did not has its message already).
func addDocumentErrors(ve *config.ValidationError, err error) {
	var all *config.ValidationError
	if !errors.As(err, &all) {
		return
	}
	for _, f := range all.Fields {
		if strings.HasPrefix(f.Field, "documents.") && len(ve.For(f.Field)) == 0 {
			ve.AddText(f.Field, f.Text)
		}
	}
}

// readDocumentsForm reads the submitted fields, and keeps them as typed;
// durations that do not parse are refused here, beside their fields.
func readDocumentsForm(r *http.Request) (config.Documents, map[string]string, *config.ValidationError) {
	typed := map[string]string{}
	for _, f := range documents.Fields {
		typed[f.Name] = r.PostFormValue(f.Name)
	}
	v := func(name string) string { return strings.TrimSpace(typed[name]) }
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
	d.BCP = readBCPForm(r, typed, ve)
	for _, f := range []struct {
		name string
		dst  *config.Duration
	}{{"rpo", &d.RPO}, {"rto", &d.RTO}} {
		if t := v(f.name); t != "" {
			if err := f.dst.UnmarshalText([]byte(t)); err != nil || *f.dst < 0 {
				ve.AddText("documents."+f.name, msg.T("「4時間」「30分」「1日」のように書いてください", "write it like \"4 hours\", \"30 minutes\" or \"1 day\""))
			}
		}
	}
	return d, typed, ve
}
