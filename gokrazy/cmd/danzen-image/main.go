// Command danzen-image builds danzen's gokrazy disk images from the instance
// configurations in gokrazy/, and can push an update to a running device.
//
//	danzen-image [-out build/] [-size 2G] INSTANCE...       full images + update payloads
//	danzen-image -update-only INSTANCE...                   update payloads only
//	danzen-image -push HOST INSTANCE                        build, then update HOST
//
// INSTANCE is a directory with config.json, or a name under gokrazy/
// (danzen-amd64, danzen-rpi).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/danzen-gw/danzen/gokrazy/build"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "danzen-image:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("danzen-image", flag.ContinueOnError)
	out := fs.String("out", "build", "output directory")
	size := fs.String("size", "2G", "full image size (bytes, or with K/M/G suffix); /perm fills the rest")
	updateOnly := fs.Bool("update-only", false, "build only the root and boot file systems for an update")
	push := fs.String("push", "", "after building, update the device at this host (name or IP)")
	port := fs.String("port", "", "web interface port of the device to push to (default: the instance's Update.HTTPPort)")
	keep := fs.String("workdir", "", "keep intermediate files here instead of a temporary directory")
	verbose := fs.Bool("v", false, "log every go command")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if fs.NArg() == 0 {
		return errors.New("name at least one instance, e.g. danzen-amd64")
	}
	if *push != "" && fs.NArg() != 1 {
		return errors.New("-push updates one device: name exactly one instance")
	}
	imageSize, err := parseSize(*size)
	if err != nil {
		return err
	}

	for _, name := range fs.Args() {
		inst, err := build.LoadInstance(instanceDir(name))
		if err != nil {
			return err
		}
		opts := build.Options{
			Logger:    log,
			ImageSize: imageSize,
			NoImage:   *updateOnly || *push != "",
		}
		if *keep != "" {
			opts.WorkDir = filepath.Join(*keep, inst.Name)
		}
		start := time.Now()
		res, err := build.Build(ctx, inst, *out, opts)
		if err != nil {
			return err
		}
		fmt.Printf("%s (%s): built in %s\n", inst.Name, res.GOARCH, time.Since(start).Round(time.Second))
		if res.Image != "" {
			fmt.Printf("  image  %s (%d MiB, sparse)\n", res.Image, res.ImageSize>>20)
		}
		fmt.Printf("  root   %s (%.1f MiB squashfs)\n  boot   %s (%.1f MiB FAT16)\n",
			res.Root, float64(res.RootSize)/(1<<20), res.Boot, float64(res.BootSize)/(1<<20))
		for _, p := range res.Programs {
			fmt.Printf("  %-16s %6.1f MiB  %s\n", p.Path, float64(p.Size)/(1<<20), p.Module)
		}
		if *push == "" {
			continue
		}
		if err := build.Push(ctx, inst, res, *push, *port, log); err != nil {
			return err
		}
		fmt.Printf("%s now runs build %s\n", *push, res.BuildTimestamp)
	}
	return nil
}

// instanceDir accepts a path or a bare name under gokrazy/.
func instanceDir(name string) string {
	if strings.ContainsRune(name, filepath.Separator) {
		return name
	}
	if _, err := os.Stat(filepath.Join(name, "config.json")); err == nil {
		return name
	}
	return filepath.Join("gokrazy", name)
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("-size %q: want a positive number of bytes, optionally with K, M or G", s)
	}
	return n * mult, nil
}
