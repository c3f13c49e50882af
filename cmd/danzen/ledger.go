package main

import (
	"context"
	"flag"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
)

// runLedger: `danzen ledger verify` checks the evidence ledger's chain.
func runLedger(_ context.Context, c *cli, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return badUsage("ledger")
	}
	fs := flag.NewFlagSet("ledger verify", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (its ledger_dir)")
	dir := fs.String("dir", "", "ledger directory")
	if err := fs.Parse(args[1:]); err != nil {
		return flagError(err)
	}
	if *dir == "" {
		if *cfgPath == "" {
			*cfgPath = defaultConfig
		}
		cfg, _, err := config.LoadUnfinished(*cfgPath)
		if err != nil {
			return err
		}
		*dir = cfg.LedgerDir
	}
	rep, err := ledger.Verify(*dir)
	c.out.write(rep.Localize(c.out.lang))
	return err
}
