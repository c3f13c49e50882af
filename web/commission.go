package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/msg"
)

// The commissioning view walks a vendor engineer through a new gateway,
// from the first account to its first verified cycle, without the README:
// network and time, the e-chart source, each relay's wiring test and each
// medium's enrolment and preparation, alerts, the first cycle. Each step
// is recorded in the ledger (gateway.CommissionSteps) and can be redone;
// the dashboard shows a checklist until every step is done.

// commissioner is what the commissioning view needs from the core.
type commissioner interface {
	CommissionSteps() ([]gateway.CommissionStep, error)
	CommissionJob(step, item string) (gateway.CommissionJob, bool)
	TestSource(ctx context.Context, name, actor string) (*pull.Preview, error)
	StartWiringTest(ctx context.Context, relay, actor string) error
	EnrolDisk(ctx context.Context, actor, relay, volume, name string) (string, error)
	NewPassword(name string) (password string, created bool, err error)
	DiscardPassword(ctx context.Context, name, actor string) error
	StartPrepare(ctx context.Context, name, actor, typed string, force bool) error
	TestAlerts(ctx context.Context, actor string, channels ...string) ([]gateway.AlertTestResult, error)
	SkipAlerts(ctx context.Context, actor string) error
	StartFirstCycle(ctx context.Context, actor string) error
}

func (s *Server) commissionRoutes(mux *http.ServeMux, need func(auth.Action, http.Handler) http.Handler) {
	h := func(a auth.Action, f http.HandlerFunc) http.Handler { return need(a, f) }
	mux.Handle("GET /commission", h(auth.EditConfig, s.commissionPage))
	mux.Handle("GET /commission/source", h(auth.EditConfig, s.sourceStepPage))
	mux.Handle("POST /commission/source", h(auth.EditConfig, s.sourceStepSave))
	mux.Handle("POST /commission/source/key", h(auth.EditConfig, s.sourceStepKey))
	mux.Handle("POST /commission/source/test", h(auth.EditConfig, s.sourceStepTest))
	mux.Handle("GET /commission/relay", h(auth.EditConfig, s.relayStepPage))
	mux.Handle("POST /commission/relay/test", h(auth.EditConfig, s.relayStepTest))
	mux.Handle("POST /commission/relay/enrol", h(auth.EditConfig, s.relayStepEnrol))
	mux.Handle("GET /commission/medium", h(auth.EditConfig, s.mediumStepPage))
	mux.Handle("POST /commission/medium/password", h(auth.EditConfig, s.mediumStepPassword))
	mux.Handle("POST /commission/medium/discard", h(auth.EditConfig, s.mediumStepDiscard))
	mux.Handle("POST /commission/medium/prepare", h(auth.EditConfig, s.mediumStepPrepare))
	mux.Handle("GET /commission/alerts", h(auth.EditConfig, s.alertsStepPage))
	mux.Handle("POST /commission/alerts/test", h(auth.EditConfig, s.alertsStepTest))
	mux.Handle("POST /commission/alerts/skip", h(auth.EditConfig, s.alertsStepSkip))
	mux.Handle("GET /commission/cycle", h(auth.EditConfig, s.cycleStepPage))
	mux.Handle("POST /commission/cycle", h(auth.RunCycle, s.cycleStepStart))
}

// commissionTitle is the view's title and its navigation entry's.
func commissionTitle() msg.Text { return msg.T("導入手順", "Commissioning") }

// stepItem is one step of the list, as the view and the checklist show it.
type stepItem struct {
	Step, Item string
	ID, Href   string
	Label      msg.Text
	State      msg.Text
	Detail     msg.Text
	When       string
	Done       bool
	Skipped    bool // done by skipping it (alerts without a channel)
	Tried      bool // recorded, but not OK: shown in red
}

// stepGroup is one numbered step of the view: its items and how to add one.
type stepGroup struct {
	ID          string
	Title, Help msg.Text
	Items       []stepItem
	Adds        []stepLink
}

type stepLink struct {
	Href, ID string
	Label    msg.Text
}

type commissionBody struct {
	Groups []stepGroup
	Done   bool
}

// commissionItems are the steps as the page shows them, in order.
func (s *Server) commissionItems() ([]stepItem, error) {
	steps, err := s.core.CommissionSteps()
	if err != nil {
		return nil, err
	}
	z := s.zone()
	var out []stepItem
	for _, st := range steps {
		it := stepItem{Step: st.Step, Item: st.Item, Done: st.Done, Skipped: st.Skipped && st.Done, Tried: st.Last != nil && !st.Done}
		it.Label, it.Href = stepLabel(st.Step, st.Item)
		it.ID = "step-" + st.Step
		if st.Item != "" {
			it.ID += "-" + st.Item
		}
		it.State = msg.T("未実施", "not done")
		if st.Last != nil {
			it.When = z.Stamp(st.Last.Time) + " " + st.Last.Actor
			it.Detail = st.Data.Detail
			it.State = msg.T("未完了(やり直してください)", "not passed (do it again)")
		}
		switch {
		case it.Skipped:
			it.State = msg.T("スキップ", "skipped")
		case st.Done:
			it.State = msg.T("完了", "done")
		}
		out = append(out, it)
	}
	return out, nil
}

// stepLabel names a step and where it is done.
func stepLabel(step, item string) (msg.Text, string) {
	q := "?name=" + url.QueryEscape(item)
	switch step {
	case gateway.StepNetwork:
		return msg.T("ネットワークと時刻", "Network and time"), "/commission/network"
	case gateway.StepSource:
		if item == "" {
			return msg.T("取得元(電子カルテサーバ)を追加", "Add the e-chart source"), "/commission/source"
		}
		return msg.Sprintf("取得元 %s: 鍵・ホスト鍵・テスト", "Source %s: key, host key, test", item), "/commission/source" + q
	case gateway.StepRelay:
		if item == "" {
			return msg.T("リレーを追加", "Add a relay"), "/config/relay?next=/commission"
		}
		return msg.Sprintf("リレー %s: 配線テスト", "Relay %s: wiring test", item), "/commission/relay" + q
	case gateway.StepMedium:
		if item == "" {
			return msg.T("媒体を登録(ディスクはリレーの配線テストから)", "Enrol a medium (a disk from its relay's wiring test)"), "/commission#group-media"
		}
		return msg.Sprintf("媒体 %s: 準備(パスワード)", "Medium %s: prepare (password)", item), "/commission/medium" + q
	case gateway.StepAlerts:
		return msg.T("通知: テストメールとテストWebhook", "Alerts: a test mail and a test webhook"), "/commission/alerts"
	case gateway.StepFirstCycle:
		return msg.T("最初のサイクル", "The first cycle"), "/commission/cycle"
	}
	return msg.Plain(step + " " + item), "/commission"
}

// groupsOf arranges the steps under the view's five numbered headings.
func groupsOf(items []stepItem) []stepGroup {
	groups := []stepGroup{
		{ID: "group-network", Title: msg.T("1. ネットワークと時刻", "1. Network and time"),
			Help: msg.T("固定アドレスまたはDHCP、ホスト名、院内のNTPサーバ。変更は2分以内に新しいアドレスで画面を開けないと元に戻ります。",
				"A static address or DHCP, the hostname, the hospital's NTP servers. A change reverts unless the page is reached at the new address within 2 minutes.")},
		{ID: "group-source", Title: msg.T("2. 取得元(電子カルテサーバ)", "2. The e-chart source"),
			Help: msg.T("ホスト・ポート・アカウントを入力すると、ゲートウェイが鍵を作り、サーバ管理者に渡す authorized_keys の行を表示します。ホスト鍵を照合して登録し、「テスト」で取得対象を確かめます。",
				"Enter host, port and account: the gateway makes its key and shows the authorized_keys line for the server's administrator. Compare and pin the host key, then \"Test\" lists what would be pulled.")},
		{ID: "group-media", Title: msg.T("3. リレーと媒体", "3. Relays and media"),
			Help: msg.T("リレーごとに配線テスト(オン → センス → 現れた装置 → オフ → センス → 消失)を行い、現れたディスクを媒体として登録し、リポジトリを準備します。S3 とテープは設定画面で追加してから準備します。",
				"For each relay run the wiring test (on → sense → the device that appeared → off → sense → gone), enrol the disk that appeared as a medium, and prepare its repository. Add S3 buckets and tape drives on the configuration page, then prepare them.")},
		{ID: "group-alerts", Title: msg.T("4. 通知", "4. Alerts"),
			Help: msg.T("設定した通知先にテスト通知を送り、届いたことを確かめます。", "Send a test notice through each configured channel and see it arrive.")},
		{ID: "group-cycle", Title: msg.T("5. 最初のサイクル", "5. The first cycle"),
			Help: msg.T("すべての媒体に書き込み、各媒体の状態(切断の確認)で終わります。", "Writes every medium and ends in each medium's state (its verified cut).")},
	}
	index := map[string]int{gateway.StepNetwork: 0, gateway.StepSource: 1, gateway.StepRelay: 2, gateway.StepMedium: 2, gateway.StepAlerts: 3, gateway.StepFirstCycle: 4}
	for _, it := range items {
		g := &groups[index[it.Step]]
		g.Items = append(g.Items, it)
	}
	groups[1].Adds = []stepLink{{Href: "/commission/source", ID: "add-source", Label: msg.T("取得元を追加", "Add a source")}}
	groups[2].Adds = []stepLink{{Href: "/config/relay?next=/commission", ID: "add-relay", Label: msg.T("リレーを追加", "Add a relay")},
		{Href: "/config/medium?next=/commission", ID: "add-medium", Label: msg.T("S3・テープの媒体を追加", "Add an S3 or tape medium")}}
	groups[3].Adds = []stepLink{{Href: "/config/alerts?next=/commission/alerts", ID: "edit-alerts", Label: msg.T("通知先を設定", "Configure the alerts")}}
	return groups
}

func (s *Server) commissionPage(w http.ResponseWriter, r *http.Request) {
	items, err := s.commissionItems()
	if err != nil {
		s.failure(w, r, http.StatusInternalServerError, err, "/")
		return
	}
	b := commissionBody{Groups: groupsOf(items), Done: gateway.Commissioned(stepsOnly(items))}
	flash, bad := flashOf(r)
	s.render(w, r, http.StatusOK, "commission.html", "/commission", commissionTitle(), flash, bad, b)
}

// stepsOnly turns the page's items back into the done flags Commissioned
// reads.
func stepsOnly(items []stepItem) []gateway.CommissionStep {
	out := make([]gateway.CommissionStep, len(items))
	for i, it := range items {
		out[i] = gateway.CommissionStep{Step: it.Step, Item: it.Item, Done: it.Done}
	}
	return out
}

// checklist is the dashboard's list of the steps, nil once every one is
// done (or when the steps cannot be read: the dashboard shows what it can).
func (s *Server) checklist() []stepItem {
	items, err := s.commissionItems()
	if err != nil {
		s.log.Warn("dashboard: the commissioning steps cannot be read", "err", err)
		return nil
	}
	if gateway.Commissioned(stepsOnly(items)) {
		return nil
	}
	return items
}

// jobView is a commissioning job as the step pages show it.
type jobView struct {
	Running   bool
	Started   string
	Took      msg.Text
	Steps     []jobStepView
	Err       msg.Text
	Finished  bool
	Succeeded bool
}

type jobStepView struct {
	ID, State string
	Label     msg.Text
	Text      msg.Text
	At        string
}

// jobOf shows a job; labels names its steps.
func (s *Server) jobOf(j gateway.CommissionJob, labels func(string) msg.Text) *jobView {
	z := s.zone()
	v := &jobView{Running: j.Running(), Started: z.Stamp(j.Started), Err: j.Err, Finished: !j.Running(), Succeeded: !j.Running() && j.Err.IsZero()}
	end := j.Finished
	if v.Running {
		end = time.Now()
	}
	v.Took = humanDuration(end.Sub(j.Started))
	for _, st := range j.Steps {
		v.Steps = append(v.Steps, jobStepView{ID: st.ID, State: string(st.State), Label: labels(st.ID), Text: st.Text, At: z.Clock(st.At)})
	}
	return v
}

// refreshWhileRunning makes the browser reload a step page every second
// while its job runs: the page's CSP allows no inline script, and a reload
// shows each step as it happens.
func refreshWhileRunning(w http.ResponseWriter, j *jobView) {
	if j != nil && j.Running {
		w.Header().Set("Refresh", "1")
	}
}

// startError answers a job that could not start: busy, or why not.
func (s *Server) startError(w http.ResponseWriter, r *http.Request, err error, back string) {
	if errors.Is(err, gateway.ErrBusy) {
		http.Redirect(w, r, withQuery(back, "err", "busy"), http.StatusSeeOther)
		return
	}
	s.failure(w, r, http.StatusOK, err, back)
}

// alertsBody is step 4.
type alertsBody struct {
	Email, Webhook string // where each channel goes; "" when not configured
	Results        []alertResult
	Error          msg.Text
	Step           *stepItem
}

type alertResult struct {
	Channel string
	OK      bool
	Text    msg.Text
}

func (s *Server) alertsStepPage(w http.ResponseWriter, r *http.Request) {
	s.renderAlertsStep(w, r, alertsBody{})
}

func (s *Server) renderAlertsStep(w http.ResponseWriter, r *http.Request, b alertsBody) {
	a := s.core.Config().Alerts
	if a.Email != nil {
		b.Email = a.Email.Server
		for i, to := range a.Email.To {
			if i == 0 {
				b.Email += " → "
			} else {
				b.Email += ", "
			}
			b.Email += to
		}
	}
	if a.Webhook != nil {
		b.Webhook = a.Webhook.URL
	}
	b.Step = s.stepItem(gateway.StepAlerts, "")
	flash, bad := flashOf(r)
	s.render(w, r, http.StatusOK, "commission_alerts.html", "/commission", msg.T("通知のテスト", "Alert test"), flash, bad, b)
}

// stepItem is the step's item from the list, or nil.
func (s *Server) stepItem(step, item string) *stepItem {
	items, err := s.commissionItems()
	if err != nil {
		s.log.Warn("commissioning steps", "err", err)
		return nil
	}
	for _, it := range items {
		if it.Step == step && it.Item == item {
			return &it
		}
	}
	return nil
}

func (s *Server) alertsStepTest(w http.ResponseWriter, r *http.Request) {
	var channels []string
	if ch := r.PostFormValue("channel"); ch != "" && ch != "all" {
		channels = []string{ch}
	}
	res, err := s.core.TestAlerts(r.Context(), actor(r), channels...)
	b := alertsBody{Error: msg.TextOf(err)}
	for _, x := range res {
		ar := alertResult{Channel: x.Channel, OK: x.Err == nil, Text: msg.T("送信しました。届いたことを確かめてください", "sent: check that it arrived")}
		if x.Err != nil {
			ar.Text = msg.TextOf(x.Err)
		}
		b.Results = append(b.Results, ar)
	}
	s.renderAlertsStep(w, r, b)
}

// alertsStepSkip records the alerts step as skipped, for a LAN that
// reaches no mail server and no webhook.
func (s *Server) alertsStepSkip(w http.ResponseWriter, r *http.Request) {
	if err := s.core.SkipAlerts(r.Context(), actor(r)); err != nil {
		s.renderAlertsStep(w, r, alertsBody{Error: msg.TextOf(err)})
		return
	}
	http.Redirect(w, r, withDone("/commission/alerts", "skipped"), http.StatusSeeOther)
}

// cycleBody is step 5: the live progress, each medium's phases as they
// happened, and each medium's state.
type cycleBody struct {
	Live    progress
	LiveOn  bool
	Media   []mediumCard
	Step    *stepItem
	Job     *jobView
	CanRun  bool
	Running bool
}

// cycleLabel names a step of the first cycle: "medium/phase", or a phase
// of the whole cycle (the pull).
func cycleLabel(id string) msg.Text {
	medium, phase, ok := strings.Cut(id, "/")
	if !ok {
		return phaseLabel(id)
	}
	return phaseLabel(phase).Append(" ", msg.Plain("("+medium+")"))
}

func (s *Server) cycleStepPage(w http.ResponseWriter, r *http.Request) {
	st, err := s.core.Status(r.Context())
	if st == nil {
		s.failure(w, r, http.StatusInternalServerError, statusError(err), "/commission")
		return
	}
	running, last := s.core.Running()
	b := cycleBody{Live: progressOf(running, last), LiveOn: true, Running: running, CanRun: auth.Allowed(role(r), auth.RunCycle),
		Step: s.stepItem(gateway.StepFirstCycle, "")}
	if j, ok := s.core.CommissionJob(gateway.StepFirstCycle, ""); ok {
		b.Job = s.jobOf(j, cycleLabel)
		b.Running = b.Running || j.Running()
		// The live stream follows the cycle itself; around it (starting,
		// recording its end) the page reloads itself.
		if !running {
			refreshWhileRunning(w, b.Job)
		}
	}
	for _, m := range st.Media {
		b.Media = append(b.Media, cardOf(m, s.zone()))
	}
	flash, bad := flashOf(r)
	s.render(w, r, http.StatusOK, "commission_cycle.html", "/commission", msg.T("最初のサイクル", "The first cycle"), flash, bad, b)
}

func (s *Server) cycleStepStart(w http.ResponseWriter, r *http.Request) {
	err := s.core.StartFirstCycle(r.Context(), actor(r))
	switch {
	case errors.Is(err, gateway.ErrBusy):
		http.Redirect(w, r, "/commission/cycle?err=busy", http.StatusSeeOther)
	case err != nil:
		s.failure(w, r, http.StatusInternalServerError, msg.Wrap(err, "サイクルを開始できません", "cannot start the cycle"), "/commission/cycle")
	default:
		http.Redirect(w, r, "/commission/cycle?done=started", http.StatusSeeOther)
	}
}

// commissionNext is the commissioning page a configuration form returns
// to (its "next" value), or "" when it names none: only the view's own
// paths are followed, so the value cannot send the browser elsewhere.
func commissionNext(r *http.Request) string {
	next := r.FormValue("next")
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Fragment != "" || (u.Path != "/commission" && !strings.HasPrefix(u.Path, "/commission/")) {
		return ""
	}
	return u.String()
}

// withDone adds the ?done= notice to a page's address.
func withDone(page, done string) string { return withQuery(page, "done", done) }

// withQuery adds key=value to a page's address.
func withQuery(page, key, value string) string {
	sep := "?"
	if strings.Contains(page, "?") {
		sep = "&"
	}
	return page + sep + key + "=" + url.QueryEscape(value)
}
