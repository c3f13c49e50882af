// Package sizing turns what the benchmarks measured on the project's
// 2-core proxy machine into ESTIMATED nightly times per gateway board
// class, so a vendor can size a gateway: the export's size and nightly
// change give the pull time and the time the medium is powered.
//
// The inputs (measured rates, assumed board factors and where each comes
// from) live in sizing.json, the one place a document reads them from;
// bench/README.md's sizing table is generated from them and a test fails
// when it is stale (`go test ./bench/sizing -update` rewrites it).
package sizing

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

//go:embed sizing.json
var raw []byte

// Rates are throughputs measured on the proxy machine, in MB/s (10^6
// bytes per second) of the data concerned.
type Rates struct {
	Note string `json:"note"` // how these were measured
	// PullMBps is danzen's pull of one big file (bench/pull, median,
	// pull.listed → pull.done: transfer, SHA-256, fsync).
	PullMBps float64 `json:"pull_mbps"`
	// BackupMBps is restic backing up new incompressible data (read,
	// chunk, SHA-256, compress attempt, AES-256-CTR + Poly1305-AES, write).
	BackupMBps float64 `json:"backup_mbps"`
	// CheckMBps is restic check --read-data (read, decrypt, SHA-256).
	CheckMBps float64 `json:"check_mbps"`
}

// Board is a gateway board class and how much slower than the proxy
// machine it is assumed to be.
type Board struct {
	Name string `json:"name"`
	// Proxy names the Rates that stand for this board's instruction set:
	// "aes" (AES and SHA instructions), "no_aes_sha" (neither: the Pi 4).
	Proxy string `json:"proxy"`
	// Factor is how many times longer one of its cores takes than one
	// of the proxy machine's for the same work (an assumption).
	Factor float64 `json:"factor"`
	Source string  `json:"factor_source"` // where Factor comes from
}

// Data is sizing.json.
type Data struct {
	Measured string           `json:"measured"` // when and where the rates were measured
	Rates    map[string]Rates `json:"rates"`
	// FixedPoweredS is the powered time that does not grow with the data
	// (power-on, disk settle, mount, restic unlock, forget, sync, unmount,
	// cut and its verification), measured by bench/cycle.
	FixedPoweredS float64 `json:"fixed_powered_s"`
	// PullFixedS is a pull's time besides moving bytes (connections,
	// listings), without the StableFor wait.
	PullFixedS float64 `json:"pull_fixed_s"`
	// NetworkMBps caps the pull: the link to the e-chart server.
	NetworkMBps float64 `json:"network_mbps"`
	// MediumMBps caps restic's writes and reads on the medium.
	MediumMBps float64 `json:"medium_mbps"`
	// CheckFraction is the share of the repository each check reads
	// (check_read_data_subset, default 5%); the repository is taken to
	// be the size of the export (a lower bound: it also holds history).
	CheckFraction float64   `json:"check_fraction"`
	Boards        []Board   `json:"boards"`
	ExportsGB     []float64 `json:"exports_gb"`
	ChangesPct    []float64 `json:"changes_pct"`
}

// Load reads the embedded sizing.json and checks it.
func Load() (*Data, error) {
	var d Data
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("sizing.json: %w", err)
	}
	return &d, d.validate()
}

func (d *Data) validate() error {
	var errs []error
	for name, r := range d.Rates {
		if r.PullMBps <= 0 || r.BackupMBps <= 0 || r.CheckMBps <= 0 {
			errs = append(errs, fmt.Errorf("rates %q: every rate must be > 0", name))
		}
	}
	for _, b := range d.Boards {
		if _, ok := d.Rates[b.Proxy]; !ok {
			errs = append(errs, fmt.Errorf("board %q: no rates %q", b.Name, b.Proxy))
		}
		if b.Factor <= 0 || b.Source == "" {
			errs = append(errs, fmt.Errorf("board %q: factor must be > 0 and say where it comes from", b.Name))
		}
	}
	if d.NetworkMBps <= 0 || d.MediumMBps <= 0 || d.CheckFraction < 0 || len(d.Boards) == 0 {
		errs = append(errs, errors.New("network_mbps, medium_mbps, boards are required"))
	}
	return errors.Join(errs...)
}

// Estimate is one night on one board, in seconds.
type Estimate struct {
	Pull, Powered float64
}

// Estimate is the nightly pull and powered time for an export of
// exportGB (10^9 bytes) of which changePct percent is in files that are
// new or rewritten that night (a nightly database dump counts whole).
//
// Each CPU-bound rate is the proxy's divided by the board's factor, then
// capped by the network (pull) or the medium (backup, check). The
// board's extra cores are not credited: the proxy machine has 2, the
// boards 4, and the pull's server shared the proxy's cores.
func (d *Data) Estimate(b Board, exportGB, changePct float64) Estimate {
	r := d.Rates[b.Proxy]
	changedMB := exportGB * 1000 * changePct / 100
	pullRate := math.Min(d.NetworkMBps, r.PullMBps/b.Factor)
	backupRate := math.Min(d.MediumMBps, r.BackupMBps/b.Factor)
	checkRate := math.Min(d.MediumMBps, r.CheckMBps/b.Factor)
	return Estimate{
		Pull:    d.PullFixedS*b.Factor + changedMB/pullRate,
		Powered: d.FixedPoweredS*b.Factor + changedMB/backupRate + exportGB*1000*d.CheckFraction/checkRate,
	}
}

// Markdown is the sizing table and its assumptions, as bench/README.md
// shows them.
func (d *Data) Markdown() string {
	var b strings.Builder
	b.WriteString("**ESTIMATED** from the proxy machine (" + d.Measured + "), not measured on the boards.\n")
	b.WriteString("Each cell: pull / powered (the medium is powered while restic writes and checks).\n\n")
	b.WriteString("| export | nightly change | changed |")
	for _, bd := range d.Boards {
		b.WriteString(" " + bd.Name + " |")
	}
	b.WriteString("\n|---|---|---|" + strings.Repeat("---|", len(d.Boards)) + "\n")
	for _, gb := range d.ExportsGB {
		for _, pct := range d.ChangesPct {
			fmt.Fprintf(&b, "| %s GB | %s%% | %s GB |", num(gb), num(pct), num(gb*pct/100))
			for _, bd := range d.Boards {
				e := d.Estimate(bd, gb, pct)
				fmt.Fprintf(&b, " %s / %s |", Duration(e.Pull), Duration(e.Powered))
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\nAssumed per board (factor = how many times longer one of its cores takes than one of the proxy's):\n\n")
	for _, bd := range d.Boards {
		r := d.Rates[bd.Proxy]
		fmt.Fprintf(&b, "- **%s**: factor %s; rates of the `%s` proxy (%s): pull %s, backup %s, check %s MB/s here → %s, %s, %s MB/s on the board before caps. %s\n",
			bd.Name, num(bd.Factor), bd.Proxy, r.Note, num(r.PullMBps), num(r.BackupMBps), num(r.CheckMBps),
			num(r.PullMBps/bd.Factor), num(r.BackupMBps/bd.Factor), num(r.CheckMBps/bd.Factor), bd.Source)
	}
	fmt.Fprintf(&b, "- Caps: network to the e-chart server %s MB/s (1 GbE), medium %s MB/s (USB 3 HDD or RDX, sustained). "+
		"Fixed powered time %s s and fixed pull time %s s here, times the factor. Check reads %s%% of a repository the size of the export.\n",
		num(d.NetworkMBps), num(d.MediumMBps), num(d.FixedPoweredS), num(d.PullFixedS), num(d.CheckFraction*100))
	return b.String()
}

// Duration formats seconds for the table: "45 s", "12 min", "2.5 h".
func Duration(s float64) string {
	switch {
	case s < 90:
		return fmt.Sprintf("%.0f s", s)
	case s < 90*60:
		return fmt.Sprintf("%.0f min", s/60)
	default:
		return fmt.Sprintf("%.1f h", s/3600)
	}
}

// num prints a figure without trailing zeros.
func num(v float64) string {
	s := fmt.Sprintf("%.1f", v)
	if v >= 100 {
		s = fmt.Sprintf("%.0f", v)
	}
	return strings.TrimSuffix(s, ".0")
}
