package ledger

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/internal/msg"
)

func TestKindsDeclaredOnce(t *testing.T) {
	seen := map[Kind]bool{}
	for _, ki := range Kinds() {
		if ki.Kind == "" || seen[ki.Kind] {
			t.Errorf("kind %q empty or declared twice", ki.Kind)
		}
		seen[ki.Kind] = true
		if ki.Data != nil {
			if _, err := json.Marshal(ki.Data); err != nil {
				t.Errorf("%s: data type %T does not encode: %v", ki.Kind, ki.Data, err)
			}
		}
	}
}

func TestAppendRefusesUndeclaredKindAndWrongData(t *testing.T) {
	l := openT(t, filepath.Join(t.TempDir(), "ledger"), newClock())
	ctx := context.Background()
	for name, e := range map[string]Entry{
		"undeclared kind":           {Kind: "made.up"},
		"payload of another kind":   {Kind: KindSnapshot, Payload: CutData{}},
		"payload on a no-data kind": {Kind: KindUnmount, Payload: MountData{}},
		"raw data of another kind":  {Kind: KindMount, Data: json.RawMessage(`{"relay":"r1"}`)},
		"payload and data":          {Kind: KindMount, Payload: MountData{}, Data: json.RawMessage(`{}`)},
	} {
		if _, err := l.Append(ctx, e); err == nil {
			t.Errorf("%s: appended", name)
		}
	}
	if l.Head().Seq != 0 {
		t.Fatalf("refused entries were stored: head %+v", l.Head())
	}
	stored, err := l.Append(ctx, Entry{Kind: KindMount, Medium: "usb1", Payload: MountData{Repository: "/mnt/usb1/repo"},
		Message: msg.T("接続", "attached")})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode[MountData](stored)
	if err != nil || m.Repository != "/mnt/usb1/repo" {
		t.Fatalf("Decode = %+v, %v", m, err)
	}
	if _, err := Decode[CutData](stored); err == nil || !strings.Contains(err.Error(), "not a ledger.CutData") {
		t.Fatalf("Decode of the wrong type: %v", err)
	}
	if stored.Message != msg.T("接続", "attached") {
		t.Fatalf("message read back as %+v", stored.Message)
	}
}

// TestLegacyStringMessage: entries written before messages were objects
// hold one string; they verify and read as that string.
func TestLegacyStringMessage(t *testing.T) {
	line, _, err := encodeLine(wireEntry{Seq: 1, Time: "2026-01-01T00:00:00Z", Kind: KindPowerOffVerified, Medium: "usb1",
		Message: json.RawMessage(`"切断を確認 / cut verified"`), Prev: GenesisHash})
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseLine(line[:len(line)-1])
	if err != nil || !p.hashOK {
		t.Fatalf("parse: %v, hash ok %v", err, p.hashOK)
	}
	if p.Message != msg.T("切断を確認", "cut verified") || p.Message.String() != "切断を確認 / cut verified" {
		t.Fatalf("legacy message read as %+v", p.Message)
	}
}

func TestMismatchReadsBothForms(t *testing.T) {
	var d RestoreData
	old := `{"mismatches":["data/a b.txt: サイズ 3 ≠ 記録 4 / size 3, manifest says 4"]}`
	if err := json.Unmarshal([]byte(old), &d); err != nil || len(d.Mismatches) != 1 ||
		d.Mismatches[0].Localize(msg.EN) != "data/a b.txt: サイズ 3 ≠ 記録 4 / size 3, manifest says 4" {
		t.Fatalf("old form: %+v %v", d, err)
	}
	d.Mismatches = []Mismatch{{Path: "data/a b.txt", Why: msg.T("サイズが違います", "size differs")}}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back RestoreData
	if err := json.Unmarshal(b, &back); err != nil || back.Mismatches[0] != d.Mismatches[0] ||
		back.Mismatches[0].Localize(msg.JA) != "data/a b.txt: サイズが違います" {
		t.Fatalf("round trip: %s → %+v %v", b, back, err)
	}
}

// Each entry records how the clock that dated it was set, when the
// writer says; the member is part of the hashed line.
func TestEntriesRecordTheClock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger")
	state := ClockUnsynced
	l, err := OpenWith(dir, Options{Clock: func() ClockState { return state }, Reserve: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.Append(ctx, Entry{Kind: KindJobStart}); err != nil {
		t.Fatal(err)
	}
	state = ClockNTP
	if _, err := l.Append(ctx, Entry{Kind: KindJobStart}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	es, err := Read(dir, Filter{})
	if err != nil || len(es) != 2 || es[0].Clock != ClockUnsynced || es[1].Clock != ClockNTP {
		t.Fatalf("entries %+v, %v", es, err)
	}
	if rep, err := Verify(dir); err != nil || !rep.OK {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}
