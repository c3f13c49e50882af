package fielderr_test

import (
	"errors"
	"github.com/danzen-gw/danzen/internal/msg"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/fielderr"
)

func TestMessages(t *testing.T) {
	cfg := fielderr.List{Title: msg.T("設定に誤りがあります:", "the configuration is invalid:")}
	if cfg.Err() != nil {
		t.Fatalf("empty list: Err = %v, want nil", cfg.Err())
	}
	cfg.Add("sources[0].port", "ポート番号は1〜65535です", "port must be 1–65535")
	cfg.Add("schedule", "スケジュール", "schedule")
	for l, want := range map[msg.Lang]string{
		msg.JA: "設定に誤りがあります:\n  sources[0].port: ポート番号は1〜65535です\n  schedule: スケジュール",
		msg.EN: "the configuration is invalid:\n  sources[0].port: port must be 1–65535\n  schedule: schedule",
	} {
		if got := msg.In(cfg.Err(), l); got != want {
			t.Errorf("titled list in %v:\n got %q\nwant %q", l, got, want)
		}
	}

	// A part checked on its own names itself in each line, as errors.Join
	// of its field errors would.
	medium := fielderr.List{In: fielderr.Item{Kind: msg.T("媒体", "medium"), Name: "usb1"}}
	medium.Add("fs_uuid", "UUID の形式ではありません", "not a UUID")
	medium.Timeout("gone_timeout", time.Hour)
	medium.Timeout("appear_timeout", fielderr.MaxTimeout) // the bound itself is allowed
	medium.Timeout("appear_timeout", 0)
	err := medium.Err()
	for l, want := range map[msg.Lang]string{
		msg.JA: `媒体 "usb1" の fs_uuid: UUID の形式ではありません` + "\n" + `媒体 "usb1" の gone_timeout: タイムアウトは0(既定値)から10分の間にしてください`,
		msg.EN: `medium "usb1" field fs_uuid: not a UUID` + "\n" + `medium "usb1" field gone_timeout: timeout must be between 0 (default) and 10m`,
	} {
		if got := msg.In(err, l); got != want {
			t.Errorf("list of a named part in %v:\n got %q\nwant %q", l, got, want)
		}
	}
	var fe *fielderr.Error
	if !errors.As(err, &fe) || fe.Field != "fs_uuid" || fe.In.Name != "usb1" {
		t.Errorf("errors.As: %+v", fe)
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 2 {
		t.Errorf("Unwrap gives %d errors, want 2", n)
	}
	if f := cfg.For("schedule"); len(f) != 1 || f[0].Text.EN != "schedule" || len(cfg.For("sources")) != 0 {
		t.Errorf("For: %+v", f)
	}
}
