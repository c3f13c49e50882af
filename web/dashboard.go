package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/status"
)

type dashBody struct {
	Media      []mediumCard
	LastCycle  *lastCycle
	LastDrill  *lastCycle
	NextCycle  string
	Staging    string
	StagingLow bool
	// ScanCautions is the last WAN-edge scan's 注意 count (and new ones).
	ScanCautions string
	ScanBad      bool
	LedgerOK     bool
	LedgerText   string
	Live         progress
	LiveOn       bool // the page's script follows /events
	CanRun       bool
	Generated    string
}

type mediumCard struct {
	Name, State, Label, Since, Reason string
	Snapshot                          string
	Connected, Cut                    string
	VerifiedCuts, FailedCuts          int
	Timeline                          timeline
}

type lastCycle struct {
	OK         bool
	Text, Time string
}

// timeline is the 30-day bar: connected (orange) against cut (green).
type timeline struct {
	Bars  []bar
	Label string
}

type bar struct {
	X, W         string // in viewBox units (0–1000)
	Class, Title string
}

// timelineWidth is the SVG's viewBox width; minBar keeps a nightly
// connection of minutes visible on a 30-day bar.
const (
	timelineWidth = 1000.0
	minBar        = 2.0
)

func timelineOf(l lang, p ledger.Summary) timeline {
	tl := timeline{Label: l.t(
		fmt.Sprintf("30日間: 接続 %s、切断 %s、未確認 %s", l.humanDuration(p.Connected), l.humanDuration(p.CutOff), l.humanDuration(p.Unknown)),
		fmt.Sprintf("30 days: connected %s, cut %s, unknown %s", l.humanDuration(p.Connected), l.humanDuration(p.CutOff), l.humanDuration(p.Unknown)))}
	span := p.To.Sub(p.From)
	if span <= 0 {
		return tl
	}
	for _, iv := range p.Intervals {
		x := float64(iv.From.Sub(p.From)) / float64(span) * timelineWidth
		w := float64(iv.To.Sub(iv.From)) / float64(span) * timelineWidth
		class, name := "tl-unknown", l.t("未確認", "unknown")
		switch iv.State {
		case ledger.StateConnected:
			class, name = "tl-connected", l.t("接続", "connected")
			w = max(w, minBar)
		case ledger.StateCutOff:
			class, name = "tl-cut", l.t("切断(確認済み)", "cut, verified")
		}
		tl.Bars = append(tl.Bars, bar{X: fmt.Sprintf("%.2f", x), W: fmt.Sprintf("%.2f", w), Class: class,
			Title: fmt.Sprintf("%s: %s – %s", name, stamp(iv.From), stamp(iv.To))})
	}
	return tl
}

func cardOf(l lang, m status.Medium) mediumCard {
	c := mediumCard{Name: m.Name, State: string(m.State), Label: l.in(m.Label()), Since: stamp(m.Since), Reason: l.in(m.Reason),
		Connected: l.humanDuration(m.Period.Connected), Cut: l.humanDuration(m.Period.CutOff),
		VerifiedCuts: m.Period.VerifiedCuts, FailedCuts: m.Period.FailedCuts, Timeline: timelineOf(l, m.Period)}
	if s := m.LastSnapshot; s != nil {
		c.Snapshot = fmt.Sprintf("%s (%s, %s)", short(s.ID), s.Source, stamp(s.Time))
	}
	return c
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
}

func dashboardView(l lang, st *status.Status, x *dashExtra, now time.Time) dashBody {
	b := dashBody{NextCycle: l.t("予定なし", "none scheduled"), Generated: stamp(st.Generated)}
	b.ScanCautions, b.ScanBad = scanLine(l, st.LastScan)
	for _, m := range st.Media {
		b.Media = append(b.Media, cardOf(l, m))
	}
	if c := st.LastCycle; c != nil {
		text := l.t("成功", "succeeded")
		if !c.OK {
			text = l.t("失敗(詳細は履歴と証跡台帳)", "FAILED (see the history and the ledger)")
		}
		b.LastCycle = &lastCycle{OK: c.OK, Text: text + " — " + c.ID, Time: stamp(c.Time)}
	}
	if !st.NextCycle.IsZero() {
		b.NextCycle = fmt.Sprintf("%s (%s)", stamp(st.NextCycle), l.t("あと", "in ")+l.humanDuration(st.NextCycle.Sub(now)))
	}
	if !st.LedgerErr.IsZero() {
		b.LedgerText = l.in(st.LedgerErr)
	} else {
		b.LedgerOK = true
		b.LedgerText = l.t(fmt.Sprintf("検証済み: %d件、最新ハッシュ %s", st.Ledger.Entries, st.Ledger.LastHash),
			fmt.Sprintf("verified: %d entries, head %s", st.Ledger.Entries, st.Ledger.LastHash))
	}
	if x != nil {
		b.CanRun, b.LiveOn = x.canRun, true
		b.LastDrill = lastDrill(l, x.drills)
		b.Live = progressOf(l, x.running, x.last)
		b.Staging, b.StagingLow = stagingFree(l, x.staging)
	}
	return b
}

// stagingFree reads the staging file system's free space. Low means less
// than a tenth is free: the next pull may not fit.
func stagingFree(l lang, dir string) (string, bool) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return l.t("不明: ", "unknown: ") + err.Error(), true
	}
	free := int64(fs.Bavail) * fs.Bsize
	total := int64(fs.Blocks) * fs.Bsize
	pct := 0.0
	if total > 0 {
		pct = float64(free) / float64(total) * 100
	}
	return fmt.Sprintf(l.t("空き %s / 全体 %s (%.0f%%)", "%s free of %s (%.0f%%)"), humanBytes(free), humanBytes(total), pct), pct < 10
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	st, err := s.core.Status(r.Context())
	if st == nil {
		s.message(w, r, http.StatusInternalServerError, l.t("状態を取得できません: ", "cannot read the status: ")+errText(err), true, "/")
		return
	}
	running, last := s.core.Running()
	x := &dashExtra{staging: s.core.Config().StagingDir, running: running, last: last, canRun: auth.Allowed(role(r), auth.RunCycle)}
	if x.drills, err = s.core.Drills(); err != nil {
		s.log.Warn("drill records", "err", err)
	}
	flash, bad := flashOf(l, r)
	s.render(w, r, http.StatusOK, "dashboard.html", "/", l.t("状態", "Status"), flash, bad, dashboardView(l, st, x, time.Now()))
}

// runCycle is the "run a cycle now" button.
func (s *Server) runCycle(w http.ResponseWriter, r *http.Request) {
	err := s.core.StartCycle(r.Context(), actor(r))
	switch {
	case errors.Is(err, gateway.ErrBusy):
		http.Redirect(w, r, "/?err=busy", http.StatusSeeOther)
	case err != nil:
		l := langOf(w, r)
		s.log.Error("start cycle", "err", err)
		s.message(w, r, http.StatusInternalServerError, l.t("サイクルを開始できません: ", "cannot start the cycle: ")+err.Error(), true, "/")
	default:
		http.Redirect(w, r, "/?done=started", http.StatusSeeOther)
	}
}

// flashOf turns ?done= / ?err= codes into text. Only known codes are
// shown, so the query string cannot put words on the page.
func flashOf(l lang, r *http.Request) (string, bool) {
	q := r.URL.Query()
	done := map[string][2]string{
		"started":  {"サイクルを開始しました。進行状況は下に表示されます", "The cycle has started; its progress is shown below."},
		"saved":    {"設定を保存し、再起動せずに適用しました", "The configuration was saved and applied without a reboot."},
		"undone":   {"直前の変更を元に戻しました", "The last change was undone."},
		"deleted":  {"削除し、設定を適用しました", "Deleted; the configuration was applied."},
		"pinned":   {"ホスト鍵を登録し、設定を適用しました", "The host key was pinned and the configuration applied."},
		"key":      {"秘密鍵を置き換えました(内容は表示されません)", "The private key was replaced (it is never shown)."},
		"secret":   {"秘密情報を置き換えました(内容は表示されません)", "The secret was replaced (it is never shown)."},
		"cert":     {"証明書を置き換えました。新しい接続から使われます", "The certificate was replaced; new connections use it."},
		"user":     {"ユーザーを変更しました", "The user was changed."},
		"password": {"パスワードを変更しました", "The password was changed."},
		"restore":  {"媒体に通電して復元を開始しました。遅くとも切断期限に切断します", "The restore has started; the medium is cut at the deadline at the latest."},
		"drill":    {"復元訓練を開始しました。進行状況はこのページに表示されます", "The drill has started; its progress is shown on this page."},
		"removed":  {"復元データをゲートウェイから削除しました", "The restored files were removed from the gateway."},
	}
	errs := map[string][2]string{
		"busy": {"別の処理を実行中です。終わってからやり直してください", "Another job is running: try again when it has finished."},
	}
	if m, ok := done[q.Get("done")]; ok {
		return l.t(m[0], m[1]), false
	}
	if m, ok := errs[q.Get("err")]; ok {
		return l.t(m[0], m[1]), true
	}
	return "", false
}
