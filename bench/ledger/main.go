// Command ledger measures what a long-lived evidence ledger costs danzend:
// it writes a synthetic ledger of ten years of nightly cycles over three
// media and one of a month, then on each runs danzend itself (start-up
// until the page answers, the dashboard as a signed-in user, /metrics,
// one live tick) and `danzen ledger verify`, and beside them the status
// in-process: a full read (status.Compute, what every request cost before
// the tracker) against the tracker. See bench/README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/bench/internal/benchkit"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/status"
)

// media are the three disks of the synthetic gateway.
var media = []string{"disk-a", "disk-b", "disk-c"}

func main() {
	years := flag.Int("years", 10, "length of the long ledger in years")
	runs := flag.Int("runs", 30, "requests per figure; the median (p50) is reported")
	keep := flag.Bool("keep", false, "keep the working directory (under /var/tmp)")
	flag.Parse()
	if err := run(*years, *runs, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "ledger-bench:", err)
		os.Exit(1)
	}
}

// figures are one ledger's results.
type figures struct {
	name                    string
	entries                 uint64
	ledgerBytes, checkpoint int64
	written                 time.Duration // writing the synthetic ledger (tmpfs)
	coldStart, start        time.Duration // danzend until the page answers: without and with a checkpoint
	dashboard, metrics      []time.Duration
	live                    []time.Duration
	verify                  time.Duration // danzen ledger verify
	compute, tracker        []time.Duration
	trackerOpen             time.Duration // NewTracker + Open + Start, with a checkpoint
}

func run(years, runs int, keep bool) error {
	work, err := os.MkdirTemp("/var/tmp", "danzen-bench-ledger-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("working directory:", work)
	} else {
		defer func() { _ = os.RemoveAll(work) }() // a leftover under /var/tmp is the only cost
	}
	fmt.Printf("load before: %s", benchkit.LoadAvg())
	bins := map[string]string{"danzend": filepath.Join(work, "danzend"), "danzen": filepath.Join(work, "danzen")}
	for name, out := range bins {
		if b, err := exec.Command("go", "build", "-o", out, "./cmd/"+name).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", name, err, b)
		}
	}
	last := time.Now().In(jst).AddDate(0, 0, -1)
	long, err := measure(work, bins, fmt.Sprintf("%d years", years), last.AddDate(-years, 0, 0), last, runs)
	if err != nil {
		return err
	}
	month, err := measure(work, bins, "1 month", last.AddDate(0, -1, 0), last, runs)
	if err != nil {
		return err
	}
	report(long, month)
	fmt.Printf("load after: %s", benchkit.LoadAvg())
	fmt.Printf("ledger-bench: entries=%d dashboard_p50_ms=%.1f metrics_p50_ms=%.1f start_s=%.2f verify_s=%.2f growth=%.2f\n",
		long.entries, ms(p50(long.dashboard)), ms(p50(long.metrics)), long.start.Seconds(), long.verify.Seconds(),
		float64(p50(long.dashboard))/float64(p50(month.dashboard)))
	return nil
}

// measure writes the ledger from first to last and takes every figure on it.
func measure(work string, bins map[string]string, name string, first, last time.Time, runs int) (figures, error) {
	f := figures{name: name}
	dir := filepath.Join(work, strings.ReplaceAll(name, " ", "-"))
	cfg, err := stateDir(dir)
	if err != nil {
		return f, err
	}
	fmt.Printf("%s: writing the ledger …\n", name)
	t0 := time.Now()
	if f.entries, err = writeOnTmpfs(cfg.LedgerDir, first, last); err != nil {
		return f, err
	}
	f.written = time.Since(t0)
	fmt.Printf("%s: %d entries in %s; danzend …\n", name, f.entries, f.written.Round(time.Second))
	if err := f.daemon(bins["danzend"], dir, runs); err != nil {
		return f, err
	}
	fmt.Printf("%s: in-process status and verify …\n", name)
	if err := f.inProcess(cfg.LedgerDir, runs); err != nil {
		return f, err
	}
	start := time.Now()
	if out, err := exec.Command(bins["danzen"], "ledger", "verify", "--dir", cfg.LedgerDir).CombinedOutput(); err != nil {
		return f, fmt.Errorf("danzen ledger verify: %v\n%s", err, out)
	}
	f.verify = time.Since(start)
	f.ledgerBytes = size(filepath.Join(cfg.LedgerDir, ledger.FileName))
	f.checkpoint = size(filepath.Join(cfg.LedgerDir, status.CheckpointFileName))
	return f, nil
}

// stateDir makes danzend's state directory with three disk media behind
// simulated relays (nothing to power, nothing attached) and a schedule
// that does not fall during the run.
func stateDir(dir string) (*config.Config, error) {
	loaded, err := gateway.LoadOrCreate(dir)
	if err != nil {
		return nil, err
	}
	cfg := loaded.Config
	cfg.Schedule = "0 0 1 1 *"
	cfg.Rotation.PerCycle = 0
	for _, m := range media {
		cfg.Relays = append(cfg.Relays, relay.Spec{Name: "relay-" + m, Driver: relay.DriverSimulated})
		cfg.Media = append(cfg.Media, config.Medium{Name: m, Type: config.MediumDisk, Relay: "relay-" + m,
			Disk: &disk.Spec{Name: m, Serial: "BENCH-" + m, MediaID: "DANZEN-" + m}, PasswordFile: m + ".restic-password"})
	}
	return cfg, config.Save(filepath.Join(dir, "config.json"), cfg)
}

// writeOnTmpfs writes the ledger in memory (an fsync per entry on disk
// would take an hour) and moves it into dir.
func writeOnTmpfs(dir string, first, last time.Time) (uint64, error) {
	shm, err := os.MkdirTemp("/dev/shm", "danzen-bench-ledger-")
	if err != nil {
		return 0, err
	}
	defer func() { _ = os.RemoveAll(shm) }() // tmpfs: gone at the next boot anyway
	n, err := writeLedger(shm, first, last, media)
	if err != nil {
		return n, err
	}
	for _, name := range []string{ledger.FileName, ledger.HeadFileName} {
		if out, err := exec.Command("cp", filepath.Join(shm, name), dir).CombinedOutput(); err != nil {
			return n, fmt.Errorf("cp %s: %v\n%s", name, err, out)
		}
	}
	return n, nil
}

// daemon runs danzend twice: the first start reads the whole ledger (no
// checkpoint yet) and creates the vendor account; the second is the one
// every later start is, and serves the measured requests.
func (f *figures) daemon(bin, dir string, runs int) error {
	d, took, err := startDaemon(bin, dir)
	if err != nil {
		return err
	}
	f.coldStart = took
	if err := errors.Join(d.setUp(), d.stop()); err != nil {
		return err
	}
	if d, f.start, err = startDaemon(bin, dir); err != nil {
		return err
	}
	err = f.requests(d, runs)
	return errors.Join(err, d.stop())
}

// requests times the dashboard, /metrics and the live view.
func (f *figures) requests(d *daemon, runs int) error {
	if err := d.signIn(); err != nil {
		return err
	}
	if _, page, err := d.get("/"); err != nil || !strings.Contains(page, `data-medium="disk-c"`) {
		return fmt.Errorf("the dashboard does not show the media (%v):\n%.2000s", err, page)
	}
	for range runs {
		for _, p := range []struct {
			path string
			into *[]time.Duration
		}{{"/", &f.dashboard}, {"/metrics", &f.metrics}} {
			took, _, err := d.get(p.path)
			if err != nil {
				return err
			}
			*p.into = append(*p.into, took)
		}
		took, err := d.liveTick()
		if err != nil {
			return err
		}
		f.live = append(f.live, took)
	}
	return nil
}

// inProcess times the status as danzend computed it for every request
// before (a full read) and as the tracker gives it, and the tracker's
// start from its checkpoint.
func (f *figures) inProcess(dir string, runs int) error {
	now := time.Now()
	for range min(runs, 5) {
		start := time.Now()
		if _, err := status.Compute(dir, media, now); err != nil {
			return err
		}
		f.compute = append(f.compute, time.Since(start))
	}
	start := time.Now()
	tr := status.NewTracker(dir, status.TrackerOptions{})
	l, err := ledger.OpenWith(dir, tr.Hook(ledger.Options{}))
	if err != nil {
		return err
	}
	tr.Start()
	f.trackerOpen = time.Since(start)
	for range runs {
		start := time.Now()
		if _, err := tr.Status(media, time.Now()); err != nil {
			return errors.Join(err, l.Close())
		}
		f.tracker = append(f.tracker, time.Since(start))
	}
	return errors.Join(l.Close(), tr.Close())
}

func report(fs ...figures) {
	fmt.Printf("\n| | %s | %s |\n|---|---|---|\n", fs[0].name, fs[1].name)
	row := func(what string, v func(figures) string) {
		fmt.Printf("| %s | %s | %s |\n", what, v(fs[0]), v(fs[1]))
	}
	row("entries", func(f figures) string { return fmt.Sprint(f.entries) })
	row("ledger.jsonl", func(f figures) string { return bytesize.Format(f.ledgerBytes) })
	row("status checkpoint", func(f figures) string { return bytesize.Format(f.checkpoint) })
	row("danzend start, first (no checkpoint)", func(f figures) string { return secs(f.coldStart) })
	row("danzend start", func(f figures) string { return secs(f.start) })
	row("dashboard p50 / p90", func(f figures) string { return dist(f.dashboard) })
	row("/metrics p50 / p90", func(f figures) string { return dist(f.metrics) })
	row("live tick p50 / p90", func(f figures) string { return dist(f.live) })
	row("danzen ledger verify", func(f figures) string { return secs(f.verify) })
	row("status.Compute p50 (every request, before)", func(f figures) string { return dist(f.compute) })
	row("Tracker.Status p50 / p90", func(f figures) string { return dist(f.tracker) })
	row("tracker open + start (checkpoint)", func(f figures) string { return secs(f.trackerOpen) })
	row("ledger written in (tmpfs)", func(f figures) string { return secs(f.written) })
	fmt.Println()
}

func p50(d []time.Duration) time.Duration { return pct(d, 50) }

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func dist(d []time.Duration) string {
	return fmt.Sprintf("%.2f / %.2f ms", ms(p50(d)), ms(pct(d, 90)))
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func size(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return fi.Size()
}
