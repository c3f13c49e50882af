// Command restore measures a restore through danzen against stock restic
// restoring the same snapshot from the same disk, in the same run: the
// dump-like data set (default ~2 GiB) is backed up by one cycle, then each
// round restores it cold (caches dropped) both ways. It prints the ratio
// the issue targets — danzen's restore ≤ 1.05 × stock restic plus the
// power-on time — and the time from the request to the first restored byte
// (target ≤ 30 s including power-on). Run as root: go run ./bench/restore
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/bench/internal/benchkit"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/media/disk"
)

func main() {
	rounds := flag.Int("rounds", 2, "restores each way")
	benchkit.Main("bench/restore", func(d benchkit.Data) error { return run(d, *rounds) })
}

type result struct {
	danzen, stock                  time.Duration // restore proper
	powerOn, firstByte, total, cut time.Duration // danzen: from the request
	find, restic, verify           time.Duration // danzen's phases: mount + list snapshots, restic restore, SHA-256 check
	bytes                          int64
}

func run(d benchkit.Data, rounds int) (err error) {
	ctx := context.Background()
	w, err := benchkit.NewWorld(ctx, "restore", d)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, w.Close(d.Keep)) }()
	rep, err := w.GW.RunCycle(ctx, nil)
	if err != nil {
		return fmt.Errorf("cycle: %w", err)
	}
	snap := rep.Media[0].Snapshots[0]
	fmt.Printf("backed up %s in %d files (snapshot %.8s)\n", bytesize.Format(snap.TotalBytes), snap.Files, snap.ID)

	var res []result
	for i := 0; i < rounds; i++ {
		var r result
		// Stock restic, as a technician would: power and mount the disk
		// by hand, restore, no verification pass (restic's default).
		benchkit.DropCaches()
		d, err := stockRestore(w, snap.ID, filepath.Join(w.Dir, fmt.Sprintf("stock-%d", i)))
		if err != nil {
			return err
		}
		r.stock = d

		benchkit.DropCaches()
		at := map[string]time.Time{}
		rr, err := w.GW.Restore(ctx, gateway.RestoreOptions{Medium: "disk-a", Snapshot: snap.ID, Actor: "bench"}, func(ev backup.CycleEvent) {
			if ev.Restic == nil && ev.Pull == nil {
				if _, ok := at[ev.Phase]; !ok {
					at[ev.Phase] = ev.Time
				}
			}
		})
		if err != nil {
			return fmt.Errorf("danzen restore: %w", err)
		}
		if !rr.CutVerified || rr.FilesVerified != rr.Files {
			return fmt.Errorf("danzen restore: cut verified %v, %d/%d files verified", rr.CutVerified, rr.FilesVerified, rr.Files)
		}
		ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
		r.powerOn, r.firstByte, r.total = ms(rr.PowerOnMS), ms(rr.FirstByteMS), ms(rr.RestoreMS)
		r.danzen = r.total - r.powerOn
		r.cut = ms(rr.TotalMS - rr.RestoreMS)
		r.bytes = rr.Bytes
		r.find, r.restic, r.verify = at["restore"].Sub(at["attach"]), at["verify"].Sub(at["restore"]), at["detach"].Sub(at["verify"])
		if err := os.RemoveAll(filepath.Join(w.GW.RestoreArea(), rr.ID)); err != nil {
			return err
		}
		res = append(res, r)
	}

	fmt.Printf("\n%-6s %9s %9s %9s %11s %9s %9s %7s\n", "round", "power-on", "1st byte", "danzen", "incl. verify", "stock", "cut", "ratio")
	var worst float64
	var worstFirst time.Duration
	for i, r := range res {
		ratio := r.danzen.Seconds() / r.stock.Seconds()
		worst = max(worst, ratio)
		worstFirst = max(worstFirst, r.firstByte)
		fmt.Printf("%-6d %8.1fs %8.1fs %8.1fs %11s %8.1fs %8.1fs %7.3f\n", i+1, r.powerOn.Seconds(), r.firstByte.Seconds(),
			r.danzen.Seconds(), "yes", r.stock.Seconds(), r.cut.Seconds(), ratio)
	}
	fmt.Printf("\n%-6s %14s %14s %14s\n", "round", "mount+list", "restic restore", "SHA-256 check")
	for i, r := range res {
		fmt.Printf("%-6d %13.1fs %13.1fs %13.1fs\n", i+1, r.find.Seconds(), r.restic.Seconds(), r.verify.Seconds())
	}
	fmt.Println("(danzen = request → every file restored and its SHA-256 checked against the pull manifest, minus power-on;")
	fmt.Println(" stock = restic restore alone on the mounted disk; cut = detach, relay off, device gone, after the restore)")
	fmt.Printf("\nworst ratio danzen/stock %.3f (target ≤ 1.05: %s)\n", worst, benchkit.Verdict(worst <= 1.05))
	fmt.Printf("worst time to first byte incl. power-on %.1fs (target ≤ 30s: %s)\n", worstFirst.Seconds(), benchkit.Verdict(worstFirst <= 30*time.Second))
	fmt.Printf("loadavg at the end: %s", benchkit.LoadAvg())
	return nil
}

// stockRestore powers disk-a by hand, mounts it read-only and times stock
// restic restoring snapshot id into target.
func stockRestore(w *benchkit.World, id, target string) (took time.Duration, err error) {
	p := w.Env.Hardware.Powers["disk-a"]
	if err := p.SetPower(true); err != nil {
		return 0, err
	}
	defer func() { err = errors.Join(err, p.SetPower(false)) }()
	mnt := filepath.Join(w.Dir, "stock-mnt")
	if err := os.MkdirAll(mnt, 0o700); err != nil {
		return 0, err
	}
	if out, err := exec.Command("mount", "-o", "ro", p.Loop().Path, mnt).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("mount: %v %s", err, out)
	}
	defer func() {
		if out, uerr := exec.Command("umount", mnt).CombinedOutput(); uerr != nil {
			err = errors.Join(err, fmt.Errorf("umount: %v %s", uerr, out))
		}
	}()
	defer func() { err = errors.Join(err, os.RemoveAll(target)) }()
	start := time.Now()
	cmd := benchkit.Restic(w.ResticBin, filepath.Join(mnt, disk.RepoDir), w.Password, "--no-lock", "restore", id, "--target", target)
	cmd.Env = append(cmd.Env, "RESTIC_CACHE_DIR="+filepath.Join(w.Dir, "stock-cache"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("stock restic restore: %v\n%s", err, out)
	}
	return time.Since(start), nil
}
