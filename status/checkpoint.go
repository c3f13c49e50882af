package status

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/ledger"
)

// CheckpointFileName is the tracker's checkpoint in the ledger directory.
// It is not evidence: deleted or damaged, it is rebuilt from the entries.
const CheckpointFileName = "status-checkpoint.json"

// checkpointVersion changes when the checkpoint's meaning does; another
// version is read as missing.
const checkpointVersion = 2 // 2: the last cycle keeps its failures and pull records

// keepBeyondWindow: entries are folded away only this long after they
// leave the window, so a clock set back a little still finds them.
const keepBeyondWindow = 24 * time.Hour

// pruneEvery: a long replay folds old entries away this often, so ten
// years never sit in memory at once.
const pruneEvery = 4096

// checkpoint is the status of the chain up to Anchor.
type checkpoint struct {
	Version int           `json:"version"`
	Anchor  ledger.Anchor `json:"anchor"`
	Fold    fold          `json:"fold"`
	// Windows hold each medium's entries that may still count in the
	// window; the older ones are folded into the state they left.
	Windows map[string]*window `json:"windows,omitempty"`
	// Horizon: only entries older than this were folded away; a window
	// that starts earlier cannot be summarised from what is kept.
	Horizon time.Time `json:"horizon,omitzero"`
	// ClockBackwards is what ledger.Verify lists: the first entries whose
	// time is before the entry's before them.
	ClockBackwards []uint64 `json:"clock_backwards,omitempty"`

	sincePrune int
}

// window is one medium's recent entries, as much of each as
// ledger.SummarizeAfter reads, and the state the older ones left.
type window struct {
	First   time.Time      `json:"first"` // the medium's first entry ever
	Prior   ledger.State   `json:"prior,omitempty"`
	Entries []ledger.Entry `json:"entries,omitempty"`
}

// apply takes the entry after the anchor; a ends just past it. Older
// entries are folded away from time to time (horizon gives the time).
func (c *checkpoint) apply(e ledger.Entry, a ledger.Anchor, horizon func() time.Time) {
	if !c.Anchor.Time.IsZero() && e.Time.Before(c.Anchor.Time) && len(c.ClockBackwards) < ledger.MaxListed {
		c.ClockBackwards = append(c.ClockBackwards, e.Seq)
	}
	c.Fold.add(e)
	if e.Medium != "" {
		if c.Windows == nil {
			c.Windows = map[string]*window{}
		}
		w := c.Windows[e.Medium]
		if w == nil {
			w = &window{First: e.Time}
			c.Windows[e.Medium] = w
		}
		w.Entries = append(w.Entries, summaryPart(e))
	}
	c.Anchor = a
	if c.sincePrune++; c.sincePrune >= pruneEvery {
		c.prune(horizon())
	}
}

// summaryPart is the part of e that ledger.SummarizeAfter reads.
func summaryPart(e ledger.Entry) ledger.Entry {
	p := ledger.Entry{Seq: e.Seq, Time: e.Time, Kind: e.Kind, Medium: e.Medium}
	if e.Kind == ledger.KindCheck || e.Kind == ledger.KindRelayCommand {
		p.Data = e.Data
	}
	return p
}

// prune folds into each window's Prior its first entries before horizon.
func (c *checkpoint) prune(horizon time.Time) {
	c.sincePrune = 0
	if !horizon.After(c.Horizon) {
		return
	}
	for _, w := range c.Windows {
		i := 0
		for i < len(w.Entries) && w.Entries[i].Time.Before(horizon) {
			w.Prior = w.Prior.Then(w.Entries[i])
			i++
		}
		if i > 0 {
			w.Entries = append([]ledger.Entry(nil), w.Entries[i:]...)
		}
	}
	c.Horizon = horizon
}

// summary is the medium's summary over [from, to); ok is false when
// entries it needs were folded away.
func (c *checkpoint) summary(medium string, from, to time.Time) (s ledger.Summary, ok bool) {
	w := c.Windows[medium]
	switch {
	case w == nil || !to.After(w.First):
		// No entry of the medium is before to (a clock in 1970 before
		// NTP): the whole period is unknown.
		return ledger.SummarizeAfter(ledger.StateUnknown, nil, medium, from, to), true
	case from.Before(c.Horizon):
		return s, false
	}
	return ledger.SummarizeAfter(w.Prior, w.Entries, medium, from, to), true
}

// checkpointFile is the checkpoint as stored: its body and the body's
// SHA-256, so a damaged file is read as missing, never as a state.
type checkpointFile struct {
	SHA256 string          `json:"sha256"`
	Body   json.RawMessage `json:"body"`
}

// loadCheckpoint reads the checkpoint in dir; a missing one is
// (nil, nil), a damaged one an error.
func loadCheckpoint(dir string) (*checkpoint, error) {
	b, err := os.ReadFile(filepath.Join(dir, CheckpointFileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f checkpointFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(f.Body); hex.EncodeToString(sum[:]) != f.SHA256 {
		return nil, errors.New("its checksum does not match its content")
	}
	var c checkpoint
	dec := json.NewDecoder(bytes.NewReader(f.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	if c.Version != checkpointVersion {
		return nil, fmt.Errorf("version %d, not %d", c.Version, checkpointVersion)
	}
	return &c, nil
}

// save replaces the checkpoint in dir atomically.
func (c *checkpoint) save(dir string) error {
	c.Version = checkpointVersion
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	b, err := json.Marshal(checkpointFile{SHA256: hex.EncodeToString(sum[:]), Body: body})
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, CheckpointFileName), append(b, '\n'), 0o600)
}

// removeStaleTemps deletes temporary checkpoints a crash left behind.
func removeStaleTemps(dir string) error {
	names, err := filepath.Glob(filepath.Join(dir, "."+CheckpointFileName+".tmp-*"))
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		errs = append(errs, os.Remove(n))
	}
	return errors.Join(errs...)
}
