package web

import (
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/internal/msg"
)

// FormField says which form of the page edits one field of config.json.
// docs/config.md is generated from this list (config/configdoc), so what
// it says about the page is what the page does.
type FormField struct {
	// Path is the field's JSON path with list indexes left out, as
	// docs/config.md names it: "sources[].port", "alerts.email.to".
	Path string
	// Form is the form's address, Heading its title.
	Form    string
	Heading msg.Text
	// Label is the field's label on the form.
	Label msg.Text
	// Shown: on the form, but not editable there.
	Shown bool
}

// FormFields lists every configuration field a form of the page edits or
// shows: the configuration forms (/config/…), the commissioning steps that
// edit the configuration (/commission/…) and the documents' form.
func FormFields() []FormField {
	out := configFormFields()
	out = append(out, commissionFormFields()...)
	for _, f := range documents.Fields {
		out = append(out, FormField{Path: "documents." + f.Name, Form: "/documents", Heading: msg.T("提出書類", "Documents"), Label: f.Label})
	}
	out = append(out, bcpFormFields()...) // bcpform.go
	return out
}

// configFormFields are the fields of the configuration forms, /config/KIND.
func configFormFields() []FormField {
	var s *Server // editors reads nothing of the server
	eds := s.editors()
	kinds := make([]string, 0, len(eds))
	for k := range eds {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	var out []FormField
	for _, kind := range kinds {
		ed := eds[kind]
		it, ok := ed.find(config.Default(), "")
		if !ok {
			continue
		}
		prefix := unindexed(it.prefix)
		for _, b := range it.binds {
			f := FormField{Path: joinPath(prefix, b.vpath()), Form: "/config/" + kind, Heading: ed.heading, Label: b.label, Shown: b.readOnly}
			switch {
			case b.key == "known_hosts":
				f.Label = msg.T("ホスト鍵(取得して指紋を確認し、登録)", "Host keys (fetched, fingerprint confirmed, pinned)")
			case b.hidden:
				f.Label = msg.T("名前(媒体の名前が入ります)", "Name (set to the medium's name)")
			}
			if slices.Contains(out, f) { // one setting under the same label for two types
				continue
			}
			out = append(out, f)
		}
	}
	return out
}

// commissionFormFields are the fields the commissioning steps write: the
// network step's form, the source step's form with the key it makes and
// the host key it pins, and the disk a wiring test enrols.
func commissionFormFields() []FormField {
	var out []FormField
	var n config.Network
	var tz string
	heading := msg.T("導入: ネットワークと時刻", "Commissioning: network and time")
	for _, b := range networkForm(&n, &tz) {
		p := "network." + b.key
		if b.key == "time_zone" { // the step's one field outside network
			p = b.key
		}
		out = append(out, FormField{Path: p, Form: "/commission/network", Heading: heading, Label: b.label})
	}
	heading = msg.T("導入: 取得元(電子カルテサーバ)", "Commissioning: the e-chart source")
	it, _ := sourceStepItem(config.Default(), "")
	for _, b := range it.binds {
		out = append(out, FormField{Path: joinPath(unindexed(it.prefix), b.key), Form: "/commission/source", Heading: heading, Label: b.label})
	}
	out = append(out,
		FormField{Path: "sources[].key_file", Form: "/commission/source", Heading: heading,
			Label: msg.T("最初の保存でゲートウェイが鍵(ed25519)を作ります", "the first save makes the gateway's key (ed25519)")},
		FormField{Path: "sources[].known_hosts", Form: "/commission/source", Heading: heading,
			Label: msg.T("ホスト鍵(取得して指紋を確認し、登録)", "Host key (fetched, fingerprint confirmed, pinned)")})
	heading = msg.T("導入: リレーの配線テスト", "Commissioning: wiring test of a relay")
	for _, p := range []string{"media[].name", "media[].relay", "media[].disk.serial", "media[].disk.fs_uuid"} {
		out = append(out, FormField{Path: p, Form: "/commission/relay", Heading: heading,
			Label: msg.T("「このディスクを登録」: 現れたディスクから", "“Enrol this disk”: from the disk that appeared")})
	}
	return out
}

// unindexed turns "sources[3]" into "sources[]".
func unindexed(prefix string) string {
	var b strings.Builder
	in := false
	for _, r := range prefix {
		switch {
		case r == '[':
			in = true
			b.WriteRune(r)
		case r == ']':
			in = false
			b.WriteRune(r)
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}
