// Command cycle measures one danzen cycle against stock restic doing the
// same backup, in the same run: a dump-like export (default ~2 GiB: one
// big SQL dump and many small files), then the same after ~5% of the dump
// changed. It prints the cycle time, the seconds the medium was powered,
// restic's own time for the same data, and the ratios the issue targets:
// powered ≤ restic alone + 15 s, and danzen's overhead over pull + restic
// ≤ 5%. Run as root (loop devices): go run ./bench/cycle
package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/bench/internal/benchkit"
)

func main() { benchkit.Main("bench/cycle", run) }

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

func run(d benchkit.Data) error {
	ctx := context.Background()
	w, err := benchkit.NewWorld(ctx, "cycle", d)
	if err != nil {
		return err
	}
	defer w.Close(d.Keep)
	env, g, dir, resticBin, pw := w.Env, w.GW, w.Dir, w.ResticBin, w.Password
	// The reference repository lives on the same file system as staging,
	// with the same password and settings restic defaults to.
	ref := filepath.Join(dir, "reference-repo")
	if out, err := benchkit.Restic(resticBin, ref, pw, "init").CombinedOutput(); err != nil {
		return fmt.Errorf("reference init: %v\n%s", err, out)
	}
	src := backup.SourceDir(env.Config.StagingDir, "emr")
	primary, copyTarget := filepath.Join(dir, "primary-repo"), filepath.Join(dir, "copy-target-repo")
	if out, err := benchkit.Restic(resticBin, primary, pw, "init").CombinedOutput(); err != nil {
		return fmt.Errorf("primary init: %v\n%s", err, out)
	}
	if out, err := benchkit.Restic(resticBin, copyTarget, pw, "init", "--from-repo", primary, "--from-password-file", pw, "--copy-chunker-params").CombinedOutput(); err != nil {
		return fmt.Errorf("copy target init: %v\n%s", err, out)
	}

	var rounds []round
	for i, name := range benchkit.Rounds {
		c, err := benchkit.RunRound(ctx, g, env.Export, i)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		r := round{name: name, cycle: c.Took, phases: c.Phases, powered: c.Medium.PoweredFor, added: benchkit.MB(c.Medium.Snapshots[0].DataAdded)}
		m := c.Report.Pulls[0]
		r.pull = m.Finished.Sub(m.Started)
		if r.resticAlone, r.aloneAdded, err = benchkit.StockBackup(benchkit.Restic(resticBin, ref, pw, "backup", "--host", "bench", "."), src); err != nil {
			return err
		}

		benchkit.DropCaches()
		s := time.Now()
		cmd := benchkit.Restic(resticBin, primary, pw, "backup", "--host", "bench", ".")
		cmd.Dir = src
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("primary backup: %v\n%s", err, out)
		}
		r.primaryBackup = time.Since(s)
		s = time.Now()
		if out, err := benchkit.Restic(resticBin, copyTarget, pw, "copy", "--from-repo", primary, "--from-password-file", pw).CombinedOutput(); err != nil {
			return fmt.Errorf("restic copy: %v\n%s", err, out)
		}
		r.copyToMedium = time.Since(s)
		rounds = append(rounds, r)
	}

	fmt.Printf("\n%-16s %7s %7s %8s %8s %7s %7s %8s %8s %9s\n", "round", "cycle", "pull", "powered", "attach+", "backup", "forget", "check", "detach+", "restic ref")
	for _, r := range rounds {
		p := r.phases
		fmt.Printf("%-16s %6.1fs %6.1fs %7.1fs %7.1fs %6.1fs %6.1fs %7.1fs %7.1fs %8.1fs\n", r.name, r.cycle.Seconds(), r.pull.Seconds(),
			r.powered.Seconds(), (p["power-on"] + p["attach"]).Seconds(), p["backup"].Seconds(), p["forget"].Seconds(), p["check"].Seconds(),
			(p["detach"] + p["power-off"]).Seconds(), r.resticAlone.Seconds())
	}
	fmt.Println("(attach+ = power-on, wait for the disk, mount, restic unlock; detach+ = sync, unmount, relay off, verify the cut)")
	fmt.Println()
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "MISS"
	}
	for _, r := range rounds {
		slack := r.powered - r.resticAlone
		work := r.pull + r.resticTime()
		own := r.cycle - work
		overhead := own.Seconds() / work.Seconds()
		fmt.Printf("%s: powered − restic alone = %+.1fs (target ≤ +15s: %s)\n", r.name, slack.Seconds(), verdict(slack <= 15*time.Second))
		fmt.Printf("  danzen's own time (power, disk, mount, unlock, sync, cut) = %.1fs = %.1f%% of pull + restic (target ≤ 5%%: %s)\n",
			own.Seconds(), 100*overhead, verdict(overhead <= 0.05))
		fmt.Printf("  added: danzen %s; reference %s\n", r.added, r.aloneAdded)
	}
	fmt.Println("\nAlternative: backup into a repository on staging, then `restic copy` to the medium (powered only for the copy):")
	for _, r := range rounds {
		fmt.Printf("  %-16s backup on staging %5.1fs (medium off), copy %5.1fs (medium on); direct backup on the medium %5.1fs\n",
			r.name, r.primaryBackup.Seconds(), r.copyToMedium.Seconds(), r.phases["backup"].Seconds())
	}
	fmt.Printf("\nloadavg at the end: %s", benchkit.LoadAvg())
	return nil
}
