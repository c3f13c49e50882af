package documents

import (
	"fmt"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
)

// keptSnapshot is a snapshot the ledger says a medium still holds: a
// snapshot entry whose ID no later forget entry removed.
type keptSnapshot struct {
	seq    uint64
	entry  ledger.Entry
	id     string
	source string
	cycle  string
}

// keptSnapshots are the snapshots medium holds, oldest first.
func keptSnapshots(entries []ledger.Entry, medium string) []keptSnapshot {
	var out []keptSnapshot
	for _, k := range ledger.KeptSnapshots(entries, medium) {
		out = append(out, keptSnapshot{seq: k.Entry.Seq, entry: k.Entry, id: k.Data.Snapshot, source: k.Data.Source, cycle: k.Data.Cycle})
	}
	return out
}

// generations counts the cycles whose snapshots medium still holds.
func generations(kept []keptSnapshot) int {
	seen := map[string]bool{}
	for _, s := range kept {
		k := s.cycle
		if k == "" {
			k = s.id
		}
		seen[k] = true
	}
	return len(seen)
}

// anomalyRecord is a pull flagged as possibly encrypted.
type anomalyRecord struct {
	seq   uint64
	data  ledger.AnomalyData
	acked string // who acknowledged it, "" if nobody did
}

// anomaliesBySource are the ledger's anomalies, oldest first, by source,
// each with its acknowledgement.
func anomaliesBySource(entries []ledger.Entry) map[string][]anomalyRecord {
	out := map[string][]anomalyRecord{}
	acks := map[string]string{}
	for _, e := range entries {
		switch e.Kind {
		case ledger.KindAnomaly:
			if d, err := ledger.Decode[ledger.AnomalyData](e); err == nil {
				out[d.Source] = append(out[d.Source], anomalyRecord{seq: e.Seq, data: d})
			}
		case ledger.KindAnomalyAck:
			if d, err := ledger.Decode[ledger.AnomalyData](e); err == nil {
				acks[d.ID] = orDash(d.AckedBy)
			}
		}
	}
	for src, as := range out {
		for i := range as {
			as[i].acked = acks[as[i].data.ID]
		}
		out[src] = as
	}
	return out
}

// sourceChoice is what the recovery sheet recommends for one source on
// one medium.
type sourceChoice struct {
	kept []keptSnapshot // the source's kept snapshots, oldest first
	// first is the first anomaly that matters: unacknowledged, or newer
	// than the oldest kept snapshot (an acknowledged alarm older than
	// everything kept says nothing about what is kept). nil if none.
	first *anomalyRecord
	// pick is the newest kept snapshot before first (the newest of all
	// without one); nil when none is kept or every one is after first.
	pick *keptSnapshot
}

// snapshotChoices are the choices for every source on medium, from the
// ledger the documents were made from.
func (b *builder) snapshotChoices(medium string) map[string]*sourceChoice {
	kept := keptSnapshots(b.in.Entries, medium)
	anomalies := anomaliesBySource(b.in.Entries)
	out := map[string]*sourceChoice{}
	for _, s := range b.cfg.Sources {
		c := &sourceChoice{}
		for _, k := range kept {
			if k.source == s.Name {
				c.kept = append(c.kept, k)
			}
		}
		for i, a := range anomalies[s.Name] {
			if a.acked == "" || (len(c.kept) > 0 && a.seq > c.kept[0].seq) {
				c.first = &anomalies[s.Name][i]
				break
			}
		}
		for i := len(c.kept) - 1; i >= 0; i-- {
			if c.first == nil || c.kept[i].seq < c.first.seq {
				c.pick = &c.kept[i]
				break
			}
		}
		out[s.Name] = c
	}
	return out
}

// shortID is restic's short form of a snapshot ID, which restore takes.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// restoreChoice is a medium's table of kept snapshots with their anomaly
// flags and the one recommended per source.
func (b *builder) restoreChoice(m *config.Medium) []Block {
	l := b.l
	var rows [][]Cell
	var notes []Block
	choices := b.snapshotChoices(m.Name)
	for _, s := range b.cfg.Sources {
		c := choices[s.Name]
		for i := len(c.kept) - 1; i >= 0; i-- {
			k := &c.kept[i]
			rows = append(rows, []Cell{tcell(b.stamp(k.entry.Time)), tcell(s.Name), cell(code(shortID(k.id))), b.anomalyCell(c, k), b.pickCell(c, k)})
		}
		switch {
		case len(c.kept) == 0:
			notes = append(notes, note(text(l.f("取得元 %s: 証跡台帳にこの媒体のスナップショットの記録がありません。restic snapshots の一覧から、被害が始まる前の最も新しいものを選んでください(コマンド例は latest のままです)。",
				"Source %s: the evidence ledger records no snapshot on this medium. From the restic snapshots list, choose the newest one taken before the damage began (the example still says latest).", s.Name))))
		case c.pick == nil:
			notes = append(notes, note(bad(l.f("取得元 %s: この媒体に残っている世代はすべて、最初の異常検知(seq %d)より後のものです。暗号化されている可能性があります。他の媒体を使うか、保守ベンダに相談してください。",
				"Source %s: every generation left on this medium is after the first anomaly (seq %d) and may be encrypted. Use another medium, or ask the vendor.", s.Name, c.first.seq))))
		}
	}
	head := []string{l.t("取得日時", "taken"), l.t("取得元", "source"), "ID", l.t("異常検知", "anomaly"), l.t("推奨", "recommended")}
	blocks := []Block{
		ptext(l.f("この媒体に残っているスナップショット(%s 現在の証跡台帳による。新しい順):", "Snapshots left on this medium (from the evidence ledger as of %s, newest first):", b.stamp(b.asOf()))),
		table(head, rows, l.t("証跡台帳にこの媒体のスナップショットの記録はありません。", "The evidence ledger records no snapshot on this medium.")),
	}
	return append(blocks, notes...)
}

// anomalyCell flags a kept snapshot: taken after the source's first
// anomaly (its own pull flagged, or a later one), or not.
func (b *builder) anomalyCell(c *sourceChoice, k *keptSnapshot) Cell {
	l := b.l
	if c.first == nil || k.seq < c.first.seq {
		return tcell(l.t("なし", "none"))
	}
	what := l.f("異常検知(seq %d)より後", "after the anomaly (seq %d)", c.first.seq)
	if c.first.data.Sample.Cycle != "" && c.first.data.Sample.Cycle == k.cycle {
		what = l.f("この取得で異常検知(seq %d)", "this pull flagged (seq %d)", c.first.seq)
	}
	if c.first.acked != "" {
		what += l.f("。%s が確認済み", "; acknowledged by %s", c.first.acked)
	}
	return cell(bad(what))
}

func (b *builder) pickCell(c *sourceChoice, k *keptSnapshot) Cell {
	if c.pick != nil && c.pick.id == k.id {
		return cell(strong(b.l.t("推奨", "recommended")))
	}
	return tcell("—")
}

// keptSummary is a medium's generations for the evidence report:
// "5 generations (10 snapshots), 2026-10-01 – 2026-10-07".
func (b *builder) keptSummary(medium string) string {
	l := b.l
	kept := keptSnapshots(b.in.Entries, medium)
	if len(kept) == 0 {
		return l.t("0(記録なし)", "0 (none on record)")
	}
	return fmt.Sprintf("%s%s", l.f("%d 世代(スナップショット %d 件)", "%d generations (%d snapshots)", generations(kept), len(kept)),
		l.f("、%s 〜 %s", ", %s – %s", b.stamp(kept[0].entry.Time), b.stamp(kept[len(kept)-1].entry.Time)))
}

// asOf is when what the ledger says holds: the period's end, or now when
// the period reaches into the future (the report of the current month).
func (b *builder) asOf() time.Time {
	if !b.in.Now.IsZero() && b.in.Now.Before(b.in.To) {
		return b.in.Now
	}
	return b.in.To
}
