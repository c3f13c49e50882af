package web

import (
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
)

// interlockNotice is what the restore page says of the hardware
// interlock (config.Interlock) at now: outside the window no medium
// behind the timer can be powered until the timer is overridden by hand;
// inside it, a restore still running when the window closes loses the
// medium's power. Zero when no medium is behind a timer.
func interlockNotice(cfg *config.Config, now time.Time) msg.Text {
	w, loc, ok := cfg.InterlockWindow()
	if !ok {
		return msg.Text{}
	}
	behind := false
	for _, m := range cfg.Media {
		behind = behind || (m.Relay != "" && cfg.Interlocked(m.Relay))
	}
	if !behind {
		return msg.Text{}
	}
	now = now.In(loc)
	if w.Contains(now) {
		return msg.Sprintf("インターロック: 今は時間帯 %s の中です。時間帯が終わる %s にタイマーが媒体の電源を切るため、それまでに終わらない復元・訓練は中断されます(タイマーを手動でオンにすれば続けられます。終わったら自動に戻してください)。",
			"Interlock: inside its window %s now. The timer cuts the media's power when the window closes at %s, which stops a restore or drill that has not finished by then (switch the timer on by hand to carry on, and back to automatic when done).",
			w.Text(), msg.Plain(w.NextClose(now).Format("01-02 15:04")))
	}
	return msg.Sprintf("インターロック: 今は時間帯 %s の外で、タイマーが媒体の電源を止めています。今すぐ復元・訓練するには、タイマースイッチを手動でオンにし、終わったら必ず自動に戻してください(次に時間帯が始まるのは %s)。",
		"Interlock: outside its window %s now, so the timer holds the media's power off. To restore or run a drill now, switch the timer switch on by hand, and back to automatic when done (the window opens next at %s).",
		w.Text(), msg.Plain(w.NextOpen(now).Format("01-02 15:04")))
}
