package pull

import (
	"path"
	"slices"
	"sort"

	"github.com/danzen-gw/danzen/config"
)

// Count is a number of files and their bytes.
type Count struct {
	Files int
	Bytes int64
}

func (c *Count) add(size int64) { c.Files++; c.Bytes += size }

// Tally is what one pull did, in files and bytes: Pulled were
// transferred, Unchanged kept from the last pull, Removed are gone from
// the export since the last pull.
type Tally struct {
	Pulled, Unchanged, Removed Count
}

// Staged is the whole set a snapshot of the source holds.
func (m *Manifest) Staged() Count {
	var c Count
	for _, f := range m.Files {
		c.add(f.Size)
	}
	return c
}

// LeftOut is the files of one pull not backed up for one reason.
type LeftOut struct {
	Reason string
	Paths  []string // sorted
}

// leftOutOrder is the order reasons are reported in: what is refused
// outright first, then what a later pull may still take.
var leftOutOrder = []string{"unsafe-name", "symlink", "special", "not-complete", "changed", "failed"}

// LeftOut lists, by reason, everything this pull saw in the export and
// did not stage as it is now: refused, pending and failed files. A file
// whose previous version stays staged is still listed.
func (m *Manifest) LeftOut() []LeftOut {
	by := map[string][]string{}
	for _, ps := range [][]Problem{m.Refused, m.Pending, m.Failed} {
		for _, p := range ps {
			by[p.Reason] = append(by[p.Reason], p.Path)
		}
	}
	reasons := make([]string, 0, len(by))
	for r := range by {
		reasons = append(reasons, r)
	}
	rank := func(r string) int {
		if i := slices.Index(leftOutOrder, r); i >= 0 {
			return i
		}
		return len(leftOutOrder)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if a, b := rank(reasons[i]), rank(reasons[j]); a != b {
			return a < b
		}
		return reasons[i] < reasons[j]
	})
	out := make([]LeftOut, 0, len(reasons))
	for _, r := range reasons {
		ps := by[r]
		sort.Strings(ps)
		out = append(out, LeftOut{Reason: r, Paths: ps})
	}
	return out
}

// NothingPulled reports whether no file of the export was complete: the
// pull neither transferred one nor found one unchanged.
func (m *Manifest) NothingPulled() bool {
	return m.Tally.Pulled.Files+m.Tally.Unchanged.Files == 0
}

// removed counts the files of the last manifest that the export no
// longer has and that left the new manifest.
func removed(prev, m *Manifest, l *listing) Count {
	var c Count
	if prev == nil {
		return c
	}
	now := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		now[f.Path] = true
	}
	for _, f := range prev.Files {
		if _, listed := l.files[f.Path]; !listed && !now[f.Path] {
			c.add(f.Size)
		}
	}
	return c
}

// keptMarkers returns the staged done-markers that covered the staged
// versions of pending files and are gone from the export (the next export
// is running): they stay with those files, so the snapshot shows what it
// holds was complete.
func keptMarkers(c config.Completion, prev *Manifest, l *listing, pending []Problem) []FileEntry {
	prefix, suffix, perFile := markerRule(c)
	if c.Mode != config.CompletionMarker || prev == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []FileEntry
	keep := func(rel string) {
		if seen[rel] {
			return
		}
		seen[rel] = true
		if _, listed := l.files[rel]; listed {
			return // staged from the export itself
		}
		if e, ok := prev.Lookup(rel); ok {
			out = append(out, e)
		}
	}
	for _, pr := range pending {
		if _, staged := prev.Lookup(pr.Path); !staged {
			continue
		}
		dir := path.Dir(pr.Path)
		if perFile {
			keep(path.Join(dir, prefix+path.Base(pr.Path)+suffix))
			continue
		}
		for d := dir; ; d = path.Dir(d) {
			keep(path.Join(d, c.Marker))
			if d == "." || d == "/" {
				break
			}
		}
	}
	return out
}
