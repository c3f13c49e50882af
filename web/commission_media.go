package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
)

// Step 3: relays and media, one at a time. A relay's wiring test runs in
// the background and its page reloads itself while it runs, showing each
// step as it happens; "enrol this disk" takes the medium's identity from
// the disk that appeared. A medium is prepared once its password, shown
// once with a printable sheet, has its last characters typed back.

type relayBody struct {
	Name      string
	Wiring    msg.Text // driver, output and sense lines
	Simulated bool
	NoSense   bool
	Medium    string // the medium the relay powers, "" when none yet
	Job       *jobView
	Appeared  []appearedView
	Step      *stepItem
	EditHref  string
	Suggest   string // the name a new medium is offered
	// EnrolLabel is the enrol button's words.
	EnrolLabel msg.Text
}

type appearedView struct {
	Disk     string
	Describe msg.Text
	Volumes  []volumeView
}

type volumeView struct {
	Name, FSUUID, Label, Size string
}

// wiringLabel names a wiring test's step.
func wiringLabel(id string) msg.Text {
	switch id {
	case gateway.WireBefore:
		return msg.T("通電前の確認", "before power-on")
	case gateway.WireRelayOn:
		return msg.T("リレーをオン", "relay on")
	case gateway.WireSenseOn:
		return msg.T("センス入力がオン", "sense input on")
	case gateway.WireAppeared:
		return msg.T("現れた装置", "device that appeared")
	case gateway.WireRelayOff:
		return msg.T("リレーをオフ", "relay off")
	case gateway.WireSenseOff:
		return msg.T("センス入力がオフ", "sense input off")
	case gateway.WireGone:
		return msg.T("装置が消えた", "device gone")
	case gateway.WireInterlock:
		return msg.T("インターロック(時間帯外で給電されない)", "interlock (no power outside the window)")
	}
	return msg.Plain(id)
}

func (s *Server) relayStepPage(w http.ResponseWriter, r *http.Request) {
	cfg := s.core.Config()
	name := r.URL.Query().Get("name")
	i := slices.IndexFunc(cfg.Relays, func(x relay.Spec) bool { return x.Name == name })
	if i < 0 {
		s.message(w, r, http.StatusNotFound, msg.Sprintf("その項目は設定にありません: %s", "not in the configuration: %s", name), true, "/commission")
		return
	}
	rs := cfg.Relays[i]
	b := relayBody{Name: name, Simulated: rs.Driver == relay.DriverSimulated, NoSense: rs.Sense == nil,
		Wiring:   relayWiring(rs),
		EditHref: "/config/relay?name=" + url.QueryEscape(name) + "&next=" + url.QueryEscape("/commission/relay?name="+name),
		Step:     s.stepItem(gateway.StepRelay, name), Suggest: fmt.Sprintf("disk-%d", len(cfg.Media)+1)}
	if b.Simulated {
		b.NoSense = false
	}
	b.EnrolLabel = msg.T("このディスクを登録", "Enrol this disk")
	if m := slices.IndexFunc(cfg.Media, func(m config.Medium) bool { return m.Relay == name }); m >= 0 {
		b.Medium = cfg.Media[m].Name
		b.EnrolLabel = msg.Sprintf("このディスクを媒体 %s にする", "Make this disk medium %s", b.Medium)
	}
	if j, ok := s.core.CommissionJob(gateway.StepRelay, name); ok {
		b.Job = s.jobOf(j, wiringLabel)
		if j.Wiring != nil && !j.Running() {
			b.Appeared = appearedViews(j.Wiring.Appeared)
		}
	}
	refreshWhileRunning(w, b.Job)
	flash, bad := flashOf(r)
	s.render(w, r, http.StatusOK, "commission_relay.html", "/commission", msg.Sprintf("リレー %s の配線テスト", "Wiring test of relay %s", name), flash, bad, b)
}

func appearedViews(seen []disk.Seen) []appearedView {
	var out []appearedView
	for _, d := range seen {
		v := appearedView{Disk: d.Name, Describe: gateway.DescribeDisk(d)}
		for _, vol := range d.Ext4() {
			v.Volumes = append(v.Volumes, volumeView{Name: vol.Name, FSUUID: vol.FSUUID, Label: vol.Label, Size: bytesize.Format(vol.Size)})
		}
		out = append(out, v)
	}
	return out
}

func (s *Server) relayStepTest(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("relay")
	back := "/commission/relay?name=" + url.QueryEscape(name)
	if err := s.core.StartWiringTest(r.Context(), name, actor(r)); err != nil {
		s.startError(w, r, err, back)
		return
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// relayStepEnrol makes the disk volume the wiring test found the relay's
// medium, then goes on to preparing it.
func (s *Server) relayStepEnrol(w http.ResponseWriter, r *http.Request) {
	rl := r.PostFormValue("relay")
	back := "/commission/relay?name=" + url.QueryEscape(rl)
	if busy, _ := s.core.Running(); busy {
		s.failure(w, r, http.StatusOK, errBusyConfig(), back)
		return
	}
	name, err := s.core.EnrolDisk(r.Context(), actor(r), rl, r.PostFormValue("volume"), r.PostFormValue("medium"))
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		_, other := matchErrors("", nil, ve)
		var text msg.Text
		for _, o := range other {
			text = text.Append("; ", o)
		}
		s.message(w, r, http.StatusOK, msg.T("登録できません: ", "cannot enrol: ").Append("", text), true, back)
		return
	}
	if err != nil {
		s.failure(w, r, http.StatusOK, err, back)
		return
	}
	http.Redirect(w, r, withDone("/commission/medium?name="+url.QueryEscape(name), "enrolled"), http.StatusSeeOther)
}

type mediumBody struct {
	Name         string
	TypeLabel    msg.Text
	Identity     msg.Text
	Relay        string
	HasPassword  bool
	Password     msg.Text
	Disk         bool // offers "take over a disk with other files"
	Job          *jobView
	Step         *stepItem
	Error        msg.Text
	EditHref     string
	TypedBackLen int
}

// prepareLabel names the steps (the session's phases) of preparing a
// medium of type typ: what attaching and detaching do differs by type.
func prepareLabel(typ string) func(string) msg.Text {
	return func(id string) msg.Text {
		switch {
		case id == "snapshots":
			return msg.T("既存のリポジトリの確認", "looking for an existing repository")
		case id == "init":
			return msg.T("リポジトリの作成", "creating the repository")
		case typ == config.MediumS3 && id == "attach":
			return msg.T("オブジェクトロックの確認とカナリアの書き込み", "checking the Object Lock and writing the canary")
		case typ == config.MediumTape && id == "attach":
			return msg.T("テープの装填とラベルの確認", "loading the tape and reading its label")
		case typ == config.MediumTape && id == "detach":
			return msg.T("テープへの書き込みと取り出し", "writing to the tape and ejecting it")
		}
		return phaseLabel(id)
	}
}

func (s *Server) mediumStepPage(w http.ResponseWriter, r *http.Request) {
	s.renderMediumStep(w, r, r.URL.Query().Get("name"), msg.Text{})
}

func (s *Server) renderMediumStep(w http.ResponseWriter, r *http.Request, name string, problem msg.Text) {
	cfg := s.core.Config()
	m, err := cfg.Medium(name)
	if err != nil {
		s.failure(w, r, http.StatusNotFound, err, "/commission")
		return
	}
	b := mediumBody{Name: name, Relay: m.Relay, Disk: m.Disk != nil, Error: problem, TypedBackLen: gateway.TypedBackLen,
		Step:     s.stepItem(gateway.StepMedium, name),
		EditHref: "/config/medium?name=" + url.QueryEscape(name) + "&next=" + url.QueryEscape("/commission/medium?name="+name)}
	if t, ok := gateway.MediumTypeOf(m.Type); ok {
		b.TypeLabel, b.Identity = t.Label, t.Describe(*m)
	}
	st := secretState(cfg.KeyPath(m.PasswordFile))
	b.HasPassword, b.Password = fileExists(cfg.KeyPath(m.PasswordFile)), st.text
	if j, ok := s.core.CommissionJob(gateway.StepMedium, name); ok {
		b.Job = s.jobOf(j, prepareLabel(m.Type))
	}
	refreshWhileRunning(w, b.Job)
	flash, bad := flashOf(r)
	s.render(w, r, http.StatusOK, "commission_medium.html", "/commission", msg.Sprintf("媒体 %s の準備", "Preparing medium %s", name), flash, bad, b)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// passwordBody is the password sheet: shown once, printable, with the
// form that takes its last characters back.
type passwordBody struct {
	Gateway, Medium, Created string
	TypeLabel, Identity      msg.Text
	Password                 string
	Disk                     bool
	TypedBackLen             int
}

// mediumStepPassword creates the medium's repository password and shows
// it, this once, on a sheet to print or copy by hand.
func (s *Server) mediumStepPassword(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("medium")
	back := "/commission/medium?name=" + url.QueryEscape(name)
	pw, created, err := s.core.NewPassword(name)
	if err != nil {
		s.failure(w, r, http.StatusOK, err, back)
		return
	}
	if !created {
		http.Redirect(w, r, withQuery(back, "err", "password-exists"), http.StatusSeeOther)
		return
	}
	cfg := s.core.Config()
	m, err := cfg.Medium(name)
	if err != nil {
		s.failure(w, r, http.StatusOK, err, back)
		return
	}
	s.record(r.Context(), ledger.Entry{Kind: ledger.KindSecretReplaced, Actor: actor(r), Medium: name,
		Message: msg.T("リポジトリのパスワードを作成し、一度だけ表示", "repository password created and shown once"),
		Payload: ledger.SecretReplacedData{Medium: name, File: m.PasswordFile, What: "restic_password", Generated: true}})
	b := passwordBody{Gateway: cfg.GatewayID, Medium: name, Created: s.zone().Stamp(time.Now()), Password: pw, Disk: m.Disk != nil, TypedBackLen: gateway.TypedBackLen}
	if t, ok := gateway.MediumTypeOf(m.Type); ok {
		b.TypeLabel, b.Identity = t.Label, t.Describe(*m)
	}
	s.render(w, r, http.StatusOK, "commission_password.html", "/commission", msg.Sprintf("媒体 %s のリポジトリパスワード", "Repository password of medium %s", name), msg.Text{}, false, b)
}

// mediumStepDiscard discards a password that was never used, for a person
// who lost the sheet before the repository was created.
func (s *Server) mediumStepDiscard(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("medium")
	back := "/commission/medium?name=" + url.QueryEscape(name)
	if err := s.core.DiscardPassword(r.Context(), name, actor(r)); err != nil {
		s.startError(w, r, err, back)
		return
	}
	http.Redirect(w, r, withDone(back, "discarded"), http.StatusSeeOther)
}

// mediumStepPrepare starts preparing the medium once the password's last
// characters were typed back.
func (s *Server) mediumStepPrepare(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("medium")
	back := "/commission/medium?name=" + url.QueryEscape(name)
	err := s.core.StartPrepare(r.Context(), name, actor(r), r.PostFormValue("typed"), r.PostFormValue("force") != "")
	switch {
	case errors.Is(err, gateway.ErrTypedBack):
		s.renderMediumStep(w, r, name, msg.TextOf(err))
	case err != nil:
		s.startError(w, r, err, back)
	default:
		http.Redirect(w, r, back, http.StatusSeeOther)
	}
}
