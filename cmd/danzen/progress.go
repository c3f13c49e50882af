package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/danzen-gw/danzen/backup"
)

// pullPrinter draws pull events: a redrawn bar on a terminal, plain lines
// every few seconds otherwise (logs, cron, the serial console).
type pullPrinter struct {
	w        io.Writer
	tty      bool
	mu       sync.Mutex
	lastLine time.Time
	drawn    bool
}

func newPullPrinter(w io.Writer, fd uintptr) *pullPrinter {
	return &pullPrinter{w: w, tty: term.IsTerminal(int(fd))}
}

func (p *pullPrinter) event(ev backup.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Kind {
	case backup.EventListed:
		p.line(fmt.Sprintf("[%s] 取得対象 / to pull: %d files, %s", ev.Source, ev.FilesTotal, human(ev.BytesTotal)))
	case backup.EventProblem:
		p.line(fmt.Sprintf("[%s] 注意 / note: %s: %s", ev.Source, ev.File, ev.Message))
	case backup.EventRetry:
		p.line(fmt.Sprintf("[%s] 再接続 / reconnecting: %s", ev.Source, ev.Message))
	case backup.EventResume:
		p.line(fmt.Sprintf("[%s] 再開 / resuming %s at %s", ev.Source, ev.File, human(ev.Offset)))
	case backup.EventProgress:
		pct := 100.0
		if ev.BytesTotal > 0 {
			pct = 100 * float64(ev.BytesDone) / float64(ev.BytesTotal)
		}
		eta := "--:--"
		if ev.Rate > 0 && ev.BytesTotal >= ev.BytesDone {
			d := time.Duration(float64(ev.BytesTotal-ev.BytesDone) / ev.Rate * float64(time.Second)).Round(time.Second)
			eta = fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
		}
		text := fmt.Sprintf("[%s] %5.1f%% %s/%s %d/%d files %s/s ETA %s", ev.Source, pct, human(ev.BytesDone), human(ev.BytesTotal),
			ev.FilesDone, ev.FilesTotal, human(int64(ev.Rate)), eta)
		if p.tty {
			const width = 24
			n := int(pct / 100 * width)
			fmt.Fprintf(p.w, "\r\033[K[%s%s] %s", strings.Repeat("#", n), strings.Repeat(" ", width-n), text)
			p.drawn = true
		} else if time.Since(p.lastLine) >= 5*time.Second {
			p.line(text)
		}
	}
}

func (p *pullPrinter) line(s string) {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
	fmt.Fprintln(p.w, s)
	p.lastLine = time.Now()
}

func (p *pullPrinter) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

func human(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
