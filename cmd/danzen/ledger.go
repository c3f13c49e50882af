package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
)

// runLedger: `danzen ledger verify` checks the evidence ledger's chain.
func runLedger(_ context.Context, _ *slog.Logger, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageError{"usage: danzen ledger verify (--config FILE | --dir DIR)"}
	}
	fs := flag.NewFlagSet("ledger verify", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (its ledger_dir)")
	dir := fs.String("dir", "", "ledger directory")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *dir == "" {
		if *cfgPath == "" {
			*cfgPath = "/perm/danzen/config.json"
		}
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		*dir = cfg.LedgerDir
	}
	rep, err := ledger.Verify(*dir)
	fmt.Println(rep.String())
	return err
}
