// Command danzen is the operator's CLI for the danzen backup gateway.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

type command struct {
	name, usage string
	run         func(ctx context.Context, log *slog.Logger, args []string) error
}

func commands() []command {
	return []command{
		{"pull", "pull --config FILE [--source NAME]   一回取得する / pull the e-chart export once", runPull},
		{"backup", "backup --config FILE --once   一回のサイクル / run one cycle now", runBackup},
		{"medium", "medium init --config FILE --medium NAME [--password-recorded]   媒体の初期化 / prepare a medium", runMedium},
		{"restore", "restore --config FILE --medium NAME [--list] [--snapshot ID] [--file PATH]… [--to-target NAME --to-dir DIR] [--deadline 2h]   復元 / restore", runRestore},
		{"drill", "drill --config FILE [--medium NAME] [--list]   復元訓練 / restore drill", runDrill},
		{"hostkey", "hostkey --config FILE --source NAME [--accept SHA256:…]   ホスト鍵を確認・登録 / show or pin a server's host key", runHostKey},
		{"scan", "scan --config FILE [--format text|html|csv|json] [--ports 1-1024,3389] [--import-csv F | --export-csv F]   外部接続点の調査 / WAN-edge self-scan", runScan},
		{"ledger", "ledger verify (--config FILE | --dir DIR)   証跡台帳の検証 / verify the evidence ledger", runLedger},
		{"docs", "docs --config FILE --out DIR [--from DATE --to DATE] [--lang ja|en] [--pdf]   提出書類の生成 / generate the documents", runDocs},
		{"image", "image push [--instance DIR] HOST   更新イメージの適用 / update a gateway over the network", runImage},
		{"demo", "demo [--dir DIR] [--dump-size 200MB] [--once]   組み込みの既定構成で動かす / run on the embedded default", runDemo},
	}
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, c := range commands() {
		if c.name == os.Args[1] {
			if err := c.run(ctx, log, os.Args[2:]); err != nil {
				fmt.Fprintln(os.Stderr, "danzen "+c.name+": "+err.Error())
				var ue usageError
				if errors.As(err, &ue) {
					os.Exit(2)
				}
				os.Exit(1)
			}
			return
		}
	}
	usage()
	os.Exit(2)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: danzen COMMAND [flags]")
	for _, c := range commands() {
		fmt.Fprintln(os.Stderr, "  danzen "+c.usage)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }
