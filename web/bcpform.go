package web

import (
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// The BCP part of the documents form: the hospital's 事業継続計画 as the
// plan prints it. Lists are typed one entry a line, columns separated by
// 「|」, so the form stays one form; every line that does not read is
// refused beside its field, with its line number.

// bcpField is one BCP field of the documents form.
type bcpField struct {
	documentField
	Multiline bool
}

// bcpFieldNames are the form's BCP fields, in the order shown.
var bcpFieldNames = []string{"bcp_document", "bcp_systems", "bcp_contacts", "report_mhlw", "report_police", "report_ppc", "paper_operation"}

// bcpPaths are the configuration paths each field's errors come under.
var bcpPaths = map[string]string{
	"bcp_document": "documents.bcp.document", "bcp_systems": "documents.bcp.systems", "bcp_contacts": "documents.bcp.contacts",
	"report_mhlw": "documents.bcp.report_mhlw", "report_police": "documents.bcp.report_police", "report_ppc": "documents.bcp.report_ppc",
	"paper_operation": "documents.bcp.paper_operation",
}

func bcpHelp(name string) msg.Text {
	return map[string]msg.Text{
		"bcp_document": msg.T("例: 当院 事業継続計画(情報システム編)第2版、医療情報部で保管", "e.g. BCP (information systems) rev. 2, kept by the IT department"),
		"bcp_systems": msg.T("1行に1システム:「復旧順位 | システム | バックアップ頻度 | バックアップ方法 | 復元方法 | OS・アプリケーション」(例: 1 | 電子カルテ | 毎日 | ベンダのバックアップ装置 | ベンダが復元 | Windows Server 2022、電子カルテ v5)",
			"one system a line: \"order | system | backup frequency | backup method | restore method | OS and application\" (e.g. 1 | EMR | daily | vendor's backup appliance | restored by the vendor | Windows Server 2022, EMR v5)"),
		"bcp_contacts":    msg.T("1行に1人、連絡する順に:「役割 | 氏名 | 連絡先」", "one person a line, in calling order: \"role | name | phone\""),
		"report_mhlw":     msg.T("厚生労働省の連絡窓口(部署・電話・メール)", "the ministry's desk (office, phone, mail)"),
		"report_police":   msg.T("都道府県警察のサイバー犯罪相談窓口", "the prefecture's cybercrime desk"),
		"report_ppc":      msg.T("漏えい等報告の窓口(個人情報保護委員会のウェブフォーム等)", "where a leak is reported (the commission's web form …)"),
		"paper_operation": msg.T("紙運用の手順書の名称と保管場所", "the paper-operation procedure's title and where it is kept"),
	}[name]
}

// bcpFields are the form's BCP fields: as typed when a refused form comes
// back, else the saved values written one entry a line.
func bcpFields(b config.BCP, typed map[string]string, ve *config.ValidationError) []bcpField {
	saved := map[string]string{
		"bcp_document": b.Document, "report_mhlw": b.ReportMHLW, "report_police": b.ReportPolice, "report_ppc": b.ReportPPC, "paper_operation": b.PaperOperation,
	}
	var lines []string
	for _, s := range b.Systems {
		lines = append(lines, strings.Join([]string{strconv.Itoa(s.Order), s.Name, s.Frequency, s.Method, s.Restore, s.Platform}, " | "))
	}
	saved["bcp_systems"] = strings.Join(lines, "\n")
	lines = nil
	for _, c := range b.Contacts {
		lines = append(lines, strings.Join([]string{c.Role, c.Name, c.Phone}, " | "))
	}
	saved["bcp_contacts"] = strings.Join(lines, "\n")
	var out []bcpField
	for _, name := range bcpFieldNames {
		f := bcpField{documentField: documentField{Name: name, Label: documents.BCPLabels[name], Value: saved[name], Help: bcpHelp(name)},
			Multiline: name == "bcp_systems" || name == "bcp_contacts"}
		if v, ok := typed[name]; ok {
			f.Value = v
		}
		if ve != nil {
			for _, fe := range ve.Fields {
				if fe.Field == bcpPaths[name] || strings.HasPrefix(fe.Field, bcpPaths[name]+"[") {
					f.Errors = append(f.Errors, bcpErrorText(bcpPaths[name], fe.Field, fe.Text))
				}
			}
		}
		out = append(out, f)
	}
	return out
}

// bcpErrorText prefixes a list entry's error with its line on the form.
func bcpErrorText(base, field string, t msg.Text) msg.Text {
	rest, ok := strings.CutPrefix(field, base+"[")
	if !ok {
		return t
	}
	i, err := strconv.Atoi(rest[:strings.IndexByte(rest+"]", ']')])
	if err != nil {
		return t
	}
	return msg.Sprintf("%d 行目: %s", "line %d: %s", i+1, t)
}

// readBCPForm reads the BCP fields into a config.BCP, keeping what was
// typed; a line with the wrong number of columns or an order that is not
// a number is refused here, the rest by config validation.
func readBCPForm(r *http.Request, typed map[string]string, ve *config.ValidationError) config.BCP {
	for _, name := range bcpFieldNames {
		typed[name] = r.PostFormValue(name)
	}
	v := func(name string) string { return strings.TrimSpace(typed[name]) }
	b := config.BCP{Document: v("bcp_document"), ReportMHLW: v("report_mhlw"), ReportPolice: v("report_police"), ReportPPC: v("report_ppc"), PaperOperation: v("paper_operation")}
	for n, cols := range bcpLines(v("bcp_systems")) {
		if len(cols) < 5 || len(cols) > 6 {
			ve.AddText("documents.bcp.systems", msg.Sprintf("%d 行目: 「|」で区切った5〜6項目にしてください", "line %d: give 5 or 6 columns separated by \"|\"", n))
			continue
		}
		cols = append(cols, "")
		order, err := strconv.Atoi(cols[0])
		if err != nil {
			ve.AddText("documents.bcp.systems", msg.Sprintf("%d 行目: 復旧順位は数字にしてください", "line %d: the restore order must be a number", n))
			continue
		}
		b.Systems = append(b.Systems, config.BCPSystem{Order: order, Name: cols[1], Frequency: cols[2], Method: cols[3], Restore: cols[4], Platform: cols[5]})
	}
	for n, cols := range bcpLines(v("bcp_contacts")) {
		if len(cols) != 3 {
			ve.AddText("documents.bcp.contacts", msg.Sprintf("%d 行目: 「役割 | 氏名 | 連絡先」の3項目にしてください", "line %d: give 3 columns: role | name | phone", n))
			continue
		}
		b.Contacts = append(b.Contacts, config.BCPContact{Role: cols[0], Name: cols[1], Phone: cols[2]})
	}
	return b
}

// bcpLines splits a list field into its non-blank lines, in the order
// typed (numbered from 1 as the person sees them), and each line into
// trimmed columns.
func bcpLines(s string) iter.Seq2[int, []string] {
	return func(yield func(int, []string) bool) {
		for i, line := range strings.Split(s, "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			cols := strings.Split(line, "|")
			for j := range cols {
				cols[j] = strings.TrimSpace(cols[j])
			}
			if !yield(i+1, cols) {
				return
			}
		}
	}
}

// exerciseForm is the form staff record a 訓練・演習 with.
type exerciseForm struct {
	Date, Participants, Scenario, Problems, Improvements string
}

// recordExercise writes a 訓練・演習 to the evidence ledger with the
// newest restore measurement attached. It changes no configuration, so
// staff who may start a drill may record one.
func (s *Server) recordExercise(w http.ResponseWriter, r *http.Request) {
	f := exerciseForm{Date: strings.TrimSpace(r.PostFormValue("date")), Participants: r.PostFormValue("participants"), Scenario: strings.TrimSpace(r.PostFormValue("scenario")),
		Problems: strings.TrimSpace(r.PostFormValue("problems")), Improvements: strings.TrimSpace(r.PostFormValue("improvements"))}
	data, err := s.exerciseData(r, f)
	if err != nil {
		set, files, from, to, serr := s.documentSet(r)
		if serr != nil {
			s.failure(w, r, http.StatusOK, serr, "/documents")
			return
		}
		s.renderDocuments(w, r, set, files, from, to, documentsForm{problem: err})
		return
	}
	s.record(r.Context(), ledger.Entry{Kind: ledger.KindExercise, Actor: actor(r),
		Message: msg.Sprintf("訓練・演習を記録しました(%s: %s)", "exercise recorded (%s: %s)", data.Date, data.Scenario), Payload: data})
	http.Redirect(w, r, "/documents?done=exercise", http.StatusSeeOther)
}

// exerciseData checks the form and attaches the newest restore
// measurement from the ledger.
func (s *Server) exerciseData(r *http.Request, f exerciseForm) (ledger.ExerciseData, error) {
	cfg := s.core.Config()
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	now := time.Now()
	day, err := time.ParseInLocation(time.DateOnly, f.Date, loc)
	if err != nil {
		return ledger.ExerciseData{}, msg.New("実施日を YYYY-MM-DD で入力してください", "give the date as YYYY-MM-DD")
	}
	if day.After(now) {
		return ledger.ExerciseData{}, msg.New("実施日が未来です。行った訓練・演習を記録してください", "the date is in the future: record an exercise that was held")
	}
	var people []string
	for _, p := range strings.FieldsFunc(f.Participants, func(r rune) bool { return r == ',' || r == '、' || r == '\n' }) {
		if p = strings.TrimSpace(p); p != "" {
			people = append(people, p)
		}
	}
	if len(people) == 0 || f.Scenario == "" {
		return ledger.ExerciseData{}, msg.New("参加者と想定(シナリオ)を入力してください", "give the participants and the scenario")
	}
	d := ledger.ExerciseData{Date: f.Date, Participants: people, Scenario: f.Scenario, Problems: f.Problems, Improvements: f.Improvements}
	in, err := s.core.Documents(r.Context(), now.AddDate(0, 0, -1), now.Add(time.Minute))
	if err != nil {
		return d, err
	}
	for _, e := range in.Entries {
		if e.Kind != ledger.KindDrill {
			continue
		}
		if x, err := ledger.Decode[ledger.RestoreData](e); err == nil {
			d.Measurement, d.MeasurementSeq = &x, e.Seq
		}
	}
	return d, nil
}

// canRecordExercise: who may record an exercise (who may start a drill).
func canRecordExercise(r *http.Request) bool { return auth.Allowed(role(r), auth.StartDrill) }

// bcpFormFields are the BCP fields for docs/config.md: the lists are
// edited whole, one entry a line, on the documents form.
func bcpFormFields() []FormField {
	var out []FormField
	heading := msg.T("提出書類", "Documents")
	for _, name := range bcpFieldNames {
		out = append(out, FormField{Path: bcpPaths[name], Form: "/documents", Heading: heading, Label: documents.BCPLabels[name]})
	}
	// The lists' columns, in the order a line is typed.
	for _, l := range []struct {
		list string
		cols []string
	}{
		{"bcp_systems", []string{"order", "name", "frequency", "method", "restore", "platform"}},
		{"bcp_contacts", []string{"role", "name", "phone"}},
	} {
		list := l.list
		for i, col := range l.cols {
			out = append(out, FormField{Path: bcpPaths[list] + "[]." + col, Form: "/documents", Heading: heading,
				Label: msg.Sprintf("%s(各行の %d 項目め)", "%s (column %d of each line)", documents.BCPLabels[list], i+1)})
		}
	}
	return out
}
