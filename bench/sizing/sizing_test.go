package sizing

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite bench/README.md's sizing section from sizing.json")

const (
	readme = "../README.md"
	begin  = "<!-- sizing:begin (generated from bench/sizing/sizing.json: go test ./bench/sizing -update) -->\n"
	end    = "<!-- sizing:end -->\n"
)

// TestREADMEUpToDate fails when bench/README.md's sizing table is not
// what sizing.json gives.
func TestREADMEUpToDate(t *testing.T) {
	d, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(old, []byte(begin)), bytes.Index(old, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("%s has no sizing section between %q and %q", readme, begin, end)
	}
	want := d.Markdown()
	got := string(old[i+len(begin) : j])
	if got == want {
		return
	}
	if !*update {
		t.Fatalf("%s's sizing table is stale: run go test ./bench/sizing -update\n--- want:\n%s", readme, want)
	}
	fresh := string(old[:i+len(begin)]) + want + string(old[j:])
	if err := os.WriteFile(readme, []byte(fresh), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEstimatesGrowWithDataAndSlowerBoards(t *testing.T) {
	d, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range d.Boards {
		small, big := d.Estimate(b, 100, 2), d.Estimate(b, 100, 20)
		if !(big.Pull > small.Pull && big.Powered > small.Powered) {
			t.Errorf("%s: 20%% change (%+v) is not slower than 2%% (%+v)", b.Name, big, small)
		}
		if bigger := d.Estimate(b, 500, 2); bigger.Powered <= small.Powered {
			t.Errorf("%s: a bigger export's check does not take longer", b.Name)
		}
	}
	for i := 1; i < len(d.Boards); i++ {
		a, b := d.Estimate(d.Boards[i-1], 100, 5), d.Estimate(d.Boards[i], 100, 5)
		if b.Pull < a.Pull || b.Powered < a.Powered {
			t.Errorf("%s (%+v) is estimated faster than %s (%+v): boards are listed fastest first", d.Boards[i].Name, b, d.Boards[i-1].Name, a)
		}
	}
	// 1 GB over a 100 MB/s cap at factor 1: 10 s plus the fixed part.
	one := Data{Rates: map[string]Rates{"x": {PullMBps: 1000, BackupMBps: 1000, CheckMBps: 1000}}, NetworkMBps: 100, MediumMBps: 100,
		FixedPoweredS: 2, PullFixedS: 1, CheckFraction: 0.05}
	e := one.Estimate(Board{Proxy: "x", Factor: 1}, 10, 10)
	if e.Pull != 11 || e.Powered != 2+10+5 {
		t.Errorf("estimate %+v, want pull 11 s, powered 17 s", e)
	}
}

func TestDuration(t *testing.T) {
	for s, want := range map[float64]string{45: "45 s", 720: "12 min", 9000: "2.5 h"} {
		if got := Duration(s); got != want {
			t.Errorf("Duration(%v) = %q, want %q", s, got, want)
		}
	}
	if !strings.Contains(num(2.0)+num(2.5)+num(150.4), "22.5150") {
		t.Errorf("num: %s %s %s", num(2.0), num(2.5), num(150.4))
	}
}
