package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/danzen-gw/danzen/internal/bytesize"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/backup/restic"
	"github.com/danzen-gw/danzen/internal/msg"
)

// progress is the live panel: what a running cycle is doing now. The
// server words it, so the page's script only copies text.
type progress struct {
	Running bool
	Phase   msg.Text
	Medium  string
	Percent float64 // 0–100; -1 when unknown
	Bytes   string
	Rate    string
	ETA     msg.Text
	Text    msg.Text
}

// Known reports whether the percentage is known (else the bar is
// indeterminate).
func (p progress) Known() bool { return p.Percent >= 0 }

// liveProgress is progress in one language, as the live stream sends it.
type liveProgress struct {
	Running bool    `json:"running"`
	Phase   string  `json:"phase"`
	Medium  string  `json:"medium"`
	Percent float64 `json:"percent"`
	Bytes   string  `json:"bytes"`
	Rate    string  `json:"rate"`
	ETA     string  `json:"eta"`
	Text    string  `json:"text"`
}

func (p progress) in(l msg.Lang) liveProgress {
	return liveProgress{Running: p.Running, Phase: p.Phase.Localize(l), Medium: p.Medium, Percent: p.Percent, Bytes: p.Bytes,
		Rate: p.Rate, ETA: p.ETA.Localize(l), Text: p.Text.Localize(l)}
}

func phaseLabel(phase string) msg.Text {
	labels := map[string]msg.Text{
		"pull":      msg.T("電子カルテの取得", "pulling the e-chart export"),
		"power-on":  msg.T("媒体に通電", "powering the medium on"),
		"attach":    msg.T("媒体の確認・マウント", "identifying and mounting the medium"),
		"unlock":    msg.T("古いロックの解除", "removing stale locks"),
		"backup":    msg.T("バックアップ", "backup"),
		"forget":    msg.T("世代の整理", "pruning generations"),
		"check":     msg.T("検査", "checking"),
		"prune":     msg.T("参照されないデータの削除", "removing data no snapshot uses"),
		"restore":   msg.T("復元", "restoring"),
		"verify":    msg.T("SHA-256 の照合", "verifying SHA-256 against the pull manifest"),
		"send-back": msg.T("電子カルテサーバへの書き戻し", "sending back to the e-chart server"),
		"detach":    msg.T("取り外し(書き込みの完了)", "detaching (flushing)"),
		"power-off": msg.T("切断と切断確認", "cutting power and verifying the cut"),
		"done":      msg.T("完了", "done"),
	}
	if m, ok := labels[phase]; ok {
		return m
	}
	return msg.Plain(phase)
}

// filesText is "ファイル 3/10" / "files 3 / 10".
func filesText(done, total int) msg.Text {
	return msg.Sprintf("ファイル %d/%d", "files %d / %d", done, total)
}

// progressOf words one cycle event. Pull events carry byte counts and a
// rate; restic's status messages carry percent and seconds remaining.
func progressOf(running bool, ev *backup.CycleEvent) progress {
	p := progress{Running: running, Percent: -1}
	if !running || ev == nil {
		return p
	}
	p.Phase, p.Medium, p.Text = phaseLabel(ev.Phase), ev.Medium, ev.Text
	if pe := ev.Pull; pe != nil {
		pullProgress(&p, pe)
	}
	if re := ev.Restic; re != nil {
		resticProgress(&p, re)
	}
	return p
}

func pullProgress(p *progress, pe *pull.Event) {
	p.Medium = pe.Source
	if pe.BytesTotal > 0 {
		p.Percent = min(100, float64(pe.BytesDone)/float64(pe.BytesTotal)*100)
		p.Bytes = bytesize.Format(pe.BytesDone) + " / " + bytesize.Format(pe.BytesTotal)
	}
	if pe.Rate > 0 {
		p.Rate = bytesize.Format(int64(pe.Rate)) + "/s"
		if pe.BytesTotal > pe.BytesDone {
			p.ETA = humanDuration(time.Duration(float64(pe.BytesTotal-pe.BytesDone) / pe.Rate * float64(time.Second)))
		}
	}
	p.Text = filesText(pe.FilesDone, pe.FilesTotal)
	if !pe.Message.IsZero() {
		p.Text = pe.Message
	} else if pe.File != "" {
		p.Text = p.Text.Append(" — ", msg.Plain(pe.File))
	}
}

func resticProgress(p *progress, re *restic.Event) {
	switch {
	case re.Status != nil:
		st := re.Status
		done, files := st.BytesDone, st.FilesDone
		if re.Op == "restore" {
			done, files = st.BytesRestored, st.FilesRestored
		}
		p.Percent = min(100, st.PercentDone*100)
		if st.TotalBytes > 0 {
			p.Bytes = bytesize.Format(done) + " / " + bytesize.Format(st.TotalBytes)
		}
		rate := 0.0
		if st.SecondsElapsed > 0 && done > 0 {
			rate = float64(done) / float64(st.SecondsElapsed)
			p.Rate = bytesize.Format(int64(rate)) + "/s"
		}
		switch {
		case st.SecondsRemaining > 0:
			p.ETA = humanDuration(time.Duration(st.SecondsRemaining) * time.Second)
		case rate > 0 && st.TotalBytes > done: // restic restore reports no ETA
			p.ETA = humanDuration(time.Duration(float64(st.TotalBytes-done) / rate * float64(time.Second)))
		}
		if st.TotalFiles > 0 {
			p.Text = filesText(int(files), int(st.TotalFiles))
		}
	case re.Summary != nil:
		p.Percent = 100
		p.Text = msg.Sprintf("スナップショット %s(追加 %s)", "snapshot %s (%s added)", short(re.Summary.SnapshotID), bytesize.Format(re.Summary.DataAddedPacked))
	case re.Kind == restic.KindError && re.Error != nil:
		p.Text = msg.Plain(re.Error.Message)
	}
}

// liveMedium is one card's state for the page's script.
type liveMedium struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Label  string `json:"label"`
	Since  string `json:"since"`
	Reason string `json:"reason"`
}

// SSE timing: progress is sent at most progressEvery (restic reports many
// times a second); the media states are re-read from the ledger at each
// phase change and every statusEvery while a cycle runs.
const (
	progressEvery = 250 * time.Millisecond
	statusEvery   = 3 * time.Second
	idleEvery     = 30 * time.Second
	pollEvery     = time.Second
)

// liveStream is one open /events stream: the events go out in the
// language of the person who opened it.
type liveStream struct {
	s        *Server
	w        http.ResponseWriter
	r        *http.Request
	rc       *http.ResponseController
	lang     msg.Lang
	statusAt time.Time // the media states were last sent
	sentAt   time.Time // progress was last sent
	phase    string    // "phase/medium" of the last event
	busy     bool
}

// events streams a running cycle to the dashboard (server-sent events):
// "progress" while it runs, "status" with each medium's state as the
// ledger proves it, and "idle" when nothing runs.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	ch, stop := s.core.Subscribe()
	defer stop()
	ls := &liveStream{s: s, w: w, r: r, rc: http.NewResponseController(w), lang: auth.Lang(r)}
	if !ls.start() {
		return
	}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		var ok bool
		select {
		case <-r.Context().Done():
			return
		case ev := <-ch:
			ok = ls.event(ev)
		case <-tick.C:
			ok = ls.tick()
		}
		if !ok {
			return
		}
	}
}

// send writes one event; false means the stream is gone.
func (ls *liveStream) send(event string, v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		ls.s.log.Error("live event", "event", event, "err", err)
		return false
	}
	if _, err := fmt.Fprintf(ls.w, "event: %s\ndata: %s\n\n", event, b); err != nil {
		return false
	}
	return ls.rc.Flush() == nil
}

func (ls *liveStream) sendProgress(p progress) bool { return ls.send("progress", p.in(ls.lang)) }

func (ls *liveStream) sendIdle() bool { return ls.send("idle", progress{Percent: -1}.in(ls.lang)) }

// sendStatus sends each medium's state as the ledger proves it.
func (ls *liveStream) sendStatus() bool {
	ls.statusAt = time.Now()
	st, err := ls.s.core.Status(ls.r.Context())
	if st == nil {
		ls.s.log.Warn("live status", "err", err)
		return true
	}
	out := []liveMedium{}
	for _, m := range st.Media {
		out = append(out, liveMedium{Name: m.Name, State: string(m.State), Label: m.Label().Localize(ls.lang), Since: ls.s.zone().Stamp(m.Since), Reason: m.Reason.Localize(ls.lang)})
	}
	return ls.send("status", map[string]any{"media": out})
}

// start sends the states and what runs now.
func (ls *liveStream) start() bool {
	busy, last := ls.s.core.Running()
	ls.busy = busy
	if last != nil {
		ls.phase = last.Phase + "/" + last.Medium
	}
	if !ls.sendStatus() {
		return false
	}
	if busy {
		return ls.sendProgress(progressOf(true, last))
	}
	return ls.sendIdle()
}

// event passes a cycle event on, at most every progressEvery unless the
// phase changed, which also re-reads the states.
func (ls *liveStream) event(ev backup.CycleEvent) bool {
	ls.busy = true
	key := ev.Phase + "/" + ev.Medium
	changed := key != ls.phase
	ls.phase = key
	if changed || time.Since(ls.sentAt) >= progressEvery {
		ls.sentAt = time.Now()
		if !ls.sendProgress(progressOf(true, &ev)) {
			return false
		}
	}
	return !changed || ls.sendStatus()
}

// tick notices the end of a job and keeps the states current (and an
// idle stream alive).
func (ls *liveStream) tick() bool {
	now, _ := ls.s.core.Running()
	if ls.busy && !now {
		ls.busy = false
		return ls.sendStatus() && ls.sendIdle()
	}
	ls.busy = now
	every := idleEvery // also the keep-alive of an idle stream
	if now {
		every = statusEvery
	}
	return time.Since(ls.statusAt) < every || ls.sendStatus()
}
