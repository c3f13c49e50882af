package backup

// Ransomware on the e-chart server shows in the export before anyone
// notices it on the server: most of it changes at once, or what changes
// turns into random-looking (encrypted) bytes. The cycle still backs such
// an export up — it may be the last one that holds something — but flags
// it, and while a flag is open no generation is pruned, so a burst of bad
// nights can never push the good generations out.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

const (
	anomalyFile = "anomalies.json" // in the staging root, never backed up
	// sampleSize and samplesPerFile bound the entropy reading: a few
	// blocks per changed file, at most sampleFiles files, so a
	// terabyte-sized export costs at most a few tens of MB of reads.
	sampleSize     = 64 << 10
	samplesPerFile = 4
	sampleFiles    = 128
	// historyLen is how many past pulls of a source form its baseline.
	historyLen = 14
	// An export is encrypted-looking when its changed data's entropy is
	// near 8 bits per byte and clearly above what that source had.
	entropyHigh   = 7.5
	entropyMargin = 0.5
	// A change ratio is judged only against minRatioHistory earlier
	// pulls: what a night normally changes differs between exporters (a
	// single rewritten dump changes 100 % every night).
	ratioHigh       = 0.5
	ratioMargin     = 0.3
	minRatioHistory = 3
)

// AnomalySample is what one pull changed, measured against the previous
// manifest.
type AnomalySample = ledger.AnomalySample

// Anomaly is an export flagged as possibly encrypted, as the ledger and
// the anomaly file store it.
type Anomaly = ledger.AnomalyData

// anomalyState is the file in the staging root: each source's recent
// samples and the anomalies nobody has acknowledged yet.
type anomalyState struct {
	Version int                        `json:"version"`
	History map[string][]AnomalySample `json:"history"`
	Open    []Anomaly                  `json:"open"`
}

// MeasurePull compares the new manifest of a source with the previous one
// (nil on the first pull) and samples the entropy of what changed.
func MeasurePull(staging string, prev, cur *pull.Manifest, at time.Time) (AnomalySample, error) {
	s := AnomalySample{Time: at, ChangeRatio: -1, Entropy: -1, FilesTotal: len(cur.Files)}
	var changed []pull.FileEntry
	for _, f := range cur.Files {
		s.BytesTotal += f.Size
		if e, ok := prev.Lookup(f.Path); !ok || e.SHA256 != f.SHA256 {
			changed = append(changed, f)
			s.BytesChanged += f.Size
		}
	}
	s.FilesChanged = len(changed)
	if prev != nil {
		var prevTotal, removed int64
		for _, f := range prev.Files {
			prevTotal += f.Size
			if _, ok := cur.Lookup(f.Path); !ok {
				s.FilesChanged++
				removed += f.Size
			}
		}
		if d := max(prevTotal, s.BytesTotal); d > 0 {
			s.ChangeRatio = math.Min(1, float64(s.BytesChanged+removed)/float64(d))
		} else {
			s.ChangeRatio = 0
		}
	}
	ent, n, err := sampleEntropy(pull.DataDir(staging, cur.Source), changed)
	if err != nil {
		return s, err
	}
	s.Entropy, s.SampledBytes = ent, n
	return s, nil
}

// sampleEntropy reads up to samplesPerFile blocks of up to sampleFiles
// changed files, spread evenly over the list, and returns their
// size-weighted entropy (-1 when nothing was read).
func sampleEntropy(dataDir string, changed []pull.FileEntry) (float64, int64, error) {
	step := 1
	if len(changed) > sampleFiles {
		step = (len(changed) + sampleFiles - 1) / sampleFiles
	}
	var sum, weight float64
	var total int64
	buf := make([]byte, sampleSize)
	for i := 0; i < len(changed); i += step {
		f := changed[i]
		if f.Size == 0 {
			continue
		}
		h, n, err := fileEntropy(filepath.Join(dataDir, filepath.FromSlash(f.Path)), f.Size, buf)
		if err != nil {
			return -1, total, msg.Errorf("取得したファイル %s を読めません: %w", "cannot read staged file %s: %w", f.Path, err)
		}
		if n == 0 {
			continue
		}
		sum += h * float64(f.Size)
		weight += float64(f.Size)
		total += n
	}
	if weight == 0 {
		return -1, total, nil
	}
	return sum / weight, total, nil
}

// fileEntropy is the entropy of samplesPerFile blocks spread over a file.
func fileEntropy(p string, size int64, buf []byte) (float64, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = f.Close() }() // read-only
	var counts [256]int64
	var n int64
	for i := range int64(samplesPerFile) {
		off := i * size / samplesPerFile
		if i > 0 && off < n { // small file: already read whole
			break
		}
		m, err := f.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, n, err
		}
		for _, b := range buf[:m] {
			counts[b]++
		}
		n += int64(m)
	}
	return Entropy(counts, n), n, nil
}

// Entropy is the Shannon entropy in bits per byte of a byte histogram.
func Entropy(counts [256]int64, n int64) float64 {
	if n == 0 {
		return 0
	}
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / float64(n)
			h -= p * math.Log2(p)
		}
	}
	return h
}

// Judge compares a sample with the source's history and returns why it is
// anomalous (nil: normal) and the baseline it was judged against.
func Judge(s AnomalySample, history []AnomalySample) (reasons []msg.Text, baseRatio, baseEntropy float64) {
	var ratios, ents []float64
	for _, h := range history {
		if h.ChangeRatio >= 0 {
			ratios = append(ratios, h.ChangeRatio)
		}
		if h.Entropy >= 0 {
			ents = append(ents, h.Entropy)
		}
	}
	baseRatio, baseEntropy = median(ratios), median(ents)
	if s.Entropy >= entropyHigh && len(ents) > 0 && s.Entropy >= baseEntropy+entropyMargin {
		reasons = append(reasons, msg.Sprintf(
			"変更されたデータのエントロピーが %.2f ビット/バイトで、通常(%.2f)より高く、暗号化されたように見えます",
			"the changed data's entropy is %.2f bits/byte, above the usual %.2f: it looks encrypted",
			s.Entropy, baseEntropy))
	}
	if s.ChangeRatio >= ratioHigh && len(ratios) >= minRatioHistory && s.ChangeRatio >= slices.Max(ratios)+ratioMargin {
		reasons = append(reasons, msg.Sprintf(
			"エクスポートの %.0f%% が変わりました(通常は %.0f%%)", "%.0f%% of the export changed (usually %.0f%%)",
			100*s.ChangeRatio, 100*baseRatio))
	}
	return reasons, baseRatio, baseEntropy
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return -1
	}
	v = slices.Clone(v)
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// AssessPull judges a source's new sample against its history and records
// the result: a normal sample joins the history, an anomalous one opens an
// anomaly (returned) and joins the history only once acknowledged, so a
// burst of bad nights never becomes the new normal by itself.
func AssessPull(staging, source string, s AnomalySample) (*Anomaly, error) {
	var found *Anomaly
	err := updateAnomalies(staging, func(st *anomalyState) error {
		reasons, br, be := Judge(s, st.History[source])
		if len(reasons) == 0 {
			st.History[source] = appendHistory(st.History[source], s)
			return nil
		}
		a := Anomaly{ID: newAnomalyID(s.Time), Source: source, Detected: s.Time, Sample: s,
			BaselineRatio: br, BaselineEntropy: be, Reasons: reasons}
		st.Open = append(st.Open, a)
		found = &a
		return nil
	})
	return found, err
}

// OpenAnomalies lists the anomalies not acknowledged yet, oldest first.
// An unreadable state is an error: callers treat it as open (no pruning).
func OpenAnomalies(staging string) ([]Anomaly, error) {
	st, err := readAnomalies(staging)
	if err != nil {
		return nil, err
	}
	return st.Open, nil
}

// ErrNoAnomaly is returned when acknowledging an ID that is not open.
var ErrNoAnomaly = msg.New("その異常は未確認の一覧にありません", "no such open anomaly")

// AcknowledgeAnomaly closes the open anomaly id: its sample joins the
// source's history (the person says it is the new normal, or dealt with).
func AcknowledgeAnomaly(staging, id, by string, at time.Time) (Anomaly, error) {
	var acked Anomaly
	err := updateAnomalies(staging, func(st *anomalyState) error {
		i := slices.IndexFunc(st.Open, func(a Anomaly) bool { return a.ID == id })
		if i < 0 {
			return msg.Errorf("%w: %s", "%w: %s", ErrNoAnomaly, id)
		}
		acked = st.Open[i]
		acked.AckedBy, acked.AckedAt = by, at
		st.Open = slices.Delete(st.Open, i, i+1)
		st.History[acked.Source] = appendHistory(st.History[acked.Source], acked.Sample)
		return nil
	})
	return acked, err
}

func appendHistory(h []AnomalySample, s AnomalySample) []AnomalySample {
	h = append(h, s)
	if len(h) > historyLen {
		h = slices.Clone(h[len(h)-historyLen:])
	}
	return h
}

func newAnomalyID(t time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

func readAnomalies(staging string) (*anomalyState, error) {
	st := &anomalyState{Version: 1, History: map[string][]AnomalySample{}}
	data, err := os.ReadFile(filepath.Join(staging, anomalyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, msg.Errorf("異常検知の記録を読めません: %w", "cannot read the anomaly record: %w", err)
	}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, msg.Errorf("異常検知の記録 %s が壊れています: %w", "the anomaly record %s is damaged: %w", anomalyFile, err)
	}
	if st.History == nil {
		st.History = map[string][]AnomalySample{}
	}
	return st, nil
}

// updateAnomalies applies fn to the state under an exclusive lock: the
// cycle and an acknowledgement from the page may meet.
func updateAnomalies(staging string, fn func(*anomalyState) error) error {
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(staging, anomalyFile+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer func() { _ = lock.Close() }() // closing releases the lock; the state was written (and checked) before
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return msg.Errorf("異常検知の記録 %s をロックできません: %w", "cannot lock the anomaly record %s: %w", anomalyFile, err)
	}
	st, err := readAnomalies(staging)
	if err != nil {
		return err
	}
	if err := fn(st); err != nil {
		return err
	}
	data, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(staging, anomalyFile), append(data, '\n'), 0o644)
}

// AnomalyIDs lists the IDs of anomalies, for ledger data.
func AnomalyIDs(as []Anomaly) []string {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	return ids
}

// assess measures a source's pull, flags it if anomalous, and records
// the flag. A measurement that fails is recorded and leaves pruning as
// the state says: it never stops the backup.
func (c *Cycle) assess(ctx context.Context, r *CycleReport, prev, cur *pull.Manifest) {
	s, err := MeasurePull(c.Config.StagingDir, prev, cur, time.Now())
	if err == nil {
		s.Cycle = r.ID
		var a *Anomaly
		a, err = AssessPull(c.Config.StagingDir, cur.Source, s)
		if a != nil {
			r.Anomalies = append(r.Anomalies, *a)
			c.record(ctx, ledger.Entry{Kind: ledger.KindAnomaly, Message: a.Summary(), Payload: *a})
		}
	}
	if err != nil {
		c.record(ctx, ledger.Entry{Kind: ledger.KindError, Message: msg.TextOf(err), Payload: ledger.ErrorData{Phase: "anomaly", Source: cur.Source}})
	}
}

// prunePaused reports whether pruning must wait on medium: an anomaly is
// open, or the record cannot be read (then nobody can say none is). The
// pause is recorded.
func (c *Cycle) prunePaused(ctx context.Context, medium string) bool {
	open, err := OpenAnomalies(c.Config.StagingDir)
	if err == nil && len(open) == 0 {
		return false
	}
	text := msg.Sprintf("未確認の異常が %d 件あるため、古い世代を削除しません", "%d unacknowledged anomalies: pruning paused", len(open))
	if err != nil {
		text = msg.TextOf(msg.Errorf("異常検知の記録を読めないため、古い世代を削除しません: %w", "pruning paused: %w", err))
	}
	c.emit(CycleEvent{Phase: "forget", Medium: medium, Text: text})
	c.record(ctx, ledger.Entry{Kind: ledger.KindForgetPaused, Medium: medium, Message: text,
		Payload: ledger.ForgetPausedData{Anomalies: AnomalyIDs(open)}})
	return true
}
