package demo

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// DumpName is the big SQL-dump-like file in the generated export.
const DumpName = "db/emr_full.sql"

// Marker is the done-marker the generated export ends with.
const Marker = "EXPORT_COMPLETE"

var surnames = []string{"山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤"}
var givens = []string{"太郎", "花子", "一郎", "美咲", "健", "陽菜", "翔", "さくら", "大輔", "結衣"}
var notes = []string{"血圧 132/84、経過良好", "HbA1c 7.2%、食事指導", "術後3日目、創部異常なし", "胸部X線 異常陰影なし", "アムロジピン 5mg 継続"}

// GenerateExport writes a sample e-chart export into dir: a dump of about
// dumpBytes, small files (some with Japanese names and spaces) and the
// done-marker last, as an exporter would.
func GenerateExport(dir string, dumpBytes int64, smallFiles int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 7))
	if err := writeDump(filepath.Join(dir, DumpName), dumpBytes, r, 0); err != nil {
		return err
	}
	for i := 0; i < smallFiles; i++ {
		var rel string
		switch i % 3 {
		case 0:
			rel = fmt.Sprintf("カルテ/%03d/患者 %05d 経過記録.txt", i%40, i)
		case 1:
			rel = fmt.Sprintf("orders/%03d/order-%05d.csv", i%40, i)
		default:
			rel = fmt.Sprintf("scan/%03d/スキャン_%05d.dat", i%40, i)
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		size := 4096 + r.IntN(60*1024)
		b := make([]byte, 0, size)
		for len(b) < size {
			b = fmt.Appendf(b, "%s %s, %s\n", surnames[r.IntN(len(surnames))], givens[r.IntN(len(givens))], notes[r.IntN(len(notes))])
		}
		if err := os.WriteFile(p, b[:size], 0o644); err != nil {
			return err
		}
	}
	return TouchMarker(dir)
}

// TouchMarker (re)writes the done-marker, newer than every file.
func TouchMarker(dir string) error {
	p := filepath.Join(dir, Marker)
	if err := os.WriteFile(p, []byte(time.Now().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return err
	}
	later := time.Now().Add(2 * time.Second)
	return os.Chtimes(p, later, later)
}

// ChangeDump rewrites about fraction of the dump's rows, as a night of
// clinical work would, and touches the marker.
func ChangeDump(dir string, fraction float64, seed uint64) error {
	p := filepath.Join(dir, DumpName)
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(seed, 11))
	if err := writeDump(p, fi.Size(), r, fraction); err != nil {
		return err
	}
	return TouchMarker(dir)
}

// writeDump writes rows with stable content keyed by row number, except a
// fraction of changed rows. Changes come in runs of rows, as a day's
// clinical work touches neighbouring records, so restic's deduplication
// sees a realistic change rather than every chunk touched once.
func writeDump(p string, size int64, r *rand.Rand, changed float64) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	// bufio keeps the first write error and Flush returns it, so the
	// writes below need no checks of their own.
	w := bufio.NewWriterSize(f, 1<<20)
	_, _ = fmt.Fprintf(w, "-- danzen demo export %s\nBEGIN;\n", time.Now().Format(time.RFC3339))
	const run = 4096 // rows changed together (~600 KB)
	var written int64
	var salt uint64 = 1
	for row := 0; written < size; row++ {
		if row%run == 0 {
			salt = 1
			if changed > 0 && r.Float64() < changed {
				salt = r.Uint64() | 2
			}
		}
		rr := rand.New(rand.NewPCG(uint64(row), salt))
		n, _ := fmt.Fprintf(w, "INSERT INTO karte (patient_id, name, visit, note, vitals) VALUES (%d, '%s %s', '2026-%02d-%02d', '%s', '%x');\n",
			100000+row, surnames[rr.IntN(len(surnames))], givens[rr.IntN(len(givens))], 1+rr.IntN(12), 1+rr.IntN(28),
			notes[rr.IntN(len(notes))], rr.Uint64())
		written += int64(n)
	}
	_, _ = fmt.Fprintln(w, "COMMIT;")
	if err := w.Flush(); err != nil {
		return errors.Join(err, f.Close())
	}
	return f.Close()
}
