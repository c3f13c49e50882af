package ledger

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// FuzzScan: arbitrary bytes as a ledger never panic the scanner or the
// line parser, and what the scanner accepts is a chain it could verify.
func FuzzScan(f *testing.F) {
	valid, _ := sampleLedger(f)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(append(bytes.Clone(valid), valid...))
	for _, s := range []string{"", "\n", "{}\n", "{\"seq\":1}", "\x00\x00\x00\n", `{"seq":1,"hash":"` + GenesisHash + `"}` + "\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var visited []Entry
		res, err := scanLedger(bytes.NewReader(data), scanOptions{visit: func(e Entry, a Anchor) error {
			if a.Seq != e.Seq || a.Hash != e.Hash || a.Offset > int64(len(data)) || a.Offset < 1 || data[a.Offset-1] != '\n' {
				t.Fatalf("anchor %+v is not just past seq %d", a, e.Seq)
			}
			visited = append(visited, e)
			return nil
		}})
		if err != nil {
			t.Fatalf("reading from memory failed: %v", err)
		}
		if res.GoodSize > int64(len(data)) || res.Entries > res.Lines {
			t.Fatalf("impossible result %+v for %d bytes", res, len(data))
		}
		if res.ProblemCount == 0 {
			prev := GenesisHash
			for i, e := range visited {
				if e.Seq != uint64(i+1) || e.Prev != prev {
					t.Fatalf("accepted a broken chain at entry %d: %+v", i, e)
				}
				prev = e.Hash
			}
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			_, _ = parseLine(line) // only that it does not panic
		}
	})
}

// FuzzVerifyByteFlip: a valid ledger with any one byte changed never
// verifies.
func FuzzVerifyByteFlip(f *testing.F) {
	valid, head := sampleLedger(f)
	// Every byte of the sample, flipped in its lowest bit, runs in go test.
	for off := range uint(len(valid)) {
		f.Add(off, byte(1))
	}
	f.Add(uint(len(valid)/2), byte(0x80))
	f.Add(uint(len(valid)-1), byte('\n'^'x'))
	f.Fuzz(func(t *testing.T, off uint, xor byte) {
		if xor == 0 {
			return // not a change
		}
		data := bytes.Clone(valid)
		data[off%uint(len(data))] ^= xor
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, HeadFileName), head, 0o644); err != nil {
			t.Fatal(err)
		}
		if rep, err := Verify(dir); err == nil || rep.OK {
			t.Fatalf("byte %d xor %#x: the changed ledger verifies", off%uint(len(data)), xor)
		}
	})
}

// sampleLedger appends a few entries of varied kinds and returns the
// ledger file and its head.json.
func sampleLedger(f *testing.F) (ledger, head []byte) {
	f.Helper()
	dir := f.TempDir()
	at := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	l, err := OpenWith(dir, Options{Now: func() time.Time { at = at.Add(time.Second); return at }})
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range []Entry{
		{Kind: KindCycleStart, Actor: ActorSystem, Message: msg.Legacy("cycle 1")},
		{Kind: KindPowerOn, Medium: "disk-a", Actor: ActorSystem, Data: []byte(`{"relay":"r1","verified":true}`)},
		{Kind: KindSnapshot, Medium: "disk-a", Actor: ActorSystem, Message: msg.Legacy("snapshot 0cc6b04f of 取得元 emr")},
		{Kind: KindPowerOffVerified, Medium: "disk-a", Actor: ActorSystem, Message: msg.Legacy("切断を確認 / cut verified")},
		{Kind: "source.anomaly.ack", Actor: "kato", Message: msg.Legacy("確認済み")},
	} {
		if _, err := l.Append(context.Background(), e); err != nil {
			f.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		f.Fatal(err)
	}
	if ledger, err = os.ReadFile(filepath.Join(dir, FileName)); err == nil {
		head, err = os.ReadFile(filepath.Join(dir, HeadFileName))
	}
	if err != nil {
		f.Fatal(err)
	}
	return ledger, head
}
