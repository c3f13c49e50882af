package main

import (
	"context"
	"errors"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
)

// runConfig is `danzen config check --config FILE`: the configuration's
// own validation (the one the page and start-up use) over a file, without
// touching the network or the hardware. Every problem is printed, one a
// line with its field; the exit status is 1 when there is one.
func runConfig(_ context.Context, c *cli, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return badUsage("config")
	}
	fs := newFlags("config check")
	if err := fs.parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badUsage("config")
	}
	_, err := config.Load(fs.config)
	var ve *config.ValidationError
	switch {
	case err == nil:
		c.out.sayf(fs.config+": ", msg.T("誤りはありません", "no problems found"))
		return nil
	case !errors.As(err, &ve):
		return err // the file cannot be read or decoded: that is the one problem
	}
	c.out.sayf(fs.config+": ", msg.Sprintf("誤りが %d 件あります:", "%d problems:", len(ve.Fields)))
	for _, f := range ve.Fields {
		c.out.sayf("  "+f.Field+": ", f.Text)
	}
	return msg.Errorf("設定に誤りが %d 件あります", "the configuration has %d problems", len(ve.Fields))
}
