package backup

// Every pull is on record: what it brought and, by reason, what it left
// out, so that nothing in the export is missing from a snapshot without
// the ledger, the page and an alert saying so.

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// PullRecord is the ledger's record of one source's pull in cycle. m is
// what pull.Run returned (nil when the pull failed before staging
// anything), err its error: an *pull.IncompleteError still ran to its end.
func PullRecord(cycle, source string, m *pull.Manifest, err error) ledger.PullData {
	d := ledger.PullData{Cycle: cycle, Source: source, OK: m != nil}
	var inc *pull.IncompleteError
	if err != nil && !errors.As(err, &inc) {
		d.OK, d.Error = false, msg.TextOf(err)
	}
	if m == nil {
		return d
	}
	d.Pulled, d.Unchanged, d.Removed = count(m.Tally.Pulled), count(m.Tally.Unchanged), count(m.Tally.Removed)
	d.Staged = count(m.Staged())
	for _, lo := range m.LeftOut() {
		d.LeftOut = append(d.LeftOut, ledger.PullLeftOut{Reason: lo.Reason, Count: len(lo.Paths),
			Names: lo.Paths[:min(len(lo.Paths), ledger.MaxPullNames)]})
	}
	return d
}

func count(c pull.Count) ledger.PullCount { return ledger.PullCount{Files: c.Files, Bytes: c.Bytes} }

// LeftOutTotal is how many files d left out, for every reason.
func LeftOutTotal(d ledger.PullData) int {
	n := 0
	for _, lo := range d.LeftOut {
		n += lo.Count
	}
	return n
}

// NothingPulled reports whether a pull that ran found no complete file in
// the export: it neither transferred one nor kept one unchanged.
func NothingPulled(d ledger.PullData) bool {
	return d.OK && d.Pulled.Files+d.Unchanged.Files == 0
}

// LeftOutReason names a reason a file was left out, for people.
func LeftOutReason(reason string) msg.Text {
	switch reason {
	case "unsafe-name":
		return msg.T("安全でない名前", "unsafe name")
	case "symlink":
		return msg.T("シンボリックリンク", "symbolic link")
	case "special":
		return msg.T("通常ファイルでない", "not a regular file")
	case "not-complete":
		return msg.T("未完了", "not complete yet")
	case "changed":
		return msg.T("転送中に変更", "changed during transfer")
	case "failed":
		return msg.T("転送失敗", "transfer failed")
	}
	return msg.Plain(reason)
}

// PullSummary is one line for d: "emr: 451 files (1.2 GB) backed up; 2
// left out: 1 not complete yet, 1 unsafe name", or why the pull failed.
func PullSummary(d ledger.PullData) msg.Text {
	if !d.OK {
		return msg.Sprintf("取得元 %s: 取得に失敗しました: %s", "source %s: the pull failed: %s", d.Source, d.Error)
	}
	line := msg.Sprintf("取得元 %s: %d ファイル(%s)をバックアップ", "source %s: %d files (%s) backed up",
		d.Source, d.Staged.Files, bytesize.Format(d.Staged.Bytes))
	if n := LeftOutTotal(d); n > 0 {
		var ja, en []string
		for _, lo := range d.LeftOut {
			r := LeftOutReason(lo.Reason)
			ja, en = append(ja, fmt.Sprintf("%s %d", r.JA, lo.Count)), append(en, fmt.Sprintf("%d %s", lo.Count, r.EN))
		}
		reasons := msg.T(strings.Join(ja, "、"), strings.Join(en, ", "))
		line = line.Append("", msg.Sprintf("、%d 件を除外: %s", "; %d left out: %s", n, reasons))
	}
	if NothingPulled(d) {
		line = line.Append("", msg.T("(完了したファイルがありません)", " (no complete file in the export)"))
	}
	return line
}

// PullConcerns is what a source's pulls call for, each an alert that is
// raised while its condition holds and cleared once it no longer does.
type PullConcerns struct {
	Source string
	// NewlyRefused are refused now and were not by the previous pull;
	// Refused says whether any file is refused at all (the alert stays
	// until none is).
	NewlyRefused []string
	Refused      bool
	// StillPending were not complete in this pull and the one before:
	// the export is not finishing.
	StillPending []string
	// NothingComplete: the export held no complete file.
	NothingComplete bool
	// Dropped: the staged files or bytes fell by more than the source's
	// share, from Before, and have not come back since (After is now).
	Dropped       bool
	Before, After ledger.PullCount
}

// refusals are the reasons a file is refused outright (not pending or
// failed, which a later pull may still take).
var refusals = []string{"unsafe-name", "symlink", "special"}

// AssessPulls judges a source's pull records that ran (OK), oldest first;
// the last is the pull to judge. dropPercent is the source's share
// (0: never judged).
func AssessPulls(history []ledger.PullData, dropPercent int) PullConcerns {
	n := len(history)
	if n == 0 {
		return PullConcerns{}
	}
	cur := history[n-1]
	var prev ledger.PullData
	if n > 1 {
		prev = history[n-2]
	}
	pc := PullConcerns{Source: cur.Source, NothingComplete: NothingPulled(cur)}
	refused := leftOutNames(prev, refusals...)
	for _, name := range slices.Sorted(maps.Keys(leftOutNames(cur, refusals...))) {
		pc.Refused = true
		if !refused[name] {
			pc.NewlyRefused = append(pc.NewlyRefused, name)
		}
	}
	pending := leftOutNames(prev, "not-complete")
	for _, name := range slices.Sorted(maps.Keys(leftOutNames(cur, "not-complete"))) {
		if pending[name] {
			pc.StillPending = append(pc.StillPending, name)
		}
	}
	pc.Dropped, pc.Before, pc.After = dropped(history, dropPercent)
	return pc
}

// leftOutNames are the names d left out for any of reasons.
func leftOutNames(d ledger.PullData, reasons ...string) map[string]bool {
	names := map[string]bool{}
	for _, lo := range d.LeftOut {
		if slices.Contains(reasons, lo.Reason) {
			for _, name := range lo.Names {
				names[name] = true
			}
		}
	}
	return names
}

// dropped finds the latest pull whose staged files or bytes fell by more
// than percent against the pull before it, and reports whether every pull
// since (the last included) is still that far below.
func dropped(history []ledger.PullData, percent int) (bool, ledger.PullCount, ledger.PullCount) {
	if percent <= 0 {
		return false, ledger.PullCount{}, ledger.PullCount{}
	}
	below := func(base, c ledger.PullCount) bool {
		keep := 1 - float64(percent)/100
		return float64(c.Files) < keep*float64(base.Files) || float64(c.Bytes) < keep*float64(base.Bytes)
	}
	cur := history[len(history)-1].Staged
	for i := len(history) - 1; i > 0; i-- {
		base := history[i-1].Staged
		if !below(base, history[i].Staged) {
			continue
		}
		for _, later := range history[i:] {
			if !below(base, later.Staged) {
				return false, base, cur
			}
		}
		return true, base, cur
	}
	return false, ledger.PullCount{}, cur
}
