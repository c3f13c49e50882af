package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/danzen-gw/danzen/gokrazy/build"
)

// runImage: `danzen image push HOST` builds the update payload of an
// instance and installs it on a running gateway (inactive root, switch,
// reboot), then waits for the new build to answer.
func runImage(ctx context.Context, log *slog.Logger, args []string) error {
	if len(args) == 0 || args[0] != "push" {
		return usageError{"usage: danzen image push [--instance gokrazy/danzen-amd64] [--port P] HOST"}
	}
	fs := flag.NewFlagSet("image push", flag.ContinueOnError)
	instDir := fs.String("instance", "gokrazy/danzen-rpi", "gokrazy instance directory")
	port := fs.String("port", "", "the device's gokrazy web port (default: the instance's)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 1 {
		return usageError{"usage: danzen image push [--instance DIR] [--port P] HOST"}
	}
	host := fs.Arg(0)
	inst, err := build.LoadInstance(*instDir)
	if err != nil {
		return err
	}
	out, err := os.MkdirTemp("", "danzen-update-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(out)
	res, err := build.BuildUpdate(ctx, inst, out, build.Options{Logger: log})
	if err != nil {
		return err
	}
	fmt.Printf("%s: 更新を送信中 / pushing build %s (root %.1f MiB)…\n", host, res.BuildTimestamp, float64(res.RootSize)/(1<<20))
	if err := build.Push(ctx, inst, res, host, *port, log); err != nil {
		return err
	}
	fmt.Printf("%s: 新しいビルドで起動しました / now runs build %s\n", host, res.BuildTimestamp)
	return nil
}
