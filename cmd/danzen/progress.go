package main

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/msg"
)

// pullPrinter draws pull events: a redrawn bar on a terminal, plain lines
// every few seconds otherwise (logs, cron, the serial console).
type pullPrinter struct {
	s        *screen
	mu       sync.Mutex
	lastLine time.Time
	drawn    bool
}

func newPullPrinter(s *screen) *pullPrinter { return &pullPrinter{s: s} }

func (p *pullPrinter) event(ev pull.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	src := "[" + ev.Source + "] "
	switch ev.Kind {
	case pull.EventListed:
		p.line(src, msg.Sprintf("取得対象: %d ファイル、%s", "to pull: %d files, %s", ev.FilesTotal, bytesize.Format(ev.BytesTotal)))
	case pull.EventProblem:
		p.line(src, msg.Sprintf("注意: %s: %s", "note: %s: %s", ev.File, ev.Message))
	case pull.EventRetry:
		p.line(src, msg.Sprintf("再接続: %s", "reconnecting: %s", ev.Message))
	case pull.EventResume:
		p.line(src, msg.Sprintf("再開: %s(%s から)", "resuming %s at %s", ev.File, bytesize.Format(ev.Offset)))
	case pull.EventProgress:
		p.progress(ev)
	}
}

// progress draws the bar on a terminal, else a line every 5 s.
func (p *pullPrinter) progress(ev pull.Event) {
	pct := 100.0
	if ev.BytesTotal > 0 {
		pct = 100 * float64(ev.BytesDone) / float64(ev.BytesTotal)
	}
	eta := "--:--"
	if ev.Rate > 0 && ev.BytesTotal >= ev.BytesDone {
		d := time.Duration(float64(ev.BytesTotal-ev.BytesDone) / ev.Rate * float64(time.Second)).Round(time.Second)
		eta = fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
	}
	text := msg.Sprintf("%5.1f%% %s/%s %d/%d ファイル %s/秒 残り %s", "%5.1f%% %s/%s %d/%d files %s/s ETA %s",
		pct, bytesize.Format(ev.BytesDone), bytesize.Format(ev.BytesTotal), ev.FilesDone, ev.FilesTotal, bytesize.Format(int64(ev.Rate)), eta)
	src := "[" + ev.Source + "] "
	switch {
	case p.s.tty:
		const width = 24
		n := int(pct / 100 * width)
		p.s.write("\r\033[K[" + strings.Repeat("#", n) + strings.Repeat(" ", width-n) + "] " + src + text.Localize(p.s.lang))
		p.drawn = true
	case time.Since(p.lastLine) >= 5*time.Second:
		p.line(src, text)
	}
}

func (p *pullPrinter) line(prefix string, t msg.Text) {
	if p.drawn {
		p.s.write("\r\033[K")
		p.drawn = false
	}
	p.s.sayf(prefix, t)
	p.lastLine = time.Now()
}

func (p *pullPrinter) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		p.s.write("\n")
		p.drawn = false
	}
}
