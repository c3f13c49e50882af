// Command cycle measures one danzen cycle against stock restic doing the
// same backup, in the same run: a dump-like export (default ~2 GiB: one
// big SQL dump and many small files), then the same after ~5% of the dump
// changed. It prints the cycle time, the seconds the medium was powered,
// restic's own time for the same data, and the ratios the issue targets:
// powered ≤ restic alone + 15 s, and danzen's overhead over pull + restic
// ≤ 5%. Run as root (loop devices): go run ./bench/cycle
//
// -no-aes is the proxy for a CPU without AES instructions (Raspberry Pi
// 4): the benchmark runs itself again with GODEBUG=cpu.aes=off, which the
// gateway in this process (its pull, and the demo's SFTP server beside it)
// and the restic it starts all inherit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/bench/internal/benchkit"
	"github.com/danzen-gw/danzen/internal/bytesize"
)

// noAESGodebug switches Go's AES instructions off. The runtime and
// x/sys/cpu read GODEBUG only at start, hence the re-exec.
const noAESGodebug = "cpu.aes=off"

func main() {
	noAES := flag.Bool("no-aes", false, "proxy for a CPU without AES instructions (Raspberry Pi 4): run danzen and restic with GODEBUG="+noAESGodebug)
	benchkit.Main("bench/cycle", func(d benchkit.Data) error {
		if *noAES && !slices.Contains(strings.Split(os.Getenv("GODEBUG"), ","), noAESGodebug) {
			return reexecWithoutAES()
		}
		return run(d)
	})
}

// reexecWithoutAES replaces this process with itself under
// GODEBUG=cpu.aes=off; it returns only if that fails.
func reexecWithoutAES() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	godebug := noAESGodebug
	if cur := os.Getenv("GODEBUG"); cur != "" {
		godebug = cur + "," + godebug
	}
	// A second GODEBUG entry would not do: the first one wins, and the
	// new process would exec itself again, forever.
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GODEBUG=") })
	return syscall.Exec(self, os.Args, append(env, "GODEBUG="+godebug))
}

type round struct {
	name                 string
	cycle, pull, powered time.Duration
	phases               map[string]time.Duration // time from each phase event to the next, inside the powered window
	resticAlone          time.Duration            // stock restic backup of the same staging, timed here
	added, aloneAdded    string
	// The alternative layout: back up into a repository on the staging
	// disk, then `restic copy` the new snapshot to the medium, so the
	// medium is powered only for the copy.
	primaryBackup, copyToMedium time.Duration
}

// resticTime is what restic's backup, forget and check spent inside the
// cycle; everything else in the cycle is danzen's own.
func (r round) resticTime() time.Duration {
	return r.phases["backup"] + r.phases["forget"] + r.phases["check"]
}

func run(d benchkit.Data) (err error) {
	ctx := context.Background()
	w, err := benchkit.NewWorld(ctx, "cycle", d)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, w.Close(d.Keep)) }()
	repos, err := initRepos(w)
	if err != nil {
		return err
	}
	if err := printCipher(ctx, w); err != nil {
		return err
	}
	var rounds []round
	for i, name := range benchkit.Rounds {
		r, err := measureRound(ctx, w, repos, i, name)
		if err != nil {
			return err
		}
		rounds = append(rounds, r)
	}
	printPhases(rounds)
	printTargets(rounds)
	printAlternative(rounds)
	fmt.Printf("\nloadavg at the end: %s", benchkit.LoadAvg())
	return nil
}

// printCipher says what the pull negotiates with the demo's SFTP server,
// on a connection of its own before anything is timed.
func printCipher(ctx context.Context, w *benchkit.World) error {
	cfg := w.Env.Config
	src := cfg.Sources[0]
	c, err := pull.Connect(ctx, src, cfg.KeyPath(src.KeyFile))
	if err != nil {
		return fmt.Errorf("connect to see the cipher: %w", err)
	}
	fmt.Printf("GODEBUG=%q; the pull offers %s first and negotiated %s\n", os.Getenv("GODEBUG"), pull.Ciphers()[0], c.Cipher())
	return c.Close()
}

// repos are the stock-restic repositories beside the medium: the
// reference for the same backup, and the primary and copy target of the
// alternative layout. All live on the staging file system, with the same
// password and the settings restic defaults to.
type repos struct {
	src, ref, primary, copyTarget string
}

func initRepos(w *benchkit.World) (repos, error) {
	r := repos{src: pull.SourceDir(w.Env.Config.StagingDir, "emr"), ref: filepath.Join(w.Dir, "reference-repo"),
		primary: filepath.Join(w.Dir, "primary-repo"), copyTarget: filepath.Join(w.Dir, "copy-target-repo")}
	bin, pw := w.ResticBin, w.Password
	if out, err := benchkit.Restic(bin, r.ref, pw, "init").CombinedOutput(); err != nil {
		return r, fmt.Errorf("reference init: %v\n%s", err, out)
	}
	if out, err := benchkit.Restic(bin, r.primary, pw, "init").CombinedOutput(); err != nil {
		return r, fmt.Errorf("primary init: %v\n%s", err, out)
	}
	if out, err := benchkit.Restic(bin, r.copyTarget, pw, "init", "--from-repo", r.primary, "--from-password-file", pw, "--copy-chunker-params").CombinedOutput(); err != nil {
		return r, fmt.Errorf("copy target init: %v\n%s", err, out)
	}
	return r, nil
}

// measureRound runs round i through danzen, then the same data through
// stock restic alone and through the alternative layout.
func measureRound(ctx context.Context, w *benchkit.World, rp repos, i int, name string) (round, error) {
	bin, pw := w.ResticBin, w.Password
	c, err := benchkit.RunRound(ctx, w.GW, w.Env.Export, i)
	if err != nil {
		return round{}, fmt.Errorf("%s: %w", name, err)
	}
	r := round{name: name, cycle: c.Took, phases: c.Phases, powered: c.Medium.PoweredFor, added: bytesize.Format(c.Medium.Snapshots[0].DataAdded)}
	m := c.Report.Pulls[0]
	r.pull = m.Finished.Sub(m.Started)
	if r.resticAlone, r.aloneAdded, err = benchkit.StockBackup(benchkit.Restic(bin, rp.ref, pw, "backup", "--host", "bench", "."), rp.src); err != nil {
		return r, err
	}

	benchkit.DropCaches()
	s := time.Now()
	cmd := benchkit.Restic(bin, rp.primary, pw, "backup", "--host", "bench", ".")
	cmd.Dir = rp.src
	if out, err := cmd.CombinedOutput(); err != nil {
		return r, fmt.Errorf("primary backup: %v\n%s", err, out)
	}
	r.primaryBackup = time.Since(s)
	s = time.Now()
	if out, err := benchkit.Restic(bin, rp.copyTarget, pw, "copy", "--from-repo", rp.primary, "--from-password-file", pw).CombinedOutput(); err != nil {
		return r, fmt.Errorf("restic copy: %v\n%s", err, out)
	}
	r.copyToMedium = time.Since(s)
	return r, nil
}

// printPhases is the table of where each cycle's time went.
func printPhases(rounds []round) {
	fmt.Printf("\n%-16s %7s %7s %8s %8s %7s %7s %8s %8s %9s\n", "round", "cycle", "pull", "powered", "attach+", "backup", "forget", "check", "detach+", "restic ref")
	for _, r := range rounds {
		p := r.phases
		fmt.Printf("%-16s %6.1fs %6.1fs %7.1fs %7.1fs %6.1fs %6.1fs %7.1fs %7.1fs %8.1fs\n", r.name, r.cycle.Seconds(), r.pull.Seconds(),
			r.powered.Seconds(), (p["power-on"] + p["attach"]).Seconds(), p["backup"].Seconds(), p["forget"].Seconds(), p["check"].Seconds(),
			(p["detach"] + p["power-off"]).Seconds(), r.resticAlone.Seconds())
	}
	fmt.Println("(attach+ = power-on, wait for the disk, mount, restic unlock; detach+ = sync, unmount, relay off, verify the cut)")
	fmt.Println()
}

// printTargets compares each round with the targets.
func printTargets(rounds []round) {
	for _, r := range rounds {
		slack := r.powered - r.resticAlone
		work := r.pull + r.resticTime()
		own := r.cycle - work
		overhead := own.Seconds() / work.Seconds()
		fmt.Printf("%s: powered − restic alone = %+.1fs (target ≤ +15s: %s)\n", r.name, slack.Seconds(), benchkit.Verdict(slack <= 15*time.Second))
		fmt.Printf("  danzen's own time (power, disk, mount, unlock, sync, cut) = %.1fs = %.1f%% of pull + restic (target ≤ 5%%: %s)\n",
			own.Seconds(), 100*overhead, benchkit.Verdict(overhead <= 0.05))
		fmt.Printf("  added: danzen %s; reference %s\n", r.added, r.aloneAdded)
	}
}

// printAlternative shows the backup-then-copy layout beside the direct one.
func printAlternative(rounds []round) {
	fmt.Println("\nAlternative: backup into a repository on staging, then `restic copy` to the medium (powered only for the copy):")
	for _, r := range rounds {
		fmt.Printf("  %-16s backup on staging %5.1fs (medium off), copy %5.1fs (medium on); direct backup on the medium %5.1fs\n",
			r.name, r.primaryBackup.Seconds(), r.copyToMedium.Seconds(), r.phases["backup"].Seconds())
	}
}
