// Package benchkit is what the benchmarks under bench/ share: a demo
// gateway world with a prepared medium, stock restic run beside danzen,
// and cold caches.
package benchkit

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/demo"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/bytesize"
)

// Data is the dump-like export a benchmark generates (one big SQL dump
// and many small files) and whether its working directory is kept.
type Data struct {
	DumpBytes  int64
	SmallFiles int
	Keep       bool
}

// Main runs the benchmark called name on the Data its flags set (after
// any flags the benchmark defined itself) and exits with status 1 and the
// error on stderr if it fails.
func Main(name string, run func(Data) error) {
	var d Data
	flag.Int64Var(&d.DumpBytes, "dump-bytes", 1600<<20, "size of the SQL dump")
	flag.IntVar(&d.SmallFiles, "small-files", 12000, "number of small files (4–64 KiB)")
	flag.BoolVar(&d.Keep, "keep", false, "keep the working directory")
	flag.Parse()
	if err := run(d); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// World is a demo export on an in-process SFTP server, one file-backed
// disk "disk-a" behind a fake relay, prepared, and the gateway on it.
type World struct {
	Env       *demo.Env
	GW        *gateway.Gateway
	Dir       string
	ResticBin string
	Password  string // disk-a's password file
	close     []func() error
}

// NewWorld builds a World in a new directory under /var/tmp (not tmpfs:
// the data set is the size of a real dump). Run as root (loop devices).
func NewWorld(ctx context.Context, name string, d Data) (*World, error) {
	dumpBytes, small := d.DumpBytes, d.SmallFiles
	bin := os.Getenv("DANZEN_RESTIC")
	if bin == "" {
		bin = "bin/restic"
	}
	bin, _ = filepath.Abs(bin)
	dir, err := os.MkdirTemp("/var/tmp", "danzen-bench-"+name+"-")
	if err != nil {
		return nil, err
	}
	w := &World{Dir: dir, ResticBin: bin}
	log := slog.New(slog.DiscardHandler)
	fmt.Printf("generating a %s dump + %d small files in %s …\n", bytesize.Format(dumpBytes), small, dir)
	t0 := time.Now()
	env, err := demo.Setup(ctx, demo.Options{Dir: dir, DumpBytes: dumpBytes, SmallFiles: small,
		Media: []string{"disk-a"}, DiskSize: 3 * (dumpBytes + int64(small)*40<<10), ResticBinary: bin}, log)
	if err != nil {
		return nil, errors.Join(err, w.Close(false))
	}
	w.Env = env
	w.close = append(w.close, env.Close)
	fmt.Printf("generated in %s\n", time.Since(t0).Round(time.Second))
	g, err := gateway.Open(ctx, env.Config, gateway.Options{RelaySources: env.Hardware.Sources(), Logger: log})
	if err != nil {
		return nil, errors.Join(err, w.Close(false))
	}
	w.GW = g
	w.close = append(w.close, g.Close)
	if _, _, err := g.NewPassword("disk-a"); err != nil {
		return nil, errors.Join(err, w.Close(false))
	}
	if _, err := g.PrepareMedium(ctx, "disk-a", false, nil); err != nil {
		return nil, errors.Join(err, w.Close(false))
	}
	w.Password = env.Config.KeyPath("disk-a.restic-password")
	return w, nil
}

// Close tears the world down; keep leaves the directory for a look.
func (w *World) Close(keep bool) error {
	var errs []error
	for i := len(w.close) - 1; i >= 0; i-- {
		errs = append(errs, w.close[i]())
	}
	w.close = nil
	if !keep {
		errs = append(errs, os.RemoveAll(w.Dir))
	}
	return errors.Join(errs...)
}

// Restic is stock restic on repo with the password file, quiet, with a
// cache next to the repository.
func Restic(bin, repo, pwFile string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, append([]string{"-r", repo, "--password-file", pwFile}, args...)...)
	cmd.Env = append(os.Environ(), "RESTIC_PROGRESS_FPS=0.1", "RESTIC_CACHE_DIR="+repo+"-cache")
	return cmd
}

// DropCaches makes the next read cold, as a nightly run or an emergency
// restore is. When it cannot (not root), it says so on stderr: the
// figures that follow were measured warm.
func DropCaches() {
	err := exec.Command("sync").Run()
	if err == nil {
		err = os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "warning: cannot drop the page cache, the next figure is warm: %v\n", err)
	}
}

// LoadAvg is /proc/loadavg, printed with the results: a busy machine
// makes every ratio worse.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown (" + err.Error() + ")\n"
	}
	return string(b)
}

// Rounds are the cycles the backup benchmarks compare: the first backup,
// then one after ~5% of the dump changed.
var Rounds = []string{"first backup", "after 5% change"}

// Cycle is one cycle, timed from cold caches.
type Cycle struct {
	Report *backup.CycleReport
	Medium backup.MediumReport // the first medium's
	Took   time.Duration
	Phases map[string]time.Duration
}

// RunRound runs round i of Rounds on g; before the second, ~5% of the
// dump in export changes. A medium whose cut is not verified fails it.
func RunRound(ctx context.Context, g *gateway.Gateway, export string, i int) (Cycle, error) {
	if i == 1 {
		if err := demo.ChangeDump(export, 0.05, 2); err != nil {
			return Cycle{}, err
		}
	}
	DropCaches()
	start := time.Now()
	timer := NewPhaseTimer()
	rep, err := g.RunCycle(ctx, timer.Event)
	if err != nil {
		return Cycle{}, fmt.Errorf("cycle: %w", err)
	}
	c := Cycle{Report: rep, Medium: rep.Media[0], Took: time.Since(start), Phases: timer.Done()}
	if !c.Medium.CutVerified {
		return c, fmt.Errorf("cut not verified: %s", c.Medium.CutReason)
	}
	return c, nil
}

// StockBackup runs cmd (stock restic's backup command) in dir from
// cold caches; it returns how long it took and what restic says it added.
func StockBackup(cmd *exec.Cmd, dir string) (time.Duration, string, error) {
	DropCaches()
	start := time.Now()
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, "", fmt.Errorf("reference backup: %v\n%s", err, out)
	}
	return time.Since(start), LastLine(string(out), "Added to the repository"), nil
}

// PhaseTimer adds up the time a cycle spends in each phase, from one
// phase event to the next (pull and restic progress are not phases).
type PhaseTimer struct {
	Phases map[string]time.Duration
	last   string
	lastT  time.Time
}

// NewPhaseTimer returns an empty timer.
func NewPhaseTimer() *PhaseTimer { return &PhaseTimer{Phases: map[string]time.Duration{}} }

// Event is the cycle's event callback.
func (p *PhaseTimer) Event(ev backup.CycleEvent) {
	if ev.Phase == "pull" || ev.Restic != nil {
		return
	}
	if p.last != "" {
		p.Phases[p.last] += ev.Time.Sub(p.lastT)
	}
	p.last, p.lastT = ev.Phase, ev.Time
}

// Done closes the last phase at now.
func (p *PhaseTimer) Done() map[string]time.Duration {
	if p.last != "" {
		p.Phases[p.last] += time.Since(p.lastT)
		p.last = ""
	}
	return p.Phases
}

// LastLine is the last line of restic's text output containing s
// ("Added to the repository"), trimmed.
func LastLine(out, s string) string {
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			line = strings.TrimSpace(l)
		}
	}
	return line
}

// Verdict is how a figure is marked against its target.
func Verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}
