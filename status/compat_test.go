package status

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/ledger"
)

// TestOldLedgersShowTheSame: the dashboard's view of a ledger written
// before the vocabulary was typed (ledger/testdata/v0) is what that code
// showed: states, times, reasons, snapshots, the last cycle, drill and scan.
func TestOldLedgersShowTheSame(t *testing.T) {
	for _, name := range []string{"demo", "every-kind"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "ledger", "testdata", "v0", name)
			b, err := os.ReadFile(filepath.Join(dir, "golden.json"))
			if err != nil {
				t.Fatal(err)
			}
			var g struct {
				Now    time.Time `json:"now"`
				Status struct {
					Media []struct {
						Name, State, Reason string
						Since               time.Time
						Immutable           bool
						LastSnapshot        *Snapshot
					}
					LastCycle *struct {
						ID, Text string
						Time     time.Time
						OK       bool
					}
					LastDrill, LastScan json.RawMessage
				} `json:"status"`
			}
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, m := range g.Status.Media {
				names = append(names, m.Name)
			}
			st, err := Compute(dir, names, g.Now)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range g.Status.Media {
				got := st.Media[i]
				if got.Name != want.Name || string(got.State) != want.State || !got.Since.Equal(want.Since) ||
					got.Reason.String() != want.Reason || got.Immutable != want.Immutable {
					t.Errorf("%s: got %+v, want %+v", want.Name, got, want)
				}
				if (got.LastSnapshot == nil) != (want.LastSnapshot == nil) ||
					(got.LastSnapshot != nil && (*got.LastSnapshot != *want.LastSnapshot && !got.LastSnapshot.Time.Equal(want.LastSnapshot.Time))) {
					t.Errorf("%s: last snapshot %+v, want %+v", want.Name, got.LastSnapshot, want.LastSnapshot)
				}
			}
			if c, w := st.LastCycle, g.Status.LastCycle; (c == nil) != (w == nil) ||
				(c != nil && (c.ID != w.ID || c.OK != w.OK || !c.Time.Equal(w.Time) || c.Text.String() != w.Text)) {
				t.Errorf("last cycle %+v, want %+v", c, w)
			}
			for what, pair := range map[string][2]any{"drill": {st.LastDrill, g.Status.LastDrill}, "scan": {st.LastScan, g.Status.LastScan}} {
				got, _ := json.Marshal(pair[0])
				if string(pair[1].(json.RawMessage)) == "null" && string(got) == "null" {
					continue
				}
				// The old form held the error as one string; compare by
				// decoding the old JSON into today's type.
				var want any
				switch what {
				case "drill":
					var d ledger.RestoreData
					if err := json.Unmarshal(pair[1].(json.RawMessage), &d); err != nil {
						t.Fatal(err)
					}
					want = &d
				case "scan":
					var d ledger.ScanData
					if err := json.Unmarshal(pair[1].(json.RawMessage), &d); err != nil {
						t.Fatal(err)
					}
					want = &d
				}
				wb, _ := json.Marshal(want)
				if string(got) != string(wb) {
					t.Errorf("last %s:\n got %s\nwant %s", what, got, wb)
				}
			}
		})
	}
}
