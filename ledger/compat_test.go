package ledger

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// golden is what the code before the typed vocabulary read from a
// fixture (testdata/v0/README.md).
type golden struct {
	Head    string `json:"head"`
	Entries []struct {
		Seq     uint64          `json:"seq"`
		Time    time.Time       `json:"time"`
		Kind    Kind            `json:"kind"`
		Medium  string          `json:"medium"`
		Actor   string          `json:"actor"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
		Hash    string          `json:"hash"`
	} `json:"entries"`
	Now       time.Time          `json:"now"`
	Summaries map[string]Summary `json:"summaries"`
}

func readGolden(t *testing.T, dir string) golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestOldLedgersReadIdentically: a ledger written before the vocabulary
// was typed still verifies, every entry reads back as it did, and every
// entry's data is exactly its declared type (no field unknown to it).
func TestOldLedgersReadIdentically(t *testing.T) {
	for _, name := range []string{"demo", "every-kind"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "v0", name)
			g := readGolden(t, dir)
			rep, err := Verify(dir)
			if err != nil || !rep.OK || rep.LastHash != g.Head {
				t.Fatalf("verify: %v, ok %v, head %s (want %s)", err, rep.OK, rep.LastHash, g.Head)
			}
			entries, err := Read(dir, Filter{})
			if err != nil || len(entries) != len(g.Entries) {
				t.Fatalf("read %d entries (%v), want %d", len(entries), err, len(g.Entries))
			}
			for i, e := range entries {
				w := g.Entries[i]
				var data bytes.Buffer
				if len(w.Data) > 0 {
					if err := json.Compact(&data, w.Data); err != nil {
						t.Fatal(err)
					}
				}
				if e.Seq != w.Seq || !e.Time.Equal(w.Time) || e.Kind != w.Kind || e.Medium != w.Medium || e.Actor != w.Actor ||
					e.Hash != w.Hash || !bytes.Equal(e.Data, data.Bytes()) || e.Message.String() != w.Message {
					t.Fatalf("seq %d reads differently:\n got %+v\nwant %+v", w.Seq, e, w)
				}
				ki, ok := Lookup(e.Kind)
				if !ok {
					t.Fatalf("seq %d: kind %q is not declared", e.Seq, e.Kind)
				}
				if ki.Data == nil {
					if len(e.Data) != 0 {
						t.Errorf("seq %d: %s is declared without data but holds %s", e.Seq, e.Kind, e.Data)
					}
					continue
				}
				if len(e.Data) == 0 {
					continue
				}
				v := reflect.New(reflect.TypeOf(ki.Data))
				dec := json.NewDecoder(bytes.NewReader(e.Data))
				dec.DisallowUnknownFields()
				if err := dec.Decode(v.Interface()); err != nil {
					t.Errorf("seq %d: %s data %s is not a %T: %v", e.Seq, e.Kind, e.Data, ki.Data, err)
				}
			}
		})
	}
}

// TestOldLedgersSummarize: the hours connected and cut, and every count,
// come out as before. The one deliberate change: a relay commanded on now
// counts as connected from that moment rather than from the power.on
// entry written just after it, so connected time may grow by that gap
// (never shrink), taken from the cut-off or unknown time.
func TestOldLedgersSummarize(t *testing.T) {
	for _, name := range []string{"demo", "every-kind"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "v0", name)
			g := readGolden(t, dir)
			entries, err := Read(dir, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			for medium, want := range g.Summaries {
				got := Summarize(entries, medium, entries[0].Time, g.Now)
				if got.Snapshots != want.Snapshots || got.Checks != want.Checks || got.FailedChecks != want.FailedChecks ||
					got.Errors != want.Errors || got.VerifiedCuts != want.VerifiedCuts || got.FailedCuts != want.FailedCuts ||
					got.Connections != want.Connections {
					t.Errorf("%s: counts differ:\n got %+v\nwant %+v", medium, got, want)
				}
				gap := got.Connected - want.Connected
				if gap < 0 || gap > time.Duration(want.Connections+1)*time.Minute ||
					got.Connected+got.CutOff+got.Unknown != want.Connected+want.CutOff+want.Unknown {
					t.Errorf("%s: connected %v (was %v), cut %v (was %v), unknown %v (was %v)", medium,
						got.Connected, want.Connected, got.CutOff, want.CutOff, got.Unknown, want.Unknown)
				}
			}
		})
	}
}
