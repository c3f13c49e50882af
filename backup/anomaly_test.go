package backup

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/filehash"
	"github.com/danzen-gw/danzen/ledger"
)

func TestEntropyBounds(t *testing.T) {
	var uniform, constant [256]int64
	for i := range uniform {
		uniform[i] = 10
	}
	constant['a'] = 1000
	if h := Entropy(uniform, 2560); h != 8 {
		t.Fatalf("uniform bytes: %v bits, want 8", h)
	}
	if h := Entropy(constant, 1000); h != 0 {
		t.Fatalf("one byte value: %v bits, want 0", h)
	}
}

// stage writes files into a source's staging and returns their manifest,
// as a pull would have written it.
func stage(t *testing.T, staging string, files map[string][]byte) *pull.Manifest {
	t.Helper()
	m := &pull.Manifest{Source: "emr"}
	for rel, b := range files {
		p := filepath.Join(pull.DataDir(staging, "emr"), filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		sum, n, err := filehash.File(p)
		if err != nil {
			t.Fatal(err)
		}
		m.Files = append(m.Files, pull.FileEntry{Path: rel, Size: n, SHA256: sum})
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pull.ManifestPath(staging, "emr"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err = pull.LoadManifest(staging, "emr")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func text(n int) []byte {
	return []byte(strings.Repeat("INSERT INTO karte VALUES (1, '山田 太郎', '血圧 132/84');\n", n))
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestFileExportRansomware: an export of one file per record, where a
// night changes a few files, is flagged when most files change at once,
// even if the new content is not random (a wiper, or encryption that
// keeps low entropy).
func TestFileExportRansomware(t *testing.T) {
	staging := t.TempDir()
	files := map[string][]byte{}
	for i := range 20 {
		files["カルテ/"+string(rune('a'+i))+".txt"] = text(100 + i)
	}
	prev := stage(t, staging, files)
	at := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	for night := range 4 {
		files["カルテ/a.txt"] = text(200 + night) // one of 20 files a night
		cur := stage(t, staging, files)
		s, err := MeasurePull(staging, prev, cur, at.AddDate(0, 0, night))
		if err != nil {
			t.Fatal(err)
		}
		if s.ChangeRatio <= 0 || s.ChangeRatio > 0.2 || s.FilesChanged != 1 {
			t.Fatalf("night %d: %+v", night, s)
		}
		if a, err := AssessPull(staging, "emr", s); err != nil || a != nil {
			t.Fatalf("night %d flagged: %v %+v", night, err, a)
		}
		prev = cur
	}
	for rel := range files {
		files[rel] = []byte(strings.ToUpper(string(files[rel]))) // every file rewritten, still text
	}
	cur := stage(t, staging, files)
	s, err := MeasurePull(staging, prev, cur, at.AddDate(0, 0, 5))
	if err != nil {
		t.Fatal(err)
	}
	a, err := AssessPull(staging, "emr", s)
	if err != nil || a == nil || len(a.Reasons) != 1 || !strings.Contains(a.Reasons[0].EN, "100%") {
		t.Fatalf("whole export rewritten, not flagged by change ratio: %v %+v (sample %+v)", err, a, s)
	}
	if open, _ := OpenAnomalies(staging); len(open) != 1 || open[0].ID != a.ID {
		t.Fatalf("open anomalies: %+v", open)
	}
	// The flagged sample is not the new normal until acknowledged.
	if again, _ := AssessPull(staging, "emr", s); again == nil {
		t.Fatal("the same change judged normal before acknowledgement")
	}
	if acked, err := AcknowledgeAnomaly(staging, a.ID, "kato", at); err != nil || acked.AckedBy != "kato" {
		t.Fatalf("acknowledge: %v %+v", err, acked)
	}
	if open, _ := OpenAnomalies(staging); len(open) != 1 {
		t.Fatalf("open anomalies after one of two acknowledged: %+v", open)
	}
	if _, err := AcknowledgeAnomaly(staging, a.ID, "kato", at); !errors.Is(err, ErrNoAnomaly) {
		t.Fatalf("acknowledged twice: %v", err)
	}
}

// TestDumpExportChangesEveryNight: a single dump rewritten every night
// changes ~100 % by file; that alone is normal for it, and only random
// content is flagged.
func TestDumpExportChangesEveryNight(t *testing.T) {
	staging := t.TempDir()
	prev := stage(t, staging, map[string][]byte{"db.dmp": text(3000)})
	at := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	for night := range 5 {
		cur := stage(t, staging, map[string][]byte{"db.dmp": text(3001 + night)})
		s, err := MeasurePull(staging, prev, cur, at.AddDate(0, 0, night))
		if err != nil {
			t.Fatal(err)
		}
		if s.ChangeRatio < 0.99 || s.Entropy < 3 || s.Entropy > 6 {
			t.Fatalf("night %d: %+v", night, s)
		}
		if a, err := AssessPull(staging, "emr", s); err != nil || a != nil {
			t.Fatalf("night %d flagged: %v %+v", night, err, a)
		}
		prev = cur
	}
	cur := stage(t, staging, map[string][]byte{"db.dmp": random(300 << 10)})
	s, err := MeasurePull(staging, prev, cur, at.AddDate(0, 0, 9))
	if err != nil {
		t.Fatal(err)
	}
	a, err := AssessPull(staging, "emr", s)
	if err != nil || a == nil || len(a.Reasons) != 1 || s.Entropy < 7.9 || s.SampledBytes != samplesPerFile*sampleSize {
		t.Fatalf("encrypted dump not flagged by entropy: %v %+v (sample %+v)", err, a, s)
	}
}

// TestDamagedAnomalyRecordPausesPruning: when the record cannot be read,
// nobody can say no anomaly is open.
func TestDamagedAnomalyRecordPausesPruning(t *testing.T) {
	staging := t.TempDir()
	if err := os.WriteFile(filepath.Join(staging, anomalyFile), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := &memRecorder{}
	c := &Cycle{Config: cfgWithStaging(staging), Ledger: rec}
	if !c.prunePaused(t.Context(), "disk-a") {
		t.Fatal("pruning not paused with a damaged anomaly record")
	}
	if len(rec.entries) != 1 || rec.entries[0].Kind != ledger.KindForgetPaused || rec.entries[0].Medium != "disk-a" {
		t.Fatalf("pause not recorded: %+v", rec.entries)
	}
	if err := os.Remove(filepath.Join(staging, anomalyFile)); err != nil {
		t.Fatal(err)
	}
	if c.prunePaused(t.Context(), "disk-a") {
		t.Fatal("pruning paused with no anomaly")
	}
}

type memRecorder struct{ entries []ledger.Entry }

func (m *memRecorder) Append(_ context.Context, e ledger.Entry) (ledger.Entry, error) {
	m.entries = append(m.entries, e)
	return e, nil
}

func (m *memRecorder) Room() error { return nil }

func cfgWithStaging(staging string) *config.Config {
	c := config.Default()
	c.StagingDir = staging
	return c
}
