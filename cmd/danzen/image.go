package main

import (
	"context"
	"flag"
	"os"

	"github.com/danzen-gw/danzen/gokrazy/build"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/msg"
)

// runImage: `danzen image push HOST` builds the update payload of an
// instance and installs it on a running gateway (inactive root, switch,
// reboot), then waits for the new build to answer.
func runImage(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 || args[0] != "push" {
		return badUsage("image")
	}
	fs := flag.NewFlagSet("image push", flag.ContinueOnError)
	instDir := fs.String("instance", "gokrazy/danzen-rpi", "gokrazy instance directory")
	port := fs.String("port", "", "the device's gokrazy web port (default: the instance's)")
	if err := fs.Parse(args[1:]); err != nil {
		return flagError(err)
	}
	if fs.NArg() != 1 {
		return badUsage("image")
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
	defer func() {
		if err := os.RemoveAll(out); err != nil {
			c.log.Warn("cannot remove the update's temporary directory", "dir", out, "err", err)
		}
	}()
	res, err := build.BuildUpdate(ctx, inst, out, build.Options{Logger: c.log})
	if err != nil {
		return err
	}
	c.out.sayf(host+": ", msg.Sprintf("ビルド %s を送信中(ルート %s)…", "pushing build %s (root %s)…", res.BuildTimestamp, bytesize.Format(res.RootSize)))
	if err := build.Push(ctx, inst, res, host, *port, c.log); err != nil {
		return err
	}
	c.out.sayf(host+": ", msg.Sprintf("新しいビルド %s で起動しました", "now runs build %s", res.BuildTimestamp))
	return nil
}
