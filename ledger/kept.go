package ledger

import "slices"

// Kept is a snapshot the ledger says a medium still holds: its snapshot
// entry and that entry's data.
type Kept struct {
	Entry Entry
	Data  SnapshotData
}

// KeptSnapshots are the snapshots entries say medium holds, oldest
// first: written (KindSnapshot) and not removed since (KindForget).
// Entries whose data cannot be read are left out.
func KeptSnapshots(entries []Entry, medium string) []Kept {
	removed := map[string]bool{}
	var out []Kept
	for _, e := range entries {
		if e.Medium != medium {
			continue
		}
		switch e.Kind {
		case KindForget:
			if d, err := Decode[ForgetData](e); err == nil {
				for _, id := range d.Removed {
					removed[id] = true
				}
			}
		case KindSnapshot:
			if d, err := Decode[SnapshotData](e); err == nil && d.Snapshot != "" {
				out = append(out, Kept{Entry: e, Data: d})
			}
		}
	}
	return slices.DeleteFunc(out, func(k Kept) bool { return removed[k.Data.Snapshot] })
}
