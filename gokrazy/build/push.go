package build

import (
	"context"
	"log/slog"
	"time"

	"github.com/danzen-gw/danzen/gokrazy/update"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Push sends a built root and boot file system to the device at host
// (through gokrazy's update endpoints: the inactive root, boot, switch,
// reboot) and waits until the device answers with the new build. port ""
// means the instance's Update.HTTPPort.
func Push(ctx context.Context, inst *Instance, res *Result, host, port string, log *slog.Logger) error {
	pw, ok, err := inst.Config.HTTPPassword()
	if err != nil {
		return err
	}
	if !ok {
		return msg.New("gokrazy のパスワードがありません。Update.HTTPPassword か ~/.config/gokrazy/http-password.txt に設定してください",
			"no gokrazy password to push with: set Update.HTTPPassword or ~/.config/gokrazy/http-password.txt")
	}
	if port == "" {
		port = inst.Config.HTTPPort()
	}
	t := update.NewTarget(host, port, pw)
	t.Logger = log
	if err := t.Push(ctx, update.Payload{Root: res.Root, Boot: res.Boot}); err != nil {
		return err
	}
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	_, err = t.WaitForBuild(waitCtx, res.BuildTimestamp)
	return err
}
