package main

import (
	"context"
	"flag"
	"log/slog"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
)

// defaultConfig is where the appliance keeps its configuration.
const defaultConfig = "/perm/danzen/config.json"

// cmdFlags is a command's flag set with the --config that every command
// reading the configuration takes.
type cmdFlags struct {
	*flag.FlagSet
	config string // the configuration file, after parse
}

func newFlags(name string) *cmdFlags {
	f := &cmdFlags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.StringVar(&f.config, "config", defaultConfig, "configuration file")
	return f
}

// parse parses args; flags that do not parse are a usage error.
func (f *cmdFlags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		return flagError(err)
	}
	return nil
}

// load parses args and loads the configuration.
func (f *cmdFlags) load(args []string) (*config.Config, error) {
	if err := f.parse(args); err != nil {
		return nil, err
	}
	return config.Load(f.config)
}

// loadUnfinished is load for a command that needs no source (the
// self-scan, the ledger, the documents): a gateway being commissioned may
// run it before its source is added.
func (f *cmdFlags) loadUnfinished(args []string) (*config.Config, error) {
	if err := f.parse(args); err != nil {
		return nil, err
	}
	cfg, _, err := config.LoadUnfinished(f.config)
	return cfg, err
}

// open loads the configuration and opens the gateway (relays to their
// fail-safe state first); it follows parse.
func (f *cmdFlags) open(ctx context.Context, log *slog.Logger) (*gateway.Gateway, error) {
	cfg, err := config.Load(f.config)
	if err != nil {
		return nil, err
	}
	return gateway.Open(ctx, cfg, gateway.Options{Logger: log})
}
