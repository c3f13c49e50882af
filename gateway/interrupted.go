package gateway

import (
	"context"
	"github.com/danzen-gw/danzen/internal/msg"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
)

// leftOpen is what the ledger says the previous run left unfinished.
type leftOpen struct {
	cycle    string          // a cycle started and not ended
	media    map[string]bool // media powered on and never cut
	sendBack string          // host:dir of a send-back started and not ended
}

func (o leftOpen) any() bool { return o.cycle != "" || len(o.media) > 0 || o.sendBack != "" }

// openAtEnd reads the ledger for jobs and power sessions without an end.
func openAtEnd(entries []ledger.Entry) leftOpen {
	o := leftOpen{media: map[string]bool{}}
	for _, e := range entries {
		switch e.Kind {
		case ledger.KindCycleStart:
			d, _ := ledger.Decode[ledger.CycleStartData](e)
			o.cycle = d.Cycle
		case ledger.KindCycleEnd:
			o.cycle = ""
		case ledger.KindPowerOn:
			o.media[e.Medium] = true
		case ledger.KindPowerOffVerified, ledger.KindPowerOffUnverified:
			delete(o.media, e.Medium)
		case ledger.KindSendBackStart:
			d, _ := ledger.Decode[ledger.SendBackStartData](e)
			o.sendBack = d.Host + ":" + d.Dir
		case ledger.KindSendBack:
			o.sendBack = ""
		}
	}
	return o
}

// recoverInterrupted runs before the fail-safe cut: it finds what the
// previous run left open and unmounts media it left mounted, so power is
// never dropped under a live filesystem.
func (g *Gateway) recoverInterrupted(ctx context.Context, cfg *config.Config) leftOpen {
	entries, err := ledger.Read(cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindCycleStart, ledger.KindCycleEnd,
		ledger.KindPowerOn, ledger.KindPowerOffVerified, ledger.KindPowerOffUnverified, ledger.KindSendBackStart, ledger.KindSendBack}})
	if err != nil {
		g.log.Error("start-up: cannot read the ledger for an interrupted run", "err", err)
	}
	open := openAtEnd(entries)
	for _, m := range cfg.Media {
		d := g.drives[m.Name]
		if d == nil {
			continue
		}
		found, err := d.Recover(ctx)
		if found || err != nil {
			open.media[m.Name] = true
		}
		if err != nil {
			g.record(ledger.Entry{Kind: ledger.KindError, Medium: m.Name, Message: msg.TextOf(err), Payload: ledger.ErrorData{Phase: "start-up unmount"}})
		}
	}
	g.removeUnfinishedRestores(cfg)
	if open.any() {
		media := make([]string, 0, len(open.media))
		for m := range open.media {
			media = append(media, m)
		}
		slices.Sort(media)
		text := msg.Sprintf("前回の実行は途中で止まりました(サイクル %s、媒体 %s)。起動時に切断を確認します",
			"the previous run stopped part-way (cycle %s, media %s): the start-up cut check follows",
			orNone(open.cycle), orNone(strings.Join(media, ", ")))
		if open.sendBack != "" {
			text = text.Append("", msg.Sprintf("。書き戻しが中断されました: %s は不完全です。使わずに削除し、書き戻しをやり直してください",
				"; a send-back was interrupted: %s is incomplete; do not use it, delete it and send back again", backup.PartialDir(open.sendBack)))
		}
		g.record(ledger.Entry{Kind: ledger.KindJobInterrupted, Message: text,
			Payload: ledger.JobInterruptedData{Cycle: open.cycle, Media: media, SendBack: open.sendBack}})
	}
	return open
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// removeUnfinishedRestores deletes what a killed restore or drill left in
// the restore area: drill scratch copies, and restore directories with no
// successful restore record. Half a restore is no use to anyone, and it
// is patient data lying on the gateway.
func (g *Gateway) removeUnfinishedRestores(cfg *config.Config) {
	area := filepath.Join(cfg.StagingDir, "restore")
	ents, err := os.ReadDir(area)
	if err != nil {
		return // no restore area yet
	}
	done := map[string]bool{}
	if recs, err := g.restoreRecords(ledger.KindRestore); err == nil {
		for _, r := range recs {
			done[r.ID] = r.OK
		}
	} else {
		g.log.Error("start-up: cannot read the restore records; leaving the restore area as it is", "err", err)
		return
	}
	for _, e := range ents {
		if done[e.Name()] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(area, e.Name())); err != nil {
			g.log.Error("start-up: cannot remove an unfinished restore", "dir", e.Name(), "err", err)
			continue
		}
		g.record(ledger.Entry{Kind: ledger.KindRestoreRemoved,
			Message: msg.Sprintf("中断された復元の残りを削除: %s", "removed what an interrupted restore left: %s", e.Name())})
	}
}
