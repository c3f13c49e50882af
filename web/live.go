package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/restic"
)

// progress is the live panel: what a running cycle is doing now. The
// server words it, so the page's script only copies text.
type progress struct {
	Running bool    `json:"running"`
	Phase   string  `json:"phase"`
	Medium  string  `json:"medium"`
	Percent float64 `json:"percent"` // 0–100; -1 when unknown
	Bytes   string  `json:"bytes"`
	Rate    string  `json:"rate"`
	ETA     string  `json:"eta"`
	Text    string  `json:"text"`
}

// Known reports whether the percentage is known (else the bar is
// indeterminate).
func (p progress) Known() bool { return p.Percent >= 0 }

func phaseLabel(l lang, phase string) string {
	labels := map[string][2]string{
		"pull":      {"電子カルテの取得", "pulling the e-chart export"},
		"power-on":  {"媒体に通電", "powering the medium on"},
		"attach":    {"媒体の確認・マウント", "identifying and mounting the medium"},
		"unlock":    {"古いロックの解除", "removing stale locks"},
		"backup":    {"バックアップ", "backup"},
		"forget":    {"世代の整理", "pruning generations"},
		"check":     {"検査", "checking"},
		"prune":     {"参照されないデータの削除", "removing data no snapshot uses"},
		"restore":   {"復元", "restoring"},
		"verify":    {"SHA-256 の照合", "verifying SHA-256 against the pull manifest"},
		"send-back": {"電子カルテサーバへの書き戻し", "sending back to the e-chart server"},
		"detach":    {"取り外し(書き込みの完了)", "detaching (flushing)"},
		"power-off": {"切断と切断確認", "cutting power and verifying the cut"},
		"done":      {"完了", "done"},
	}
	if m, ok := labels[phase]; ok {
		return l.t(m[0], m[1])
	}
	return phase
}

// progressOf words one cycle event. Pull events carry byte counts and a
// rate; restic's status messages carry percent and seconds remaining.
func progressOf(l lang, running bool, ev *backup.CycleEvent) progress {
	p := progress{Running: running, Percent: -1}
	if !running || ev == nil {
		return p
	}
	p.Phase, p.Medium, p.Text = phaseLabel(l, ev.Phase), ev.Medium, l.in(ev.Text)
	if pe := ev.Pull; pe != nil {
		p.Medium = pe.Source
		if pe.BytesTotal > 0 {
			p.Percent = min(100, float64(pe.BytesDone)/float64(pe.BytesTotal)*100)
			p.Bytes = humanBytes(pe.BytesDone) + " / " + humanBytes(pe.BytesTotal)
		}
		if pe.Rate > 0 {
			p.Rate = humanBytes(int64(pe.Rate)) + "/s"
			if pe.BytesTotal > pe.BytesDone {
				p.ETA = l.humanDuration(time.Duration(float64(pe.BytesTotal-pe.BytesDone) / pe.Rate * float64(time.Second)))
			}
		}
		p.Text = fmt.Sprintf(l.t("ファイル %d / %d", "files %d / %d"), pe.FilesDone, pe.FilesTotal)
		if pe.Message != "" {
			p.Text = pe.Message
		} else if pe.File != "" {
			p.Text += " — " + pe.File
		}
	}
	if re := ev.Restic; re != nil {
		switch {
		case re.Status != nil:
			st := re.Status
			done, files := st.BytesDone, st.FilesDone
			if re.Op == "restore" {
				done, files = st.BytesRestored, st.FilesRestored
			}
			p.Percent = min(100, st.PercentDone*100)
			if st.TotalBytes > 0 {
				p.Bytes = humanBytes(int64(done)) + " / " + humanBytes(int64(st.TotalBytes))
			}
			rate := 0.0
			if st.SecondsElapsed > 0 && done > 0 {
				rate = float64(done) / float64(st.SecondsElapsed)
				p.Rate = humanBytes(int64(rate)) + "/s"
			}
			switch {
			case st.SecondsRemaining > 0:
				p.ETA = l.humanDuration(time.Duration(st.SecondsRemaining) * time.Second)
			case rate > 0 && st.TotalBytes > done: // restic restore reports no ETA
				p.ETA = l.humanDuration(time.Duration(float64(st.TotalBytes-done) / rate * float64(time.Second)))
			}
			if st.TotalFiles > 0 {
				p.Text = fmt.Sprintf(l.t("ファイル %d / %d", "files %d / %d"), files, st.TotalFiles)
			}
		case re.Summary != nil:
			p.Percent = 100
			p.Text = fmt.Sprintf(l.t("スナップショット %s(追加 %s)", "snapshot %s (%s added)"), short(re.Summary.SnapshotID), humanBytes(int64(re.Summary.DataAddedPacked)))
		case re.Kind == restic.KindError && re.Error != nil:
			p.Text = re.Error.Message
		}
	}
	return p
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

// events streams a running cycle to the dashboard (server-sent events):
// "progress" while it runs, "status" with each medium's state as the
// ledger proves it, and "idle" when nothing runs.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	l := langOf(nil, r)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	ch, stop := s.core.Subscribe()
	defer stop()
	send := func(event string, v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	var statusAt time.Time
	sendStatus := func() bool {
		statusAt = time.Now()
		st, err := s.core.Status(r.Context())
		if st == nil {
			s.log.Warn("live status", "err", err)
			return true
		}
		out := []liveMedium{}
		for _, m := range st.Media {
			out = append(out, liveMedium{Name: m.Name, State: string(m.State), Label: l.in(m.Label()), Since: stamp(m.Since), Reason: l.in(m.Reason)})
		}
		return send("status", map[string]any{"media": out})
	}
	busy, last := s.core.Running()
	if !sendStatus() {
		return
	}
	if busy {
		send("progress", progressOf(l, true, last))
	} else {
		send("idle", progress{Percent: -1})
	}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var sentAt time.Time
	phase := ""
	if last != nil {
		phase = last.Phase + "/" + last.Medium
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case ev := <-ch:
			busy = true
			key := ev.Phase + "/" + ev.Medium
			changed := key != phase
			phase = key
			if changed || time.Since(sentAt) >= progressEvery {
				sentAt = time.Now()
				if !send("progress", progressOf(l, true, &ev)) {
					return
				}
			}
			if changed && !sendStatus() {
				return
			}
		case <-tick.C:
			now, _ := s.core.Running()
			if busy && !now {
				busy = false
				if !sendStatus() || !send("idle", progress{Percent: -1}) {
					return
				}
				continue
			}
			busy = now
			every := idleEvery // also the keep-alive of an idle stream
			if now {
				every = statusEvery
			}
			if time.Since(statusAt) >= every && !sendStatus() {
				return
			}
		}
	}
}
