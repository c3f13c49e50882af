package ledger

import (
	"errors"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Filter selects entries. Zero fields select everything.
type Filter struct {
	From time.Time // entries with Time >= From
	To   time.Time // entries with Time < To
	// Medium selects one medium; entries without a medium (cycle.start …)
	// are then left out.
	Medium string
	Kinds  []Kind
}

func (f Filter) match(e Entry) bool {
	if !f.From.IsZero() && e.Time.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && !e.Time.Before(f.To) {
		return false
	}
	if f.Medium != "" && e.Medium != f.Medium {
		return false
	}
	return len(f.Kinds) == 0 || slices.Contains(f.Kinds, e.Kind)
}

// stopScan ends a scan when the consumer of Entries stops early.
type stopScan struct{}

func (stopScan) Error() string { return "stop" }

// Entries iterates over the entries in dir that match f, in seq order.
// Every line's hash and link to the line before is checked as it is read;
// on the first finding the iterator yields an error wrapping ErrCorrupt and
// stops, so a page or document never shows unverified evidence. head.json
// is not checked (Verify does that). A torn last line, not yet moved aside
// by Open, is not part of the chain and is skipped. A ledger that does not
// exist yet yields nothing. Entries appended after the iteration starts
// are not included.
func Entries(dir string, f Filter) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		path := filepath.Join(dir, FileName)
		file, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		if err != nil {
			yield(Entry{}, ioError(path, "証跡台帳を開けません", "cannot open the evidence ledger", err))
			return
		}
		defer func() { _ = file.Close() }() // read only: nothing to lose at Close
		size, _, _, err := snapshot(file, dir)
		if err != nil {
			yield(Entry{}, ioError(path, "証跡台帳を読めません", "cannot read the evidence ledger", err))
			return
		}
		res, err := scanLedger(io.NewSectionReader(file, 0, size), scanOptions{
			stopAtProblem: true,
			visit: func(e Entry, _ Anchor) error {
				if f.match(e) && !yield(e, nil) {
					return stopScan{}
				}
				return nil
			},
		})
		var stop stopScan
		switch {
		case errors.As(err, &stop):
		case err != nil:
			yield(Entry{}, ioError(path, "証跡台帳を読めません", "cannot read the evidence ledger", err))
		case len(res.Problems) > 0:
			yield(Entry{}, corruptError(path, false, res.Problems))
		}
	}
}

// Read returns the entries in dir that match f (see Entries).
func Read(dir string, f Filter) ([]Entry, error) {
	var out []Entry
	for e, err := range Entries(dir, f) {
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}
