package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/when"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/status"
)

type dashBody struct {
	// Attention lists what needs a person, each explained (failures.go).
	Attention []failureView
	// Pending are the held changes that keep less: a banner (pending.go).
	Pending    []heldView
	PendingErr msg.Text
	Media      []mediumCard
	LastCycle  *lastCycle
	LastDrill  *lastCycle
	NextCycle  msg.Text
	Staging    msg.Text
	StagingLow bool
	// ScanCautions is the last WAN-edge scan's 注意 count (and new ones).
	ScanCautions msg.Text
	ScanBad      bool
	LedgerOK     bool
	LedgerText   msg.Text
	// FullVerify says when the whole ledger was last verified.
	FullVerify    msg.Text
	FullVerifyBad bool
	Live          progress
	LiveOn        bool // the page's script follows /events
	CanRun        bool
	Generated     string
	// Checklist is the commissioning steps until every one is done
	// (commission.go); nil then.
	Checklist []stepItem
	// CanCommission: the reader may open the steps (hospital staff and
	// auditors see the checklist, without links they cannot follow).
	CanCommission bool
	// Clock is how the clock is set (commission_network.go).
	Clock clockView
}

type mediumCard struct {
	Name, State, Since       string
	Label, Reason            msg.Text
	Snapshot                 string
	Kit                      msg.Text // the recovery kit on the medium (kitLine)
	KitBad                   bool
	Offsite                  msg.Text // where it is while kept off-site (offsite.go)
	OffsiteBad               bool
	Connected, Cut           msg.Text
	VerifiedCuts, FailedCuts int
	Timeline                 timeline
}

type lastCycle struct {
	OK   bool
	Text msg.Text
	Time string
	// Pulls say what each source's pull backed up and left out (pulls.go).
	Pulls []pullView
}

// timeline is the 30-day bar: connected (orange) against cut (green).
type timeline struct {
	Bars  []bar
	Label msg.Text
}

type bar struct {
	X, W  string // in viewBox units (0–1000)
	Class string
	Title msg.Text
}

// timelineWidth is the SVG's viewBox width; minBar keeps a nightly
// connection of minutes visible on a 30-day bar.
const (
	timelineWidth = 1000.0
	minBar        = 2.0
)

func timelineOf(p ledger.Summary, z when.Zone) timeline {
	tl := timeline{Label: msg.Sprintf("30日間: 接続 %s、切断 %s、未確認 %s", "30 days: connected %s, cut %s, unknown %s",
		humanDuration(p.Connected), humanDuration(p.CutOff), humanDuration(p.Unknown))}
	span := p.To.Sub(p.From)
	if span <= 0 {
		return tl
	}
	for _, iv := range p.Intervals {
		x := float64(iv.From.Sub(p.From)) / float64(span) * timelineWidth
		w := float64(iv.To.Sub(iv.From)) / float64(span) * timelineWidth
		class, name := "tl-unknown", msg.T("未確認", "unknown")
		switch iv.State {
		case ledger.StateConnected:
			class, name = "tl-connected", msg.T("接続", "connected")
			w = max(w, minBar)
		case ledger.StateCutOff:
			class, name = "tl-cut", msg.T("切断(確認済み)", "cut, verified")
		}
		tl.Bars = append(tl.Bars, bar{X: fmt.Sprintf("%.2f", x), W: fmt.Sprintf("%.2f", w), Class: class,
			Title: msg.Sprintf("%s: %s – %s", "%s: %s – %s", name, z.Stamp(iv.From), z.Stamp(iv.To))})
	}
	return tl
}

func cardOf(m status.Medium, z when.Zone) mediumCard {
	c := mediumCard{Name: m.Name, State: string(m.State), Label: m.Label(), Since: z.Stamp(m.Since), Reason: m.Reason,
		Connected: humanDuration(m.Period.Connected), Cut: humanDuration(m.Period.CutOff),
		VerifiedCuts: m.Period.VerifiedCuts, FailedCuts: m.Period.FailedCuts, Timeline: timelineOf(m.Period, z)}
	if s := m.LastSnapshot; s != nil {
		c.Snapshot = fmt.Sprintf("%s (%s, %s)", short(s.ID), s.Source, z.Stamp(s.Time))
	}
	c.Kit, c.KitBad = kitLine(m.RecoveryKit, z)
	return c
}

// kitLine says whether the medium carries the recovery kit (restic and
// the recovery sheet for an offline PC) as of its last refresh.
func kitLine(k *status.Kit, z when.Zone) (msg.Text, bool) {
	switch {
	case k == nil:
		return msg.Text{}, false
	case k.OK:
		return msg.Sprintf("リカバリーキット: 確認済み(%s)", "Recovery kit: checked (%s)", z.Stamp(k.Time)), false
	}
	return msg.Sprintf("%s(%s)", "%s (%s)", k.Text, z.Stamp(k.Time)), true
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// dashExtra is what the dashboard shows beyond the ledger's status.
type dashExtra struct {
	staging string
	running bool
	last    *backup.CycleEvent
	canRun  bool
	drills  []ledger.RestoreData
	// anomalies are the open source anomalies, if anomaliesRead.
	anomalies     []backup.Anomaly
	anomaliesRead bool
}

func dashboardView(st *status.Status, x *dashExtra, now time.Time, z when.Zone) dashBody {
	b := dashBody{NextCycle: msg.T("予定なし", "none scheduled"), Generated: z.Stamp(st.Generated)}
	b.ScanCautions, b.ScanBad = scanLine(st.LastScan, z)
	for _, m := range st.Media {
		b.Media = append(b.Media, cardOf(m, z))
	}
	if c := st.LastCycle; c != nil {
		text := msg.T("成功", "succeeded")
		if !c.OK {
			text = msg.T("失敗(原因と対応は「要対応」に表示)", "FAILED (the cause and what to do are under Needs attention)")
		}
		b.LastCycle = &lastCycle{OK: c.OK, Text: text.Append(" — ", msg.Plain(c.ID)), Time: z.Stamp(c.Time),
			Pulls: pullViews(c.Pulls, dashboardPullNames)}
	}
	if !st.NextCycle.IsZero() {
		b.NextCycle = msg.Sprintf("%s(あと %s)", "%s (in %s)", z.Stamp(st.NextCycle), humanDuration(st.NextCycle.Sub(now)))
	}
	if !st.LedgerErr.IsZero() {
		b.LedgerText = st.LedgerErr
	} else {
		b.LedgerOK = true
		b.LedgerText = msg.Sprintf("検証済み: %d件、最新ハッシュ %s", "verified: %d entries, head %s", st.Ledger.Entries, st.Ledger.LastHash)
	}
	b.FullVerify, b.FullVerifyBad = fullVerifyLine(st.LastFullVerify, z)
	if x != nil {
		b.CanRun, b.LiveOn = x.canRun, true
		b.LastDrill = lastDrill(x.drills, z)
		b.Live = progressOf(x.running, x.last)
		b.Staging, b.StagingLow = stagingFree(x.staging)
	}
	b.Attention = dashAttention(st, x, b, z)
	return b
}

// dashAttention is the dashboard's list of what needs a person: the
// status's, the open anomalies and low staging space.
func dashAttention(st *status.Status, x *dashExtra, b dashBody, z when.Zone) []failureView {
	if x == nil {
		return attention(st, nil, false, z)
	}
	var extra []status.Failure
	if b.StagingLow {
		extra = append(extra, status.Failure{Cause: alert.CauseStagingLow, Detail: b.Staging})
	}
	return attention(st, x.anomalies, x.anomaliesRead, z, extra...)
}

// fullVerifyLine says when the whole ledger was last verified, and how.
func fullVerifyLine(v *status.FullVerify, z when.Zone) (msg.Text, bool) {
	switch {
	case v == nil:
		return msg.T("まだ行われていません(毎日夜間に実施)", "not yet (done nightly)"), false
	case !v.Data.OK:
		return msg.Sprintf("%s — 異常: %s", "%s — FAILED: %s", z.Stamp(v.Time), v.Data.Problem), true
	}
	return msg.Sprintf("%s — 正常(%d件、%.1f秒)", "%s — OK (%d entries, %.1f s)", z.Stamp(v.Time), v.Data.Entries, float64(v.Data.DurationMS)/1000), false
}

// stagingFree reads the staging file system's free space. Low means less
// than a tenth is free: the next pull may not fit.
func stagingFree(dir string) (msg.Text, bool) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return msg.Sprintf("不明: %v", "unknown: %v", err), true
	}
	free := int64(fs.Bavail) * fs.Bsize
	total := int64(fs.Blocks) * fs.Bsize
	pct := 0.0
	if total > 0 {
		pct = float64(free) / float64(total) * 100
	}
	return msg.Sprintf("空き %s(全体 %s の %.0f%%)", "%s free of %s (%.0f%%)", bytesize.Format(free), bytesize.Format(total), pct), pct < 10
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	st, err := s.core.Status(r.Context())
	if st == nil {
		s.failure(w, r, http.StatusInternalServerError, statusError(err), "/")
		return
	}
	running, last := s.core.Running()
	x := &dashExtra{staging: s.core.Config().StagingDir, running: running, last: last, canRun: auth.Allowed(role(r), auth.RunCycle)}
	if st.LastDrill != nil { // the status has it: reading every drill would read the whole ledger
		x.drills = []ledger.RestoreData{*st.LastDrill}
	}
	if open, err := s.core.OpenAnomalies(); err != nil {
		s.log.Warn("dashboard: the open anomalies cannot be read; the last cycle's are shown", "err", err)
	} else {
		x.anomalies, x.anomaliesRead = open, true
	}
	b := dashboardView(st, x, time.Now(), s.zone())
	s.offsiteCards(b.Media) // the off-site line (offsite.go)
	b.Checklist = s.checklist()
	b.CanCommission = auth.Allowed(role(r), auth.EditConfig) // the steps' pages are the vendor's
	b.Clock = s.clockView()
	b.Pending, b.PendingErr = s.pendingViews() // the banner (pending.go)
	b.Attention = append(b.Attention, explainAll(clockAttention(b.Clock), s.zone())...)
	b.Attention = append(b.Attention, explainAll(s.alertsAttention(), s.zone())...)
	flash, bad := flashOf(r)
	s.render(w, r, http.StatusOK, "dashboard.html", "/", msg.T("状態", "Status"), flash, bad, b)
}

// statusError says that the status could not be read, and why.
func statusError(err error) error {
	if err == nil {
		err = errors.New("no status")
	}
	return msg.Wrap(err, "状態を取得できません", "cannot read the status")
}

// runCycle is the "run a cycle now" button.
func (s *Server) runCycle(w http.ResponseWriter, r *http.Request) {
	err := s.core.StartCycle(r.Context(), actor(r))
	switch {
	case errors.Is(err, gateway.ErrBusy):
		http.Redirect(w, r, "/?err=busy", http.StatusSeeOther)
	case err != nil:
		s.log.Error("start cycle", "err", err)
		s.failure(w, r, http.StatusInternalServerError, msg.Wrap(err, "サイクルを開始できません", "cannot start the cycle"), "/")
	default:
		http.Redirect(w, r, "/?done=started", http.StatusSeeOther)
	}
}

// flashOf turns ?done= / ?err= codes into text. Only known codes are
// shown, so the query string cannot put words on the page.
func flashOf(r *http.Request) (msg.Text, bool) {
	q := r.URL.Query()
	done := map[string]msg.Text{
		"started":   msg.T("サイクルを開始しました。進行状況は下に表示されます", "The cycle has started; its progress is shown below."),
		"saved":     msg.T("設定を保存し、再起動せずに適用しました", "The configuration was saved and applied without a reboot."),
		"undone":    msg.T("直前の変更を元に戻しました", "The last change was undone."),
		"nochange":  msg.T("変更はありませんでした。何も保存せず、「元に戻す」も前のままです", "Nothing was changed: nothing was saved, and undo still goes back to the change before."),
		"deleted":   msg.T("削除し、設定を適用しました", "Deleted; the configuration was applied."),
		"held":      msg.T("保存しました。保持を減らす部分は待機期間の後に適用されます(下の「待機中の変更」で取り消せます)", "Saved. What keeps less applies only after its waiting period (it can be cancelled under Pending changes below)."),
		"cancelled": msg.T("待機中の変更を取り消しました", "The pending change was cancelled."),
		"pinned":    msg.T("ホスト鍵を登録し、設定を適用しました", "The host key was pinned and the configuration applied."),
		"key":       msg.T("秘密鍵を置き換えました(内容は表示されません)", "The private key was replaced (it is never shown)."),
		"secret":    msg.T("秘密情報を置き換えました(内容は表示されません)", "The secret was replaced (it is never shown)."),
		"cert":      msg.T("証明書を置き換えました。新しい接続から使われます", "The certificate was replaced; new connections use it."),
		"user":      msg.T("ユーザーを変更しました", "The user was changed."),
		"password":  msg.T("パスワードを変更しました", "The password was changed."),
		"restore":   msg.T("媒体に通電して復元を開始しました。遅くとも切断期限に切断します", "The restore has started; the medium is cut at the deadline at the latest."),
		"drill":     msg.T("復元訓練を開始しました。進行状況はこのページに表示されます", "The drill has started; its progress is shown on this page."),
		"removed":   msg.T("復元データをゲートウェイから削除しました", "The restored files were removed from the gateway."),
		"enrolled":  msg.T("ディスクを媒体として登録しました。次にリポジトリを準備します", "The disk was enrolled as the medium; prepare its repository next."),
		"discarded": msg.T("未使用のパスワードを破棄しました。新しいパスワードを作成してください", "The unused password was discarded: create a new one."),
		"exercise":  msg.T("訓練・演習を証跡台帳に記録しました", "The exercise was recorded in the evidence ledger."),
		"skipped":   msg.T("通知の手順をスキップしました。障害はこの画面にだけ表示されます", "The alerts step was skipped: failures are shown on this page only."),
	}
	errs := map[string]msg.Text{
		"busy":            msg.T("別の処理を実行中です。終わってからやり直してください", "Another job is running: try again when it has finished."),
		"password-exists": msg.T("パスワードは作成済みです(二度と表示されません)。控えたパスワードの末尾を入力してください", "The password exists already (it is never shown again): type the end of the password you wrote down."),
	}
	if m, ok := done[q.Get("done")]; ok {
		return m, false
	}
	if m, ok := errs[q.Get("err")]; ok {
		return m, true
	}
	return msg.Text{}, false
}

// alertsDowner is a core that can say why no alert goes out.
type alertsDowner interface{ AlertsProblem() msg.Text }

// alertsAttention: with no alert going out, the page is the only place a
// failure is seen, so it says so first.
func (s *Server) alertsAttention() []status.Failure {
	d, ok := s.core.(alertsDowner)
	if !ok {
		return nil
	}
	if why := d.AlertsProblem(); !why.IsZero() {
		return []status.Failure{{Cause: alert.CauseOther, Detail: why}}
	}
	return nil
}
