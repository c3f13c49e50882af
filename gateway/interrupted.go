package gateway

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// leftOpen is what the ledger says the previous run left unfinished.
type leftOpen struct {
	cycle    string          // a cycle started and not ended
	media    map[string]bool // media powered on and never cut
	sendBack string          // host:dir of a send-back started and not ended
}

func (o leftOpen) any() bool { return o.cycle != "" || len(o.media) > 0 || o.sendBack != "" }

// recoverInterrupted runs before the fail-safe cut: it finds what the
// previous run left open and unmounts media it left mounted, so power is
// never dropped under a live filesystem.
func (g *Gateway) recoverInterrupted(ctx context.Context, cfg *config.Config) leftOpen {
	open := g.leftOpenAtStart()
	for _, m := range cfg.Media {
		d := g.media[m.Name]
		if d == nil {
			continue
		}
		found, err := d.recover(ctx)
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
	if err != nil || len(ents) == 0 {
		return // nothing left there: no need to read the restore records
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
