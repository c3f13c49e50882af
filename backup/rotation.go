package backup

import (
	"sort"
	"time"

	"github.com/danzen-gw/danzen/ledger"
)

// Due picks the media a cycle writes: the perCycle media written longest
// ago (never-written first), ties in configuration order. With disks A, B
// and C and perCycle 1 this is the usual A, B, C, A … rotation, and a disk
// that missed its night (failed, or was away) comes first next time.
func Due(media []string, perCycle int, last map[string]time.Time) []string {
	if perCycle <= 0 || perCycle > len(media) {
		perCycle = len(media)
	}
	order := append([]string(nil), media...)
	sort.SliceStable(order, func(i, j int) bool { return last[order[i]].Before(last[order[j]]) })
	return order[:perCycle]
}

// LastWritten returns, per medium, when the ledger last recorded a
// snapshot on it. The ledger is the one source of truth; no other state
// file can disagree with it.
func LastWritten(entries []ledger.Entry) map[string]time.Time {
	last := map[string]time.Time{}
	for _, e := range entries {
		if e.Kind == ledger.KindSnapshot && e.Medium != "" && e.Time.After(last[e.Medium]) {
			last[e.Medium] = e.Time
		}
	}
	return last
}
